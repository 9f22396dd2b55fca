#!/usr/bin/env bash
# Long stress of every engine and of the system libaio, at the full counts
# (the CTest "stress" label runs the same programs with bounded ones):
#   destroy-canary  setup + O_DIRECT, buffered, poll (and pipe) reads +
#                   io_destroy with a canary: 16 threads x 6250 rounds
#   stress-cycles   10^5 setup/destroy cycles on 16 threads: descriptors,
#                   threads and RSS flat
#   stress-mix      16 threads mixing reads, writes, fsync, poll and cancel
#                   on one context for MINUTES (default 2)
# Usage: scripts/stress.sh [--minutes N] [ENGINE...]  (kernel uring threads auto ref)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
minutes=2
engines=()
while [ $# -gt 0 ]; do
	case "$1" in
	--minutes) minutes=$2; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) engines+=("$1"); shift ;;
	esac
done
[ ${#engines[@]} -gt 0 ] || engines=(kernel uring threads auto ref)

"$here/scripts/deps.sh"
build="$here/build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target destroy-canary stress-cycles stress-mix \
	destroy-canary-ref stress-cycles-ref stress-mix-ref >/dev/null
export TMPDIR="${UAIO_TEST_TMPDIR:-$build/tmp}"
mkdir -p "$TMPDIR"

status=0
for e in "${engines[@]}"; do
	suffix=""
	[ "$e" = ref ] && suffix=-ref
	for t in "destroy-canary 6250 16" "stress-cycles 100000 16" \
		"stress-mix $((minutes * 60)) 16"; do
		set -- $t
		prog=$1; shift
		printf 'stress: %-8s %s %s\n' "$e" "$prog" "$*" >&2
		if ! UAIO_ENGINE=$e UAIO_TEST_ENGINE=$e \
			"$build/tests/$prog$suffix" "$@" | sed "s/^/  $e: /"; then
			echo "stress: $prog FAILED on $e" >&2
			status=1
		fi
	done
done
[ $status -eq 0 ] && echo "stress: all passed" || echo "stress: FAILED"
exit $status
