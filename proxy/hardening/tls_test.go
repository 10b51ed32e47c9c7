package hardening

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlsEnv serves the proxy over TLS (gotls backend) with cfg; the probe
// connects with probeCert (nil: none).
func tlsEnv(t *testing.T, ca *tlstest.CA, cfg tlsbackend.ServerConfig, probeCert *tlsbackend.Certificate) *env {
	t.Helper()
	store, err := tlsbackend.NewCertStore(ca.Server(t, tlstest.ECDSAP256, "proxy.test"))
	require.NoError(t, err)
	cfg.Certificates = store
	srv, err := gotls.New().Server(&cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	pc := &tls.Config{RootCAs: roots, ServerName: "proxy.test"}
	if probeCert != nil {
		pc.Certificates = []tls.Certificate{*probeCert.TLSCertificate()}
	}
	return newEnv(t, nil, func(c *config) {
		c.tls = listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
			return srv.Handshake(ctx, raw)
		})
		c.tlsProbe = pc
	})
}

// tlsGet does one request over a TLS connection made with cfg and returns
// the error of the handshake or of the exchange (TLS 1.3 reports a refused
// client certificate only at the first read).
func tlsGet(e *env, cfg *tls.Config) error {
	raw, err := net.DialTimeout("tcp", e.addr, time.Second)
	require.NoError(e.t, err)
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(ioWait))
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// TestTLS_OldVersionsRefused: TLS 1.0 and 1.1 clients cannot connect
// (RFC 8996); TLS 1.2 and 1.3 can.
func TestTLS_OldVersionsRefused(t *testing.T) {
	ca := tlstest.NewCA(t, "hardening CA")
	e := tlsEnv(t, ca, tlsbackend.ServerConfig{}, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, v := range []struct {
		name string
		ver  uint16
		ok   bool
	}{{"1.0", tls.VersionTLS10, false}, {"1.1", tls.VersionTLS11, false}, {"1.2", tls.VersionTLS12, true}, {"1.3", tls.VersionTLS13, true}} {
		t.Run(v.name, func(t *testing.T) {
			e.t = t
			err := tlsGet(e, &tls.Config{RootCAs: roots, ServerName: "proxy.test", MinVersion: v.ver, MaxVersion: v.ver})
			if v.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// TestTLS_UnknownSNIRejected: with RejectUnknownSNI an unknown name fails
// the handshake; the configured name works.
func TestTLS_UnknownSNIRejected(t *testing.T) {
	ca := tlstest.NewCA(t, "hardening CA")
	e := tlsEnv(t, ca, tlsbackend.ServerConfig{RejectUnknownSNI: true}, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	assert.Error(t, tlsGet(e, &tls.Config{RootCAs: roots, ServerName: "unknown.test", InsecureSkipVerify: true}))
	assert.NoError(t, tlsGet(e, &tls.Config{RootCAs: roots, ServerName: "proxy.test"}))
	assert.Len(t, e.origin.Requests(), 1, "only the accepted connection reached the origin")
}

// TestTLS_MutualTLSFailures: with RequireAndVerifyClientCert, no client
// certificate or one from another CA is refused; a good one works.
func TestTLS_MutualTLSFailures(t *testing.T) {
	ca := tlstest.NewCA(t, "hardening CA")
	good := ca.Client(t, tlstest.ECDSAP256, "client")
	e := tlsEnv(t, ca, tlsbackend.ServerConfig{ClientAuth: tlsbackend.RequireAndVerifyClientCert, ClientCAs: []*x509.Certificate{ca.Cert}}, good)
	other := tlstest.NewCA(t, "rogue CA").Client(t, tlstest.ECDSAP256, "client")
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		base := tls.Config{RootCAs: roots, ServerName: "proxy.test", MinVersion: v, MaxVersion: v}
		none := base.Clone()
		assert.Error(t, tlsGet(e, none), "no client certificate")
		rogue := base.Clone()
		rogue.Certificates = []tls.Certificate{*other.TLSCertificate()}
		assert.Error(t, tlsGet(e, rogue), "untrusted client certificate")
		ok := base.Clone()
		ok.Certificates = []tls.Certificate{*good.TLSCertificate()}
		assert.NoError(t, tlsGet(e, ok))
	}
	assert.Equal(t, 2, len(e.origin.Requests()), "only authenticated clients reach the origin")
}
