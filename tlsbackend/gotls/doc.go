// Package gotls is the crypto/tls backend of tlsbackend: pure Go, the
// default.
//
// Built with GOEXPERIMENT=boringcrypto, crypto/tls runs on BoringCrypto;
// the backend then names itself "boringcrypto" and (*Backend).FIPS reports
// true. (*Backend).FIPS also reports Go's own FIPS 140 mode
// (GODEBUG=fips140=on).
//
// Usage:
//
//	b := gotls.New()
//	srv, err := b.Server(&tlsbackend.ServerConfig{Certificates: store})
//	conn, err := srv.Handshake(ctx, raw)
//
// Beyond crypto/tls defaults the backend makes ALPN without overlap succeed
// with no protocol (Pingora's behaviour), sends the client certificate
// whenever the server asks, and refuses an empty server name unless
// verification is off. All values are safe for concurrent use; *Conn is a
// *tls.Conn with the tlsbackend state attached.
package gotls
