package mp_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mprace/mprace/runtime/mp"
)

// A handle used after its Manager was closed panics with a message that
// says so, rather than faulting on memory that is no longer mapped.
func TestUseAfterManagerCloseSaysSo(t *testing.T) {
	name := fmt.Sprintf("closed-test-%d", os.Getpid())
	m, err := mp.NewManager(name)
	if err != nil {
		t.Fatal(err)
	}
	defer mp.UnlinkManager(name)
	d, err := mp.ManagedDict[string, int](m, "d")
	if err != nil {
		t.Fatal(err)
	}
	l, err := mp.ManagedList[int](m, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set("k", 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for what, use := range map[string]func(){
		"Dict.Get":    func() { d.Get("k") },
		"Dict.Len":    func() { d.Len() },
		"List.Append": func() { l.Append(1) },
	} {
		func() {
			defer func() {
				s, _ := recover().(string)
				if !strings.Contains(s, "after its Manager was closed") {
					t.Errorf("%s after Close: panic %q, want one saying the Manager was closed", what, s)
				}
			}()
			use()
		}()
	}
}
