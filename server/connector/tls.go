package connector

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/pingora-go/pingora/server/peer"
)

// TLSClient runs the client side of a TLS handshake with a peer. The
// default, used when Options.TLS is nil, is crypto/tls (see
// package documentation); an adapter for another TLS library implements
// this interface.
type TLSClient interface {
	// Handshake runs a handshake over raw with the settings of p: p.SNI
	// (else p.ServerName()) as SNI and name to verify, p.CA, p.ClientCert,
	// p.SkipVerifyCert, p.SkipVerifyHostname and p.AlternativeCN. alpn is
	// the list of protocols to offer, in preference order. It returns the
	// TLS connection (owning raw) and the negotiated ALPN protocol ("" if
	// none). It must return when ctx is done. On error the connector closes
	// raw. Certificate verification failures should wrap the crypto/x509
	// error types (or *tls.CertificateVerificationError) so that the
	// connector reports them as perr.InvalidCert.
	Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (conn net.Conn, negotiated string, err error)
}

// TLSClientFunc adapts a function to TLSClient.
type TLSClientFunc func(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error)

// Handshake calls f.
func (f TLSClientFunc) Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error) {
	return f(ctx, raw, p, alpn)
}

var _ TLSClient = TLSClientFunc(nil)

// goTLS is the crypto/tls TLSClient.
type goTLS struct{}

// Handshake implements TLSClient with crypto/tls.
func (goTLS) Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error) {
	tc := tls.Client(raw, ClientConfig(p, alpn))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, "", err
	}
	return tc, tc.ConnectionState().NegotiatedProtocol, nil
}

// ClientConfig returns the crypto/tls configuration the default TLSClient
// uses for p, offering alpn. It is exported for callers that run
// handshakes themselves (an HTTP/2 transport, a test).
//
// ServerName is p.ServerName(). Verification follows p: with neither
// SkipVerifyCert nor SkipVerifyHostname nor AlternativeCN (nor an
// underscore in the SNI's first label) it is crypto/tls's own; otherwise
// crypto/tls's verification is replaced by an equivalent VerifyConnection
// that checks the chain against p.CA (nil: system roots) and, unless
// SkipVerifyHostname, that the leaf is valid for one of: the server name,
// the server name with '_' replaced by '-' in its first label (Pingora's
// rule for subdomains), AlternativeCN and its '-' variant. Only
// SkipVerifyCert accepts any certificate.
func ClientConfig(p *peer.Peer, alpn []string) *tls.Config {
	cfg := &tls.Config{ServerName: p.ServerName(), NextProtos: alpn}
	if p.ClientCert != nil {
		cert := p.ClientCert
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert, nil
		}
	}
	if len(p.CA) > 0 {
		cfg.RootCAs = x509.NewCertPool()
		for _, c := range p.CA {
			cfg.RootCAs.AddCert(c)
		}
	}
	if p.SkipVerifyCert {
		cfg.InsecureSkipVerify = true
		return cfg
	}
	names := verifyNames(cfg.ServerName, p.AlternativeCN)
	if !p.SkipVerifyHostname && len(names) == 1 {
		return cfg // crypto/tls verifies chain and ServerName
	}
	// Verification is not skipped: VerifyConnection below does it.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = verifier(cfg.RootCAs, names, p.SkipVerifyHostname)
	return cfg
}

// verifyNames lists the names a certificate may be valid for.
func verifyNames(serverName, alt string) []string {
	names := make([]string, 0, 4)
	for _, n := range []string{serverName, alt} {
		if n == "" {
			continue
		}
		names = append(names, n)
		if v, ok := dashVariant(n); ok {
			names = append(names, v)
		}
	}
	return names
}

// dashVariant replaces '_' by '-' in the first label of a name with more
// than one label ("a_b.example.com" → "a-b.example.com"), as Pingora does:
// underscores are common in internal names but not allowed in certificates.
func dashVariant(name string) (string, bool) {
	dot := strings.IndexByte(name, '.')
	if dot <= 0 || !strings.Contains(name[:dot], "_") {
		return "", false
	}
	return strings.ReplaceAll(name[:dot], "_", "-") + name[dot:], true
}

// verifier returns a VerifyConnection checking the chain against roots (nil:
// system roots) and, unless skipHost, the leaf against names.
func verifier(roots *x509.CertPool, names []string, skipHost bool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errors.New("connector: peer sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := certs[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
		if skipHost {
			return nil
		}
		var first error
		for _, n := range names {
			err := certs[0].VerifyHostname(n)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		if first == nil {
			first = errors.New("connector: no name to verify the certificate against")
		}
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: first}
	}
}
