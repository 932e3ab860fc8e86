#!/usr/bin/env bash
# Prints the folder that holds the study's images for the tests: $SHIFTBENCH_DATA, else ../shared/data beside
# the repository (as CI lays it out), else data/; when none has them, downloads them into data/ with
# `shiftbench fetch` (SHA-256 verified; SHIFTBENCH_MIRROR and SHIFTBENCH_OFFLINE honoured). When that fails
# too it prints one line on stderr saying how to provide them and exits 1.
# SHIFTBENCH_CLI overrides the command that runs the CLI (default: the Release build's shiftbench.dll).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images=(berry_transparent.png plane.png)

has_images() { [ -n "$1" ] && for f in "${images[@]}"; do [ -f "$1/$f" ] || return 1; done; }

for dir in "${SHIFTBENCH_DATA:-}" "$root/../shared/data" "$root/data"; do
  if has_images "$dir"; then (cd "$dir" && pwd); exit 0; fi
done

cli="${SHIFTBENCH_CLI:-dotnet $root/src/ShiftBench.Cli/bin/Release/net10.0/shiftbench.dll}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # $cli is a command with its arguments
if $cli fetch --dataset berry --data-dir "$root/data" >"$log" 2>&1 \
  && $cli fetch --dataset plane --data-dir "$root/data" >>"$log" 2>&1 && has_images "$root/data"; then
  echo "$root/data"
  exit 0
fi
reason="$(grep -m1 '^error:' "$log" | sed 's/^error: //' | cut -c1-300)"
echo "error: the study's images (${images[*]}) are not in \$SHIFTBENCH_DATA, ../shared/data or data/, and fetching them failed (${reason:-see shiftbench fetch}); copy them into data/, set SHIFTBENCH_DATA to their folder, or set SHIFTBENCH_MIRROR to a mirror" >&2
exit 1
