#!/bin/sh
# fio (unmodified, from Debian) with its libaio engine on uaio's
# libaio.so.1, one job per CASE, on engine ENGINE, or on the system libaio
# when ENGINE is "ref" (the proof that the job itself is sound).
#
# A case passes when fio exits 0, reports error 0 and no verify error, did
# I/O, and UAIO_STATS shows that every context ran on ENGINE and that uaio
# saw exactly the reads and writes fio counted.
#
# usage: fio-libaio.sh LIBDIR ENGINE PRELOAD CASE   (see programs-common.sh)

# shellcheck source=tests/programs-common.sh
. "$(dirname "$0")/programs-common.sh"

prog_init fio "$1" "$2" "$3"
case=$4

file=$scratch/data
size=32m
direct=1
reads=yes
writes=no
verify=no
self_reap=no
vectored=no
# EAGAIN from RWF_NOWAIT: none (any is a failure), rare (the kernel may
# refuse to wait for a lock now and then) or some (must be seen).
eagain=none

case "$case" in
randread-qd1) set -- --rw=randread --iodepth=1 --runtime=1 --time_based ;;
randread-qd32) set -- --rw=randread --iodepth=32 --runtime=1 --time_based ;;
randwrite-qd1)
	set -- --rw=randwrite --iodepth=1 --runtime=1 --time_based
	reads=no writes=yes ;;
randwrite-qd32)
	set -- --rw=randwrite --iodepth=32 --runtime=1 --time_based
	reads=no writes=yes ;;
# Buffered: fio drops the file's pages first (invalidate=1), so reads start
# uncached and warm up; kernel AIO runs them inside io_submit.
randread-buffered)
	set -- --rw=randread --iodepth=32 --runtime=1 --time_based
	direct=0 ;;
randwrite-buffered)
	set -- --rw=randwrite --iodepth=32 --runtime=1 --time_based
	direct=0 reads=no writes=yes ;;
randrw-qd8) set -- --rw=randrw --iodepth=8 --runtime=1 --time_based --bsrange=4k-64k
	writes=yes ;;
# fio reads the completion ring itself; only with iodepth_batch_complete_min=0
# does it stop calling io_getevents, and batched submission keeps the ring busy.
userspace-reap)
	set -- --rw=randread --iodepth=32 --userspace_reap=1 \
		--iodepth_batch_complete_min=0 --iodepth_batch_submit=16 \
		--iodepth_batch_complete_max=32 --runtime=1 --time_based
	self_reap=yes ;;
# RWF_NOWAIT: O_DIRECT to blocks that are already allocated never needs to
# wait for a lock or an allocation, so no request may end in EAGAIN.
nowait-direct)
	set -- --rw=randrw --iodepth=32 --nowait=1 --runtime=1 --time_based
	writes=yes ;;
# RWF_NOWAIT on buffered reads of a file that is all in the page cache
# (pre_read=1 reads it in first).  preadv2(2) lets such a read fail with
# EAGAIN whenever it "would have to wait for a lock", and on a loaded
# machine some do, on every engine and on the kernel's AIO alike: bursts of
# 2 to 511 in 80,000-200,000 reads, with no page reclaimed or migrated.  So
# a few EAGAINs are allowed (fio goes on past them); more than 1 in 100 in
# each of 3 runs, or any other error, fails.
nowait-buffered)
	size=8m
	set -- --rw=randread --iodepth=32 --nowait=1 --pre_read=1 \
		--runtime=1 --time_based
	direct=0 eagain=rare ;;
# RWF_NOWAIT on reads of an uncached file (fio drops its pages first): the
# first reads must end in EAGAIN, which proves the flag reached the kernel.
nowait-uncached)
	size=8m
	set -- --rw=randread --iodepth=32 --nowait=1 --invalidate=1 \
		--runtime=1 --time_based
	direct=0 eagain=some ;;
# Write everything, then read it all back and check each block's crc32c and
# header (offset, sequence), so a misplaced, lost or torn request shows.
verify-direct)
	size=32m
	set -- --rw=randwrite --iodepth=32 --bsrange=4k-64k --verify=crc32c \
		--do_verify=1 --verify_fatal=1
	writes=yes verify=yes ;;
