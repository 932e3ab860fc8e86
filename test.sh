#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "N passed, N failed[, N skipped]".
# The study's images come from $SHIFTBENCH_DATA, ../shared/data or data/, and are downloaded (verified)
# into data/ when none has them (tools/test-data.sh).
set -uo pipefail
cd "$(dirname "$0")"
if ! build_log=$(dotnet build ShiftBench.sln -c Release 2>&1); then
  echo "$build_log" | grep -E "error|Error" | head -n 40
  echo "0 passed, 1 failed"
  exit 1
fi
if ! data="$(tools/test-data.sh)"; then
  echo "0 passed, 1 failed"
  exit 1
fi
export SHIFTBENCH_DATA="$data"
source tools/heap-env.sh
results="$(pwd)/TestResults"
rm -rf "$results"
dotnet test ShiftBench.sln -c Release --no-build --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
status=$?
trx="$results/results.trx"
if [ ! -f "$trx" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(count passed); failed=$(count failed); total=$(count total); executed=$(count executed)
skipped=$(( ${total:-0} - ${executed:-0} ))
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
exit $status
