// Package tlsbackend is one small TLS interface for server and client
// connections, with three interchangeable backends.
//
// It ports the TLS layer of Cloudflare Pingora's pingora-core (TLS
// listeners, the upstream TLS connector and the TLS digest) together with
// the crates that plug a TLS library into it: pingora-openssl,
// pingora-boringssl and pingora-rustls. The backends are:
//
//   - gotls (package tlsbackend/gotls): crypto/tls, pure Go. The default;
//     builds with CGO_ENABLED=0.
//   - openssl (package tlsbackend/openssl): OpenSSL 3 through cgo, built
//     only with -tags openssl and cgo; otherwise its New returns an error
//     that says so.
//   - BoringCrypto: the gotls backend in a binary built with
//     GOEXPERIMENT=boringcrypto. Its Name is then "boringcrypto" and FIPS
//     reports true.
//
// One conformance suite (package tlsbackend/tlstest) runs against every
// backend and every client/server pair of backends.
//
// Usage:
//
//	store, err := tlsbackend.LoadCertStore(tlsbackend.CertFile{CertFile: "site.crt", KeyFile: "site.key"})
//	srv, err := gotls.New().Server(&tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{"h2", "http/1.1"}})
//	conn, err := srv.Handshake(ctx, raw)      // raw is an accepted net.Conn
//	log.Print(conn.State().NegotiatedProtocol) // "h2"
//	err = store.Reload()                       // on SIGHUP: new handshakes see the new files
//
// # Behaviour and defaults
//
//   - Versions: TLS 1.2 and TLS 1.3 only. MinVersion zero means TLS 1.2;
//     anything lower is a configuration error (RFC 8996; HTTP/2 needs 1.2).
//   - Handshake timeout: HandshakeTimeout zero means 60 s (Pingora's). A
//     context deadline that comes first wins; cancelling the context aborts
//     the handshake. A timed-out handshake returns a *HandshakeError that
//     matches ErrHandshakeTimeout. Any failed handshake closes the raw
//     connection.
//   - Certificates: a CertStore, chosen by SNI per handshake. A name that
//     matches no certificate, or no SNI at all, gets the first (default)
//     certificate; with ServerConfig.RejectUnknownSNI an unmatched name
//     fails the handshake instead. CertStore.Set and CertStore.Reload swap
//     the set atomically, without a restart; running connections are not
//     touched.
//   - ALPN: server preference order. When the client's list shares nothing
//     with the server's, the handshake succeeds without ALPN (as Pingora
//     does; crypto/tls alone would fail it).
//   - Client certificates: ClientAuth zero asks for none. With
//     RequireAndVerifyClientCert a missing or untrusted certificate fails
//     the handshake (under TLS 1.3 the client may learn it only at its first
//     Read). A client with ClientConfig.Certificate sends it whenever asked.
//   - Server verification: ClientConfig.RootCAs nil means the system roots.
//     The certificate is checked against the name given to Handshake or
//     one of ClientConfig.AlternativeNames; SkipVerifyHostname checks the
//     chain only. An empty name is an error unless InsecureSkipVerify,
//     SkipVerifyHostname or AlternativeNames say what to check instead
//     (verification is never switched off silently). IP addresses are
//     verified against IP SANs and never sent as SNI. Verification failures
//     match ErrCertificateVerify.
//   - Session resumption: servers issue tickets as their library does by
//     default; clients keep no session cache, so they do not resume.
//
// # Concurrency
//
// Backends, ServerTLS and ClientTLS values are safe for concurrent use;
// each Handshake is independent. A CertStore may be read by handshakes while
// another goroutine calls Set or Reload. A Conn allows one Read and one
// Write at a time concurrently, like net.Conn; Close may be called from any
// goroutine and unblocks both.
package tlsbackend
