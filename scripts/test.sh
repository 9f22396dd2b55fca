#!/usr/bin/env bash
# Build uaio with -Werror and run the whole test suite on every engine and
# against the system libaio.  --sanitize: AddressSanitizer + UBSan build.
# --tsan: ThreadSanitizer build, concurrency tests only.
# Extra arguments go to ctest (e.g. -L threads, -R submit).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh"

build="$here/build"
cmake_opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DUAIO_WERROR=ON)
ctest_opts=()
while [ $# -gt 0 ]; do
	case "$1" in
	--sanitize) build="$here/build-asan"; cmake_opts+=(-DUAIO_SANITIZE=ON); shift ;;
	--tsan) build="$here/build-tsan"; cmake_opts+=(-DUAIO_TSAN=ON); ctest_opts+=(-L concurrency); shift ;;
	--) shift; break ;;
	*) break ;;
	esac
done
ctest_opts+=("$@")

cmake -S "$here" -B "$build" "${cmake_opts[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
# TMPDIR on a real file system: O_DIRECT does not work on tmpfs.
export TMPDIR="${UAIO_TEST_TMPDIR:-$build/tmp}"
mkdir -p "$TMPDIR"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "${ctest_opts[@]}"