verify-buffered)
	size=32m
	set -- --rw=randwrite --iodepth=16 --verify=crc32c --do_verify=1 \
		--verify_fatal=1
	direct=0 writes=yes verify=yes ;;
verify-userspace-reap)
	size=32m
	set -- --rw=randwrite --iodepth=32 --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --userspace_reap=1 --iodepth_batch_complete_min=0 \
		--iodepth_batch_submit=8 --iodepth_batch_complete_max=32
	writes=yes verify=yes self_reap=yes ;;
# IOCB_FLAG_IOPRIO on half the requests; best-effort class needs no
# privilege.
cmdprio)
	fio --enghelp=libaio 2>/dev/null | grep -q '^cmdprio_percentage' ||
		skip "this fio's libaio engine has no cmdprio_percentage"
	set -- --rw=randread --iodepth=32 --cmdprio_percentage=50 \
		--cmdprio_class=2 --cmdprio=0 --runtime=1 --time_based ;;
# IOCB_CMD_PREADV/PWRITEV: newer fio only (Debian 12's 3.33 lacks it; QEMU
# covers the vectored opcodes in qemu-img-aio.sh).
vectored)
	fio --enghelp=libaio 2>/dev/null | grep -q '^libaio_vectored' ||
		skip "fio $(fio --version 2>/dev/null) has no libaio_vectored option"
	set -- --rw=randrw --iodepth=16 --libaio_vectored=1 --runtime=1 --time_based
	writes=yes vectored=yes ;;
*) fail "unknown case $case" ;;
esac

# Page-cache pages dropped, reclaimed or migrated so far, system-wide.
disturbances() {
	awk '$1 == "drop_pagecache" || $1 == "pgsteal_file" ||
		$1 == "pgmigrate_success" { n += $2 }
		END { print n + 0 }' /proc/vmstat 2>/dev/null
}

[ "$direct" = 1 ] && need_odirect

json=$scratch/fio.json
if [ "$eagain" != none ]; then
	set -- "$@" --continue_on_error=read --ignore_error=EAGAIN
fi

# The job's error and, per direction, requests and bytes, from fio's JSON
# (one job; "read"/"write" sections hold total_ios and io_bytes; total_err
# counts the errors fio was told to go on past).
parse_json() {
	fio_jobs=0 fio_err=0 fio_rios=0 fio_wios=0 fio_rbytes=0 fio_wbytes=0
	fio_total_err=0
	eval "$(awk '
		/"jobname" :/ { jobs++ }
		/^ *"error" : / { e = $3; sub(/,/, "", e); if (e + 0 != 0) err = e }
		/^ *"total_err" : / { t = $3; sub(/,/, "", t); terr += t }
		/^ *"(read|write|trim|sync)" : \{/ { match($0, /"[a-z]+"/); sec = substr($0, RSTART + 1, RLENGTH - 2) }
		/^ *"total_ios" : / { v = $3; sub(/,/, "", v); ios[sec] = v }
		/^ *"io_bytes" : / { v = $3; sub(/,/, "", v); bytes[sec] = v }
		END {
			printf "fio_jobs=%d fio_err=%d fio_total_err=%d ", jobs, err, terr
			printf "fio_rios=%d fio_wios=%d ", ios["read"], ios["write"]
			printf "fio_rbytes=%.0f fio_wbytes=%.0f\n", bytes["read"], bytes["write"]
		}' "$json" 2>/dev/null)"
}

attempt=1 undisturbed=no
while :; do
	disturbed=$(disturbances)
	run fio --name="$case" --ioengine=libaio --filename="$file" \
		--size="$size" --bs=4k --direct="$direct" --output-format=json \
		--output="$json" "$@"
	parse_json
	# Cached RWF_NOWAIT reads fail with EAGAIN by the thousand when the
	# page cache lost or moved the file meanwhile (another process wrote
	# /proc/sys/vm/drop_caches, as benchmarks do; reclaim; compaction),
	# and, on a loaded machine, in bursts of a few hundred without any of
	# those (seen on the kernel's own AIO too).  A run over the limit is
	# repeated, up to 3 runs: an engine that turns such reads into EAGAIN
	# fails every one.
	if [ "$rc" -eq 0 ] && [ "$eagain" = rare ] &&
		[ "$((fio_total_err * 100))" -gt "$fio_rios" ]; then
		[ "$(disturbances)" != "$disturbed" ] || undisturbed=yes
		attempt=$((attempt + 1))
		if [ "$attempt" -le 3 ]; then
			echo "$fio_total_err of $fio_rios reads ended in EAGAIN: again"
			rm -f "$file"
			continue
		fi
		[ "$undisturbed" = yes ] ||
			skip "the page cache was dropped or moved during every attempt"
	fi
	break
done
[ "$rc" -eq 0 ] || fail "fio exited with status $rc on engine $engine"

[ "${fio_jobs:-0}" -eq 1 ] || fail "fio wrote no job results to $json"
echo "fio ($engine): error $fio_err, reads $fio_rios ($fio_rbytes bytes), writes $fio_wios ($fio_wbytes bytes)"
case $eagain in
none)
	[ "$fio_err" -eq 0 ] || fail "fio reports error $fio_err"
	[ "$fio_total_err" -eq 0 ] || fail "fio counted $fio_total_err errors" ;;
