#!/usr/bin/env bash
# Builds golangci-lint v2 with the mprace plugin into ./bin/golangci-lint-mprace, offline from GitHub: the module
# in plugin/golangci/gcl takes golangci-lint from the Go module proxy and mprace from this checkout (replace).
# Idempotent: go build relinks only when a source changed, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
cd plugin/golangci/gcl
go build -o ../../../bin/golangci-lint-mprace .
