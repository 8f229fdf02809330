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
	for _, bc := range []struct{ name, file, race string }{
		{"counter", "examples/counter/main.go", "\nfunc benchRace(v *mp.Int[int64]) { v.Store(v.Load() + 1) }\n"},
		{"mp", "runtime/mp/value.go", "\nfunc benchRace(v *Int[int64]) { v.Store(v.Load() + 1) }\n"},
	} {
		for _, mode := range []string{"alone", "gopls"} {
			b.Run(bc.name+"/"+mode, func(b *testing.B) {
				benchSave(b, filepath.Join(moduleRoot, bc.file), bc.race, mode)
			})
		}
	}
}

// benchSave toggles race, a function with a read-modify-write, at the end
// of the buffer: whether mprace reports it tells mprace's publication for
// the new buffer from gopls's (which carries mprace's previous findings).
// Two untimed toggles first make sure the first analysis is over.
func benchSave(b *testing.B, path, race string, mode string) {
	g := "off"
	if mode == "gopls" {
		g = gopls(b)
	}
	c := startServer(b, moduleRoot, "-gopls", g)
	c.initialize(moduleRoot)
	d := c.open(path)
	raceLine := uint32(strings.Count(d.text, "\n"))
	toggle := func(i int) time.Duration {
		on := i%2 == 0
		if on {
			c.change(d, len(d.text), len(d.text), race)
		} else {
			c.change(d, len(d.text)-len(race), len(d.text), "")
		}
		start := time.Now()
		c.notify(protocol.MethodTextDocumentDidSave, protocol.DidSaveTextDocumentParams{TextDocument: protocol.TextDocumentIdentifier{URI: d.uri}})
		c.waitFor("mprace's diagnostics after didSave", 5*time.Minute, func() bool {
			reported := false
			for _, diag := range c.bySource(d.uri, "mprace") {
				reported = reported || diag.Range.Start.Line >= raceLine
			}
			return c.versions[d.uri] == uint32(d.version) && reported == on
		})
		return time.Since(start)
	}
	toggle(0)
	toggle(1)

	lat := make([]time.Duration, 0, b.N)
	cpu := cpuTime(b, c.cmd.Process.Pid)
	b.ResetTimer()
	for i := range b.N {
		lat = append(lat, toggle(i))
	}
	b.StopTimer()
	// The server's own CPU time per save does not grow with the machine's
	// load as the latency does.
	b.ReportMetric(float64((cpuTime(b, c.cmd.Process.Pid)-cpu).Microseconds())/1000/float64(b.N), "server-cpu-ms/op")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "worst-ms")
	b.ReportMetric(peakRSS(b, c.cmd.Process.Pid), "server-peak-MB")
	c.shutdown()
}

// cpuTime is a process's user and system CPU time so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces) start at
	// state; utime and stime are the 14th and 15th fields of the line.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %v %v", pid, err1, err2)
	}
	const ticks = 100 // USER_HZ, 100 on every Linux architecture Go supports
	return time.Duration(utime+stime) * time.Second / ticks
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
