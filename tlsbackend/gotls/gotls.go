package gotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/internal/hs"
)

// Backend is the crypto/tls backend. The zero value is ready to use.
type Backend struct{}

var _ tlsbackend.Backend = (*Backend)(nil)

// New returns the crypto/tls backend.
func New() *Backend { return &Backend{} }

// Name returns "boringcrypto" in a GOEXPERIMENT=boringcrypto build and
// "gotls" otherwise.
func (b *Backend) Name() string {
	if boringEnabled() {
		return "boringcrypto"
	}
	return "gotls"
}

// FIPS reports whether crypto/tls runs on a FIPS 140 module: BoringCrypto
// (GOEXPERIMENT=boringcrypto) or Go's own FIPS module (GODEBUG=fips140=on).
func (b *Backend) FIPS() bool { return boringEnabled() || fips140Enabled() }

// Server returns a ServerTLS serving cfg.Certificates.
func (b *Backend) Server(cfg *tlsbackend.ServerConfig) (tlsbackend.ServerTLS, error) {
	p, err := tlsbackend.ServerParams(cfg)
	if err != nil {
		return nil, err
	}
	s := &server{name: b.Name(), params: p}
	store, reject := cfg.Certificates, cfg.RejectUnknownSNI
	base := &tls.Config{
		MinVersion: p.MinVersion,
		MaxVersion: p.MaxVersion,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, ok := store.Get(hello.ServerName)
			if !ok && reject && hello.ServerName != "" {
				return nil, fmt.Errorf("tlsbackend: no certificate for server name %q", hello.ServerName)
			}
			return c.TLSCertificate(), nil
		},
		NextProtos: slices.Clone(cfg.NextProtos),
	}
	switch cfg.ClientAuth {
	case tlsbackend.VerifyClientCertIfGiven:
		base.ClientAuth = tls.VerifyClientCertIfGiven
	case tlsbackend.RequireAndVerifyClientCert:
		base.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cfg.ClientAuth != tlsbackend.NoClientCert {
		base.ClientCAs = pool(cfg.ClientCAs)
	}
	if len(base.NextProtos) > 0 {
		// crypto/tls fails a handshake whose ALPN lists share nothing;
		// Pingora goes on without ALPN. Serve such clients from a copy
		// that offers no protocols.
		noALPN := base.Clone()
		noALPN.NextProtos = nil
		base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			for _, p := range hello.SupportedProtos {
				if slices.Contains(cfg.NextProtos, p) {
					return nil, nil
				}
			}
			return noALPN, nil
		}
	}
	s.config = base
	return s, nil
}

type server struct {
	name   string
	params tlsbackend.Params
	config *tls.Config
	closed atomic.Bool
}

func (s *server) Handshake(ctx context.Context, raw net.Conn) (tlsbackend.Conn, error) {
	if s.closed.Load() {
		return nil, hs.Fail(raw, s.name, "server", tlsbackend.ErrClosed)
	}
	g := hs.Arm(ctx, raw, s.params.HandshakeTimeout, s.name, "server")
	tc := tls.Server(raw, s.config)
	if err := g.Done(tc.HandshakeContext(ctx)); err != nil {
		return nil, err
	}
	return newConn(tc, false, ""), nil
}

func (s *server) Close() error {
	s.closed.Store(true)
	return nil
}

// Client returns a ClientTLS verifying servers as cfg says.
func (b *Backend) Client(cfg *tlsbackend.ClientConfig) (tlsbackend.ClientTLS, error) {
	p, err := tlsbackend.ClientParams(cfg)
	if err != nil {
		return nil, err
	}
	base := &tls.Config{
		MinVersion:         p.MinVersion,
		MaxVersion:         p.MaxVersion,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		NextProtos:         slices.Clone(cfg.NextProtos),
	}
	if cfg.RootCAs != nil {
		base.RootCAs = pool(cfg.RootCAs)
	}
	if cert := cfg.Certificate; cert != nil {
		// Send the certificate whenever asked, whatever CA names the server
		// lists, as OpenSSL does; the server decides.
		base.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert.TLSCertificate(), nil
		}
	}
	c := &client{name: b.Name(), params: p, config: base, cfg: *cfg}
	c.cfg.AlternativeNames = slices.Clone(cfg.AlternativeNames)
	if !cfg.InsecureSkipVerify && (cfg.SkipVerifyHostname || len(cfg.AlternativeNames) > 0) {
		// crypto/tls checks only ServerName: verify in VerifyConnection.
		c.custom = true
		base.InsecureSkipVerify = true
	}
	return c, nil
}

type client struct {
	name   string
	params tlsbackend.Params
	config *tls.Config
	cfg    tlsbackend.ClientConfig // for VerifyNames
	custom bool                    // verification runs in VerifyConnection
	closed atomic.Bool
}

// verifier checks the chain against roots (nil: the system roots) and,
// unless names is nil, the leaf against names.
func verifier(roots *x509.CertPool, names []string, skipHost bool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errors.New("tlsbackend: server sent no certificate")
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
		if err := tlsbackend.CheckHostname(certs[0], names); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
		return nil
	}
}

// ErrNoServerName is returned by a verifying client handshake given no
// server name.
var ErrNoServerName = errors.New("tlsbackend: empty server name: certificate verification needs one (or set InsecureSkipVerify)")

func (c *client) Handshake(ctx context.Context, raw net.Conn, serverName string, alpn []string) (tlsbackend.Conn, error) {
	if c.closed.Load() {
		return nil, hs.Fail(raw, c.name, "client", tlsbackend.ErrClosed)
	}
	if serverName == "" && !c.cfg.InsecureSkipVerify && !c.cfg.SkipVerifyHostname && len(c.cfg.AlternativeNames) == 0 {
		return nil, hs.Fail(raw, c.name, "client", ErrNoServerName)
	}
	if err := tlsbackend.CheckALPN(alpn); err != nil {
		return nil, hs.Fail(raw, c.name, "client", err)
	}
	cfg := c.config
	if serverName != "" || alpn != nil || c.custom {
		cfg = cfg.Clone()
		cfg.ServerName = serverName
		if alpn != nil {
			cfg.NextProtos = alpn
		}
		if c.custom {
			cfg.VerifyConnection = verifier(cfg.RootCAs, tlsbackend.VerifyNames(&c.cfg, serverName), c.cfg.SkipVerifyHostname)
		}
	}
	g := hs.Arm(ctx, raw, c.params.HandshakeTimeout, c.name, "client")
	tc := tls.Client(raw, cfg)
	if err := g.Done(tc.HandshakeContext(ctx)); err != nil {
		return nil, err
	}
	return newConn(tc, true, serverName), nil
}

func (c *client) Close() error {
	c.closed.Store(true)
	return nil
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// Conn is an established crypto/tls connection.
type Conn struct {
	*tls.Conn
	state tlsbackend.ConnState
}

var _ tlsbackend.Conn = (*Conn)(nil)

func newConn(tc *tls.Conn, isClient bool, serverName string) *Conn {
	cs := tc.ConnectionState()
	st := tlsbackend.ConnState{
		Version:            cs.Version,
		CipherSuite:        cs.CipherSuite,
		NegotiatedProtocol: cs.NegotiatedProtocol,
		ServerName:         cs.ServerName,
		PeerCertificates:   cs.PeerCertificates,
		DidResume:          cs.DidResume,
	}
	if isClient {
		st.ServerName = serverName
	}
	return &Conn{Conn: tc, state: st}
}

// State returns what the handshake negotiated.
func (c *Conn) State() tlsbackend.ConnState { return c.state }
