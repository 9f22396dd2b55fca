#!/bin/sh
# Install uaio from a build tree into a scratch prefix, check the layout,
# build examples/hello.c against the installed tree with pkg-config, run it
# and check that it loaded the installed libaio.so.1 (not the build tree's
# nor the system's), check that the installed `uaio run` hands that library
# to programs, even one linked against the system's libaio, then uninstall
# and check that nothing is left.  Then install and uninstall through
# DESTDIR staging, as packagers do.
#
# Usage: install-test.sh BUILD SOURCE BINDIR LIBDIR INCLUDEDIR MANDIR LAYOUT
#                        CC PKG_CONFIG [CFLAGS]
# BINDIR, LIBDIR, INCLUDEDIR and MANDIR are relative to the prefix
# (GNUInstallDirs);
# LAYOUT is "uaio" (the default: ${libdir}/uaio, ${includedir}/uaio) or
# "libaio" (-DUAIO_INSTALL_AS_LIBAIO=ON).
# shellcheck disable=SC2015 # "[ a ] && [ b ] || fail": fail unless both hold
# shellcheck disable=SC2317 # cleanup() runs from the EXIT trap
set -u
build=$1 src=$2 bindir=$3 libdir=$4 incdir=$5 mandir=$6 layout=$7 cc=$8
pkgconf=$9 cflags=${10:-}
cmake=${CMAKE:-cmake}

case $libdir in /*) echo "absolute CMAKE_INSTALL_LIBDIR: not testable here" >&2; exit 77 ;; esac
command -v readelf >/dev/null 2>&1 || { echo "readelf is not installed" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uaio-install.XXXXXX") || exit 1
manifest=$build/install_manifest.txt
saved=
if [ -f "$manifest" ]; then
	saved=$tmp/install_manifest.saved
	cp -p "$manifest" "$saved"
fi
cleanup() {
	# The user's own install record must survive the test.
	if [ -n "$saved" ]; then
		cp -p "$saved" "$manifest"
	else
		rm -f "$manifest"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	exit 1
}

# Nothing from the environment may pick the library for the program.
unset LD_LIBRARY_PATH LD_PRELOAD UAIO_STATS

if [ "$layout" = uaio ]; then
	libsub=$libdir/uaio incsub=$incdir/uaio
else
	libsub=$libdir incsub=$incdir
fi

# $1: prefix as seen by the program; $2: where the files are (DESTDIR+prefix).
check_tree() {
	pfx=$1 root=$2
	for f in "$libsub/libaio.so.1" "$libsub/libaio.so" "$incsub/libaio.h" \
		"$incsub/uaio.h" "$libdir/pkgconfig/uaio.pc" \
		"$mandir/man3/io_submit.3" "$mandir/man3/io_prep_pwrite.3" \
		"$mandir/man7/uaio.7"; do
		[ -e "$root/$f" ] || fail "not installed: $root/$f"
	done
	[ "$(readelf -d "$root/$libsub/libaio.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" = libaio.so.1 ] ||
		fail "$root/$libsub/libaio.so.1: SONAME is not libaio.so.1"
	if [ "$layout" = uaio ]; then
		# The system's libaio must not be shadowed.
		for f in "$root/$libdir"/libaio.so* "$root/$incdir/libaio.h"; do
			[ -e "$f" ] && fail "$f installed: it would shadow the system's libaio"
		done
	fi
	grep -qx "prefix=$pfx" "$root/$libdir/pkgconfig/uaio.pc" ||
		fail "uaio.pc does not say prefix=$pfx: $(grep '^prefix=' "$root/$libdir/pkgconfig/uaio.pc")"
}

# Uninstall through the build system's target, then nothing may be left.
uninstall_and_check() {
	root=$1
	"$cmake" --build "$build" --target uninstall >"$tmp/uninstall.log" 2>&1 ||
		{ cat "$tmp/uninstall.log"; fail "uninstall target failed"; }
	left=$(find "$root" ! -type d | head -n 5)
	[ -z "$left" ] || fail "left after uninstall: $left"
	for d in "$root/$libdir/uaio" "$root/$incdir/uaio"; do
		[ -d "$d" ] && fail "directory left after uninstall: $d"
	done
	true
}

# 1. Straight into a prefix.
prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "cmake --install --prefix $prefix"; }
check_tree "$prefix" "$prefix"

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
flags=$("$pkgconf" --cflags --libs uaio) || fail "pkg-config --cflags --libs uaio"
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # flags are words
"$cc" -Wall -Wextra -Werror $cflags -o "$tmp/hello" "$src/examples/hello.c" $flags ||
	fail "examples/hello.c does not build against the installed tree"

want=$(realpath "$prefix/$libsub/libaio.so.1")
# Installed as the system's libaio, the library is found through the
# loader's cache after ldconfig; in a scratch prefix, stand in for it.
run_env=
[ "$layout" = libaio ] && run_env="LD_LIBRARY_PATH=$prefix/$libdir"
# shellcheck disable=SC2086 # run_env is empty or one word
env $run_env ldd "$tmp/hello" >"$tmp/ldd" 2>&1 || { cat "$tmp/ldd"; fail "ldd hello"; }
got=$(sed -n 's/^[[:space:]]*libaio\.so\.1 => \([^ ]*\).*/\1/p' "$tmp/ldd")
[ -n "$got" ] && [ "$(realpath "$got")" = "$want" ] ||
	{ cat "$tmp/ldd"; fail "ldd: libaio.so.1 resolves to '$got', not $want"; }

