// Package connector makes connections to upstream peers: it takes an idle
// pooled connection when there is one and otherwise dials (TCP or Unix)
// and runs the TLS handshake, reporting which it did, because retry
// decisions depend on it.
//
// It ports Pingora's TransportConnector and the connection half of its HTTP
// Connector (pingora-core, connectors/mod.rs, connectors/l4.rs,
// connectors/http).
//
// # Usage
//
//	conns, err := connector.New(connector.Options{}) // pool of 128, idle 60 s
//	p := peer.New("10.0.0.1:443", true, "api.example.com")
//	conn, reused, err := conns.Get(ctx, p)
//	if err != nil { … } // *perr.Error: ConnectRefused, InvalidCert, …
//	if conn.HTTPVersion() == 2 { … } // ALPN picked HTTP/2
//	conns.Release(p, conn, exchangeEndedCleanly)
//
// # Connections
//
// Get looks in the pool under the peer's reuse hash (peer.Peer.ReuseHash)
// and hands out a connection only if its peer.Key equals the peer's, so a
// TLS connection made for a.example is never handed out for b.example,
// even on a hash collision. Idle connections are watched (pool.PutWatched):
// one whose server closes it or sends data while idle is closed at once and
// never handed out.
//
// Dial connects under the peer's ConnectionTimeout, from its BindTo
// address, with its TCP keep-alive and receive buffer settings, then for
// TLS peers runs the handshake offering the peer's ALPN.
// TotalConnectionTimeout bounds connect and handshake together. Conn
// reports the negotiated ALPN and the HTTP version to speak (HTTPVersion),
// so the caller picks HTTP/1 or HTTP/2; HTTP1Session wraps a connection in
// an HTTP/1 client session with the peer's read and write timeouts.
//
// # PROXY protocol
//
// For a peer with ProxyProtocol 1 or 2, every new connection starts with a
// HAProxy PROXY protocol header (package server/listener/proxyproto)
// carrying the peer's ProxySource and ProxyDestination, written after the
// TCP connect and before TLS under the connect deadline. Those addresses
// are part of the peer's Key, so a pooled connection is only handed out
// again for the same client address. A peer without addresses gets
// "PROXY UNKNOWN" (v1) or an UNSPEC header (v2). A failed write is a
// retryable connect error.
//
// # HTTP/2
//
// HTTP2Stream opens a stream on the Connector's HTTP/2 client (package
// server/protocol/http2), which multiplexes the streams of peers with
// equal Keys over as few connections as the server's
// SETTINGS_MAX_CONCURRENT_STREAMS and peer.Peer.MaxH2Streams allow, and
// dials through the Connector (dial, TLS with the peer's ALPN; h2c with
// prior knowledge for a plaintext peer with ALPNH2). A peer that does not
// speak HTTP/2 gives a retryable perr.H2Downgrade, and the caller falls back
// to HTTP1Session, which gets the connection the attempt made:
//
//	s, reused, err := conns.HTTP2Stream(ctx, p)
//	if errors.Is(err, perr.H2Downgrade) {
//		h1, reused, err := conns.HTTP1Session(ctx, p, nil)
//		…
//	}
//
// The Connector remembers one small string per distinct peer Key that ever
// used HTTP/2 (the HTTP/2 client's connection key).
//
// # TLS and verification
//
// The default TLS client is a BackendTLS on tlsbackend's gotls backend
// (crypto/tls); Options.TLS plugs in another: NewBackendTLS with the
// openssl backend, or any TLSClient. BackendTLS keeps one
// tlsbackend.ClientTLS per distinct CA, client certificate, skip flags and
// alternative names (at most DefaultTLSClients, 64). Verification is
// never switched off silently: only peer.Peer.SkipVerifyCert accepts any
// certificate, and only SkipVerifyHostname accepts any name. An empty SNI
// verifies the certificate against the host of the peer's address (an IP
// address then needs an IP SAN). Pingora instead verifies nothing when the
// SNI is empty. Certificate failures are perr.InvalidCert.
//
// # Errors and retries
//
// Every error of Get and Dial is a *perr.Error with source Upstream (an
// invalid peer: Internal), the address in its context, e.g.
// "Upstream ConnectRefused context: connect 127.0.0.1:8080 cause: dial tcp
// 127.0.0.1:8080: connect: connection refused". Connect and handshake
// failures are marked retryable: nothing was sent, so the request can be
// tried on another peer. Pingora leaves them not retried unless the
// fail_to_connect hook says so; pingora-go's proxy may still decline.
// A cancelled context and an invalid peer are not retryable.
//
// # Defaults
//
//   - Options.PoolSize zero: 128 idle connections over all peers; negative:
//     no pooling.
//   - Options.IdleTimeout zero: 60 s, for peers whose IdleTimeout is zero.
//     A peer's negative IdleTimeout means its connections are never pooled.
//   - Options.HandshakeTimeout zero: 60 s, for TLS handshakes of peers
//     without TotalConnectionTimeout.
//   - Options.TLS nil: BackendTLS on gotls (crypto/tls).
//   - Options.HTTP2 zero: the http2 package's client defaults (8 MiB
//     windows, no pings), overridden per peer by H2PingInterval,
//     H2StreamWindowSize and H2ConnectionWindowSize.
//
// Not ported (yet): CONNECT proxies, custom L4 connectors, source address
// pools (bind_to_v4/v6) and port ranges, DSCP, TCP Fast Open, and
// SO_RCVBUF before connect (TCPRecvBuf is set right after connect).
//
// # Concurrency
//
// A Connector and a BackendTLS are safe for concurrent use. A Conn is a
// net.Conn: one reader and one writer at a time, Close from anywhere; it
// belongs to the caller between Get and Release. An http2.Stream belongs to
// its caller until Close.
package connector
