#!/bin/sh
# libaio 0.3.113's own test harness (harness/ of Debian's libaio source
# package, "make partcheck": 18 cases), built against the system libaio as
# programs are, and run on uaio's libaio.so.1 through LD_LIBRARY_PATH on an
# engine, or on the system libaio as the reference.  Case 20 uses up
# fs.aio-max-nr with io_setup(1) contexts (run it alone).
#
# usage: libaio-harness.sh LIBDIR ENGINE SOURCE_DIR
#   SOURCE_DIR: the unpacked libaio source (scripts/deps.sh fetches it into
#   build-deps/libaio with apt-get source).
set -u
libdir=$1 engine=$2 src=$3

skip() {
	echo "SKIP: $*"
	exit 77
}

[ -f "$src/harness/Makefile" ] ||
	skip "no libaio source in $src (scripts/deps.sh fetches it with apt-get source libaio)"
command -v make >/dev/null 2>&1 || skip "no make"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/uaio-harness.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
cp -r "$src/harness" "$src/src" "$scratch/" || exit 1
cd "$scratch/harness" || exit 1

# Built once against the system's -laio, as a distribution builds programs.
make -s LIBAIO=-laio CFLAGS="-O2 -g -Wno-error" >build.log 2>&1 ||
	{ tail -20 build.log; echo "FAIL: the harness does not build"; exit 1; }

if [ "$engine" = ref ]; then
	env -u LD_LIBRARY_PATH -u UAIO_ENGINE make -s partcheck LIBAIO=-laio \
		>run.log 2>&1
else
	env LD_LIBRARY_PATH="$libdir" UAIO_ENGINE="$engine" UAIO_STATS="$scratch/stats" \
		make -s partcheck LIBAIO=-laio >run.log 2>&1
fi
grep -E "^(Completed|Pass:)" run.log
result=$(grep "^Pass:" run.log)
case "$result" in
"Pass: "*" Fail: 0 "*) ;;
*)
	grep -B8 "FAILED" run.log | tail -60
	echo "FAIL: $result"
	exit 1
	;;
esac
# The harness ran on the library asked for.
if [ "$engine" = ref ]; then
	[ ! -e "$scratch/stats" ] || { echo "FAIL: the reference loaded uaio"; exit 1; }
else
	[ -s "$scratch/stats" ] || { echo "FAIL: the harness did not run on uaio"; exit 1; }
	grep -v "\"engine\":\"$engine\"" "$scratch/stats" | grep -q . &&
		{ echo "FAIL: a context ran on another engine than $engine"; exit 1; }
fi
echo "PASS: $result on $engine"
exit 0
