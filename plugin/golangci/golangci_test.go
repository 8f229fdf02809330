package golangci_test

import (
	"testing"

	"slices"

	"github.com/golangci/plugin-module-register/register"

	"github.com/mprace/mprace/analyzer"
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
	var all []string
	for _, c := range analyzer.Checks {
		all = append(all, c.Name())
	}
	names, err := build(t, nil)
	if err != nil || !slices.Equal(names, all) {
		t.Fatalf("default plugin: %v, %v; want every check %v", names, err, all)
	}
	names, err = build(t, map[string]any{"disable": []string{"checkthenact"}})
	want := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == "checkthenact" })
	if err != nil || !slices.Equal(names, want) {
		t.Fatalf("disable checkthenact: %v, %v; want %v", names, err, want)
	}
	if _, err := build(t, map[string]any{"disable": []string{"nosuch"}}); err == nil {
		t.Error("unknown check in settings: no error")
	}
	if _, err := build(t, map[string]any{"colour": "blue"}); err == nil {
		t.Error("unknown setting: no error")
	}
}
