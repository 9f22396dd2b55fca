#!/bin/sh
# MariaDB's InnoDB on uaio, unmodified (Debian's mariadb-server): it sets its
# context up with libaio's io_setup/io_submit and waits with the raw
# syscall(__NR_io_getevents), so it only works where raw calls reach uaio.
# mariadb-install-db bootstraps a data directory, the server runs a small
# InnoDB workload with --innodb-linux-aio=aio, shuts down, starts again and
# the data is checked.  UAIO_STATS proves which library and engine it ran on.
#
# usage: mariadb.sh LIBDIR ENGINE PRELOAD [auto-exhausted]
#   ENGINE: kernel, uring, threads, ref (the system libaio), or auto;
#   auto-exhausted: fs.aio-max-nr is used up (by AIO_HOG) while it runs,
#   which on the system libaio makes InnoDB fall back to simulated AIO and
#   on uaio makes auto choose an emulated engine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/programs-common.sh"

libdir=$1 eng=$2 pre=$3 mode=${4:-}
command -v mariadb-install-db >/dev/null 2>&1 ||
	skip "mariadb-server is not installed (scripts/deps.sh installs it)"
server=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[ -x "$server" ] || skip "no mariadbd"
[ "$(id -u)" -eq 0 ] || skip "runs the server as root (--user=root)"
prog_init mariadb-install-db "$libdir" "$eng" "$pre"
[ "$engine" = auto ] && engine=""
need_odirect
pid=
# The server must not outlive a failure.
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$scratch"' EXIT

data=$scratch/data sock=$scratch/sock
# A tmpdir of its own: a server removes the temporary files it finds there
# at startup, those of another test's server included.
mkdir -p "$scratch/tmp"
server_opts="--no-defaults --datadir=$data --tmpdir=$scratch/tmp --socket=$sock --pid-file=$scratch/pid
 --skip-networking --user=root --innodb-linux-aio=aio --innodb-use-native-aio=1
 --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --innodb-flush-method=O_DIRECT
 --log-error=$scratch/error.log"

# run_env PROGRAM ARGS...: like run(), in the background when BG=1.
run_env() {
	if [ "$eng" = ref ]; then
		env -u LD_LIBRARY_PATH -u UAIO_ENGINE UAIO_STATS="$stats" "$@"
	elif [ -z "$engine" ]; then
		env -u UAIO_ENGINE LD_LIBRARY_PATH="$libdir" UAIO_STATS="$stats" \
			${preload:+LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0} "$@"
	else
		env LD_LIBRARY_PATH="$libdir" UAIO_ENGINE="$engine" UAIO_STATS="$stats" \
			${preload:+LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0} "$@"
	fi
}

start_server() {
	# shellcheck disable=SC2086
	run_env "$server" $server_opts >>"$scratch/stdout" 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		mariadb-admin --no-defaults -S "$sock" -uroot ping >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -30 "$scratch/error.log" 2>/dev/null
	fail "the server did not start"
}

stop_server() {
	mariadb-admin --no-defaults -S "$sock" -uroot shutdown ||
		fail "shutdown failed"
	wait "$pid" || { pid=; fail "the server exited with status $?"; }
	pid=
}

sql() {
	mariadb --no-defaults -S "$sock" -uroot -N -B -e "$1" 2>>"$scratch/stderr" ||
		fail "SQL failed: $1"
}

workload() {
	bootstrap=$scratch/bootstrap.log
	rm -f "$stats"
	# shellcheck disable=SC2086
	run_env mariadb-install-db --no-defaults --datadir="$data" --tmpdir="$scratch/tmp" --user=root \
		--auth-root-authentication-method=normal --skip-test-db \
		--innodb-linux-aio=aio >"$bootstrap" 2>&1 ||
		{ grep -E "\[(ERROR|Warning)\]|rror" "$bootstrap" | head -20
		  tail -30 "$bootstrap"; fail "mariadb-install-db failed"; }
	start_server
	sql "CREATE DATABASE w; CREATE TABLE w.t (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;"
	sql "SET SESSION max_recursive_iterations = 100000; INSERT INTO w.t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) SELECT i, SHA2(i, 256) FROM s;"
	sql "UPDATE w.t SET v = CONCAT(v, '!') WHERE id % 7 = 0; DELETE FROM w.t WHERE id % 11 = 0;"
	sql "FLUSH TABLES; SET GLOBAL innodb_buffer_pool_dump_now = 1;"
	before=$(sql "SELECT COUNT(*), SUM(CRC32(v)) FROM w.t")
	stop_server
	start_server
	after=$(sql "SELECT COUNT(*), SUM(CRC32(v)) FROM w.t")
	sql "CHECK TABLE w.t" | grep -q "status	OK" || fail "CHECK TABLE did not say OK"
	stop_server
	[ "$before" = "$after" ] || fail "the data changed across a restart: '$before' then '$after'"
	echo "rows and checksum before and after a restart: $before"
	if grep -E "io_getevents returned|io_submit returned|\\[ERROR\\]" "$scratch/error.log"; then
		fail "the server logged AIO errors"
	fi
}

if [ "$mode" = auto-exhausted ]; then
	[ -n "${AIO_HOG:-}" ] || fail "AIO_HOG (the aio-hog helper) is not set"
	# Re-run this script with the slots of fs.aio-max-nr held meanwhile.
	[ -z "${UAIO_HOGGED:-}" ] && exec env UAIO_HOGGED=1 "$AIO_HOG" sh "$0" "$@"
fi

workload
native=$(grep -c "Using Linux native AIO\|Using liburing" "$scratch/error.log" || true)
echo "error log: native AIO mentioned $native time(s)"
if [ "$mode" = auto-exhausted ] && [ "$eng" = ref ]; then
	# The system libaio: io_setup fails, InnoDB falls back to its own AIO.
	grep -q "io_setup() failed\|Linux Native AIO disabled\|native AIO" "$scratch/error.log" ||
		echo "note: no fallback message in the error log"
	check_stats
	exit 0
fi
if [ "$eng" = ref ]; then
	check_stats
	exit 0
fi
[ -s "$stats" ] || fail "no UAIO_STATS line: mariadbd did not run on $libdir/libaio.so.1"
used=$(sed -n 's/.*"engine":"\([a-z]*\)".*/\1/p' "$stats" | sort -u | tr '\n' ' ')
echo "uaio engines used: $used"
if [ -n "$engine" ]; then
	check_stats
elif [ "$mode" = auto-exhausted ]; then
	case "$used" in *kernel*) fail "auto used the kernel engine with fs.aio-max-nr used up" ;; esac
fi
exit 0
