package lsp_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// BenchmarkDidSave measures the time from didSave to the server's
// publication of mprace's diagnostics for the saved file, after the first
// analysis: each iteration edits the buffer (a comment line added or
// removed, so the package really is analysed again; the file on disk is
// left alone) and sends didSave. It reports the median and worst latency
// and the server's peak resident memory (gopls's not included).
//
//	go test ./internal/lsp -run '^$' -bench DidSave -benchtime 20x
func BenchmarkDidSave(b *testing.B) {
	for _, bc := range []struct {
		name, file, race string
		base             int // mprace's diagnostics in the file as it is
	}{
		{"counter", "examples/counter/main.go", "\nfunc benchRace(v *mp.Int[int64]) { v.Store(v.Load() + 1) }\n", 1},
		{"mp", "runtime/mp/value.go", "\nfunc benchRace(v *Int[int64]) { v.Store(v.Load() + 1) }\n", 0},
	} {
		for _, mode := range []string{"alone", "gopls"} {
			b.Run(bc.name+"/"+mode, func(b *testing.B) {
				benchSave(b, filepath.Join(moduleRoot, bc.file), bc.race, bc.base, mode)
			})
		}
	}
}

// benchSave toggles race, a function with a read-modify-write, at the end
// of the buffer: the number of mprace's diagnostics then tells its
// publication for the new buffer from gopls's (which carries mprace's
// previous ones). Two untimed toggles first make sure the first analysis
// is over.
func benchSave(b *testing.B, path, race string, base int, mode string) {
	g := "off"
	if mode == "gopls" {
		g = gopls(b)
	}
	c := startServer(b, moduleRoot, "-gopls", g)
	c.initialize(moduleRoot)
	d := c.open(path)
	toggle := func(i int) time.Duration {
		want := base
		if i%2 == 0 {
			c.change(d, len(d.text), len(d.text), race)
			want++
		} else {
			c.change(d, len(d.text)-len(race), len(d.text), "")
		}
		start := time.Now()
		c.notify(protocol.MethodTextDocumentDidSave, protocol.DidSaveTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: d.uri}})
		c.waitFor("mprace's diagnostics after didSave", 5*time.Minute, func() bool {
			return c.versions[d.uri] == uint32(d.version) && len(c.bySource(d.uri, "mprace")) == want
		})
		return time.Since(start)
	}
	toggle(0)
	toggle(1)

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		lat = append(lat, toggle(i))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "worst-ms")
	b.ReportMetric(peakRSS(b, c.cmd.Process.Pid), "server-peak-MB")
	c.shutdown()
}

// peakRSS is a process's peak resident memory in MB.
func peakRSS(b *testing.B, pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
