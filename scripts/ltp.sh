#!/usr/bin/env bash
# LTP's io_* tests and eventfd06 (the AIO counter-overflow test) on every
# engine and on the system libaio.  LTP is not packaged by Debian: give the
# path of an LTP source tree (git clone https://github.com/linux-test-project/ltp).
# The tests linked against libaio.so.1 run on uaio's through LD_LIBRARY_PATH
# (UAIO_STATS proves it); the others make the raw system calls and check
# the kernel, which uaio passes handles it does not own to.
#
# Usage: scripts/ltp.sh LTP_DIR [ENGINE...]   (default: ref kernel uring threads)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ltp=$(cd "$1" && pwd)
shift
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(ref kernel uring threads)
tests=(io_cancel/io_cancel01 io_cancel/io_cancel02 io_destroy/io_destroy01
	io_destroy/io_destroy02 io_getevents/io_getevents01
	io_getevents/io_getevents02 io_pgetevents/io_pgetevents01
	io_pgetevents/io_pgetevents02 io_setup/io_setup01 io_setup/io_setup02
	io_submit/io_submit01 io_submit/io_submit02 io_submit/io_submit03
	io_submit/io_submit04 eventfd/eventfd06)

"$here/scripts/deps.sh"
missing=()
for p in autoconf automake m4 bison flex; do
	command -v "$p" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "ltp: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$here/build" -j"$(nproc)" --target uaio >/dev/null
lib=$here/build/src

echo "ltp: building LTP's library and the io_* and eventfd tests in $ltp" >&2
(
	cd "$ltp"
	[ -f configure ] || make autotools >/dev/null
	[ -f include/config.h ] || ./configure >/dev/null
	make -C lib -j"$(nproc)" >/dev/null
	for d in io_cancel io_destroy io_getevents io_pgetevents io_setup io_submit eventfd; do
		make -C "testcases/kernel/syscalls/$d" -j"$(nproc)" >/dev/null
	done
)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/uaio-ltp.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
status=0
printf '%-32s' test
printf ' %-8s' "${engines[@]}"
echo
for t in "${tests[@]}"; do
	bin=$ltp/testcases/kernel/syscalls/$t
	linked=raw
	deps=$(ldd "$bin")
	grep -q 'libaio\.so' <<<"$deps" && linked=libaio
	deps=$(LD_LIBRARY_PATH=$lib ldd "$bin")
	printf '%-32s' "$(basename "$t") ($linked)"
	for e in "${engines[@]}"; do
		rm -f "$scratch/stats"
		if [ "$e" = ref ]; then
			(cd "$scratch" && env -u LD_LIBRARY_PATH LTPROOT="$ltp" timeout 120 "$bin") \
				>"$scratch/out" 2>&1 && r=pass || r=FAIL
		else
			(cd "$scratch" && LD_LIBRARY_PATH=$lib UAIO_ENGINE=$e UAIO_STATS=$scratch/stats \
				LTPROOT="$ltp" timeout 120 "$bin") >"$scratch/out" 2>&1 && r=pass || r=FAIL
			# A libaio-linked test loads uaio's library, and every
			# context it made (some make none) ran on that engine.
			if [ "$linked" = libaio ] && [ "$r" = pass ] &&
				{ ! grep -q "$lib/libaio.so.1" <<<"$deps" ||
					{ [ -s "$scratch/stats" ] &&
						grep -v "\"engine\":\"$e\"" "$scratch/stats" | grep -q .; }; }; then
				r=NOTUAIO
			fi
		fi
		[ "$r" = pass ] || { status=1; cp "$scratch/out" "$scratch/../ltp-$(basename "$t")-$e.log" 2>/dev/null || true; }
		printf ' %-8s' "$r"
	done
	echo
done
[ $status -eq 0 ] && echo "ltp: all passed" || echo "ltp: FAILED (logs: ${TMPDIR:-/tmp}/ltp-*.log)"
exit $status
