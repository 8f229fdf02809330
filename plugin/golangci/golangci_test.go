package golangci_test

import (
	"testing"

	"github.com/golangci/plugin-module-register/register"

	_ "github.com/mprace/mprace/plugin/golangci"
)

func build(t *testing.T, settings any) ([]string, error) {
	t.Helper()
	newPlugin, err := register.GetPlugin("mprace")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPlugin(settings)
	if err != nil {
		return nil, err
	}
	if p.GetLoadMode() != register.LoadModeTypesInfo {
		t.Errorf("load mode %q, want %q", p.GetLoadMode(), register.LoadModeTypesInfo)
	}
	as, err := p.BuildAnalyzers()
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
		if f := a.Flags.Lookup("nolint"); f == nil || f.Value.String() != "false" {
			t.Errorf("%s honours //nolint itself under golangci-lint (flag %v)", a.Name, f)
		}
	}
	return names, err
}

func TestPlugin(t *testing.T) {
	names, err := build(t, nil)
	if err != nil || len(names) != 2 {
		t.Fatalf("default plugin: %v, %v; want both checks", names, err)
	}
	names, err = build(t, map[string]any{"disable": []string{"checkthenact"}})
	if err != nil || len(names) != 1 || names[0] != "readmodifywrite" {
		t.Fatalf("disable checkthenact: %v, %v", names, err)
	}
	if _, err := build(t, map[string]any{"disable": []string{"nosuch"}}); err == nil {
		t.Error("unknown check in settings: no error")
	}
	if _, err := build(t, map[string]any{"colour": "blue"}); err == nil {
		t.Error("unknown setting: no error")
	}
}
