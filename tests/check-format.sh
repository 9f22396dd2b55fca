#!/bin/sh
# Every C source and header of the project is formatted by .clang-format
# (clang-format --dry-run --Werror prints each line that is not).
# usage: check-format.sh SOURCE_DIR
cd "$1" || exit 1
fmt=$(command -v clang-format) || {
	echo "SKIP: clang-format is not installed"
	exit 77
}
# shellcheck disable=SC2046
"$fmt" --dry-run --Werror $(git ls-files '*.c' '*.h' 2>/dev/null ||
	find src include tests tools bench examples -name '*.[ch]') || {
	echo "FAIL: run clang-format -i on the files above"
	exit 1
}
echo "PASS: $("$fmt" --version)"
