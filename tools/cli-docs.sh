#!/usr/bin/env bash
# Regenerates docs/cli.md from the CLI's own command tree (CliDocsTests fails when the committed file is stale).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/shiftbench" cli-docs > "$root/docs/cli.md.tmp"
mv "$root/docs/cli.md.tmp" "$root/docs/cli.md"
echo "wrote docs/cli.md"
