#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "N passed, N failed[, N skipped]".
# SHIFTBENCH_DATA must point at the folder with the study's images (../shared/data by default).
set -uo pipefail
cd "$(dirname "$0")"
export SHIFTBENCH_DATA="${SHIFTBENCH_DATA:-$(cd .. && pwd)/shared/data}"
results="$(pwd)/TestResults"
rm -rf "$results"
dotnet test ShiftBench.sln -c Release --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
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
