#!/bin/bash
# run-fio.sh - fio's libaio engine over the system libaio and over uaio's
# libaio.so.1 (once per uaio engine), with fio's io_uring engine as a
# reference, for the jobs of the reference measurements:
#   direct    4 KiB randread, O_DIRECT, iodepth 32, time based
#   uncached  4 KiB buffered randread, iodepth 32, page cache dropped first,
#             a fixed amount of I/O (--io_size)
#   cached    4 KiB buffered randread, iodepth 32, file in the page cache
#   direct1   4 KiB randread, O_DIRECT, iodepth 1, time based
#   cached1   4 KiB buffered randread, iodepth 1, file in the page cache
#   seqwrite  4 KiB buffered sequential writes, iodepth 32, time based
#   randwrite 4 KiB buffered random writes, iodepth 32, time based
# Each (job, method) runs --runs times, methods taking turns within a round;
# the table gives medians and ratios to the system libaio from the same run.
# Figures from different runs of this kind of machine differ by 2-12%.
#
# uaio is chosen with LD_LIBRARY_PATH=<dir of uaio's libaio.so.1> and
# UAIO_ENGINE=<engine>; the script checks with ldd that fio then loads it.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<EOF
Usage: run-fio.sh [options]
  --uaio-lib DIR   directory of uaio's libaio.so.1 (default: ./build/src,
                   else the first other ./build*/src under the repository
                   that has one built without sanitizers)
  --dir DIR        scratch directory (default \$TMPDIR, else /tmp)
  --size SIZE      file size, fio syntax (default 2g)
  --runtime S      seconds per time-based run (default 10)
  --io-size SIZE   bytes read by the uncached job (default 1g)
  --runs N         runs per job and method (default 3)
  --engines LIST   uaio engines, comma-separated: kernel, threads, uring,
                   auto (default kernel,threads,uring,auto)
  --jobs LIST      of direct,uncached,cached,direct1,cached1,seqwrite,
                   randwrite (default direct,uncached,cached)
  --quick          --size 256m --runtime 2 --io-size 64m --runs 1
  -h, --help       this text
Needs fio, and jq or python3.  The uncached job needs a writable
/proc/sys/vm/drop_caches (root); without it that job is skipped.
Exit status: 0 after printing the table, 1 when fio is missing or the file
cannot be made, 2 on a usage error.
EOF
}

die() {
	echo "run-fio.sh: $*" >&2
	exit 1
}

usage_error() {
	echo "run-fio.sh: $*" >&2
	echo "Try 'run-fio.sh --help'." >&2
	exit 2
}

repo=$(cd "$(dirname "$0")/.." && pwd)
uaio_lib=
dir=${TMPDIR:-/tmp}
size=2g runtime=10 io_size=1g runs=3
engines=kernel,threads,uring,auto
jobs=direct,uncached,cached
quick=0 set_size=0 set_runtime=0 set_io=0 set_runs=0

while [ $# -gt 0 ]; do
	opt=$1
	case $opt in
	-h | --help)
		usage
		exit 0
		;;
	--quick)
		quick=1
		shift
		continue
		;;
	--uaio-lib | --dir | --size | --runtime | --io-size | --runs | --engines | --jobs)
		[ $# -ge 2 ] || usage_error "$opt needs an argument"
		val=$2
		shift 2
		;;
	*) usage_error "unknown option '$opt'" ;;
	esac
	case $opt in
	--uaio-lib) uaio_lib=$val ;;
	--dir) dir=$val ;;
	--size) size=$val set_size=1 ;;
	--runtime) runtime=$val set_runtime=1 ;;
	--io-size) io_size=$val set_io=1 ;;
	--runs) runs=$val set_runs=1 ;;
	--engines) engines=$val ;;
	--jobs) jobs=$val ;;
	esac
done
if [ $quick = 1 ]; then
	[ $set_size = 1 ] || size=256m
	[ $set_runtime = 1 ] || runtime=2
	[ $set_io = 1 ] || io_size=64m
	[ $set_runs = 1 ] || runs=1
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || usage_error "--runs: not a positive number: '$runs'"
[[ $runtime =~ ^[1-9][0-9]*$ ]] || usage_error "--runtime: not a whole number of seconds: '$runtime'"
for e in ${engines//,/ }; do
	case $e in kernel | threads | uring | auto) ;; *) usage_error "--engines: unknown engine '$e'" ;; esac
