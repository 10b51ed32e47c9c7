package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

// writeCert writes a self-signed certificate and its key for 127.0.0.1.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

type checkApp struct {
	lineApp
	err error
}

func (a *checkApp) Check() error { return a.err }

func TestServer_Test(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not pem"), 0o600))
	me, err := user.Current()
	require.NoError(t, err)

	tests := []struct {
		name  string
		conf  func(c *Conf)
		setup func(s *Server)
		want  []string // substrings, one per expected error; none: passes
	}{
		{"defaults", nil, nil, nil},
		{"everything valid", func(c *Conf) {
			c.CAFile = cert
			c.ErrorLog = filepath.Join(dir, "new.log")
			c.Daemon = true
			c.PIDFile = filepath.Join(dir, "p.pid")
			c.WorkingDirectory = dir
			c.User = me.Username
			c.ClientBindToIPv4 = []string{"127.0.0.1"}
		}, func(s *Server) {
			svc := NewListeningService("web", &lineApp{})
			svc.AddTCP("127.0.0.1:8080")
			svc.AddTCP("localhost:http")
			svc.AddUnix(filepath.Join(dir, "web.sock"), 0)
			svc.AddTLS("[::1]:8443", cert, key)
			s.AddListening(svc)
		}, nil},
		{"files", func(c *Conf) {
			c.CAFile = garbage
			c.ErrorLog = "/nonexistent/dir/e.log"
			c.UpgradeSock = "/nonexistent/dir/u.sock"
			c.WorkingDirectory = cert
		}, nil, []string{"ca_file " + garbage + ": no PEM", "error_log: directory", "upgrade_sock: directory", "working_directory: " + cert + " is not a directory"}},
		{"missing ca_file", func(c *Conf) { c.CAFile = filepath.Join(dir, "none.pem") }, nil, []string{"ca_file: open"}},
		{"pid file only checked for daemons", func(c *Conf) { c.PIDFile = "/nonexistent/p.pid" }, nil, nil},
		{"pid file of daemon", func(c *Conf) { c.Daemon = true; c.PIDFile = "/nonexistent/p.pid" }, nil, []string{"pid_file"}},
		{"unknown user and group", func(c *Conf) { c.User = "no-such-user-pingora"; c.Group = "no-such-group-pingora" }, nil, []string{"user", "group"}},
		{"values", func(c *Conf) { c.Threads = -2; c.ClientBindToIPv6 = []string{"10.0.0.1"} }, nil, []string{"threads: negative", "not an IPv6"}},
		{"endpoints", nil, func(s *Server) {
			svc := NewListeningService("web", &lineApp{})
			svc.AddTCP("127.0.0.1")
			svc.AddTCP("256.1.1.1:80")
			svc.AddUnix("/nonexistent/dir/s.sock", 0)
			svc.AddListener(listener.Config{Network: "udp", Addr: ":53"})
			svc.AddTLS("127.0.0.1:443", garbage, key)
			svc.AddTLS("127.0.0.1:444", cert, filepath.Join(dir, "nokey.pem"))
			s.AddListening(svc)
			dup := NewListeningService("dup", &lineApp{})
			dup.AddUnix(filepath.Join(dir, "web.sock"), 0)
			dup.AddUnix(filepath.Join(dir, "web.sock"), 0)
			s.AddListening(dup)
			s.AddListening(NewListeningService("empty", nil))
		}, []string{"127.0.0.1: ", "256.1.1.1:80", "/nonexistent/dir", `unsupported network "udp"`, "127.0.0.1:443: tls", "127.0.0.1:444: tls", "also an endpoint", `"empty" has no app`, `"empty" has no endpoints`}},
		{"checkers", nil, func(s *Server) {
			svc := NewListeningService("web", &checkApp{err: errors.New("app broken")})
			svc.AddListener(listener.Config{Addr: "127.0.0.1:1", TLS: checkHandshaker{errors.New("cert expired")}})
			s.AddListening(svc)
			s.AddBackground("bg", checkTask{errors.New("task broken")})
		}, []string{"app broken", "cert expired", `"BG bg": task broken`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConf()
			c.UpgradeSock = filepath.Join(dir, "u.sock")
			if tc.conf != nil {
				tc.conf(c)
			}
			_, env := newFakeOS(1)
			s := newServer(Opt{Test: true}, c, nil, env)
			if tc.setup != nil {
				tc.setup(s)
			}
			err := s.Test()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			errs := unjoin(err)
			msgs := make([]string, len(errs))
			for i, e := range errs {
				msgs[i] = e.Error()
			}
			require.Len(t, errs, len(tc.want), "%q", msgs)
			for i, w := range tc.want {
				assert.Contains(t, msgs[i], w)
			}
			// Run with -t is the same check, and serves nothing.
			assert.Equal(t, err.Error(), s.Run(context.Background()).Error())
		})
	}
}

type checkHandshaker struct{ err error }

func (h checkHandshaker) Handshake(ctx context.Context, raw net.Conn) (net.Conn, error) {
	return raw, nil
}
func (h checkHandshaker) Check() error { return h.err }

type checkTask struct{ err error }

func (c checkTask) Start(ctx context.Context) { <-ctx.Done() }
func (c checkTask) Check() error              { return c.err }

func TestServer_TLSEndpoint(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	fo, env := newFakeOS(1)
	conf := DefaultConf()
	conf.UpgradeSock = filepath.Join(dir, "u.sock")
	s := newServer(Opt{}, conf, nil, env)
	s.log = slog.New(slog.DiscardHandler)
	svc := NewListeningService("tls", AppFunc(func(ctx context.Context, c *listener.Conn, _ <-chan struct{}) {
		tc, ok := c.Conn.(*tls.Conn)
		fmt.Fprintf(c, "tls=%v version=%x\n", ok && c.TLS, tc.ConnectionState().Version)
	}))
	svc.AddTLS("127.0.0.1:0", cert, key)
	s.AddListening(svc)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	sig := <-fo.sigs
	<-s.Ready()

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(cert)
	require.NoError(t, err)
	pool.AppendCertsFromPEM(pem)
	c, err := tls.Dial("tcp", s.Addrs()[0].String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	require.NoError(t, err)
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	c.Close()
	assert.Equal(t, "tls=true version=304\n", string(got))
	sig <- syscall.SIGTERM
	require.NoError(t, <-done)
}

func TestServer_BadTLSFilesFailRun(t *testing.T) {
	_, env := newFakeOS(1)
	conf := DefaultConf()
	s := newServer(Opt{}, conf, nil, env)
	s.log = slog.New(slog.DiscardHandler)
	svc := NewListeningService("tls", &lineApp{})
	svc.AddTLS("127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem")
	s.AddListening(svc)
	err := s.Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `service "tls": tls for 127.0.0.1:0`)
}
