package connector

import (
	"context"

	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http1"
)

// HTTP1Session returns an HTTP/1 client session to p on a connection from
// the pool or a new one (as Get), and whether the connection was reused.
// A new TLS connection offers only "http/1.1" in ALPN, whatever p.ALPN
// says, so the server cannot pick HTTP/2; a plaintext peer is spoken to in
// HTTP/1.1 even if its ALPN is peer.ALPNH2.
//
// opts (nil: the http1 defaults) is copied; the peer's timeouts override
// it where set: ReadTimeout becomes HeaderTimeout and BodyTimeout (Pingora
// applies read_timeout to every read), WriteTimeout becomes WriteTimeout.
// End the session with ReleaseHTTP1. Errors are those of Get.
func (c *Connector) HTTP1Session(ctx context.Context, p *peer.Peer, opts *http1.Options) (s *http1.ClientSession, reused bool, err error) {
	conn, reused, err := c.get(ctx, p, true)
	if err != nil {
		return nil, false, err
	}
	var o http1.Options
	if opts != nil {
		o = *opts
	}
	if p.ReadTimeout > 0 {
		o.HeaderTimeout, o.BodyTimeout = p.ReadTimeout, p.ReadTimeout
	}
	if p.WriteTimeout > 0 {
		o.WriteTimeout = p.WriteTimeout
	}
	return http1.NewClientSession(conn, &o), reused, nil
}

// ReleaseHTTP1 ends an HTTP1Session to p: its connection is pooled (as by
// Release) if the exchange left it reusable (http1.ClientSession.Release,
// which drains a short unread response body first), else closed.
func (c *Connector) ReleaseHTTP1(p *peer.Peer, s *http1.ClientSession) {
	nc, ok := s.Release()
	if !ok {
		return
	}
	conn, isOurs := nc.(*Conn)
	if !isOurs {
		nc.Close()
		return
	}
	c.Release(p, conn, true)
}
