#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "N passed, N failed[, N skipped]".
# ./test.sh --fast runs the everyday tier only: tests in category Fast (TestTier.Fast; docs/development.md says how
# it is chosen). Other arguments go to `dotnet test`; a --filter given with --fast is combined with the tier.
# The study's images come from $SHIFTBENCH_DATA, ../shared/data or data/, and are downloaded (verified)
# into data/ when none has them (tools/test-data.sh).
set -uo pipefail
cd "$(dirname "$0")"
fast=0
args=()
filter=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --filter) filter="${2:-}"; shift ;;
    --filter=*) filter="${1#--filter=}" ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ $fast = 1 ]; then filter="TestCategory=Fast${filter:+&($filter)}"; fi
if [ -n "$filter" ]; then args+=(--filter "$filter"); fi
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
dotnet test ShiftBench.sln -c Release --no-build --logger "trx;LogFileName=results.trx" --results-directory "$results" ${args[@]+"${args[@]}"}
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
