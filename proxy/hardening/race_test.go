//go:build race

package hardening

const raceEnabled = true
