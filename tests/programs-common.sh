# Shared by fio-libaio.sh and qemu-img-aio.sh (sourced, POSIX sh): run an
# unmodified program linked against libaio.so.1 either on uaio's build of it
# (LD_LIBRARY_PATH, UAIO_ENGINE) or, for ENGINE "ref", on the system libaio,
# and prove from UAIO_STATS which library and engine it really ran on.
#
# The caller's arguments: LIBDIR ENGINE PRELOAD CASE, where PRELOAD is the
# sanitizer runtime to load first when the library was built with
# UAIO_SANITIZE ("-" otherwise, "missing" when CMake could not find it).

fail() {
	echo "FAIL: $*"
	[ -n "${scratch:-}" ] && show_logs
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

show_logs() {
	for f in "$scratch/stderr" "$scratch/stdout" "$stats"; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f"):"
		head -n 60 "$f"
	done
}

# prog_init PROGRAM LIBDIR ENGINE PRELOAD
prog_init() {
	program=$1
	libdir=$2
	engine=$3
	preload=$4
	command -v "$program" >/dev/null 2>&1 ||
		skip "$program is not installed (Debian: scripts/deps.sh installs it)"
	case "$preload" in
	-) preload= ;;
	missing)
		skip "uaio is built with sanitizers but the compiler's libasan.so was not found: an uninstrumented $program cannot load the instrumented libaio.so.1 without it" ;;
	esac
	if [ "$engine" != ref ] && [ ! -r "$libdir/libaio.so.1" ]; then
		fail "no libaio.so.1 in $libdir"
	fi
	[ "$engine" = ref ] || libdir=$(cd "$libdir" && pwd) || fail "cannot enter $libdir"
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/uaio-$program.XXXXXX") ||
		fail "cannot make a scratch directory in ${TMPDIR:-/tmp}"
	trap 'rm -rf "$scratch"' EXIT
	trap 'exit 1' HUP INT TERM
	scratch=$(cd "$scratch" && pwd) || fail "cannot enter $scratch"
	stats=$scratch/uaio-stats
}

# O_DIRECT does not work on tmpfs; scripts/test.sh points TMPDIR at the build.
need_odirect() {
	dd if=/dev/zero of="$scratch/odirect" bs=4096 count=1 oflag=direct \
		2>/dev/null ||
		skip "O_DIRECT does not work in ${TMPDIR:-/tmp}: set TMPDIR to a directory on a disk file system"
	rm -f "$scratch/odirect"
}

# run PROGRAM ARGS...: stdout and stderr go to $scratch; sets $rc.
# shellcheck disable=SC2034 # rc is for the callers
run() {
	rm -f "$stats"
	echo "+ $*"
	if [ "$engine" = ref ]; then
		(
			cd "$scratch" || exit 1
			unset LD_LIBRARY_PATH LD_PRELOAD UAIO_ENGINE
			UAIO_STATS=$stats
			export UAIO_STATS
			exec "$@"
		) >"$scratch/stdout" 2>"$scratch/stderr"
		rc=$?
	else
		(
			cd "$scratch" || exit 1
			LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
			UAIO_ENGINE=$engine
			UAIO_STATS=$stats
			export LD_LIBRARY_PATH UAIO_ENGINE UAIO_STATS
			if [ -n "$preload" ]; then
				# The sanitizer runtime must be the first object loaded.
				# The programs' own exit-time leaks are not ours to fix;
				# the instrumented tests check the library for leaks.
				LD_PRELOAD=$preload${LD_PRELOAD:+:$LD_PRELOAD}
				ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
				export LD_PRELOAD ASAN_OPTIONS
			fi
			exec "$@"
		) >"$scratch/stdout" 2>"$scratch/stderr"
		rc=$?
	fi
	if grep -qE '^==[0-9]+==ERROR: |runtime error: ' "$scratch/stderr"; then
		fail "sanitizer report while $program ran on engine $engine"
	fi
}

# Sum a numeric field ("key":N) over every UAIO_STATS line.
stat_sum() {
	awk -v k="\"$1\":" '{
		i = index($0, k)
		if (i) { s = substr($0, i + length(k)); sub(/[^0-9].*/, "", s); t += s }
	} END { print t + 0 }' "$stats"
}

# check_stats: the reference must not have touched uaio; a uaio run must
# have written at least one line, every one of them from $engine.  Leaves
# the sums in st_<field>.
check_stats() {
	if [ "$engine" = ref ]; then
		[ ! -e "$stats" ] ||
			fail "the reference run loaded uaio instead of the system libaio (it wrote UAIO_STATS)"
		echo "reference: $program ran on the system libaio (no UAIO_STATS written)"
		return 0
	fi
	[ -s "$stats" ] ||
		fail "no UAIO_STATS line: $program did not run on $libdir/libaio.so.1"
	if grep -v "\"engine\":\"$engine\"" "$stats" | grep -q .; then
		fail "a context ran on another engine than $engine"
	fi
	st_pread=$(stat_sum pread)
	st_pwrite=$(stat_sum pwrite)
	st_fsync=$(stat_sum fsync)
	st_fdsync=$(stat_sum fdsync)
	st_poll=$(stat_sum poll)
	st_preadv=$(stat_sum preadv)
	st_pwritev=$(stat_sum pwritev)
	st_completed=$(stat_sum completed)
	st_cancelled=$(stat_sum cancelled)
	st_errors=$(stat_sum errors)
	st_ops=$((st_pread + st_pwrite + st_fsync + st_fdsync + st_poll + st_preadv + st_pwritev))
	[ "$st_ops" -gt 0 ] || fail "uaio's contexts saw no request on engine $engine"
	echo "uaio stats ($engine, $(wc -l <"$stats") context(s)): pread $st_pread pwrite $st_pwrite preadv $st_preadv pwritev $st_pwritev completed $st_completed errors $st_errors"
}

# check_completions SELF_REAPED [ERRORS]: every request completed, and
# exactly ERRORS (default 0) of them with an error.  The kernel engine
# counts completions from the ring's tail, so programs that read the ring
# themselves (fio's userspace_reap, QEMU) are counted too; their errors,
# though, are only seen in events reaped through io_getevents.
check_completions() {
	[ "$engine" = ref ] && return 0
	[ "$st_errors" -eq "${2:-0}" ] ||
		fail "uaio counted $st_errors failed request(s), the program ${2:-0}"
	[ "$st_cancelled" -eq 0 ] || fail "uaio counted $st_cancelled cancelled request(s)"
	[ "$st_completed" -eq "$st_ops" ] ||
		fail "uaio completed $st_completed of $st_ops requests"
}
