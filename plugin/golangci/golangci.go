// Package golangci registers the mprace suite as a golangci-lint module
// plugin named "mprace".
//
// In .custom-gcl.yml:
//
//	version: v2.1.0
//	plugins:
//	  - module: github.com/mprace/mprace
//	    import: github.com/mprace/mprace/plugin/golangci
//	    version: latest
//
// and in .golangci.yml:
//
//	linters:
//	  enable: [mprace]
//	  settings:
//	    custom:
//	      mprace:
//	        type: module
//	        settings:
//	          disable: [checkthenact]   # optional
package golangci

import (
	"fmt"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/mprace/mprace/analyzer"
)

func init() {
	register.Plugin("mprace", New)
}

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Disable lists checks not to run (see mprace help).
	Disable []string `json:"disable"`
}

type plugin struct {
	analyzers []*analysis.Analyzer
}

// New builds the plugin from its settings.
func New(raw any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](raw)
	if err != nil {
		return nil, fmt.Errorf("mprace: plugin settings: %w", err)
	}
	off := make(map[string]bool)
	for _, name := range s.Disable {
		if _, ok := analyzer.Lookup(name); !ok {
			return nil, fmt.Errorf("mprace: plugin settings: no check named %q", name)
		}
		off[name] = true
	}
	p := &plugin{}
	for _, a := range analyzer.Suite() {
		if !off[a.Name] {
			p.analyzers = append(p.analyzers, a)
		}
	}
	return p, nil
}

func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) { return p.analyzers, nil }

// GetLoadMode asks for type information: the passes build SSA.
func (p *plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
