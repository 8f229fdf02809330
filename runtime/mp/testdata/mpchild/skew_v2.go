//go:build skewv2

package main

// The second version: fields reordered, ID widened, Old dropped, Added new.
type skewJob struct {
	Name  string
	Added map[string]int
	ID    int64
}

func sampleJob() skewJob { return skewJob{Name: "v2", ID: 2, Added: map[string]int{"x": 1}} }
