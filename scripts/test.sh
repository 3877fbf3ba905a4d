#!/usr/bin/env bash
# Runs every test of the workspace with node's test runner (TypeScript through tsx).
# Unit tests first (fast), then the end-to-end suite in test/.
# Usage: scripts/test.sh [path-filter]
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
mapfile -t files < <(find packages server test -path '*/node_modules' -prune -o -name '*.test.ts' -print | grep -- "$filter" | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files match '$filter'" >&2
  exit 1
fi
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
