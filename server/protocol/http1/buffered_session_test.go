package http1_test

import (
	"strings"
	"testing"

	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNewServerSessionBuffered: a session given bytes a sniffer already
// read parses them before the connection's, across request boundaries.
func TestNewServerSessionBuffered(t *testing.T) {
	cases := []struct {
		name      string
		buffered  string
		onWire    string
		wantPaths []string
	}{
		{"prefix-of-head", "GET /a HT", "TP/1.1\r\nHost: h\r\n\r\n", []string{"/a"}},
		{"whole-head", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "", []string{"/a"}},
		{"head-and-next", "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b", " HTTP/1.1\r\nHost: h\r\n\r\n", []string{"/a", "/b"}},
		{"nothing", "", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", []string{"/a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			s, err := http1.NewServerSessionBuffered(server, nil, []byte(tc.buffered))
			require.NoError(t, err)
			defer s.Close()
			if tc.onWire != "" {
				_, err = client.Write([]byte(tc.onWire))
				require.NoError(t, err)
			}
			for _, want := range tc.wantPaths {
				ok, err := s.ReadRequest()
				require.NoError(t, err)
				require.True(t, ok)
				assert.Equal(t, want, s.Request().Path())
				respond(t, s, "ok")
				require.True(t, s.Finish())
			}
		})
	}
}

func TestNewServerSessionBuffered_TooMuch(t *testing.T) {
	_, server := tcpPair(t)
	_, err := http1.NewServerSessionBuffered(server, nil, []byte(strings.Repeat("a", 16<<10+1)))
	require.Error(t, err)
}
