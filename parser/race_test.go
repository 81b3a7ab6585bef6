//go:build race

package parser

// raceEnabled: the race detector slows parsing several times, so slow tests sample more sparsely.
const raceEnabled = true
