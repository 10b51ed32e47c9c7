package sketch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew_Dimensions(t *testing.T) {
	tests := []struct {
		n, width, depth int
	}{
		{n: 0, width: 16, depth: 2},
		{n: 1, width: 16, depth: 2},
		{n: 5, width: 16, depth: 3},
		{n: 100, width: 272, depth: 4},
		{n: 1_000_000, width: 2718282, depth: 4},
	}
	for _, tt := range tests {
		s := New(tt.n)
		assert.Equal(t, uint64(tt.width), s.width, "n=%d", tt.n)
		assert.Equal(t, tt.depth, s.depth, "n=%d", tt.n)
		assert.Equal(t, tt.width*tt.depth, s.Bytes())
	}
}

func TestSketch_IncrGet(t *testing.T) {
	s := New(1000)
	assert.Equal(t, uint8(0), s.Get(1))
	assert.Equal(t, uint8(1), s.Incr(1))
	assert.Equal(t, uint8(2), s.Incr(1))
	assert.Equal(t, uint8(2), s.Get(1))
	// A count-min sketch never underestimates.
	for k := uint64(0); k < 500; k++ {
		for range k % 5 {
			s.Incr(k * 0x9e3779b97f4a7c15)
		}
	}
	for k := uint64(2); k < 500; k++ {
		assert.GreaterOrEqual(t, s.Get(k*0x9e3779b97f4a7c15), uint8(k%5))
	}
}

func TestSketch_Saturates(t *testing.T) {
	s := New(100_000)
	for range 300 {
		s.Incr(7)
	}
	assert.Equal(t, uint8(255), s.Get(7))
}

func TestSketch_Ages(t *testing.T) {
	s := New(1) // window of 32 increments
	for range 32 {
		s.Incr(1)
	}
	require.Equal(t, uint8(32), s.Get(1))
	assert.Equal(t, uint8(17), s.Incr(1), "halved to 16, then counted")
	assert.Equal(t, uint8(17), s.Get(1))
}
