#!/bin/sh
# Render every page as man(1) shows it on an 80-column UTF-8 terminal and fail
# on any warning (groff's or man's, including a .so link that does not
# resolve).  Usage: check-render.sh MANDIR
set -u
mandir=$1
command -v man >/dev/null 2>&1 || { echo "man (man-db) is not installed" >&2; exit 77; }
command -v groff >/dev/null 2>&1 || { echo "groff (groff-base) is not installed" >&2; exit 77; }
# .so requests are relative to the top of the hierarchy, as once installed.
cd "$mandir" || exit 1

fail=0 n=0
for page in man1/*.1 man3/*.3 man7/*.7; do
	[ -e "$page" ] || continue
	n=$((n + 1))
	err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$err" ]; then
		echo "$page: exit $rc"
		[ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/    /'
		fail=1
	fi
done
if [ $n -eq 0 ]; then
	echo "no pages in $mandir" >&2
	exit 1
fi
[ $fail -eq 0 ] && echo "$n pages render without warnings"
exit $fail
