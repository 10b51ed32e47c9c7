// Package openssl is the OpenSSL 3 backend of tlsbackend, through cgo.
//
// It ports pingora-openssl. The backend is compiled only with cgo and
// -tags openssl (it links -lssl -lcrypto; on Debian install libssl-dev).
// In any other build New returns ErrUnavailable, whose message explains how
// to rebuild, and Available is false; the package still compiles, so
// CGO_ENABLED=0 go vet ./... passes.
//
// Usage:
//
//	b, err := openssl.New() // ErrUnavailable without cgo and -tags openssl
//	srv, err := b.Server(&tlsbackend.ServerConfig{Certificates: store})
//	conn, err := srv.Handshake(ctx, raw)
//
// # Design
//
// OpenSSL never sees a file descriptor. Each connection has two memory BIOs:
// Conn reads ciphertext from the Go net.Conn into one and writes what
// OpenSSL produced from the other, around SSL_do_handshake, SSL_read and
// SSL_write. So deadlines, contexts and any net.Conn (TCP, Unix, a proxy
// tunnel) work as with crypto/tls.
//
// Certificates are chosen in the SNI callback (a Go function exported to C;
// the connection is found through a runtime/cgo.Handle stored in the SSL
// object), from the same tlsbackend.CertStore the other backends use;
// converted certificates are cached per store generation. ALPN selection is
// a C callback over the server's wire list. Client certificates are
// verified with SSL_VERIFY_PEER (plus FAIL_IF_NO_PEER_CERT when required)
// against the configured CAs, server certificates with SSL_set1_host or the
// IP check. The TLS 1.2 cipher list is ECDHE with AES-GCM or
// ChaCha20-Poly1305 (Mozilla "intermediate"); TLS 1.3 uses OpenSSL's
// defaults. Renegotiation is disabled.
//
// # Memory
//
// Every C object is freed explicitly, never by a finalizer: Conn.Close
// frees the SSL object (and its BIOs), and a failed handshake frees it
// before returning. ServerTLS.Close and ClientTLS.Close free the SSL_CTX
// and cached certificates once no handshake is running; established
// connections hold their own references and stay usable.
//
// # Concurrency
//
// Backend, ServerTLS and ClientTLS are safe for concurrent use. A Conn
// allows one Read and one Write at the same time: calls into the SSL object
// are serialised by a mutex that is never held during network I/O.
package openssl
