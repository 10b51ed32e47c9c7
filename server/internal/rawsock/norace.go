//go:build !race

package rawsock

// raceEnabled is false: see race.go.
const raceEnabled = false
