package lsp_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNeovim runs the editor test, scripts/nvim-lsp-test.sh: headless
// Neovim with `mprace lsp` relaying to gopls as its Go server.
func TestNeovim(t *testing.T) {
	if _, err := exec.LookPath("nvim"); err != nil {
		t.Fatalf("nvim: %v; run scripts/install-tools.sh to install Debian's neovim", err)
	}
	cmd := exec.Command("bash", filepath.Join(moduleRoot, "scripts", "nvim-lsp-test.sh"))
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "MPRACE="+mpraceBin, "GOPLS="+gopls(t))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nvim-lsp-test.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"ACTION ", "\nPASS\n", "nvim-lsp-test: ok"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nvim-lsp-test.sh output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%s", out)
}