done
for j in ${jobs//,/ }; do
	case $j in direct | uncached | cached | direct1 | cached1 | seqwrite | randwrite) ;;
	*) usage_error "--jobs: unknown job '$j'" ;; esac
done

command -v fio >/dev/null || die "fio is not installed"
if command -v jq >/dev/null; then
	json_field() { jq -r "$2" "$1"; }
elif command -v python3 >/dev/null; then
	json_field() {
		python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].lstrip(".").replace("[", ".").replace("]", "").split("."):
    v = v[int(k)] if k.isdigit() else v[k]
print(v)
PY
	}
else
	die "needs jq or python3 to read fio's JSON"
fi
fio_bin=$(command -v fio)

if [ -z "$uaio_lib" ]; then
	# build/ first; a sanitizer build cannot be loaded into fio.
	for d in "$repo"/build/src "$repo"/build*/src; do
		if [ -e "$d/libaio.so.1" ] &&
			! ldd "$d/libaio.so.1" 2>/dev/null | grep -Eq 'lib(a|t|ub)san'; then
			uaio_lib=$d
			break
		fi
	done
fi

# Methods: "label|ioengine|uaio engine or -"; na[i]: why method i cannot run.
methods=("libaio (system)|libaio|-")
na=()
if [ -n "$uaio_lib" ] && [ -e "$uaio_lib/libaio.so.1" ]; then
	uaio_lib=$(cd "$uaio_lib" && pwd)
	# fio must load uaio's copy, not the system's, under LD_LIBRARY_PATH.
	got=$(LD_LIBRARY_PATH=$uaio_lib ldd "$fio_bin" | awk '$1 == "libaio.so.1" { print $3 }')
	got=$(readlink -f "$got")
	[ "$got" = "$(readlink -f "$uaio_lib/libaio.so.1")" ] ||
		die "with LD_LIBRARY_PATH=$uaio_lib fio loads $got, not uaio's libaio.so.1"
	if command -v nm >/dev/null && ! nm -D "$uaio_lib/libaio.so.1" | grep -qw uaio_version; then
		die "$uaio_lib/libaio.so.1 is not uaio (no uaio_version)"
	fi
	for e in ${engines//,/ }; do
		methods+=("uaio $e|libaio|$e")
	done
	# uaio_probe says why an engine cannot run here (fio would only say ENOSYS).
	if command -v python3 >/dev/null; then
		for ((i = 0; i < ${#methods[@]}; i++)); do
			IFS='|' read -r label ioengine engine <<<"${methods[$i]}"
			# auto runs wherever uaio does.
			[ "$engine" = - ] || [ "$engine" = auto ] && continue
			why=$(python3 - "$uaio_lib/libaio.so.1" "$engine" <<'PY'
import ctypes, sys
buf = ctypes.create_string_buffer(256)
r = ctypes.CDLL(sys.argv[1]).uaio_probe(sys.argv[2].encode(), buf, 256)
if r < 0:
    print(buf.value.decode() or "error %d" % -r)
PY
			)
			[ -n "$why" ] && na[i]=$why
		done
	fi
else
	echo "run-fio.sh: no uaio libaio.so.1 found (use --uaio-lib DIR): only the system libaio and io_uring run" >&2
fi
methods+=("io_uring (fio)|io_uring|-")

work=$(mktemp -d "$dir/uaio-fio.XXXXXX") || die "cannot create a directory in $dir"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
file=$work/data

can_drop=0
if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
	can_drop=1
fi

echo "run-fio.sh: laying out $size in $file" >&2
fio --name=layout --filename="$file" --size="$size" --rw=write --bs=1m \
	--direct=1 --ioengine=psync --output-format=json \
	--output="$work/layout.json" >/dev/null 2>"$work/layout.err" ||
	die "fio could not write $file: $(head -n 3 "$work/layout.err")"

common=(--name=job "--filename=$file" "--size=$size" --bs=4k --numjobs=1
	--rw=randread --iodepth=32 --output-format=json)
job_args() {
	case $1 in
	direct) echo "--direct=1 --runtime=$runtime --time_based" ;;
	# Not time based: every method reads the same amount from a cold cache.
	uncached) echo "--direct=0 --io_size=$io_size --invalidate=1" ;;
	# fio drops the file's cache before a job unless told not to.
	cached) echo "--direct=0 --invalidate=0 --runtime=$runtime --time_based" ;;
	direct1) echo "--direct=1 --iodepth=1 --runtime=$runtime --time_based" ;;
	cached1) echo "--direct=0 --invalidate=0 --iodepth=1 --runtime=$runtime --time_based" ;;
	seqwrite) echo "--direct=0 --rw=write --runtime=$runtime --time_based" ;;
	randwrite) echo "--direct=0 --rw=randwrite --runtime=$runtime --time_based" ;;
	esac
}
job_title() {
	case $1 in
	direct) echo "4 KiB randread, O_DIRECT, iodepth 32, ${runtime} s" ;;
	uncached) echo "4 KiB buffered randread, uncached (caches dropped), iodepth 32, io_size $io_size" ;;
	cached) echo "4 KiB buffered randread, file cached, iodepth 32, ${runtime} s" ;;
	direct1) echo "4 KiB randread, O_DIRECT, iodepth 1, ${runtime} s" ;;
	cached1) echo "4 KiB buffered randread, file cached, iodepth 1, ${runtime} s" ;;
	seqwrite) echo "4 KiB buffered sequential write, iodepth 32, ${runtime} s" ;;
	randwrite) echo "4 KiB buffered random write, iodepth 32, ${runtime} s" ;;
	esac
}

