#!/usr/bin/env bash
# Installs, idempotently, the programs the tests drive besides Go itself. Each is pinned; Go tools go to
# ./bin (ignored by git) from the Go module proxy, Debian packages through apt-get (as root, or with sudo).
# A tool already at the pinned version is left alone, so a second run costs a few milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
export GOBIN="$PWD/bin"

# gopls, which `mprace lsp` relays to and the language-server tests start.
GOPLS_VERSION=v0.23.0
if ! [ -x bin/gopls ] || ! bin/gopls version 2>/dev/null | grep -q "golang.org/x/tools/gopls $GOPLS_VERSION"; then
	echo "install-tools: gopls $GOPLS_VERSION" >&2
	go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
fi

# neovim, the real editor the editor test drives (Debian's package).
if ! command -v nvim >/dev/null 2>&1; then
	echo "install-tools: neovim (apt-get)" >&2
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq neovim >/dev/null
fi

# python3 (standard library only), which the SharedMemory tests run on the other side of a block and the
# runtime/mp benchmarks run as their baseline (Debian's package).
if ! command -v python3 >/dev/null 2>&1; then
	echo "install-tools: python3 (apt-get)" >&2
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq python3 >/dev/null
fi
