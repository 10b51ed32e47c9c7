package cache

import (
	"testing"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestKey(t *testing.T) {
	tests := []struct {
		name, scheme, target string
		hosts                []string
		want                 string
		err                  error
	}{
		{"origin-form", "https", "/a?b=1", []string{"example.com"}, "https://example.com/a?b=1", nil},
		{"host case", "https", "/a", []string{"EXAMPLE.com"}, "https://example.com/a", nil},
		{"scheme case", "HTTPS", "/a", []string{"example.com"}, "https://example.com/a", nil},
		{"default port", "https", "/a", []string{"example.com:443"}, "https://example.com/a", nil},
		{"http default port", "http", "/a", []string{"example.com:80"}, "http://example.com/a", nil},
		{"other port kept", "https", "/a", []string{"example.com:8443"}, "https://example.com:8443/a", nil},
		{"empty port", "http", "/a", []string{"example.com:"}, "http://example.com/a", nil},
		{"fragment dropped", "http", "/a?q#frag", []string{"h"}, "http://h/a?q", nil},
		{"empty query kept", "http", "/a?", []string{"h"}, "http://h/a?", nil},
		{"ipv6", "http", "/", []string{"[::1]:8080"}, "http://[::1]:8080/", nil},
		// RFC 9112 §3.2.2: the absolute-form authority wins over Host.
		{"absolute-form", "http", "http://Example.com:80/p?q", []string{"evil.example"}, "http://example.com/p?q", nil},
		{"absolute-form no path", "http", "http://h", nil, "http://h/", nil},
		{"absolute-form query only", "http", "http://h?x", nil, "http://h/?x", nil},
		{"absolute-form userinfo", "http", "http://u:p@h/x", nil, "http://h/x", nil},
		{"no host", "http", "/a", nil, "", ErrNoHost},
		{"empty host", "http", "/a", []string{""}, "", ErrNoHost},
		{"two hosts", "http", "/a", []string{"a", "b"}, "", ErrBadHost},
		{"host with slash", "http", "/a", []string{"a/b"}, "", ErrBadHost},
		{"host with at", "http", "/a", []string{"a@b"}, "", ErrBadHost},
		{"port only", "http", "/a", []string{":80"}, "", ErrBadHost},
		{"absolute-form empty host", "http", "http:///a", nil, "", ErrNoHost},
		{"asterisk", "http", "*", []string{"h"}, "", ErrBadTarget},
		{"authority-form", "http", "h:443", []string{"h"}, "", ErrBadTarget},
		{"no scheme", "", "/a", []string{"h"}, "", ErrBadScheme},
		{"bad scheme", "ht tp", "/a", []string{"h"}, "", ErrBadScheme},
		{"digit-first scheme", "1http", "/a", []string{"h"}, "", ErrBadScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := httpheader.NewRequest("GET", tt.target)
			require.NoError(t, err)
			for _, h := range tt.hosts {
				_, err := req.Add("Host", h)
				require.NoError(t, err)
			}
			k, err := RequestKey([]byte("ns"), tt.scheme, req)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(k.Primary))
			assert.Equal(t, "ns", string(k.Namespace))
		})
	}
}

// TestRequestKey_CVE_2026_2836: the same path on two hosts must never
// share a cache entry.
func TestRequestKey_CVE_2026_2836(t *testing.T) {
	key := func(host string) Hash {
		req := request(t, "GET", "Host", host)
		k, err := RequestKey(nil, "https", req)
		require.NoError(t, err)
		return k.Hash()
	}
	assert.NotEqual(t, key("a.example"), key("b.example"))
	assert.Equal(t, key("a.example"), key("A.EXAMPLE:443"))
}
