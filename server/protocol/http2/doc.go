// Package http2 speaks HTTP/2 to clients (downstream) and to upstream peers,
// on top of golang.org/x/net/http2, adding what a proxy needs and x/net
// lacks.
//
// It ports the HTTP/2 parts of Cloudflare Pingora's pingora-core
// (protocols/http/v2/server.rs and client.rs, connectors/http/v2.rs).
//
// # Downstream
//
// A [Server] serves a connection whose TLS ALPN negotiated "h2", or an h2c
// connection with prior knowledge; [PeekPreface] tells h2c from HTTP/1 on
// a port that serves both. Each stream reaches the [Handler] as a [Session]:
// the request as an httpheader.RequestHeader, the body as a reader with
// flow-control backpressure, and the response header, body and trailers
// writers.
//
//	srv, _ := http2.NewServer(http2.ServerOptions{})
//	go srv.ServeConn(ctx, conn, http2.HandlerFunc(func(s *http2.Session) {
//		resp, _ := httpheader.NewResponse(200)
//		_ = s.WriteResponseHeader(resp, false)
//		_ = s.WriteBody([]byte("hello"), true)
//	}))
//
// [Session.BufferResponseHeader] keeps a response head until the first
// body bytes, the trailers, [Session.Flush] or the handler's return, so
// that a small response costs one write, like
// http1.ServerSession.BufferResponseHeader.
//
// Per connection, the server reads a cleartext connection through a 4 KiB
// buffer (x/net/http2 reads each frame in two calls: without it, each is a
// system call) and coalesces small writes: x/net/http2 flushes whenever its
// write queue runs empty, and the connection's flusher goroutine sends
// everything flushed while it was busy in one write, without waiting on a
// timer. At most 64 KiB is accepted ahead of the socket (then writes wait);
// writes of 8 KiB or more go straight to it, in order. A failed write
// closes the connection and fails the writes after it; a closing
// connection gives accepted bytes 1 s to leave. Each write to the
// connection is bounded by ServerOptions.WriteTimeout (60 s, kept
// coarsely: at most 9/8 of it), so a client that stops reading loses the
// connection, whatever streams it keeps open (nginx's send_timeout). Body
// read and write timeouts are kept by one timer per connection, exact per
// call.
//
// Safe defaults, each covered by a test: 100 concurrent streams; a 64 KiB
// header list (RFC 9113 counting; 431 beyond); at most 16 CONTINUATION
// frames per header block (CVE-2023-45288 and the HTTP/2 "Bomb"); 16 KiB
// frames; 1 MiB stream and 2 MiB connection windows; token-bucket limits on
// RST_STREAM from the client (rapid reset, CVE-2023-44487) and from the
// server (MadeYouReset, CVE-2025-8671), on PING, SETTINGS and empty frames,
// each answered with GOAWAY(ENHANCE_YOUR_CALM) and a close; 60 s idle
// connections; 60 s per body read and write (so a zero window stalls a
// stream for at most that long). x/net/http2 itself validates pseudo-headers
// and lower-case names, and bounds queued control frames and handler
// concurrency. A request with a connection-specific field (Connection,
// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade) or a TE other
// than "trailers" is reset with RST_STREAM(PROTOCOL_ERROR) as RFC 9113
// §8.2.2 requires (x/net alone answers 400): the connection's guard
// decodes each request header block with an HPACK decoder kept in step with
// x/net's. The server passes every h2spec case, over TLS and h2c.
//
// # Upstream
//
// A [Client] multiplexes [Stream]s over a small set of connections per peer
// key: a stream goes to a connection with a free slot (the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS, capped by ClientOptions.MaxStreamsPerConn)
// and a connection is dialed, through the caller's [DialFunc], only when all
// are full or draining after GOAWAY. [Client.NewStreamWith] caps the
// streams per connection for one peer key (Pingora's max_h2_streams).
//
//	c, _ := http2.NewClient(http2.ClientOptions{})
//	s, _ := c.NewStream(ctx, peerKey, dial)
//	defer s.Close()
//	_ = s.WriteRequestHeader(req, true)
//	resp, err := s.ReadResponseHeader() // *perr.Error; errors.Is(err, perr.H2Error), err.Retry()
//
// Errors carry Pingora's types and retry decisions; a stream the peer did
// not process (above a GOAWAY's last stream id, or REFUSED_STREAM) is
// retryable. Client defaults: 8 MiB stream and connection windows, 64 KiB
// frames and header list, a 10 s handshake (which waits for the peer's
// SETTINGS), no pings unless PingInterval is set (then a 5 s PING timeout,
// reported as PingTimedout), push disabled.
//
// # Differences from HTTP/1 sessions
//
// x/net/http2 decodes header fields into maps, so the order between fields
// of different names is lost: this package returns them sorted by name,
// lower case as on the wire. A response ends when the Handler returns.
//
// # Concurrency
//
// Server and Client are safe for concurrent use. A Session belongs to its
// handler's goroutine (Abort and Context excepted). A Stream may have its
// request body written on one goroutine while its response is read on
// another; Close may be called from any goroutine.
package http2
