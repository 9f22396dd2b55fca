#!/bin/sh
# Tests of the uaio command: test-cli.sh UAIO CASE [RUN_TARGET]
# RUN_TARGET is a program linked against the system libaio ("" if none).
# Exit 0 pass, 1 fail, 77 skip.
set -u
uaio=$1
case=$2
target=${3:-}

# run-target leaves a context to the exit on purpose (its statistics are
# written then): not a leak for LeakSanitizer to report in sanitizer builds.
no_leak_check() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	export ASAN_OPTIONS
}

work=$(mktemp -d "${TMPDIR:-/tmp}/uaio-cli.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
out=$work/out
err=$work/err

fail() {
	echo "test-cli $case: FAIL: $*" >&2
	for f in "$out" "$err"; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):" >&2; cat "$f" >&2; }
	done
	exit 1
}

# expect STATUS CMD...: run CMD, output in $out and $err, check its status.
expect() {
	want=$1
	shift
	"$@" >"$out" 2>"$err"
	got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want"
}

grep_out() { grep -q -- "$1" "$out" || fail "stdout lacks '$1'"; }
grep_err() { grep -q -- "$1" "$err" || fail "stderr lacks '$1'"; }

case $case in
usage)
	expect 2 "$uaio"
	grep_err "no command given"
	expect 2 "$uaio" frobnicate
	grep_err "unknown command 'frobnicate'"
	expect 2 "$uaio" --frobnicate
	expect 0 "$uaio" --help
	grep_out "^Usage: uaio COMMAND"
	expect 0 "$uaio" --version
	grep -Eq '^uaio [0-9]+\.[0-9]+\.[0-9]+$' "$out" || fail "--version: $(cat "$out")"
	for sub in info run bench; do
		expect 0 "$uaio" $sub --help
		grep_out "^Usage: uaio $sub"
		grep_out "^Exit status"
		expect 0 "$uaio" help $sub
		grep_out "^Usage: uaio $sub"
		expect 2 "$uaio" $sub --frobnicate
		grep_err "Try 'uaio $sub --help'"
	done
	expect 2 "$uaio" info extra
	expect 2 "$uaio" info --check
	expect 2 "$uaio" info --check frob
	expect 0 "$uaio" info --check threads
	expect 2 "$uaio" run
	grep_err "no program to run"
	expect 2 "$uaio" run --engine frob -- true
	expect 2 "$uaio" run --engine kernel,,threads -- true
	expect 2 "$uaio" run --threads 0 -- true
	expect 2 "$uaio" run --threads x -- true
	expect 2 "$uaio" bench --depth 0
	expect 2 "$uaio" bench --depth 1,,2x
	expect 2 "$uaio" bench --bs 100
	expect 2 "$uaio" bench --rw sideways
	expect 2 "$uaio" bench --rwmix 70
	grep_err "randrw"
	expect 2 "$uaio" bench --rw randrw --rwmix 101
	expect 2 "$uaio" bench --size 12Q
	expect 2 "$uaio" bench --duration 0
	expect 2 "$uaio" bench --runs 0
	expect 2 "$uaio" bench --runs 16
	expect 2 "$uaio" bench --engines kernel,frob
	expect 2 "$uaio" bench --modes fast
	expect 2 "$uaio" bench --force
	expect 2 "$uaio" bench stray
	;;

