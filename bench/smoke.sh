#!/bin/sh
# bench-smoke: uaio-bench-core runs every method and prints its tables.
# No timing is asserted: this checks the program, not the machine.
set -u
bin=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

fail() {
	echo "bench-smoke: $*" >&2
	exit 1
}

"$bin" --help >"$out" || fail "--help exited $?"
grep -q '^Usage: uaio-bench-core' "$out" || fail "--help printed no usage"
"$bin" --no-such-option >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "a usage error exited $rc, expected 2"

"$bin" --quick >"$out"
rc=$?
cat "$out"
[ "$rc" -eq 0 ] || fail "--quick exited $rc"
[ "$(grep -c '^method  *median  *min  *max  *vs libaio$' "$out")" -eq 2 ] ||
	fail "expected two tables (cost and O_DIRECT)"
grep -q '^libaio (system)  *[0-9]' "$out" || fail "no libaio row"
grep -q '^Targets' "$out" || fail "no targets section"

# JSON: a tiny run, parsed when a parser is at hand.
"$bin" --json --ops 2000 --runs 1 --seconds 0.1 --direct-size 1M \
	--methods libaio,pread >"$out" || fail "--json exited $?"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["tests"]["cost"]["methods"]' \
		<"$out" || fail "--json printed invalid JSON"
else
	grep -q '"targets"' "$out" || fail "--json printed no targets"
fi
echo "bench-smoke: ok"
