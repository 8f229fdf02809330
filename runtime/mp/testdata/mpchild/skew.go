package main

import (
	"fmt"

	"github.com/mprace/mprace/runtime/mp"
)

// Two builds of this program hold two versions of skewJob (skew_v1.go, and
// skew_v2.go with -tags skewv2), as two programs sharing a Manager might:
// one puts its version in a Dict[string, any], the other reads it as its own.
var _ = mp.Register[skewJob]()

func skewPut(m *mp.Manager, dict string) error {
	d, err := mp.ManagedDict[string, any](m, dict)
	if err != nil {
		return err
	}
	return d.Set("job", sampleJob())
}

func skewGet(m *mp.Manager, dict string) error {
	d, err := mp.ManagedDict[string, any](m, dict)
	if err != nil {
		return err
	}
	v, ok, err := d.Get("job")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no job in %s", dict)
	}
	j, ok := v.(skewJob)
	if !ok {
		return fmt.Errorf("job is a %T, not a skewJob", v)
	}
	fmt.Printf("%+v\n", j)
	return nil
}
