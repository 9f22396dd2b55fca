#!/bin/sh
# Check that the manual covers the library:
#  - every symbol libaio.so.1 exports (nm -D --defined-only) has a section 3
#    page or .so link, whatever its version node (glibc's syscall(), which
#    the library defines for the raw AIO calls, is described in uaio(7));
#  - so has every static inline function of <libaio.h> and <uaio.h>;
#  - uaio(1) and uaio(7) exist;
#  - every .so link points to a page that exists;
#  - every page is stamped with the project's version;
#  - every page that declares an int function uses the fixed phrase for
#    the calling convention.
# Usage: check-coverage.sh MANDIR LIBRARY INCLUDEDIR VERSION
set -u
mandir=$1 lib=$2 incdir=$3 version=$4
phrase='returns >= 0 on success or a negative errno; errno is not changed.'
fail=0

command -v nm >/dev/null 2>&1 || { echo "nm (binutils) is not installed" >&2; exit 77; }

bad() {
	echo "$*"
	fail=1
}

syms=$(nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$syms" ] || bad "no exported functions found in $lib"
for s in $syms; do
	# glibc's syscall(), defined for the raw AIO calls: uaio(7) tells.
	if [ "$s" = syscall ]; then
		grep -q 'Raw system calls' "$mandir/man7/uaio.7" ||
			bad "uaio(7) does not describe syscall()"
		continue
	fi
	[ -f "$mandir/man3/$s.3" ] || bad "exported symbol $s has no page man3/$s.3"
done

inlines=$(cat "$incdir/libaio.h" "$incdir/uaio.h" |
	sed -n 's/^static inline [a-z_ ]*[ *]\([a-z_0-9]*\)(.*/\1/p' | sort -u)
[ -n "$inlines" ] || bad "no static inline functions found in $incdir/libaio.h"
# A declaration split over lines would escape the pattern above: count them.
ndecl=$(cat "$incdir/libaio.h" "$incdir/uaio.h" | grep -c '^static inline')
[ "$ndecl" -eq "$(echo "$inlines" | wc -w)" ] ||
	bad "found $ndecl static inline declarations but could parse only: $inlines"
for s in $inlines; do
	[ -f "$mandir/man3/$s.3" ] || bad "inline helper $s has no page man3/$s.3"
done

for p in man1/uaio.1 man7/uaio.7; do
	[ -f "$mandir/$p" ] || bad "missing $p"
done

for f in "$mandir"/man?/*.[0-9]; do
	rel=${f#"$mandir"/}
	first=$(head -n 1 "$f")
	case $first in
	.so\ *)
		target=${first#.so }
		[ -f "$mandir/$target" ] || bad "$rel: .so link to missing $target"
		[ "$(wc -l <"$f")" -eq 1 ] || bad "$rel: a .so link must be one line"
		continue
		;;
	esac
	grep -q "^\.TH [^ ]* [0-9] [0-9-]* \"uaio $version\" \"uaio Manual\"\$" "$f" ||
		bad "$rel: .TH must carry \"uaio $version\" \"uaio Manual\""
	for sec in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		grep -q "^\.SH \"\{0,1\}$sec\"\{0,1\}\$" "$f" || bad "$rel: no $sec section"
	done
	case $rel in
	man3/*)
		for sec in "RETURN VALUE" ERRORS ENGINES; do
			grep -q "^\.SH $sec\$" "$f" || bad "$rel: no $sec section"
		done
		# An int function in the synopsis: the fixed phrase.
		if sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$f" | grep -q '^\.BI\{0,1\} "int '; then
			grep -qF "$phrase" "$f" || bad "$rel: declares an int function but lacks \"$phrase\""
		fi
		;;
	esac
done

[ $fail -eq 0 ] && echo "$(echo "$syms" | wc -w) exported symbols and $(echo "$inlines" | wc -w) inline helpers have pages"
exit $fail
