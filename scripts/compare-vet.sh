#!/usr/bin/env bash
# Compares the findings of `mprace -json PATTERN` (the per-package driver) with those of
# `go vet -vettool=mprace -json PATTERN` (go vet's own per-package runs with facts). Default PATTERN: std.
# Heavy on std (two full analyses, one after the other): not part of `go test ./...`, which runs the same
# test on the fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
MPRACE_COMPARE="${1:-std}" go test -count=1 -timeout 0 -run '^TestAgreesWithVet$' -v ./cmd/mprace
