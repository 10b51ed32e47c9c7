//go:build !race

package httpheader_test

const raceEnabled = false
