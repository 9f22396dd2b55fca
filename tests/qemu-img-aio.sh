#!/bin/sh
# qemu-img (unmodified, from Debian's qemu-utils) with aio=native, QEMU's
# linux-aio, on uaio's libaio.so.1 on engine ENGINE, or on the system libaio
# when ENGINE is "ref".  QEMU submits IOCB_CMD_PREADV/PWRITEV with an
# eventfd (IOCB_FLAG_RESFD), then reads the completion ring itself without
# checking its magic: it never calls io_getevents.
#
# Cases:
#   bench-read, bench-write  qemu-img bench -i native -t none (O_DIRECT):
#                            exactly COUNT requests, all completed.
#   convert, convert-ooo     qemu-img convert -n between two raw images
#                            opened with file.aio=native,file.cache.direct=on
#                            (convert-ooo: 16 coroutines, out-of-order
#                            writes), then the images must be identical.
#
# usage: qemu-img-aio.sh LIBDIR ENGINE PRELOAD CASE   (see programs-common.sh)

# shellcheck source=tests/programs-common.sh
. "$(dirname "$0")/programs-common.sh"

prog_init qemu-img "$1" "$2" "$3"
case=$4
need_odirect

mib=64
count=10000
src=$scratch/src.img
dst=$scratch/dst.img

# Random contents: no zero block for QEMU to skip, nothing cmp could
# mistake for a copy.
random_image() {
	dd if=/dev/urandom of="$1" bs=1M count=$mib 2>/dev/null ||
		fail "cannot write $1"
}

opts() {
	echo "driver=raw,file.driver=file,file.filename=$1,file.aio=native,file.cache.direct=on"
}

case "$case" in
bench-read | bench-write)
	random_image "$src"
	w=
	[ "$case" = bench-write ] && w=-w
	run qemu-img bench -f raw -i native -t none -c $count -d 32 -s 4k $w "$src"
	[ "$rc" -eq 0 ] || fail "qemu-img bench exited with status $rc on engine $engine"
	grep -q "^Run completed" "$scratch/stdout" ||
		fail "qemu-img bench did not complete its run"
	cat "$scratch/stdout"
	check_stats
	if [ "$engine" != ref ]; then
		if [ -n "$w" ]; then
			r=$st_preadv want_r=0 wr=$st_pwritev want_w=$count
		else
			r=$st_preadv want_r=$count wr=$st_pwritev want_w=0
		fi
		if [ "$r" -ne "$want_r" ] || [ "$wr" -ne "$want_w" ]; then
			fail "uaio saw $r preadv and $wr pwritev, qemu-img bench sent $want_r and $want_w"
		fi
		[ $((st_pread + st_pwrite)) -eq 0 ] ||
			fail "QEMU's linux-aio submits only vectored requests, uaio saw $((st_pread + st_pwrite)) others"
		check_completions yes
	fi
	;;
convert | convert-ooo)
	random_image "$src"
	random_image "$dst"
	cmp -s "$src" "$dst" && fail "two random images are identical"
	more=
	[ "$case" = convert-ooo ] && more="-m 16 -W"
	# shellcheck disable=SC2086
	run qemu-img convert -n $more --image-opts "$(opts "$src")" \
		--target-image-opts "$(opts "$dst")"
	[ "$rc" -eq 0 ] || fail "qemu-img convert exited with status $rc on engine $engine"
	cmp "$src" "$dst" || fail "the converted image differs from its source on engine $engine"
	echo "the images are identical"
	check_stats
	if [ "$engine" != ref ]; then
		if [ "$st_preadv" -eq 0 ] || [ "$st_pwritev" -eq 0 ]; then
			fail "uaio saw $st_preadv preadv and $st_pwritev pwritev: QEMU did not copy through linux-aio"
		fi
		[ $((st_pread + st_pwrite)) -eq 0 ] ||
			fail "QEMU's linux-aio submits only vectored requests, uaio saw $((st_pread + st_pwrite)) others"
		check_completions yes
	fi
	;;
*) fail "unknown case $case" ;;
esac
echo "PASS: qemu-img $case on $engine"
exit 0
