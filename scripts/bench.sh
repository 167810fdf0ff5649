#!/usr/bin/env bash
# The benchmark of the README: builds tlsdissect, generates the benchmark
# captures (deterministic, in ./bench, not committed) and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
go build -o bin/tlsdissect ./cmd/tlsdissect
go build -o bin/bench ./scripts/bench
exec bin/bench -dir bench -bin bin/tlsdissect "$@"
