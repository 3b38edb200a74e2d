#!/usr/bin/env bash
# Runs every test file with node's test runner. Node 20 does not expand globs itself, so the
# shell lists the files. `--conditions=source` makes workspace libs resolve to their TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find apps libs test -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
exec node --conditions=source --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" "$@" "${files[@]}"
