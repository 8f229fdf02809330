// Package golangci registers the mprace suite as a golangci-lint module
// plugin named "mprace".
//
// Build golangci-lint with it either with `golangci-lint custom` (a
// .custom-gcl.yml whose plugin has `path:` a checkout of this repository) or
// offline with scripts/build-golangci-lint.sh (the module in ./gcl), then
// enable it in .golangci.yml:
//
//	linters:
//	  enable: [mprace]
//	  settings:
//	    custom:
//	      mprace:
//	        type: module
//	        description: races on shared cells (runtime/mp, sync/atomic)
//	        settings:
//	          disable: [checkthenact]   # optional
//
// The plugin leaves //nolint to golangci-lint.
package golangci

import (
	"flag"
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
		if off[a.Name] {
			continue
		}
		// golangci-lint applies //nolint itself, and its nolintlint reports a
		// directive as unused when the linter never reported the line: the
		// checks must report what //nolint:mprace covers and leave the rest
		// to golangci-lint. (//mprace:ignore stays the checks' own.)
		if f := a.Flags.Lookup("nolint"); f != nil {
			if err := f.Value.Set("false"); err != nil {
				return nil, fmt.Errorf("mprace: plugin: %w", err)
			}
		}
		p.analyzers = append(p.analyzers, withoutRelated(a))
	}
	return p, nil
}

// withoutRelated returns a copy of the reporting analyzer a whose
// diagnostics carry no related information: golangci-lint turns each related
// position into an issue of its own, on its own line, while the message
// already says where the cell was read.
func withoutRelated(a *analysis.Analyzer) *analysis.Analyzer {
	w := &analysis.Analyzer{
		Name:             a.Name,
		Doc:              a.Doc,
		URL:              a.URL,
		Requires:         a.Requires,
		ResultType:       a.ResultType,
		FactTypes:        a.FactTypes,
		RunDespiteErrors: a.RunDespiteErrors,
	}
	// The flags stay a's: the passes read them through pass.Analyzer.
	a.Flags.VisitAll(func(f *flag.Flag) { w.Flags.Var(f.Value, f.Name, f.Usage) })
	w.Run = func(pass *analysis.Pass) (any, error) {
		report := pass.Report
		pass.Report = func(d analysis.Diagnostic) {
			d.Related = nil
			report(d)
		}
		return a.Run(pass)
	}
	return w
}

func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) { return p.analyzers, nil }

// GetLoadMode asks for type information: the passes build SSA.
func (p *plugin) GetLoadMode() string { return register.LoadModeTypesInfo }
