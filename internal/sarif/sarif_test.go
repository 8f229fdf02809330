package sarif_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mprace/mprace/analyzer"
	"github.com/mprace/mprace/internal/driver"
	"github.com/mprace/mprace/internal/sarif"
	"github.com/mprace/mprace/internal/testmodule"
)

const racy = `package p

import "sync/atomic"

var hits, ready atomic.Int64

// Hit counts.
func Hit() {
	hits.Store(hits.Load() + 1)
}

// Setup runs once, or so it hopes. « non-ASCII before the finding »
func Setup() {
	if ready.Load() == 0 { ready.Store(1) }
}
`

// schema compiles the SARIF 2.1.0 schema in testdata (OASIS's, errata 01).
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidAgainstSchema(t *testing.T) {
	dir := testmodule.Write(t, map[string]string{"p/p.go": racy, "broken/b.go": "package broken\n\nvar x int = \"s\"\n"})
	d, err := driver.New(analyzer.Suite())
	if err != nil {
		t.Fatal(err)
	}
	results, err := d.Run(context.Background(), driver.Request{Dir: dir, Patterns: []string{"./..."}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := sarif.Write(&out, results, dir); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sch := schema(t)
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("SARIF output is not valid SARIF 2.1.0: %v\n%s", err, out.String())
	}
	// The validator rejects what the schema forbids: a region starting at line 0.
	bad, err := jsonschema.UnmarshalJSON(strings.NewReader(strings.Replace(out.String(), `"startLine": 9`, `"startLine": 0`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(bad); err == nil {
		t.Error("a result at line 0 passed the schema")
	}

	// The schema allows an empty log: check what a code-scanning reader uses.
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID               string
						ShortDescription struct{ Text string }
						Help             struct{ Text string }
						HelpURI          string
					}
				}
			}
			Invocations []struct {
				ExecutionSuccessful        bool
				ToolExecutionNotifications []struct{ Message struct{ Text string } }
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string
							URIBaseID string `json:"uriBaseId"`
						}
						Region struct{ StartLine, StartColumn, EndLine, EndColumn int }
					}
				}
				RelatedLocations []struct {
					Message          struct{ Text string }
					PhysicalLocation struct {
						Region struct{ StartLine, StartColumn int }
					}
				}
				Fixes []struct {
					ArtifactChanges []struct {
						ArtifactLocation struct{ URI string }
						Replacements     []struct {
							DeletedRegion   struct{ ByteOffset, ByteLength int }
							InsertedContent struct{ Text string }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	rules := run.Tool.Driver.Rules
	if run.Tool.Driver.Name != "mprace" || len(rules) != len(analyzer.Checks) {
		t.Fatalf("tool %q with %d rules, want mprace with %d", run.Tool.Driver.Name, len(rules), len(analyzer.Checks))
	}
	for i, c := range analyzer.Checks {
		r := rules[i]
		if r.ID != c.Name() || r.ShortDescription.Text != c.Title || r.HelpURI != c.Analyzer.URL || r.Help.Text != c.Doc() {
			t.Errorf("rule %d = %+v, want %s with its title, help and URI", i, r, c.Name())
		}
	}
	if len(run.Results) != 2 {
		t.Fatalf("%d results, want 2:\n%s", len(run.Results), out.String())
	}
	rmw, cta := run.Results[0], run.Results[1]
	if rmw.RuleID != "readmodifywrite" || rules[rmw.RuleIndex].ID != "readmodifywrite" || rmw.Level != "error" {
		t.Errorf("first result %+v, want readmodifywrite", rmw)
	}
	loc := rmw.Locations[0].PhysicalLocation
	if loc.ArtifactLocation.URI != "p/p.go" || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" ||
		loc.Region.StartLine != 9 || loc.Region.StartColumn != 2 || loc.Region.EndColumn != 29 {
		t.Errorf("location %+v, want p/p.go:9:2-29 relative to %%SRCROOT%%", loc)
	}
	if len(rmw.RelatedLocations) != 1 || rmw.RelatedLocations[0].PhysicalLocation.Region.StartColumn != 13 ||
		!strings.Contains(rmw.RelatedLocations[0].Message.Text, "read of hits") {
		t.Errorf("related locations %+v, want the read at 9:13", rmw.RelatedLocations)
	}
	if len(rmw.Fixes) != 1 || len(rmw.Fixes[0].ArtifactChanges) != 1 {
		t.Fatalf("fixes %+v, want one", rmw.Fixes)
	}
	src := []byte(racy)
	rep := rmw.Fixes[0].ArtifactChanges[0].Replacements[0]
	fixed := string(src[:rep.DeletedRegion.ByteOffset]) + rep.InsertedContent.Text +
		string(src[rep.DeletedRegion.ByteOffset+rep.DeletedRegion.ByteLength:])
	if !strings.Contains(fixed, "\thits.Add(1)\n") {
		t.Errorf("applying the fix gives:\n%s", fixed)
	}
	if cta.RuleID != "checkthenact" || cta.Locations[0].PhysicalLocation.Region.StartLine != 14 {
		t.Errorf("second result %+v, want checkthenact on line 14", cta)
	}
	if n := run.Invocations[0].ToolExecutionNotifications; len(n) == 0 || !strings.Contains(n[0].Message.Text, "broken") {
		t.Errorf("notifications %+v, want the broken package's type error", n)
	}
}
