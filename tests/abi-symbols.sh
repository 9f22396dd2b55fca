#!/bin/sh
# Compare the dynamic symbol table and version nodes of a libaio.so.1 with
# the reference (the system's libaio 0.3.113): every reference symbol must be
# exported at the same version with the same default (@@) marker, the version
# nodes must inherit the same way, extras may only live in UAIO_1, and the
# SONAME must be libaio.so.1.  Programs linked against the system libaio
# (fio imports io_submit@LIBAIO_0.1, io_getevents@LIBAIO_0.4, ...) fail to
# load without exactly this.
#
# usage: abi-symbols.sh LIBRARY REFERENCE
set -u

lib=$1
ref=$2

if ! command -v nm >/dev/null 2>&1 || ! command -v readelf >/dev/null 2>&1; then
	echo "SKIP: nm and readelf (binutils) are needed"
	exit 77
fi
for f in "$lib" "$ref"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: cannot read $f"
		exit 1
	fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

bad() {
	echo "FAIL: $*"
	fail=1
}

# "TYPE name@version" (or name@@version) for each defined dynamic symbol,
# leaving out the version node markers (type A).
symbols() {
	nm -D --defined-only --with-symbol-versions "$1" |
		awk 'NF == 3 && $2 != "A" { print $2, $3 }' | sort -u
}

# One line per version definition: "NODE" or "NODE<PARENT".
versions() {
	readelf -V -W "$1" | awk '
		/^Version definition section/ { on = 1; next }
		/^Version (needs|symbols) section/ { on = 0 }
		on && /Name:/ {
			if ($0 ~ /Flags: BASE/) { cur = ""; next }
			sub(/.*Name: /, ""); cur = $1; print cur; next
		}
		on && /Parent 1:/ && cur != "" {
			sub(/.*Parent 1: /, ""); print cur "<" $1
		}' | sort -u
}

soname=$(readelf -d -W "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libaio.so.1 ] || bad "SONAME is '$soname', expected libaio.so.1"

symbols "$ref" >"$tmp/ref.sym"
symbols "$lib" >"$tmp/lib.sym"
[ -s "$tmp/ref.sym" ] || bad "no symbols read from $ref"

# Every reference symbol, with its version and default marker.
comm -23 "$tmp/ref.sym" "$tmp/lib.sym" >"$tmp/missing"
while read -r line; do
	name=${line#* }
	name=${name%%@*}
	have=$(grep " $name@" "$tmp/lib.sym" | tr '\n' ' ')
	bad "missing $line (the library has: ${have:-nothing})"
done <"$tmp/missing"

# Anything else only in UAIO_1, and versioned; and glibc's syscall() as a
# hidden (non-default) version of glibc's node, which binds the programs'
# existing references at run time and never a new program's at link time
# (src/syscall.c).
comm -13 "$tmp/ref.sym" "$tmp/lib.sym" >"$tmp/extra"
while read -r line; do
	case "$line" in
	*@UAIO_1 | *@@UAIO_1) ;;
	"T syscall@GLIBC_"*) case "$line" in *@@*) bad "syscall is a default version: $line" ;; esac ;;
	*) bad "unexpected export $line (extensions belong to UAIO_1)" ;;
	esac
done <"$tmp/extra"

# Version nodes and their inheritance.
versions "$ref" >"$tmp/ref.ver"
versions "$lib" >"$tmp/lib.ver"
comm -23 "$tmp/ref.ver" "$tmp/lib.ver" | while read -r line; do
	echo "FAIL: version node missing or parent differs: $line"
done | grep . && fail=1
comm -13 "$tmp/ref.ver" "$tmp/lib.ver" | while read -r line; do
	case "$line" in
	UAIO_1 | UAIO_1\<* | GLIBC_2.2.5 | GLIBC_2.17) ;;
	*) echo "FAIL: unexpected version node $line" ;;
	esac
done | grep . && fail=1

if [ "$fail" -ne 0 ]; then
	echo "--- reference symbols:"
	cat "$tmp/ref.sym"
	echo "--- library symbols:"
	cat "$tmp/lib.sym"
	echo "--- reference versions:"
	cat "$tmp/ref.ver"
	echo "--- library versions:"
	cat "$tmp/lib.ver"
	exit 1
fi
echo "PASS: $(wc -l <"$tmp/ref.sym") reference symbols present, $(wc -l <"$tmp/extra") UAIO_1 extras"
exit 0
