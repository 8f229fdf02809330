#!/usr/bin/env bash
# The README's test command: installs the tools the tests drive (idempotently), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
go test ./...
