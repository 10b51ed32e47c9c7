package listener_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

// waitTimeout bounds every wait for an event in these tests. It is not a
// speed assertion: events normally happen in microseconds.
const waitTimeout = 10 * time.Second

// checkGoroutines fails the test if, after its cleanups, more goroutines run
// than before it started.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(waitTimeout)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("goroutine leak: %d before, %d after\n%s", before, n, buf)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// listenT listens with cfg and closes the listener at the end of the test.
func listenT(t *testing.T, cfg listener.Config) *listener.Listener {
	t.Helper()
	l, err := listener.Listen(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// dialT dials l's address and closes the conn at the end of the test.
func dialT(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, waitTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// acceptT accepts one connection or fails after waitTimeout.
func acceptT(t *testing.T, l *listener.Listener) *listener.Conn {
	t.Helper()
	type result struct {
		c   *listener.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.AcceptConn()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(waitTimeout):
		t.Fatal("accept timed out")
		return nil
	}
}

// roundTrip checks that bytes flow both ways between client and server.
func roundTrip(t *testing.T, client, server net.Conn) {
	t.Helper()
	require.NoError(t, client.SetDeadline(time.Now().Add(waitTimeout)))
	require.NoError(t, server.SetDeadline(time.Now().Add(waitTimeout)))
	_, err := client.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = server.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "ping", string(buf))
	_, err = server.Write([]byte("pong"))
	require.NoError(t, err)
	_, err = client.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "pong", string(buf))
}

func hasIPv6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

var (
	certOnce sync.Once
	testCert tls.Certificate
	certPool *x509.CertPool
)

// serverCert returns a self-signed certificate for 127.0.0.1, ::1 and
// localhost, and a pool that trusts it.
func serverCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "listener test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			DNSNames:              []string{"localhost"},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		testCert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		certPool = x509.NewCertPool()
		certPool.AddCert(leaf)
	})
	return testCert, certPool
}

// tlsHandshaker is a Handshaker on crypto/tls, as a server would write it.
func tlsHandshaker(t testing.TB) listener.Handshaker {
	cert, _ := serverCert(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	return listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		c := tls.Server(raw, cfg)
		if err := c.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		return c, nil
	})
}

// tlsDial connects a TLS client that trusts serverCert.
func tlsDial(t testing.TB, addr string) (*tls.Conn, error) {
	_, pool := serverCert(t)
	d := &net.Dialer{Timeout: waitTimeout}
	return tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}})
}

// errorLog collects errors reported to Config.OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	ch   chan error
}

func newErrorLog() *errorLog { return &errorLog{ch: make(chan error, 100)} }

func (e *errorLog) add(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
	select {
	case e.ch <- err:
	default:
	}
}

func (e *errorLog) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// next waits for the next reported error.
func (e *errorLog) next(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.ch:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("no error reported")
		return nil
	}
}
