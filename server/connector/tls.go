package connector

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/tlsbackend"
)

// TLSClient runs the client side of a TLS handshake with a peer. The
// default, used when Options.TLS is nil, is a BackendTLS on tlsbackend's
// gotls (crypto/tls); NewBackendTLS(openssl backend) plugs in OpenSSL, and
// an adapter for another TLS library implements this interface.
type TLSClient interface {
	// Handshake runs a handshake over raw with the settings of p: p.SNI
	// (else p.ServerName()) as SNI and name to verify, p.CA, p.ClientCert,
	// p.SkipVerifyCert, p.SkipVerifyHostname and p.AlternativeCN. alpn is
	// the list of protocols to offer, in preference order. It returns the
	// TLS connection (owning raw) and the negotiated ALPN protocol ("" if
	// none). It must return when ctx is done. On error the connector closes
	// raw. Certificate verification failures should match
	// tlsbackend.ErrCertificateVerify or wrap the crypto/x509 error types
	// (or *tls.CertificateVerificationError) so that the connector reports
	// them as perr.InvalidCert.
	Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (conn net.Conn, negotiated string, err error)
}

// TLSClientFunc adapts a function to TLSClient.
type TLSClientFunc func(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error)

// Handshake calls f.
func (f TLSClientFunc) Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error) {
	return f(ctx, raw, p, alpn)
}

var _ TLSClient = TLSClientFunc(nil)

// DefaultTLSClients is how many tlsbackend.ClientTLS values a BackendTLS
// keeps, one per distinct verification setting.
const DefaultTLSClients = 64

// BackendTLS is a TLSClient that runs handshakes through a
// tlsbackend.Backend: gotls (crypto/tls, the Connector's default) or
// openssl. It keeps one tlsbackend.ClientTLS per distinct verification
// setting of the peers it serves (CA, client certificate, SkipVerifyCert,
// SkipVerifyHostname, alternative names), up to DefaultTLSClients; the
// least recently used idle one is closed to make room. Safe for concurrent
// use.
type BackendTLS struct {
	b tlsbackend.Backend

	mu     sync.Mutex
	m      map[clientKey]*clientEntry
	tick   uint64
	closed bool
}

var _ TLSClient = (*BackendTLS)(nil)

// clientKey is what makes two peers need different ClientTLS values.
type clientKey struct {
	ca                 **x509.Certificate // &CA[0]: identity of the slice
	caLen              int
	cert               *tls.Certificate
	skipCert, skipHost bool
	alt                string // AlternativeNames joined by NUL
}

type clientEntry struct {
	ct    tlsbackend.ClientTLS
	inUse int
	used  uint64
}

// NewBackendTLS returns a TLSClient running handshakes with b.
func NewBackendTLS(b tlsbackend.Backend) (*BackendTLS, error) {
	if b == nil {
		return nil, errors.New("connector: nil tlsbackend.Backend")
	}
	return &BackendTLS{b: b, m: make(map[clientKey]*clientEntry)}, nil
}

// Backend returns the backend handshakes run on.
func (t *BackendTLS) Backend() tlsbackend.Backend { return t.b }

// Handshake implements TLSClient: p.ServerName() is the SNI (none for an
// IP address) and the name verified, with p.AlternativeCN and the '-'
// variants of both as alternative names (see ClientConfig). The returned
// connection is a tlsbackend.Conn.
func (t *BackendTLS) Handshake(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error) {
	serverName := p.ServerName()
	ct, release, err := t.client(p, serverName)
	if err != nil {
		return nil, "", err
	}
	defer release()
	conn, err := ct.Handshake(ctx, raw, serverName, alpn)
	if err != nil {
		return nil, "", err
	}
	return conn, conn.State().NegotiatedProtocol, nil
}

// noTimeout leaves the handshake deadline to the connector's context.
const noTimeout = 24 * time.Hour

// client returns the ClientTLS for p and a func to call when the handshake
// is done.
func (t *BackendTLS) client(p *peer.Peer, serverName string) (tlsbackend.ClientTLS, func(), error) {
	k := clientKey{caLen: len(p.CA), cert: p.ClientCert, skipCert: p.SkipVerifyCert}
	if len(p.CA) > 0 {
		k.ca = &p.CA[0]
	}
	var alt []string
	switch {
	case p.SkipVerifyCert:
	case p.SkipVerifyHostname:
		k.skipHost = true
	default:
		alt = verifyNames(serverName, p.AlternativeCN)
		if len(alt) > 0 && alt[0] == serverName {
			alt = alt[1:]
		}
		k.alt = strings.Join(alt, "\x00")
	}
	t.mu.Lock()
	t.tick++
	if e := t.m[k]; e != nil {
		e.inUse++
		e.used = t.tick
		t.mu.Unlock()
		return e.ct, func() { t.release(e) }, nil
	}
	closed := t.closed
	t.mu.Unlock()

	cfg := &tlsbackend.ClientConfig{
		RootCAs:            p.CA,
		InsecureSkipVerify: k.skipCert,
		SkipVerifyHostname: k.skipHost,
		AlternativeNames:   alt,
		HandshakeTimeout:   noTimeout,
	}
	if p.ClientCert != nil {
		cert, err := backendCert(p.ClientCert)
		if err != nil {
			return nil, nil, err
		}
		cfg.Certificate = cert
	}
	ct, err := t.b.Client(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connector: %s client config: %w", t.b.Name(), err)
	}
	if closed {
		return ct, func() { _ = ct.Close() }, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.m[k]; e != nil { // another handshake made one meanwhile
		_ = ct.Close()
		e.inUse++
		e.used = t.tick
		return e.ct, func() { t.release(e) }, nil
	}
	if len(t.m) >= DefaultTLSClients {
		t.evictLocked()
	}
	e := &clientEntry{ct: ct, inUse: 1, used: t.tick}
	t.m[k] = e
	return ct, func() { t.release(e) }, nil
}

// evictLocked closes the least recently used ClientTLS no handshake uses.
// t.mu must be held.
func (t *BackendTLS) evictLocked() {
	var (
		oldK clientKey
		old  *clientEntry
	)
	for k, e := range t.m {
		if e.inUse == 0 && (old == nil || e.used < old.used) {
			oldK, old = k, e
		}
	}
	if old != nil {
		delete(t.m, oldK)
		_ = old.ct.Close()
	}
}

func (t *BackendTLS) release(e *clientEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.inUse--
	if t.closed && e.inUse == 0 {
		_ = e.ct.Close()
	}
}

// Clients returns how many ClientTLS values t holds.
func (t *BackendTLS) Clients() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Close frees the cached ClientTLS values once their handshakes end.
// Handshakes after Close still work, each with a ClientTLS of its own.
func (t *BackendTLS) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for k, e := range t.m {
		delete(t.m, k)
		if e.inUse == 0 {
			_ = e.ct.Close()
		}
	}
	return nil
}

// backendCert converts a client certificate for tlsbackend.
func backendCert(c *tls.Certificate) (*tlsbackend.Certificate, error) {
	key, ok := c.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("connector: client certificate key %T is not a crypto.Signer", c.PrivateKey)
	}
	cert, err := tlsbackend.NewCertificate(c.Certificate, key)
	if err != nil {
		return nil, fmt.Errorf("connector: client certificate: %w", err)
	}
	return cert, nil
}

// ClientConfig returns a crypto/tls configuration equivalent to what the
// default TLSClient does for p, offering alpn. It is exported for callers
// that run crypto/tls handshakes themselves (a test, a TLSClient wrapper).
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
