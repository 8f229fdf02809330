#!/usr/bin/env bash
# The editor test: headless Neovim (Debian's 0.7 or later) with `mprace lsp` relaying to gopls as its Go
# language server opens a racy file of a small module that uses the real runtime/mp, shows gopls's and
# mprace's diagnostics together, applies mprace's quickfix and saves; the diagnostic goes.
#
#   bash scripts/nvim-lsp-test.sh      # needs nvim and bin/gopls (scripts/install-tools.sh installs both)
#
# MPRACE and GOPLS name the binaries to use (default: build mprace; ./bin/gopls). Prints what the editor
# saw, then PASS; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gopls=${GOPLS:-$root/bin/gopls}
command -v nvim >/dev/null || { echo "nvim-lsp-test: nvim not found; run scripts/install-tools.sh" >&2; exit 1; }
[ -x "$gopls" ] || { echo "nvim-lsp-test: no gopls at $gopls; run scripts/install-tools.sh" >&2; exit 1; }
mprace=${MPRACE:-}
if [ -z "$mprace" ]; then
	mprace=$work/mprace
	(cd "$root" && go build -o "$mprace" ./cmd/mprace)
fi

mod=$work/racy
mkdir "$mod"
cp "$root"/internal/lsp/testdata/racy/*.go "$mod"/
cp "$root"/go.sum "$mod"/
cat >"$mod"/go.mod <<EOF
module example.com/racy

go 1.26.8

require github.com/mprace/mprace v0.0.0-00010101000000-000000000000

require golang.org/x/sys v0.50.0 // indirect

replace github.com/mprace/mprace => $root
EOF

status=0
GOPROXY=off MPRACE=$mprace GOPLS=$gopls MODDIR=$mod timeout 600 \
	nvim --headless -u NONE -i NONE -n -c "luafile $root/scripts/nvim-lsp-test.lua" \
	>"$work"/out 2>"$work"/err || status=$?
cat "$work"/out
if [ $status -ne 0 ]; then
	echo "nvim-lsp-test: nvim exited with status $status; its stderr:" >&2
	cat "$work"/err >&2
	exit 1
fi

fail() { echo "nvim-lsp-test: $*" >&2; exit 1; }
diags=$(grep '^DIAGNOSTICS ' "$work"/out) || fail "no diagnostics printed"
final=$(grep '^FINAL ' "$work"/out) || fail "no final diagnostics printed"
grep -Eq '"source": ?"mprace"' <<<"$diags" || fail "no mprace diagnostic: $diags"
grep -Eq '"code": ?"readmodifywrite"' <<<"$diags" || fail "mprace's diagnostic has no code readmodifywrite: $diags"
grep -Eq '"href": ?"https://pkg.go.dev/github.com/mprace/mprace/passes/readmodifywrite"' <<<"$diags" || fail "no codeDescription link: $diags"
grep -Eq '"related": ?1' <<<"$diags" || fail "no related information (the read): $diags"
grep -Eq '"source": ?"printf"' <<<"$diags" || fail "gopls's printf diagnostic missing: $diags"
grep -Eq '^AFTER\s+c\.Add\(1\)$' "$work"/out || fail "the quickfix did not make c.Add(1)"
grep -Eq '"source": ?"mprace"' <<<"$final" && fail "mprace's diagnostic still there after the fix: $final"
grep -Eq '"source": ?"printf"' <<<"$final" || fail "gopls's diagnostic lost after the fix: $final"
grep -q '^PASS$' "$work"/out || fail "the editor script did not finish"
[ "$(cat "$mod"/racy.go)" != "$(cat "$root"/internal/lsp/testdata/racy/racy.go)" ] || fail "racy.go was not saved"
grep -q 'c.Add(1)' "$mod"/racy.go || fail "the saved racy.go has no c.Add(1)"
echo "nvim-lsp-test: ok"