data=$tmp/data
printf 'hello from uaio\n' >"$data"
for engine in auto threads; do
	# shellcheck disable=SC2086 # run_env is empty or one word
	out=$(env $run_env UAIO_ENGINE=$engine "$tmp/hello" "$data" 2>&1) ||
		{ echo "$out"; fail "hello (UAIO_ENGINE=$engine) failed"; }
	echo "$out" | sed "s/^/  [$engine] /"
	echo "$out" | grep -qx "read 16 bytes of $data" || fail "hello did not read the file"
	lib=$(echo "$out" | sed -n 's/^library: //p')
	[ -n "$lib" ] && [ "$(realpath "$lib")" = "$want" ] ||
		fail "hello loaded '$lib', not the installed $want"
	echo "$out" | grep -qx "uaio: $(sed -n 's/^Version: //p' "$PKG_CONFIG_PATH/uaio.pc")" ||
		fail "uaio_version() differs from uaio.pc's Version"
done
echo "$out" | grep -qx "engine: threads" || fail "UAIO_ENGINE=threads did not give the threads engine"

# The installed command must load the installed library, and 'uaio run'
# must hand that one to the program it runs.
uaio=$prefix/$bindir/uaio
if [ -x "$uaio" ]; then
	"$uaio" --version >"$tmp/version" 2>&1 || { cat "$tmp/version"; fail "uaio --version"; }
	grep -q "^uaio " "$tmp/version" || fail "uaio --version: $(cat "$tmp/version")"
	out=$("$uaio" run --engine threads -- "$tmp/hello" "$data" 2>&1) ||
		{ echo "$out"; fail "uaio run -- hello"; }
	echo "$out" | sed "s/^/  [uaio run] /"
	lib=$(echo "$out" | sed -n 's/^library: //p')
	[ -n "$lib" ] && [ "$(realpath "$lib")" = "$want" ] ||
		fail "under the installed 'uaio run', hello loaded '$lib', not $want"
	echo "$out" | grep -qx "engine: threads" || fail "uaio run --engine threads: $out"

	# What 'uaio run' is for: a program built against the system's libaio.
	cat >"$tmp/sys.c" <<'EOF_C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <libaio.h>

int main(void)
{
	const char *(*version)(void);
	io_context_t ctx = 0;
	Dl_info lib;

	if (io_setup(1, &ctx) < 0)
		return 1;
	version = (const char *(*)(void))dlsym(RTLD_DEFAULT, "uaio_version");
	if (!version)
		printf("library: system\n");
	else if (dladdr(version(), &lib) && lib.dli_fname)
		printf("library: %s\n", lib.dli_fname);
	return io_destroy(ctx) < 0;
}
EOF_C
	# shellcheck disable=SC2086 # cflags are words
	if "$cc" $cflags -o "$tmp/sys" "$tmp/sys.c" -laio 2>"$tmp/sys.log"; then
		out=$("$tmp/sys" 2>&1)
		[ "$out" = "library: system" ] ||
			fail "a program linked against the system libaio ran on: $out"
		out=$("$uaio" run -- "$tmp/sys" 2>&1)
		echo "  [uaio run, system-linked program] $out"
		lib=${out#library: }
		[ "$lib" != "$out" ] && [ "$(realpath "$lib" 2>/dev/null)" = "$want" ] ||
			fail "under the installed 'uaio run', a program linked against the system libaio got '$out', not $want"
	else
		echo "(no system libaio to link against: $(head -n 1 "$tmp/sys.log"))"
	fi
else
	echo "(no $bindir/uaio installed: the command is not checked)"
fi

uninstall_and_check "$prefix"

# 2. Staged into DESTDIR for a prefix that does not exist, as a package build.
stage=$tmp/stage
pfx=/opt/uaio-install-test
DESTDIR=$stage "$cmake" --install "$build" --prefix "$pfx" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "DESTDIR=$stage cmake --install --prefix $pfx"; }
check_tree "$pfx" "$stage$pfx"
[ -e "$pfx" ] && fail "installed outside DESTDIR into $pfx"
export DESTDIR="$stage"
uninstall_and_check "$stage"
unset DESTDIR

echo "install, pkg-config build, run and uninstall: ok"
exit 0
