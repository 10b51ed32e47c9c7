package hardening

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"golang.org/x/net/http2"
)

// TestUpstream_H2GoAway: an HTTP/2 upstream whose first connection answers
// the preface with GOAWAY(last stream 0): the stream was not processed, so
// the proxy retries it on a new connection, which serves it (RFC 9113
// §6.8).
func TestUpstream_H2GoAway(t *testing.T) {
	h2srv := &http2.Server{}
	var e *env
	e = newEnv(t, func(oc *originConn) {
		if oc.idx == 0 {
			// a server going away: handshake normally, then answer the
			// first HEADERS with GOAWAY(last stream 0)
			fr := http2.NewFramer(oc.Conn, oc)
			preface := make([]byte, len(http2.ClientPreface))
			_ = oc.SetReadDeadline(time.Now().Add(ioWait))
			if _, err := io.ReadFull(oc, preface); err != nil {
				return
			}
			_ = fr.WriteSettings()
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					return
				}
				switch f := f.(type) {
				case *http2.SettingsFrame:
					if !f.IsAck() {
						_ = fr.WriteSettingsAck()
					}
				case *http2.PingFrame:
					if !f.IsAck() {
						_ = fr.WritePing(true, f.Data)
					}
				case *http2.HeadersFrame:
					_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil)
					_ = oc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
					for {
						if _, err := fr.ReadFrame(); err != nil {
							return
						}
					}
				}
			}
		}
		h2srv.ServeConn(oc, &http2.ServeConnOpts{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "h2 ok")
		})})
	}, func(c *config) {
		c.opts.MaxRetries = 3
		c.peer = func() *peer.Peer {
			p := peer.New(e.origin.Addr(), false, "")
			p.ALPN = peer.ALPNH2 // h2c with prior knowledge
			return p
		}
	})
	st, body, _ := e.get("/")
	assert.Equal(t, 200, st)
	assert.Equal(t, "h2 ok", body)
	assert.GreaterOrEqual(t, e.origin.Conns(), 2, "the refused stream went to a new connection")
}

// TestUpstream_H2ResetBeforeHeaders: an HTTP/2 upstream that resets every
// stream with INTERNAL_ERROR gives 502, never a hang.
func TestUpstream_H2ResetBeforeHeaders(t *testing.T) {
	h2srv := &http2.Server{}
	var e *env
	e = newEnv(t, func(oc *originConn) {
		h2srv.ServeConn(oc, &http2.ServeConnOpts{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler) // RST_STREAM(INTERNAL_ERROR)
		})})
	}, func(c *config) {
		c.opts.MaxRetries = 1
		c.peer = func() *peer.Peer {
			p := peer.New(e.origin.Addr(), false, "")
			p.ALPN = peer.ALPNH2
			return p
		}
	})
	st, _, _ := e.get("/")
	assert.Equal(t, 502, st)
}
