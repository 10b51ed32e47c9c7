// Package peer describes an upstream server: where to connect (a TCP
// address or a Unix socket path), whether and how to speak TLS to it, which
// HTTP versions to offer, and the timeouts and socket options of its
// connections.
//
// It ports Pingora's HttpPeer and PeerOptions (pingora-core,
// upstreams/peer.rs).
//
// # Usage
//
//	p := peer.New("10.0.0.1:443", true, "api.example.com")
//	p.ALPN = peer.ALPNH2H1
//	p.ConnectionTimeout = 2 * time.Second
//	conn, reused, err := conns.Get(ctx, p) // conns is a *connector.Connector
//
// # Defaults
//
// The zero value of every field is safe:
//
//   - ALPN: ALPNH1 (offer only http/1.1), Pingora's default.
//   - Certificate and host-name verification are on. They are switched off
//     only by the explicit SkipVerifyCert and SkipVerifyHostname fields,
//     never as a side effect of another setting. This differs from Pingora,
//     which verifies nothing when the SNI is empty: here an empty SNI means
//     the certificate is verified against the host of Addr (ServerName); for
//     an IP address that needs an IP SAN in the certificate, and for a Unix
//     socket, which has no host, Validate fails unless SNI or
//     SkipVerifyHostname is set.
//   - CA nil: the system roots. ClientCert nil: no client certificate.
//   - Timeouts zero: no limit of our own (the OS bounds a TCP connect,
//     typically around two minutes). IdleTimeout zero: the connector's
//     default; negative: connections to this peer are never pooled.
//   - TCPKeepAlive zero: Go's default (probes after 15 s idle, every 15 s);
//     NoTCPKeepAlive switches probes off.
//   - MaxH2Streams zero: as many concurrent streams per HTTP/2 connection
//     as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows (Pingora's
//     default is 1).
//   - ProxyProtocol zero: no PROXY protocol header.
//
// # PROXY protocol
//
// A peer behind which the original client's address matters (a server
// that logs or filters by it, another proxy) can be told it with HAProxy's
// PROXY protocol: with ProxyProtocol 1 or 2, the connector writes a header
// first on each new connection, before TLS, carrying ProxySource and
// ProxyDestination. The header describes one client, so those addresses
// are part of the Key and such connections are pooled per client address,
// as HAProxy does; the proxy fills them in from the downstream connection.
//
// # Reuse
//
// Two peers may share pooled connections only if every field that makes
// connections non-interchangeable is equal: Network, Addr, TLS, SNI,
// AlternativeCN, SkipVerifyCert, SkipVerifyHostname, ALPN, CA, ClientCert,
// BindTo, MaxH2Streams, GroupKey and, when ProxyProtocol is set, it and
// the addresses of the PROXY header. Key returns these as a comparable
// value and ReuseHash hashes it; a TLS connection made for a.example is
// never reused for b.example. Timeouts, keep-alive and buffer sizes are
// tuning, not identity, and are left out, as in Pingora. Unlike Pingora, the
// key also covers ALPN, CA and BindTo.
//
// CA and ClientCert are compared by identity, not content: peers that
// should share connections must share the same CA slice and the same
// *tls.Certificate. Peers with equal but separately built values never share
// connections, which is safe (only less reuse). Do not modify a CA slice or
// certificate after a peer using it has connected.
//
// # Concurrency
//
// A Peer is a plain value. Its methods only read it, so one Peer may be used
// by many goroutines at once as long as none modifies it.
package peer
