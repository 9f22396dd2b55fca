#!/usr/bin/env bash
# Differential fuzzing (tests/fuzz/): the same AIO calls on each emulated
# engine (uring, threads, and auto, which mixes them with kernel AIO) and
# on the kernel engine, any difference, hang, crash or sanitizer
# report a finding.  Builds the fuzzer with clang-14 in build-fuzz/.
#
#   scripts/fuzz.sh SECONDS [--ci]
#
# SECONDS of fuzzing per engine, from a copy of tests/fuzz/corpus/ kept in
# build-fuzz/corpus/ENGINE/ (what the fuzzer adds stays there for the next
# run); a finding does not end the run (one libFuzzer worker, restarted).
# --ci: a short run from the committed corpus alone, fixed seed (-seed=1)
# and a bounded number of inputs, SECONDS at most per engine.
# Findings go to build-fuzz/artifacts/ENGINE/; replay one with
#   FUZZ_ENGINE=ENGINE FUZZ_TRACE=1 FUZZ_TMPDIR=build-fuzz/fuzz-tmp \
#       build-fuzz/tests/fuzz-diff ARTIFACT
# Exit status 0 when nothing was found; the last line counts the
# executions and the findings.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	echo "usage: $0 SECONDS [--ci]" >&2
	exit 2
}
[ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ] || usage
secs=$1
ci=0
[ $# -ge 2 ] && { [ "$2" = --ci ] || usage; ci=1; }
ci_runs=1500

"$here/scripts/deps.sh"
build="$here/build-fuzz"
cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang-14 -DUAIO_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz-diff -j"$(nproc)" >/dev/null
fuzzer="$build/tests/fuzz-diff"
# O_DIRECT needs a real file system, which /tmp may not be.
export FUZZ_TMPDIR="$build/fuzz-tmp"
mkdir -p "$FUZZ_TMPDIR"

# The first lines of what a finding reports.
describe() {
	FUZZ_ENGINE=$1 timeout 120 "$fuzzer" "$2" 2>&1 |
		grep -m1 -A1 -E '^==== fuzz-diff|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' |
		grep -v '^==== fuzz-diff' | head -1 | cut -c1-200 || true
}

total_execs=0
total_findings=0
summary=()
for engine in uring threads auto; do
	work="$build/corpus/$engine"
	art="$build/artifacts/$engine"
	log="$build/fuzz-$engine.log"
	[ $ci -eq 1 ] && rm -rf "$work"
	mkdir -p "$work" "$art"
	cp -n "$here"/tests/fuzz/corpus/* "$work"/
	args=(-timeout=30 -rss_limit_mb=4096 -artifact_prefix="$art/"
	      -max_total_time="$secs")
	if [ $ci -eq 1 ]; then
		args+=(-seed=1 -runs=$ci_runs -print_final_stats=1)
	else
		args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	fi
	before=$(find "$art" -type f | sort)
	echo "fuzz: $engine for ${secs}s$([ $ci -eq 1 ] && echo " (ci: -seed=1 -runs=$ci_runs)") ..." >&2
	status=0
	start=$(date +%s)
	FUZZ_ENGINE=$engine "$fuzzer" "${args[@]}" "$work" >"$log" 2>&1 || status=$?
	elapsed=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# fork mode: the last status line, "#N: cov: ..."
	[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	execs=${execs:-0}
	new=$(comm -13 <(echo "$before") <(find "$art" -type f | sort) | grep -v '^$' || true)
	findings=$(echo -n "$new" | grep -c . || true)
	[ $status -ne 0 ] && [ "$findings" -eq 0 ] && findings=1
	total_execs=$((total_execs + execs))
	total_findings=$((total_findings + findings))
	line="$engine: $execs executions in ${elapsed}s, $((execs / (elapsed > 0 ? elapsed : 1))) exec/s, $findings finding(s)"
	[ $status -ne 0 ] && line+=" (exit $status; log $log)"
	for f in $new; do
		line+=$'\n'"  $f"$'\n'"    $(describe "$engine" "$f")"
	done
	summary+=("$line")
done

echo "---- summary ----"
printf '%s\n' "${summary[@]}"
echo "fuzz: $total_execs executions, $total_findings findings"
[ "$total_findings" -eq 0 ]
