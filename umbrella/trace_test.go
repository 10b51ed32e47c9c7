package umbrella

import (
	"testing"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		in    string
		trace string
		flags string
		ok    bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "01", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736", "00", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future", "4bf92f3577b34da6a3ce929d0e0e4736", "01", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "", "", false}, // version 00 has 4 fields
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "", false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", "", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "", "", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "", "", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			trace, flags, ok := parseTraceparent(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.trace, trace)
			assert.Equal(t, tt.flags, flags)
		})
	}
}

func TestNewTraceContext(t *testing.T) {
	req, err := httpheader.NewRequest("GET", "/")
	require.NoError(t, err)
	tc := newTraceContext(req)
	trace, flags, ok := parseTraceparent(tc.header())
	require.True(t, ok, tc.header())
	assert.Equal(t, tc.traceID, trace)
	assert.Equal(t, "01", flags)
	other := newTraceContext(req)
	assert.NotEqual(t, tc.traceID, other.traceID)
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
	f.Fuzz(func(t *testing.T, v string) {
		trace, flags, ok := parseTraceparent(v)
		if !ok {
			return
		}
		require.Len(t, trace, 32)
		require.Len(t, flags, 2)
		require.Equal(t, v[3:35], trace)
	})
}
