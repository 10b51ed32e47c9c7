// Package l4 is a TCP proxy with TLS passthrough and SNI routing: a
// server.App that connects each accepted connection to an upstream peer
// and copies bytes both ways, what nginx's stream module (with
// ssl_preread) and HAProxy's mode tcp do.
//
// It stands for what Pingora does with a raw ServerApp and its
// TransportConnector (pingora-core apps/mod.rs and connectors/l4.rs; the
// TCP proxy of pingora/examples/app/proxy.rs), grown into the L4 proxy
// Pingora's users ask for.
//
// # Usage
//
//	p, err := l4.New(l4.Options{
//		PeekTLS: true, // route on the ClientHello; TLS stays end to end
//		Upstream: func(ctx context.Context, info *l4.ConnInfo, attempt int) (*peer.Peer, error) {
//			if info.SNI == "api.example.com" {
//				return peer.New("10.0.0.2:443", false, ""), nil // plain TCP to the peer
//			}
//			return peer.New("10.0.0.3:443", false, ""), nil
//		},
//	})
//	svc := server.NewListeningService("tls-router", p) // *Proxy is a server.App
//	svc.AddTCP("0.0.0.0:443")
//
// # What a connection goes through
//
//  1. With Options.PeekTLS, the start of the stream is read: a stream
//     that does not start with a TLS handshake record header is routed as
//     plain (TLS false) at once (a first byte other than 22 decides), and
//     so is one silent for PeekTimeout (the server speaks first: SMTP,
//     MySQL). Otherwise the whole ClientHello is read
//     and parsed ([ParseClientHello]) for ConnInfo.SNI and ALPN. A
//     malformed ClientHello, one longer than MaxPeek, or one cut off by
//     PeekTimeout or by the client's EOF closes the connection.
//  2. Options.Upstream picks a peer. A peer with ProxyProtocol set and
//     neither ProxySource nor ProxyDestination is connected as a copy
//     carrying the client's address and the address it connected to, so
//     the upstream learns the real client.
//  3. The connector dials it with the peer's timeouts (a TLS peer gets a
//     handshake: the proxy then originates TLS). A retryable failure
//     (nothing was sent) is retried up to ConnectRetries times, calling
//     Upstream again with the attempt number; the last failure closes the
//     client connection and is logged at Warn.
//  4. The peeked bytes go to the upstream first, then both directions are
//     copied concurrently through pooled 32 KiB buffers. When one side
//     sends EOF the other is half-closed (CloseWrite; a connection that
//     cannot is closed) and the other direction goes on. The tunnel ends
//     when both directions reached EOF, on the first error, after
//     IdleTimeout without a byte moving either way, or when ServeConn's
//     context is cancelled; both sides are then closed.
//  5. OnClose gets the connection's ConnInfo, peer, byte counts and
//     timings and the error (nil after EOF both ways): the access log.
//
// # Defaults
//
// PeekTLS off; PeekTimeout 5 s counted from accept; MaxPeek 16 KiB;
// IdleTimeout 10 minutes (nginx's proxy_timeout), one timer per tunnel, no
// deadline system call per read; ConnectRetries 1; a connector of its own
// without pooling; slog.Default(); 32 KiB per direction per tunnel.
//
// # Shutdown and concurrency
//
// A Proxy is safe for concurrent use; the server calls ServeConn on a
// goroutine per connection. ServeConn uses that goroutine plus one for
// the upstream-to-client direction, and a timer callback when the idle
// timer fires; all of them have ended when it returns. A graceful
// shutdown (ServeConn's shutdown channel) leaves tunnels running until
// they end on their own, as nginx stream does; cancelling the context
// (fast shutdown, or the end of the grace period) closes both sides at
// once. A panic in Upstream or OnClose is recovered and logged at Error;
// the connection is closed.
//
// # Logging
//
// Options.Logger gets failed connects at Warn (peer, attempt, whether it
// is retried, error), Upstream errors at Info, panics at Error, and every
// other connection that ended with an error (reset, idle timeout, bad
// ClientHello) at Debug. OnClose is the place for an access log.
//
// # Not done here
//
// No UDP. No TLS termination: a TLS listener (server/listener) terminates
// TLS, and this proxy then copies the plaintext (PeekTLS is ignored there;
// ConnInfo.Conn holds the TLS state). No load balancing or health checks
// of its own: Upstream may call a balancer. No connection limits or rate
// limiting, no PROXY protocol parsing (a proxyproto listener does that,
// and ConnInfo.ClientAddr is then the announced client).
package l4
