package tlsbackend

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// DefaultHandshakeTimeout bounds a handshake when the config leaves
// HandshakeTimeout zero. It is Pingora's 60 s.
const DefaultHandshakeTimeout = 60 * time.Second

// ServerConfig configures the server side. Certificates is required; the
// zero value of every other field is a safe default.
type ServerConfig struct {
	// Certificates holds the certificates, chosen by SNI for each handshake.
	// Required.
	Certificates *CertStore
	// RejectUnknownSNI fails handshakes whose SNI name matches no
	// certificate. If false (the default) such handshakes get the store's
	// default certificate. A client that sends no SNI (e.g. one connecting by
	// IP address) always gets the default certificate.
	RejectUnknownSNI bool
	// NextProtos lists the ALPN protocols the server accepts, in server
	// preference order. If nil, no ALPN is negotiated. When the client's list
	// shares no protocol with it, the handshake goes on without ALPN (as in
	// Pingora; the application falls back to HTTP/1.1).
	NextProtos []string
	// ClientAuth says whether client certificates are asked for and verified.
	// If zero, NoClientCert.
	ClientAuth ClientAuthType
	// ClientCAs are the roots client certificates must chain to. Required
	// when ClientAuth is not NoClientCert.
	ClientCAs []*x509.Certificate
	// MinVersion is the lowest TLS version accepted. If zero, TLS 1.2; lower
	// values are rejected.
	MinVersion uint16
	// MaxVersion is the highest TLS version accepted. If zero, TLS 1.3.
	MaxVersion uint16
	// HandshakeTimeout bounds each handshake (a context deadline that comes
	// earlier wins). If zero, DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// ClientConfig configures the client side. The zero value verifies servers
// against the system roots, offers no ALPN and no client certificate.
type ClientConfig struct {
	// RootCAs are the roots server certificates must chain to. If nil, the
	// system roots.
	RootCAs []*x509.Certificate
	// Certificate is sent when the server asks for a client certificate
	// (mTLS). If nil, none is sent.
	Certificate *Certificate
	// InsecureSkipVerify accepts any server certificate. Only for tests and
	// peers reached over an already authenticated channel.
	InsecureSkipVerify bool
	// SkipVerifyHostname verifies the server's chain against RootCAs but
	// accepts whatever names its certificate carries (Pingora's
	// verify_hostname false). Handshake may then be given an empty server
	// name. If false, the certificate must be valid for the server name or
	// one of AlternativeNames.
	SkipVerifyHostname bool
	// AlternativeNames are more names (DNS names or IP addresses) the server
	// certificate may be valid for instead of the server name given to
	// Handshake (Pingora's alternative_cn). They are never sent as SNI. If
	// nil, only the server name is accepted.
	AlternativeNames []string
	// NextProtos are the ALPN protocols offered when Handshake is given nil.
	// If nil, none.
	NextProtos []string
	// MinVersion is the lowest TLS version accepted. If zero, TLS 1.2; lower
	// values are rejected.
	MinVersion uint16
	// MaxVersion is the highest TLS version offered. If zero, TLS 1.3.
	MaxVersion uint16
	// HandshakeTimeout bounds each handshake (a context deadline that comes
	// earlier wins). If zero, DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// ErrVersion is returned for a version range that is not within TLS 1.2 to
// TLS 1.3.
var ErrVersion = errors.New("tlsbackend: TLS versions below 1.2 are not supported (HARDENING: TLS 1.2 minimum)")

// Params is a ServerConfig or ClientConfig with its defaults filled in, as a
// backend uses it.
type Params struct {
	// MinVersion and MaxVersion are the TLS version range, within TLS 1.2
	// to TLS 1.3.
	MinVersion, MaxVersion uint16
	// HandshakeTimeout is the positive handshake time limit.
	HandshakeTimeout time.Duration
}

// ServerParams validates cfg and returns its effective parameters. Backends
// call it first in Backend.Server.
func ServerParams(cfg *ServerConfig) (Params, error) {
	if cfg == nil {
		return Params{}, errors.New("tlsbackend: nil ServerConfig")
	}
	if cfg.Certificates == nil {
		return Params{}, errors.New("tlsbackend: ServerConfig.Certificates is required")
	}
	switch cfg.ClientAuth {
	case NoClientCert:
	case VerifyClientCertIfGiven, RequireAndVerifyClientCert:
		if len(cfg.ClientCAs) == 0 {
			return Params{}, fmt.Errorf("tlsbackend: ClientAuth %v needs ClientCAs", cfg.ClientAuth)
		}
	default:
		return Params{}, fmt.Errorf("tlsbackend: unknown ClientAuth %v", cfg.ClientAuth)
	}
	if err := checkProtos(cfg.NextProtos); err != nil {
		return Params{}, err
	}
	return params(cfg.MinVersion, cfg.MaxVersion, cfg.HandshakeTimeout)
}

// ClientParams validates cfg and returns its effective parameters. Backends
// call it first in Backend.Client.
func ClientParams(cfg *ClientConfig) (Params, error) {
	if cfg == nil {
		return Params{}, errors.New("tlsbackend: nil ClientConfig")
	}
	if err := checkProtos(cfg.NextProtos); err != nil {
		return Params{}, err
	}
	for _, n := range cfg.AlternativeNames {
		if n == "" {
			return Params{}, errors.New("tlsbackend: empty name in ClientConfig.AlternativeNames")
		}
	}
	return params(cfg.MinVersion, cfg.MaxVersion, cfg.HandshakeTimeout)
}

// VerifyNames returns the names a client handshake checks the server
// certificate against: serverName (if not empty) then cfg.AlternativeNames.
// It is nil when cfg skips host-name verification.
func VerifyNames(cfg *ClientConfig, serverName string) []string {
	if cfg.InsecureSkipVerify || cfg.SkipVerifyHostname {
		return nil
	}
	names := make([]string, 0, 1+len(cfg.AlternativeNames))
	if serverName != "" {
		names = append(names, serverName)
	}
	return append(names, cfg.AlternativeNames...)
}

// CheckHostname reports whether leaf is valid for one of names, as
// crypto/x509 decides (DNS names, IP addresses, wildcards). The error, for
// the first name, is an x509.HostnameError; it matches
// ErrCertificateVerify.
func CheckHostname(leaf *x509.Certificate, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("%w: no name to check the certificate against", ErrCertificateVerify)
	}
	var first error
	for _, n := range names {
		err := leaf.VerifyHostname(n)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return &verifyError{err: first}
}

// verifyError marks a verification failure found outside the TLS library.
type verifyError struct{ err error }

func (e *verifyError) Error() string        { return e.err.Error() }
func (e *verifyError) Unwrap() error        { return e.err }
func (e *verifyError) Is(target error) bool { return target == ErrCertificateVerify }

// CheckALPN validates an ALPN list: each protocol 1 to 255 bytes, the list
// at most 65535 bytes on the wire.
func CheckALPN(protos []string) error { return checkProtos(protos) }

func checkProtos(protos []string) error {
	total := 0
	for _, p := range protos {
		if len(p) == 0 || len(p) > 255 {
			return fmt.Errorf("tlsbackend: ALPN protocol %q must be 1 to 255 bytes", p)
		}
		total += 1 + len(p)
	}
	if total > 65535 {
		return errors.New("tlsbackend: ALPN list longer than 65535 bytes")
	}
	return nil
}

func params(minV, maxV uint16, timeout time.Duration) (Params, error) {
	p := Params{MinVersion: minV, MaxVersion: maxV, HandshakeTimeout: timeout}
	if p.MinVersion == 0 {
		p.MinVersion = tls.VersionTLS12
	}
	if p.MaxVersion == 0 {
		p.MaxVersion = tls.VersionTLS13
	}
	if !knownVersion(p.MinVersion) || !knownVersion(p.MaxVersion) {
		return Params{}, fmt.Errorf("%w: got min %#04x max %#04x", ErrVersion, p.MinVersion, p.MaxVersion)
	}
	if p.MinVersion > p.MaxVersion {
		return Params{}, fmt.Errorf("tlsbackend: MinVersion %s above MaxVersion %s",
			tls.VersionName(p.MinVersion), tls.VersionName(p.MaxVersion))
	}
	if p.HandshakeTimeout < 0 {
		return Params{}, fmt.Errorf("tlsbackend: negative HandshakeTimeout %v", p.HandshakeTimeout)
	}
	if p.HandshakeTimeout == 0 {
		p.HandshakeTimeout = DefaultHandshakeTimeout
	}
	return p, nil
}

func knownVersion(v uint16) bool { return v == tls.VersionTLS12 || v == tls.VersionTLS13 }
