package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxy_HTTP2UpstreamTimeouts: an HTTP/2 upstream that accepts a
// stream and then goes silent is bounded by the peer's ReadTimeout like an
// HTTP/1 one: 504 before any response byte, a cut response after.
func TestProxy_HTTP2UpstreamTimeouts(t *testing.T) {
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, release <-chan struct{})
		check   func(t *testing.T, resp *http.Response, err error)
	}{
		{"silent-before-head", func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			<-release
		}, func(t *testing.T, resp *http.Response, err error) {
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 504, resp.StatusCode)
		}},
		{"silent-mid-body", func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			w.Header().Set("Content-Length", "10")
			_, _ = io.WriteString(w, "hello")
			w.(http.Flusher).Flush()
			<-release
		}, func(t *testing.T, resp *http.Response, err error) {
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)
			b, err := io.ReadAll(resp.Body)
			assert.Error(t, err, "the client must see the response cut, not complete")
			assert.Equal(t, "hello", string(b))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.handler(w, r, release)
			}))
			origin.Config.Protocols = new(http.Protocols)
			origin.Config.Protocols.SetUnencryptedHTTP2(true)
			origin.Start()
			t.Cleanup(origin.Close)
			t.Cleanup(func() { close(release) })
			pr := originPeer(origin, true)
			pr.ReadTimeout = 200 * time.Millisecond

			hs, _ := newProxy(t, proxy.Hooks[struct{}]{
				UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
			}, proxy.Options{})
			c := client()
			c.Timeout = 10 * time.Second
			defer c.CloseIdleConnections()
			start := time.Now()
			resp, err := c.Get("http://" + hs.Addr + "/")
			tc.check(t, resp, err)
			took := time.Since(start)
			assert.GreaterOrEqual(t, took, 200*time.Millisecond)
			assert.Less(t, took, 5*time.Second, "bounded by the read timeout")
		})
	}
}
