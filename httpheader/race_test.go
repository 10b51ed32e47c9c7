//go:build race

package httpheader_test

// raceEnabled is true under -race, which changes allocation counts.
const raceEnabled = true
