package otel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitHost(t *testing.T) {
	tests := []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"", "", 0, false},
		{"example.com", "example.com", 0, true},
		{"example.com:8080", "example.com", 8080, true},
		{"[::1]:443", "::1", 443, true},
		{"[::1]", "::1", 0, true},
		{"example.com:http", "example.com", 0, true},
		{"example.com:99999", "example.com", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, ok := splitHost(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.host, host)
			assert.Equal(t, tt.port, port)
		})
	}
}

func FuzzSplitHost(f *testing.F) {
	for _, s := range []string{"", "a", "a:1", "[::1]:2", "[", "]:", ":", "a:-1", "a:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		host, port, ok := splitHost(in)
		require.Equal(t, in != "", ok)
		require.True(t, port >= 0 && port <= 65535, "port %d", port)
		require.LessOrEqual(t, len(host), len(in))
	})
}
