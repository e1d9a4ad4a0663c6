//go:build race

package copier

// raceEnabled turns timing limits off: the race detector slows code 5-10x.
const raceEnabled = true
