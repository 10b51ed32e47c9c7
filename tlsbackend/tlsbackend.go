package tlsbackend

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// Backend makes TLS servers and clients. Implementations are safe for
// concurrent use.
type Backend interface {
	// Name identifies the backend in logs: "gotls", "boringcrypto" or "openssl".
	Name() string
	// Server validates cfg and returns a ServerTLS that handshakes with its
	// settings. cfg is not retained except for cfg.Certificates, whose later
	// changes (CertStore.Set, CertStore.Reload) are seen by new handshakes.
	Server(cfg *ServerConfig) (ServerTLS, error)
	// Client validates cfg and returns a ClientTLS. cfg is not retained.
	Client(cfg *ClientConfig) (ClientTLS, error)
}

// ServerTLS runs server-side handshakes. Handshake may be called from many
// goroutines at once. Close releases the resources the backend holds (C
// memory for openssl); connections already established stay usable.
type ServerTLS interface {
	// Handshake runs the server side of a TLS handshake over raw. It returns
	// when the handshake is done, fails, ctx is done, or the handshake
	// timeout expires (see ServerConfig.HandshakeTimeout). On error raw is
	// closed and the error is a *HandshakeError; on success the returned Conn
	// owns raw and raw's deadlines are cleared.
	Handshake(ctx context.Context, raw net.Conn) (Conn, error)
	// Close frees the server; later handshakes fail.
	Close() error
}

// ClientTLS runs client-side handshakes. Handshake may be called from many
// goroutines at once.
type ClientTLS interface {
	// Handshake runs the client side of a TLS handshake over raw. serverName
	// is sent as SNI (unless it is an IP address) and the server certificate
	// is verified against it; it may be empty only with
	// ClientConfig.InsecureSkipVerify. alpn lists the protocols to offer in
	// preference order; nil means ClientConfig.NextProtos. Errors, ownership
	// and deadlines are as for ServerTLS.Handshake.
	Handshake(ctx context.Context, raw net.Conn, serverName string, alpn []string) (Conn, error)
	// Close frees the client; later handshakes fail.
	Close() error
}

// Conn is an established TLS connection. As with net.Conn, one Read and one
// Write may run at the same time; Close unblocks both. Close sends a
// close_notify alert (bounded by a short deadline) and closes the raw
// connection.
type Conn interface {
	net.Conn
	// State describes the negotiated connection. It is fixed after the
	// handshake and cheap to call.
	State() ConnState
}

// ConnState is what a handshake negotiated, for filters and logs.
type ConnState struct {
	// Version is the TLS version, e.g. tls.VersionTLS13.
	Version uint16
	// CipherSuite is the IANA cipher suite id, e.g. tls.TLS_AES_128_GCM_SHA256.
	CipherSuite uint16
	// NegotiatedProtocol is the ALPN protocol, "" if none was agreed.
	NegotiatedProtocol string
	// ServerName is the SNI name: on a server the one the client sent ("" if
	// none), on a client the name passed to Handshake.
	ServerName string
	// PeerCertificates is the chain the peer sent, leaf first; empty when the
	// peer sent none (a client without a certificate).
	PeerCertificates []*x509.Certificate
	// DidResume reports whether the session was resumed.
	DidResume bool
}

// VersionName returns the version as text, e.g. "TLS 1.3".
func (s ConnState) VersionName() string { return tls.VersionName(s.Version) }

// CipherSuiteName returns the IANA name of the cipher suite, e.g.
// "TLS_AES_128_GCM_SHA256".
func (s ConnState) CipherSuiteName() string { return tls.CipherSuiteName(s.CipherSuite) }

// ClientAuthType says whether a server asks for and verifies client
// certificates.
type ClientAuthType int

const (
	// NoClientCert does not ask for a client certificate. The default.
	NoClientCert ClientAuthType = iota
	// VerifyClientCertIfGiven asks for a certificate and verifies it against
	// ServerConfig.ClientCAs if the client sends one.
	VerifyClientCertIfGiven
	// RequireAndVerifyClientCert requires a certificate signed by one of
	// ServerConfig.ClientCAs.
	RequireAndVerifyClientCert
)

// String returns the constant's name.
func (a ClientAuthType) String() string {
	switch a {
	case NoClientCert:
		return "NoClientCert"
	case VerifyClientCertIfGiven:
		return "VerifyClientCertIfGiven"
	case RequireAndVerifyClientCert:
		return "RequireAndVerifyClientCert"
	}
	return fmt.Sprintf("ClientAuthType(%d)", int(a))
}

// ErrHandshakeTimeout matches (with errors.Is) a handshake that ran out of
// time: its handshake timeout or its context's deadline.
var ErrHandshakeTimeout = errors.New("tlsbackend: handshake timed out")

// ErrCertificateVerify matches (with errors.Is) a handshake that failed
// because the peer's certificate did not verify: an unknown authority, an
// expired or otherwise invalid certificate, or one not valid for the
// expected name. Every backend's errors match it.
var ErrCertificateVerify = errors.New("tlsbackend: certificate verification failed")

// ErrClosed is returned by Handshake after ServerTLS.Close or ClientTLS.Close.
var ErrClosed = errors.New("tlsbackend: closed")

// HandshakeError is the error of a failed handshake.
type HandshakeError struct {
	// Backend is Backend.Name of the backend that ran the handshake.
	Backend string
	// Side is "server" or "client".
	Side string
	// Peer is the raw connection's remote address.
	Peer string
	// TimedOut is set when the handshake ran out of time; Limit is the time
	// it had.
	TimedOut bool
	Limit    time.Duration
	// Err is the underlying error: from the TLS library, the connection or
	// the context.
	Err error
}

// Error reports the side, the peer and the cause, e.g.
// "tlsbackend: gotls server handshake with 127.0.0.1:4321 timed out after 100ms: …".
func (e *HandshakeError) Error() string {
	msg := fmt.Sprintf("tlsbackend: %s %s handshake with %s", e.Backend, e.Side, e.Peer)
	if e.TimedOut {
		msg += fmt.Sprintf(" timed out after %v", e.Limit)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Is matches ErrHandshakeTimeout when the handshake ran out of time, and
// ErrCertificateVerify when crypto/tls or crypto/x509 rejected the peer's
// certificate (other backends wrap ErrCertificateVerify in Err).
func (e *HandshakeError) Is(target error) bool {
	switch target {
	case ErrHandshakeTimeout:
		return e.TimedOut
	case ErrCertificateVerify:
		return isCertError(e.Err)
	}
	return false
}

// isCertError reports whether err is a crypto/tls or crypto/x509
// certificate verification failure.
func isCertError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
	)
	return errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// Timeout reports whether the handshake ran out of time, as net.Error does.
func (e *HandshakeError) Timeout() bool { return e.TimedOut }

// FIPS reports whether b runs its cryptography in a FIPS 140 mode:
// BoringCrypto for the gotls backend built with GOEXPERIMENT=boringcrypto,
// the OpenSSL FIPS provider for openssl. Backends that cannot tell report false.
func FIPS(b Backend) bool {
	f, ok := b.(interface{ FIPS() bool })
	return ok && f.FIPS()
}