# results: $work/<job>.<method index>.iops and .slat (one line per run)
selected_jobs=()
for j in ${jobs//,/ }; do
	if [ "$j" = uncached ] && [ $can_drop = 0 ]; then
		echo "run-fio.sh: /proc/sys/vm/drop_caches is not writable: skipping the uncached job" >&2
		continue
	fi
	selected_jobs+=("$j")
done

for ((r = 1; r <= runs; r++)); do
	for j in "${selected_jobs[@]}"; do
		n=${#methods[@]}
		for ((k = 0; k < n; k++)); do
			# The first method rotates from round to round.
			i=$(((k + r - 1) % n))
			IFS='|' read -r label ioengine engine <<<"${methods[$i]}"
			[ -e "$work/$j.$i.failed" ] && continue
			[ -n "${na[i]:-}" ] && continue
			echo "run-fio.sh: [$j $r/$runs] $label" >&2
			if [ "$j" = uncached ]; then
				sync
				echo 3 >/proc/sys/vm/drop_caches
			elif [ "$j" = cached ] || [ "$j" = cached1 ]; then
				cat "$file" >/dev/null
			fi
			out=$work/$j.$i.$r.json
			# shellcheck disable=SC2046 # job_args is a word list
			if [ "$engine" = - ]; then
				env -u LD_LIBRARY_PATH -u UAIO_ENGINE fio "${common[@]}" \
					--ioengine="$ioengine" $(job_args "$j") \
					--output="$out" >"$out.err" 2>&1
			else
				env LD_LIBRARY_PATH="$uaio_lib" UAIO_ENGINE="$engine" fio "${common[@]}" \
					--ioengine="$ioengine" $(job_args "$j") \
					--output="$out" >"$out.err" 2>&1
			fi
			rc=$?
			dir_="read"
			case $j in *write) dir_="write" ;; esac
			iops=$(json_field "$out" ".jobs[0].$dir_.iops" 2>/dev/null)
			errs=$(json_field "$out" '.jobs[0].error' 2>/dev/null)
			if [ $rc -ne 0 ] || [ -z "$iops" ] || [ "${errs:-0}" != 0 ]; then
				msg=$(grep -v '^$' "$out.err" | head -n 2 | tr '\n' ' ')
				if [ -n "${errs:-}" ] && [ "$errs" != 0 ] && command -v perl >/dev/null; then
					errs="$errs ($(perl -e '$! = shift; print "$!"' "$errs"))"
				fi
				echo "fio exit $rc, job error ${errs:-?}${msg:+: $msg}" >"$work/$j.$i.failed"
				echo "run-fio.sh: $label failed on $j: $(cat "$work/$j.$i.failed")" >&2
				continue
			fi
			echo "$iops" >>"$work/$j.$i.iops"
			echo "$r $iops" >>"$work/$j.$i.round"
			json_field "$out" ".jobs[0].$dir_.slat_ns.mean" >>"$work/$j.$i.slat"
			json_field "$out" ".jobs[0].$dir_.clat_ns.mean" >>"$work/$j.$i.clat"
		done
	done
done

# The median over rounds of method a's IOPS over method b's in the same
# round: the machine's speed drifts from minute to minute, and a ratio taken
# within a round (methods run back to back) cancels most of that drift.
ratio_median() {
	[ -s "$work/$1.$2.round" ] && [ -s "$work/$1.$3.round" ] || return 0
	awk 'NR == FNR { b[$1] = $2; next }
		($1 in b) && b[$1] > 0 { print $2 / b[$1] }' \
		"$work/$1.$3.round" "$work/$1.$2.round" >"$work/ratios"
	[ -s "$work/ratios" ] && median "$work/ratios"
}

median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "fio $(fio --version | sed 's/^fio-//'), $(uname -sr), $(nproc) CPUs; uaio: ${uaio_lib:-none}"
echo "file $size in $dir; medians of $runs run(s); \"vs libaio\": the median of"
echo "each run's ratio to the system libaio's run of the same round"
for j in "${selected_jobs[@]}"; do
	echo
	job_title "$j"
	printf '%-18s %10s %10s %12s %12s\n' method IOPS "vs libaio" "submit µs" "compl µs"
	for ((i = 0; i < ${#methods[@]}; i++)); do
		IFS='|' read -r label ioengine engine <<<"${methods[$i]}"
		if [ -n "${na[i]:-}" ]; then
			printf '%-18s n/a: %s\n' "$label" "${na[i]}"
			continue
		fi
		if [ -e "$work/$j.$i.failed" ]; then
			printf '%-18s FAILED: %s\n' "$label" "$(cat "$work/$j.$i.failed")"
			continue
		fi
		iops=$(median "$work/$j.$i.iops")
		slat=$(median "$work/$j.$i.slat")
		clat=$(median "$work/$j.$i.clat")
		ratio=$(ratio_median "$j" "$i" 0)
		ratio=${ratio:+$(awk -v v="$ratio" 'BEGIN { printf "%.3f", v }')}
		ratio=${ratio:--}
		printf '%-18s %10.0f %10s %12.1f %12.1f\n' "$label" "$iops" "$ratio" \
			"$(awk -v v="$slat" 'BEGIN { print v / 1000 }')" \
			"$(awk -v v="$clat" 'BEGIN { print v / 1000 }')"
	done
	# auto against the best of the system libaio and each engine alone:
	# the lowest of its per-round ratios to each of them.
	for ((a = 0; a < ${#methods[@]}; a++)); do
		if [ "${methods[$a]##*|}" != auto ] || [ ! -s "$work/$j.$a.round" ]; then
			continue
		fi
		worst='' against=
		for ((i = 0; i < ${#methods[@]}; i++)); do
			IFS='|' read -r label ioengine engine <<<"${methods[$i]}"
			if [ $i = $a ] || [ "$ioengine" != libaio ]; then
				continue
			fi
			v=$(ratio_median "$j" "$a" "$i")
			[ -n "$v" ] || continue
			if [ -z "$worst" ] || awk -v v="$v" -v w="$worst" 'BEGIN { exit !(v < w) }'; then
				worst=$v against=$label
			fi
		done
		[ -n "$worst" ] &&
			printf 'auto / best of libaio and each engine: %.3f (against %s)\n' "$worst" "$against"
	done
done
[ $can_drop = 1 ] || [[ ,$jobs, != *,uncached,* ]] ||
	echo "(uncached job skipped: /proc/sys/vm/drop_caches not writable)"
exit 0