*)
	# Only EAGAIN was let through; fio reports the first error it met.
	[ "$fio_err" -eq 0 ] || [ "$fio_err" -eq 11 ] ||
		fail "fio reports error $fio_err (only EAGAIN may happen)"
	echo "fio ($engine): $fio_total_err of $fio_rios reads ended in EAGAIN" ;;
esac
case $eagain in
rare)
	[ "$((fio_total_err * 100))" -le "$fio_rios" ] ||
		fail "$fio_total_err of $fio_rios cached RWF_NOWAIT reads ended in EAGAIN (more than 1 in 100; page-cache pages dropped, reclaimed or migrated meanwhile: $(($(disturbances) - disturbed)))" ;;
some)
	[ "$fio_total_err" -gt 0 ] ||
		fail "no RWF_NOWAIT read of the uncached file ended in EAGAIN: the flag did not reach the kernel"
	[ "$fio_total_err" -lt "$fio_rios" ] ||
		fail "every RWF_NOWAIT read ended in EAGAIN, even once the pages were read in" ;;
esac
if grep -qiE 'verify|err=' "$scratch/stderr"; then
	fail "fio reported an error or a verify failure"
fi
if [ "$reads" = yes ]; then
	[ "$fio_rios" -gt 0 ] || fail "fio did no read"
else
	[ "$fio_rios" -eq 0 ] || fail "fio read $fio_rios times in a write-only job"
fi
if [ "$writes" = yes ]; then
	[ "$fio_wios" -gt 0 ] || fail "fio did no write"
else
	[ "$fio_wios" -eq 0 ] || fail "fio wrote $fio_wios times in a read-only job"
fi
if [ "$verify" = yes ]; then
	# Verification reads back every byte written; fio counts those reads.
	[ "$fio_rbytes" = "$fio_wbytes" ] ||
		fail "fio verified $fio_rbytes of $fio_wbytes bytes written"
fi

check_stats
if [ "$engine" != ref ]; then
	if [ "$vectored" = yes ]; then
		r=$st_preadv w=$st_pwritev o=$((st_pread + st_pwrite))
	else
		r=$st_pread w=$st_pwrite o=$((st_preadv + st_pwritev))
	fi
	[ "$r" -eq "$fio_rios" ] ||
		fail "uaio saw $r reads, fio counted $fio_rios"
	[ "$w" -eq "$fio_wios" ] ||
		fail "uaio saw $w writes, fio counted $fio_wios"
	[ "$o" -eq 0 ] || fail "uaio saw $o requests of an opcode fio does not use here"
	check_completions "$self_reap" "$fio_total_err"
fi
echo "PASS: fio $case on $engine"
exit 0
