//go:build !skewv2

package main

type skewJob struct {
	ID   int
	Name string
	Old  []float64
}

func sampleJob() skewJob { return skewJob{ID: 7, Name: "resize", Old: []float64{1.5}} }
