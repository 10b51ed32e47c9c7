package connector_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	nip "net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

func newCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key}
}

// issue returns a leaf certificate for names (DNS names or IP addresses),
// usable for server and client authentication.
func (ca *testCA) issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// server is a loopback echo server, plaintext or TLS. It records the SNI
// and ALPN of each TLS handshake and closes everything at test cleanup.
type server struct {
	ln    net.Listener
	addr  string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	snis  []string
	alpns []string
	certs int // client certificates seen
	// onConn, if set, replaces the echo loop.
	onConn func(c net.Conn)
}

func startServer(t testing.TB, network string, cfg *tls.Config, onConn func(net.Conn)) *server {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = t.TempDir() + "/s.sock"
	}
	ln, err := net.Listen(network, addr)
	require.NoError(t, err)
	s := &server{ln: ln, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, onConn: onConn}
	if cfg != nil {
		cfg = cfg.Clone()
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.snis = append(s.snis, cs.ServerName)
			s.alpns = append(s.alpns, cs.NegotiatedProtocol)
			if len(cs.PeerCertificates) > 0 {
				s.certs++
			}
			return nil
		}
		ln = tls.NewListener(ln, cfg)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				if tc, ok := c.(*tls.Conn); ok {
					if tc.Handshake() != nil {
						return
					}
				}
				if s.onConn != nil {
					s.onConn(c)
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *server) seen() (snis, alpns []string, certs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.snis...), append([]string(nil), s.alpns...), s.certs
}

func newConnector(t testing.TB, opts connector.Options) *connector.Connector {
	t.Helper()
	c, err := connector.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// echo writes msg to c and reads it back.
func echo(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	buf := make([]byte, len(msg))
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	require.Equal(t, msg, string(buf))
	require.NoError(t, c.SetDeadline(time.Time{}))
}

// requireErr asserts err is an Upstream *perr.Error of type want with the
// given retry decision.
func requireErr(t testing.TB, err error, want perr.ErrorType, retry bool) *perr.Error {
	t.Helper()
	require.Error(t, err)
	pe, ok := errors.AsType[*perr.Error](err)
	require.True(t, ok, "not a *perr.Error: %v", err)
	require.Equal(t, want, pe.Type(), "error: %v", err)
	require.Equal(t, retry, pe.Retry(), "retry of %v", err)
	return pe
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func netip(s string) nip.AddrPort { return nip.MustParseAddrPort(s) }

func itoa(n int) string { return strconv.Itoa(n) }

// newTLSEnvB starts a TLS echo server for a.example and returns a peer
// trusting it.
func newTLSEnvB(t testing.TB) *peer.Peer {
	ca := newCA(t)
	cert := ca.issue(t, "a.example")
	srv := startServer(t, "tcp", &tls.Config{Certificates: []tls.Certificate{cert}}, nil)
	p := peer.New(srv.addr, true, "a.example")
	p.CA = []*x509.Certificate{ca.cert}
	return p
}