run-env)
	lib=$("$uaio" info --json | sed -n 's/^  "library": "\(.*\)",$/\1/p')
	[ -f "$lib" ] || fail "uaio info reports no library ('$lib')"
	libdir=${lib%/*}
	expect 0 env -u UAIO_ENGINE LD_LIBRARY_PATH=/nowhere "$uaio" run \
		--engine uring,threads --threads 3 --debug -- \
		sh -c 'echo "E=$UAIO_ENGINE T=$UAIO_THREADS D=$UAIO_DEBUG"; echo "L=$LD_LIBRARY_PATH"; echo "P=${LD_PRELOAD-unset}"'
	grep_out "^E=uring,threads T=3 D=1$"
	grep_out "^L=$libdir:/nowhere$"
	grep_out "^P=unset$"
	# A sanitizer build of the library cannot be preloaded into sh.
	if ! grep -q "libasan\|libtsan" "$lib"; then
		expect 0 env -u LD_LIBRARY_PATH -u LD_PRELOAD "$uaio" run --preload -- \
			sh -c 'echo "L=$LD_LIBRARY_PATH"; echo "P=$LD_PRELOAD"'
		grep_out "^L=$libdir$"
		grep_out "^P=$lib$"
	fi
	# Without options the environment is left as it was.
	expect 0 env UAIO_ENGINE=kernel "$uaio" run sh -c 'echo "E=$UAIO_ENGINE"'
	grep_out "^E=kernel$"
	;;

run-status)
	expect 7 "$uaio" run -- sh -c 'exit 7'
	expect 7 "$uaio" run --stats -- sh -c 'exit 7'
	expect 0 "$uaio" run --stats -- true
	grep_err "no AIO context statistics"
	expect 127 "$uaio" run -- /nonexistent/program
	expect 127 "$uaio" run --stats -- /nonexistent/program
	printf 'not a program\n' >"$work/plain"
	chmod 644 "$work/plain"
	expect 126 "$uaio" run -- "$work/plain"
	expect 126 "$uaio" run --stats -- "$work/plain"
	# Killed by a signal: uaio run --stats dies the same way (shell: 128+n).
	expect 143 "$uaio" run --stats -- sh -c 'kill -TERM $$'
	# SIGTERM sent to uaio reaches the program.
	"$uaio" run --stats -- sh -c 'echo ready; exec sleep 30' >"$out" 2>"$err" &
	pid=$!
	n=0
	while ! grep -q ready "$out" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || fail "the program did not start"
		sleep 0.05
	done
	kill -TERM $pid
	wait $pid
	got=$?
	[ $got -eq 143 ] || fail "SIGTERM to uaio run: status $got, expected 143"
	;;

run-target)
	[ -n "$target" ] || { echo "no system libaio: skipped"; exit 77; }
	no_leak_check
	expect 0 "$target"
	grep_out "^libaio=system$"
	for e in kernel threads; do
		"$uaio" info --check $e 2>/dev/null || continue
		expect 0 "$uaio" run --engine $e -- "$target"
		grep_out "^libaio=uaio engine=$e,$e$"
	done
	if "$uaio" info --check uring 2>/dev/null; then first=uring; else first=threads; fi
	expect 0 "$uaio" run --engine uring,threads -- "$target"
	grep_out "^libaio=uaio engine=$first,$first$"
	;;

run-stats-file)
	# Lines as the library writes them, one malformed, to check the table.
	cat >"$work/lines" <<-'EOF'
	{"pid":4242,"ctx":"0x7f0000001000","engine":"threads","ops":{"pread":1000,"pwrite":20,"preadv":0,"pwritev":0,"fsync":3,"fdsync":0,"poll":0},"completed":1022,"cancelled":1,"errors":2,"max_depth":32,"lat_ns":{"p50":45100,"p90":80200,"p99":210000,"max":1200000}}
	{"pid":4243,"ctx":"0x7f0000002000","engine":"kernel","ops":{"pread":0,"pwrite":5,"preadv":0,"pwritev":0,"fsync":0,"fdsync":0,"poll":0},"completed":5,"cancelled":0,"errors":0,"max_depth":1,"lat_ns":{"p50":812,"p90":900,"p99":1000,"max":1500}}
	{"pid":4244,"ctx":
	EOF
	expect 0 "$uaio" run --stats -- sh -c 'echo "S=$UAIO_STATS"; cat "$1" >>"$UAIO_STATS"' sh "$work/lines"
	stats=$(sed -n 's/^S=//p' "$out")
	[ -n "$stats" ] || fail "UAIO_STATS was not set"
	[ ! -e "$stats" ] || fail "the statistics file $stats was left behind"
	grep -Eq '^ *pid +context +engine +pread +pwrite +fsync +completed +cancelled +errors +max depth +p50 +p90 +p99 +max$' "$err" ||
		fail "no table header (or unused opcode columns shown)"
	grep -Eq '^ *4242 +0x7f0000001000 +threads +1000 +20 +3 +1022 +1 +2 +32 +45.1us +80.2us +210us +1.20ms$' "$err" ||
		fail "wrong row for the threads context"
	grep -Eq '^ *4243 +0x7f0000002000 +kernel +0 +5 +0 +5 +0 +0 +1 +812ns +900ns +1.00us +1.50us$' "$err" ||
		fail "wrong row for the kernel context"
	grep -Eq '^ *all +2 contexts +1000 +25 +3 +1027 +1 +2 +32$' "$err" ||
		fail "wrong total row"
	grep_err "statistics line 3 unreadable"
	;;

run-stats-live)
	[ -n "$target" ] || { echo "no system libaio: skipped"; exit 77; }
	no_leak_check
	expect 0 "$uaio" run --stats --engine threads -- "$target"
	grep_out "^libaio=uaio engine=threads,threads$"
	# First context: 3 preads, 2 pwrites, 1 fsync; second: 1 pread.
	grep -Eq '^ *[0-9]+ +0x[0-9a-f]+ +threads +3 +2 +1 +6 +0 +0 +1 ' "$err" ||
		fail "no row for the first context"
	grep -Eq '^ *[0-9]+ +0x[0-9a-f]+ +threads +1 +0 +0 +1 +0 +0 +1 ' "$err" ||
		fail "no row for the second context (reported at exit)"
	grep -Eq '^ *all +2 contexts +4 +2 +1 +7 +0 +0 +1$' "$err" ||
		fail "wrong total row"
	;;

bench-refuse)
	printf 'precious data\n' >"$work/keep"
	cp "$work/keep" "$work/orig"
	for rw in write randrw randwrite; do
		expect 1 "$uaio" bench --rw $rw --file "$work/keep" --size 4K --duration 0.1
		grep_err "refusing to write to $work/keep"
		grep_err "--force"
		cmp -s "$work/keep" "$work/orig" || fail "--rw $rw changed the file"
	done
	# Never extended either.
	expect 1 "$uaio" bench --file "$work/keep" --size 1M --duration 0.1
	grep_err "never extended"
	cmp -s "$work/keep" "$work/orig" || fail "the file was changed"
	# Too small for one block.
	expect 1 "$uaio" bench --file "$work/keep" --duration 0.1
	grep_err "smaller than one block"
	# A file that does not exist is made, used and removed.
	expect 0 "$uaio" bench --file "$work/new" --size 1M --duration 0.1 \
		--depth 2 --modes cached --engines threads
	[ ! -e "$work/new" ] || fail "the file it made was left behind"
	# Reads of an existing file leave it alone; --force allows writes.
	head -c 65536 /dev/urandom >"$work/big"
	cp "$work/big" "$work/big.orig"
	expect 0 "$uaio" bench --file "$work/big" --duration 0.1 --depth 1 \
		--modes cached --engines threads
	cmp -s "$work/big" "$work/big.orig" || fail "a read run changed the file"
	[ -e "$work/big" ] || fail "a read run removed the user's file"
	expect 0 "$uaio" bench --file "$work/big" --rw write --force \
		--duration 0.1 --depth 1 --modes cached --engines threads
	cmp -s "$work/big" "$work/big.orig" && fail "--force --rw write wrote nothing"
	[ -e "$work/big" ] || fail "a forced run removed the user's file"
	# Interrupted: what it made is removed, and it dies of SIGINT.
	"$uaio" bench --file "$work/int" --size 4M --duration 20 --depth 1 \
		--modes cached --engines threads >"$out" 2>"$err" &
	pid=$!
	n=0
	while [ ! -e "$work/int" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || fail "the run never made its file"
		sleep 0.05
	done
	sleep 0.5 # let it get into the cell
	kill -INT $pid
	wait $pid
	got=$?
	[ $got -eq 130 ] || fail "SIGINT: status $got, expected 130"
	[ ! -e "$work/int" ] || fail "SIGINT left $work/int behind"
	grep_err "interrupted"
	;;

bench-args)
	expect 0 "$uaio" bench --json --size 1M --duration 0.1 --depth 1,2 \
		--modes cached,uncached --engines threads --rw randrw --rwmix 70
	grep_out '"rw": "randrw", "rwmix_read": 70'
	grep_out '"depths": \[1, 2\]'
	grep_out '"modes": \["uncached", "cached"\]'
	[ "$(grep -c '"engine": "threads", "state": "ok"' "$out")" -eq 4 ] ||
		fail "expected 4 ok cells"
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; json.load(sys.stdin)' <"$out" ||
			fail "invalid JSON"
	fi
	# Runs: every cell measured twice, medians, auto against the others.
	expect 0 "$uaio" bench --json --size 1M --duration 0.1 --depth 1 \
		--modes cached --engines threads,auto --runs 2
	grep_out '"runs": 2'
	[ "$(grep -Ec '"runs_iops": \[[0-9.e+]+, [0-9.e+]+\]' "$out")" -eq 2 ] ||
		fail "expected 2 cells with 2 runs each"
	grep -Eq '"vs_best": [0-9.e+]+, "best_other": "threads"' "$out" ||
		fail "no vs_best for auto"
	expect 0 "$uaio" bench --size 1M --duration 0.1 --depth 1 \
		--modes cached --engines threads,auto --runs 2
	grep_out "^2 runs: medians"
	grep -Eq '^  buffered cached +1 +[0-9.]+x +\(uaio threads\)$' "$out" ||
		fail "no line of auto against the best of the others"
	# An engine the host cannot run is reported, not fatal.
	if ! "$uaio" info --check uring 2>/dev/null; then
		expect 0 "$uaio" bench --size 1M --duration 0.1 --depth 1 \
			--modes cached --engines uring,threads
		grep_out "^not run:"
		grep_out "uaio uring"
	fi
	;;

bench-quick)
	start=$(date +%s)
	expect 0 "$uaio" bench --quick
	end=$(date +%s)
	cat "$out"
	grep -Eq '^mode +depth +engine +IOPS +mean +p99 +in submit +vs libaio$' "$out" ||
		fail "no table header"
	grep -Eq '^ .* uaio threads +[0-9.]+[kM]? +[0-9.]+[num]s ' "$out" ||
		fail "no threads row with figures"
	grep -q "FAILED" "$out" && fail "a cell failed"
	[ $((end - start)) -lt 40 ] || fail "took $((end - start)) s, more than 40"
	ls "${TMPDIR:-/tmp}" | grep -q '^uaio-bench\.' && fail "a scratch file was left behind"
	echo "bench-quick: ok in $((end - start)) s"
	;;

*)
	echo "test-cli: unknown case $case" >&2
	exit 2
	;;
esac
exit 0
