#!/bin/sh
# Install uaio from a build tree into a scratch prefix, check the layout,
# build examples/hello.c against the installed tree with pkg-config, run it
# and check that it loaded the installed libaio.so.1 (not the build tree's
# nor the system's), then uninstall and check that nothing is left.  Then
# the same through DESTDIR staging, as packagers do.
#
# Usage: install-test.sh BUILD SOURCE LIBDIR INCLUDEDIR MANDIR LAYOUT CC
#                        PKG_CONFIG [CFLAGS]
# LIBDIR, INCLUDEDIR and MANDIR are relative to the prefix (GNUInstallDirs);
# LAYOUT is "uaio" (the default: ${libdir}/uaio, ${includedir}/uaio) or
# "libaio" (-DUAIO_INSTALL_AS_LIBAIO=ON).
set -u
build=$1 src=$2 libdir=$3 incdir=$4 mandir=$5 layout=$6 cc=$7 pkgconf=$8
cflags=${9:-}

case $libdir in /*) echo "absolute CMAKE_INSTALL_LIBDIR: not testable here" >&2; exit 77 ;; esac
for tool in readelf; do
	command -v $tool >/dev/null 2>&1 || { echo "$tool is not installed" >&2; exit 77; }
done

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
	cmake --build "$build" --target uninstall >"$tmp/uninstall.log" 2>&1 ||
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
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "cmake --install --prefix $prefix"; }
check_tree "$prefix" "$prefix"

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
flags=$("$pkgconf" --cflags --libs uaio) || fail "pkg-config --cflags --libs uaio"
echo "pkg-config: $flags"
# shellcheck disable=SC2086 # flags are words
"$cc" -Wall -Wextra -Werror $cflags -o "$tmp/hello" "$src/examples/hello.c" $flags ||
	fail "examples/hello.c does not build against the installed tree"

want=$(realpath "$prefix/$libsub/libaio.so.1")
ldd "$tmp/hello" >"$tmp/ldd" 2>&1 || { cat "$tmp/ldd"; fail "ldd hello"; }
got=$(sed -n 's/^[[:space:]]*libaio\.so\.1 => \([^ ]*\).*/\1/p' "$tmp/ldd")
[ -n "$got" ] && [ "$(realpath "$got")" = "$want" ] ||
	{ cat "$tmp/ldd"; fail "ldd: libaio.so.1 resolves to '$got', not $want"; }

data=$tmp/data
printf 'hello from uaio\n' >"$data"
for engine in auto threads; do
	out=$(env UAIO_ENGINE=$engine "$tmp/hello" "$data" 2>&1) ||
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

uninstall_and_check "$prefix"

# 2. Staged into DESTDIR for a prefix that does not exist, as a package build.
stage=$tmp/stage
pfx=/opt/uaio-install-test
DESTDIR=$stage cmake --install "$build" --prefix "$pfx" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "DESTDIR=$stage cmake --install --prefix $pfx"; }
check_tree "$pfx" "$stage$pfx"
[ -e "$pfx" ] && fail "installed outside DESTDIR into $pfx"
export DESTDIR="$stage"
uninstall_and_check "$stage"
unset DESTDIR

echo "install, pkg-config build, run and uninstall: ok"
exit 0
