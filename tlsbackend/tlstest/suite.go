package tlstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
)

// Run is the conformance suite. It checks each backend alone (timeouts,
// version floor, configuration errors) and every ordered pair of backends
// as server and client (ALPN, SNI, mTLS, reload, data transfer), including
// each backend with itself.
func Run(t *testing.T, backends ...tlsbackend.Backend) {
	if len(backends) == 0 {
		t.Fatal("tlstest: no backends")
	}
	e := newEnv(t)
	for _, b := range backends {
		t.Run(b.Name(), func(t *testing.T) { runSingle(t, e, b) })
	}
	for _, s := range backends {
		for _, c := range backends {
			t.Run(fmt.Sprintf("%s-client/%s-server", c.Name(), s.Name()), func(t *testing.T) {
				runPair(t, e, s, c)
			})
		}
	}
}

// env holds the certificates the suite shares; generating keys is the
// slow part, so it happens once.
type env struct {
	ca, otherCA, clientCA *CA
	a, b, wild, ip        *tlsbackend.Certificate
	aRSA                  *tlsbackend.Certificate
	client, wrongClient   *tlsbackend.Certificate
}

func newEnv(t *testing.T) *env {
	e := &env{ca: NewCA(t, "suite root"), otherCA: NewCA(t, "other root"), clientCA: NewCA(t, "client root")}
	e.a = e.ca.Server(t, ECDSAP256, "a.example.com")
	e.b = e.ca.Server(t, ECDSAP256, "b.example.com", "B2.example.com")
	e.wild = e.ca.Server(t, ECDSAP256, "*.wild.example.com")
	e.ip = e.ca.Server(t, ECDSAP256, "127.0.0.1")
	e.aRSA = e.ca.Server(t, RSA2048, "a.example.com")
	e.client = e.clientCA.Client(t, ECDSAP256, "client-1")
	e.wrongClient = e.otherCA.Client(t, ECDSAP256, "intruder")
	return e
}

func (e *env) store(t *testing.T, certs ...*tlsbackend.Certificate) *tlsbackend.CertStore {
	t.Helper()
	if len(certs) == 0 {
		certs = []*tlsbackend.Certificate{e.a, e.b, e.wild, e.ip}
	}
	s, err := tlsbackend.NewCertStore(certs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func server(t *testing.T, b tlsbackend.Backend, cfg *tlsbackend.ServerConfig) tlsbackend.ServerTLS {
	t.Helper()
	s, err := b.Server(cfg)
	if err != nil {
		t.Fatalf("%s Server: %v", b.Name(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func client(t *testing.T, b tlsbackend.Backend, cfg *tlsbackend.ClientConfig) tlsbackend.ClientTLS {
	t.Helper()
	c, err := b.Client(cfg)
	if err != nil {
		t.Fatalf("%s Client: %v", b.Name(), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustOK(t *testing.T, c, s Result) {
	t.Helper()
	if c.Err != nil || s.Err != nil {
		t.Fatalf("handshake failed: client: %v; server: %v", c.Err, s.Err)
	}
}

func leafName(st tlsbackend.ConnState) string {
	if len(st.PeerCertificates) == 0 {
		return "<none>"
	}
	return st.PeerCertificates[0].Subject.CommonName
}

// failed reports whether the client side saw the failure, at the
// handshake or (TLS 1.3 client auth is checked after the client finishes)
// at its first read.
func clientFailed(c Result) bool {
	if c.Err != nil {
		return true
	}
	c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Conn.Read(make([]byte, 1))
	return err != nil
}

func runPair(t *testing.T, e *env, sb, cb tlsbackend.Backend) {
	roots := []*x509.Certificate{e.ca.Cert}

	t.Run("ALPNAndState", func(t *testing.T) {
		CheckGoroutines(t)
		for _, tc := range []struct {
			name        string
			server, cli []string
			maxVersion  uint16
			want        string
		}{
			{"server preference wins", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, 0, "h2"},
			{"only common one", []string{"h2", "http/1.1"}, []string{"http/1.1"}, 0, "http/1.1"},
			{"no overlap means no ALPN", []string{"h2"}, []string{"spdy/3"}, 0, ""},
			{"client offers none", []string{"h2"}, nil, 0, ""},
			{"server accepts none", nil, []string{"h2"}, 0, ""},
			{"TLS 1.2", []string{"h2", "http/1.1"}, []string{"http/1.1", "h2"}, tls.VersionTLS12, "h2"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t), NextProtos: tc.server})
				cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots, MaxVersion: tc.maxVersion})
				c, s := Handshake(t, srv, cli, "a.example.com", tc.cli)
				mustOK(t, c, s)
				cs, ss := c.Conn.State(), s.Conn.State()
				wantV := uint16(tls.VersionTLS13)
				if tc.maxVersion != 0 {
					wantV = tc.maxVersion
				}
				if cs.Version != wantV || ss.Version != wantV {
					t.Errorf("version client %s server %s, want %s", cs.VersionName(), ss.VersionName(), tls.VersionName(wantV))
				}
				if cs.NegotiatedProtocol != tc.want || ss.NegotiatedProtocol != tc.want {
					t.Errorf("ALPN client %q server %q, want %q", cs.NegotiatedProtocol, ss.NegotiatedProtocol, tc.want)
				}
				if cs.CipherSuite == 0 || cs.CipherSuite != ss.CipherSuite {
					t.Errorf("cipher client %s server %s", cs.CipherSuiteName(), ss.CipherSuiteName())
				}
				if cs.ServerName != "a.example.com" || ss.ServerName != "a.example.com" {
					t.Errorf("server name client %q server %q", cs.ServerName, ss.ServerName)
				}
				if leafName(cs) != "a.example.com" {
					t.Errorf("client saw leaf %q", leafName(cs))
				}
				if len(ss.PeerCertificates) != 0 {
					t.Errorf("server saw %d client certificates, want none", len(ss.PeerCertificates))
				}
				echo(t, c.Conn, s.Conn)
			})
		}
	})

	t.Run("RSACertificate", func(t *testing.T) {
		CheckGoroutines(t)
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t, e.aRSA)})
			cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots, MaxVersion: v})
			c, s := Handshake(t, srv, cli, "a.example.com", nil)
			mustOK(t, c, s)
			if got := c.Conn.State().PeerCertificates[0].PublicKeyAlgorithm; got != x509.RSA {
				t.Errorf("%s: client saw a %v key", tls.VersionName(v), got)
			}
			echo(t, c.Conn, s.Conn)
		}
	})

	t.Run("SNISelection", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		strict := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t), RejectUnknownSNI: true})
		verify := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots})
		insecure := client(t, cb, &tlsbackend.ClientConfig{InsecureSkipVerify: true})
		for _, tc := range []struct {
			name     string
			srv      tlsbackend.ServerTLS
			cli      tlsbackend.ClientTLS
			sni      string
			wantLeaf string // "" means the handshake must fail
			wantSNI  string // the server's view
		}{
			{"exact a", srv, verify, "a.example.com", "a.example.com", "a.example.com"},
			{"exact b", srv, verify, "b.example.com", "b.example.com", "b.example.com"},
			{"second SAN, upper case", srv, verify, "b2.example.com", "b.example.com", "b2.example.com"},
			{"wildcard", srv, verify, "x.wild.example.com", "*.wild.example.com", "x.wild.example.com"},
			{"unknown name gets default", srv, insecure, "nope.example.com", "a.example.com", "nope.example.com"},
			{"no SNI gets default", srv, insecure, "", "a.example.com", ""},
			{"IP name sends no SNI", srv, verify, "127.0.0.1", "", ""},
			{"strict: unknown name fails", strict, insecure, "nope.example.com", "", ""},
			{"strict: known name", strict, verify, "b.example.com", "b.example.com", "b.example.com"},
			{"strict: no SNI gets default", strict, insecure, "", "a.example.com", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, s := Handshake(t, tc.srv, tc.cli, tc.sni, nil)
				if tc.wantLeaf == "" && tc.name != "IP name sends no SNI" {
					if c.Err == nil || s.Err == nil {
						t.Fatalf("handshake succeeded, want failure (client %v, server %v)", c.Err, s.Err)
					}
					return
				}
				if tc.name == "IP name sends no SNI" {
					// No SNI, so the default (a.example.com) is served and
					// does not cover 127.0.0.1: verification must fail.
					if c.Err == nil {
						t.Fatalf("client accepted a certificate without the IP; leaf %q", leafName(c.Conn.State()))
					}
					return
				}
				mustOK(t, c, s)
				if got := leafName(c.Conn.State()); got != tc.wantLeaf {
					t.Errorf("leaf %q, want %q", got, tc.wantLeaf)
				}
				if got := s.Conn.State().ServerName; got != tc.wantSNI {
					t.Errorf("server saw SNI %q, want %q", got, tc.wantSNI)
				}
			})
		}
		t.Run("IP certificate as default", func(t *testing.T) {
			srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t, e.ip, e.a)})
			c, s := Handshake(t, srv, verify, "127.0.0.1", nil)
			mustOK(t, c, s)
			if got := c.Conn.State().ServerName; got != "127.0.0.1" {
				t.Errorf("client state server name %q", got)
			}
		})
	})

	t.Run("HostnameVerification", func(t *testing.T) {
		CheckGoroutines(t)
		// The store's default certificate (for unknown or no SNI) is
		// a.example.com's.
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		other := []*x509.Certificate{e.otherCA.Cert}
		for _, tc := range []struct {
			name string
			cfg  tlsbackend.ClientConfig
			sni  string
			ok   bool
		}{
			{"skip hostname accepts any name", tlsbackend.ClientConfig{RootCAs: roots, SkipVerifyHostname: true}, "nope.example.com", true},
			{"skip hostname without a name", tlsbackend.ClientConfig{RootCAs: roots, SkipVerifyHostname: true}, "", true},
			{"skip hostname keeps the chain check", tlsbackend.ClientConfig{RootCAs: other, SkipVerifyHostname: true}, "a.example.com", false},
			{"alternative name", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"a.example.com"}}, "nope.example.com", true},
			{"second alternative name", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"zzz.example.com", "a.example.com"}}, "nope.example.com", true},
			{"server name still accepted", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"zzz.example.com"}}, "b.example.com", true},
			{"no name matches", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"zzz.example.com"}}, "nope.example.com", false},
			{"alternative name keeps the chain check", tlsbackend.ClientConfig{RootCAs: other, AlternativeNames: []string{"a.example.com"}}, "nope.example.com", false},
			{"IP server name, alternative DNS name", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"a.example.com"}}, "127.0.0.1", true},
			{"IP server name, no match", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"zzz.example.com"}}, "127.0.0.1", false},
			{"alternative name without a server name", tlsbackend.ClientConfig{RootCAs: roots, AlternativeNames: []string{"a.example.com"}}, "", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cli := client(t, cb, &tc.cfg)
				c, s := Handshake(t, srv, cli, tc.sni, nil)
				if tc.ok {
					mustOK(t, c, s)
					if got := leafName(c.Conn.State()); got == "<none>" {
						t.Errorf("no peer certificate in the client state")
					}
					return
				}
				if c.Err == nil {
					t.Fatal("client accepted the server")
				}
				if !errors.Is(c.Err, tlsbackend.ErrCertificateVerify) {
					t.Errorf("client error %v does not match ErrCertificateVerify", c.Err)
				}
			})
		}
	})

	t.Run("ServerVerification", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		for _, tc := range []struct {
			name string
			cfg  tlsbackend.ClientConfig
			sni  string
		}{
			{"unknown CA", tlsbackend.ClientConfig{RootCAs: []*x509.Certificate{e.otherCA.Cert}}, "a.example.com"},
			{"name mismatch", tlsbackend.ClientConfig{RootCAs: roots}, "nope.example.com"},
			{"empty name while verifying", tlsbackend.ClientConfig{RootCAs: roots}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cli := client(t, cb, &tc.cfg)
				c, s := Handshake(t, srv, cli, tc.sni, nil)
				if c.Err == nil {
					t.Fatal("client accepted the server")
				}
				var he *tlsbackend.HandshakeError
				if !errors.As(c.Err, &he) || he.Side != "client" || he.Timeout() {
					t.Errorf("client error %#v, want a non-timeout client *HandshakeError", c.Err)
				}
				if tc.sni != "" && !errors.Is(c.Err, tlsbackend.ErrCertificateVerify) {
					t.Errorf("client error %v does not match ErrCertificateVerify", c.Err)
				}
				if s.Err == nil {
					t.Error("server handshake succeeded although the client gave up")
				}
			})
		}
	})

	t.Run("MutualTLS", func(t *testing.T) {
		CheckGoroutines(t)
		require := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t),
			ClientAuth: tlsbackend.RequireAndVerifyClientCert, ClientCAs: []*x509.Certificate{e.clientCA.Cert}})
		ifGiven := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t),
			ClientAuth: tlsbackend.VerifyClientCertIfGiven, ClientCAs: []*x509.Certificate{e.clientCA.Cert}})
		for _, tc := range []struct {
			name   string
			srv    tlsbackend.ServerTLS
			cert   *tlsbackend.Certificate
			wantCN string // "" means failure
			maxV   uint16
		}{
			{"valid client cert", require, e.client, "client-1", 0},
			{"valid client cert TLS 1.2", require, e.client, "client-1", tls.VersionTLS12},
			{"no client cert", require, nil, "", 0},
			{"no client cert TLS 1.2", require, nil, "", tls.VersionTLS12},
			{"client cert from wrong CA", require, e.wrongClient, "", 0},
			{"if given: none", ifGiven, nil, "<none>", 0},
			{"if given: valid", ifGiven, e.client, "client-1", 0},
			{"if given: wrong CA", ifGiven, e.wrongClient, "", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots, Certificate: tc.cert, MaxVersion: tc.maxV})
				c, s := Handshake(t, tc.srv, cli, "a.example.com", nil)
				if tc.wantCN == "" {
					if s.Err == nil {
						t.Fatalf("server accepted the client; peer %q", leafName(s.Conn.State()))
					}
					if !clientFailed(c) {
						t.Error("client saw no failure")
					}
					return
				}
				mustOK(t, c, s)
				if got := leafName(s.Conn.State()); got != tc.wantCN {
					t.Errorf("server saw client %q, want %q", got, tc.wantCN)
				}
				echo(t, c.Conn, s.Conn)
			})
		}
	})

	t.Run("Reload", func(t *testing.T) {
		CheckGoroutines(t)
		dir := t.TempDir()
		first := e.ca.Server(t, ECDSAP256, "a.example.com")
		second := e.ca.Server(t, ECDSAP256, "a.example.com")
		f := WriteFiles(t, dir, "a", first)
		store, err := tlsbackend.LoadCertStore(f)
		if err != nil {
			t.Fatal(err)
		}
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: store})
		cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots})
		serialOf := func() (string, tlsbackend.Conn) {
			c, s := Handshake(t, srv, cli, "a.example.com", nil)
			mustOK(t, c, s)
			return c.Conn.State().PeerCertificates[0].SerialNumber.String(), c.Conn
		}
		got, old := serialOf()
		if want := first.Leaf().SerialNumber.String(); got != want {
			t.Fatalf("serial %s, want %s", got, want)
		}
		WriteFiles(t, dir, "a", second)
		if err := store.Reload(); err != nil {
			t.Fatal(err)
		}
		if got, _ := serialOf(); got != second.Leaf().SerialNumber.String() {
			t.Errorf("after Reload: serial %s, want %s", got, second.Leaf().SerialNumber)
		}
		// A broken file keeps the current certificate.
		if err := writeFile(f.KeyFile, []byte("garbage")); err != nil {
			t.Fatal(err)
		}
		if err := store.Reload(); err == nil {
			t.Error("Reload of a garbage key succeeded")
		}
		if got, _ := serialOf(); got != second.Leaf().SerialNumber.String() {
			t.Errorf("after failed Reload: serial %s, want %s", got, second.Leaf().SerialNumber)
		}
		// Set from memory.
		if err := store.Set(first); err != nil {
			t.Fatal(err)
		}
		if got, _ := serialOf(); got != first.Leaf().SerialNumber.String() {
			t.Errorf("after Set: serial %s, want %s", got, first.Leaf().SerialNumber)
		}
		// The connection made before the swaps still works.
		if _, err := old.Write([]byte("x")); err != nil {
			t.Errorf("old connection: %v", err)
		}
	})

	t.Run("Bulk", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots})
		c, s := Handshake(t, srv, cli, "a.example.com", nil)
		mustOK(t, c, s)
		fullDuplex(t, c.Conn, s.Conn, 1<<20)
	})

	t.Run("HandshakesConcurrentSafe", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, sb, &tlsbackend.ServerConfig{Certificates: e.store(t), NextProtos: []string{"h2"}})
		cli := client(t, cb, &tlsbackend.ClientConfig{RootCAs: roots})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 8 {
			wg.Go(func() {
				names := []string{"a.example.com", "b.example.com"}
				craw, sraw := Pair(t)
				c, s := HandshakeOver(t, craw, sraw, srv, cli, names[i%2], []string{"h2"})
				if c.Err != nil || s.Err != nil {
					errs <- fmt.Errorf("client %v server %v", c.Err, s.Err)
					return
				}
				if got := leafName(c.Conn.State()); got != names[i%2] {
					errs <- fmt.Errorf("leaf %q want %q", got, names[i%2])
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func writeFile(path string, data []byte) error {
	return os.WriteFile(path, data, 0o600)
}

// echo checks a round trip in both directions and that Close reaches the
// peer as EOF.
func echo(t *testing.T, c, s tlsbackend.Conn) {
	t.Helper()
	for _, dir := range []struct{ w, r tlsbackend.Conn }{{c, s}, {s, c}} {
		msg := []byte("ping over " + dir.w.State().VersionName())
		if _, err := dir.w.Write(msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		got := make([]byte, len(msg))
		dir.r.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(dir.r, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("read %q, %v; want %q", got, err, msg)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("client Close: %v", err)
	}
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := s.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("server read after client Close: n=%d err=%v, want io.EOF", n, err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// fullDuplex sends n random bytes each way at once and compares digests.
func fullDuplex(t *testing.T, c, s tlsbackend.Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	type res struct {
		sum [32]byte
		err error
	}
	send := func(w io.Writer, data []byte) error {
		for len(data) > 0 {
			k := min(len(data), 7777)
			if _, err := w.Write(data[:k]); err != nil {
				return err
			}
			data = data[k:]
		}
		return nil
	}
	recv := func(r io.Reader, out chan<- res) {
		h := sha256.New()
		_, err := io.CopyN(h, r, int64(n))
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		out <- res{sum, err}
	}
	a, b := make([]byte, n), make([]byte, n)
	rand.Read(a)
	rand.Read(b)
	atS, atC := make(chan res, 1), make(chan res, 1)
	go recv(s, atS)
	go recv(c, atC)
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { errA = send(c, a) })
	wg.Go(func() { errB = send(s, b) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("send: %v / %v", errA, errB)
	}
	ra, rb := <-atS, <-atC
	if ra.err != nil || rb.err != nil {
		t.Fatalf("recv: %v / %v", ra.err, rb.err)
	}
	if ra.sum != sha256.Sum256(a) || rb.sum != sha256.Sum256(b) {
		t.Fatal("data corrupted in transit")
	}
}

func runSingle(t *testing.T, e *env, b tlsbackend.Backend) {
	roots := []*x509.Certificate{e.ca.Cert}

	t.Run("Config", func(t *testing.T) {
		store := e.store(t)
		for _, tc := range []struct {
			name string
			cfg  tlsbackend.ServerConfig
		}{
			{"no certificates", tlsbackend.ServerConfig{}},
			{"TLS 1.1 minimum", tlsbackend.ServerConfig{Certificates: store, MinVersion: tls.VersionTLS11}},
			{"TLS 1.1 maximum", tlsbackend.ServerConfig{Certificates: store, MaxVersion: tls.VersionTLS11}},
			{"client auth without CAs", tlsbackend.ServerConfig{Certificates: store, ClientAuth: tlsbackend.RequireAndVerifyClientCert}},
			{"empty ALPN name", tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{""}}},
		} {
			t.Run("server "+tc.name, func(t *testing.T) {
				if s, err := b.Server(&tc.cfg); err == nil {
					s.Close()
					t.Fatal("accepted")
				}
			})
		}
		if c, err := b.Client(&tlsbackend.ClientConfig{MinVersion: tls.VersionTLS10}); err == nil {
			c.Close()
			t.Error("client accepted TLS 1.0 minimum")
		}
	})

	t.Run("TLS11ClientRefused", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, b, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		craw, sraw := Pair(t)
		done := make(chan error, 1)
		go func() {
			c, err := srv.Handshake(context.Background(), sraw)
			if c != nil {
				c.Close()
			}
			done <- err
		}()
		if _, err := craw.Write(clientHelloTLS11("a.example.com")); err != nil {
			t.Fatal(err)
		}
		craw.SetReadDeadline(time.Now().Add(10 * time.Second))
		// The answer must be a fatal protocol_version alert (RFC 8446
		// §4.2.1, RFC 5246 §E.1), not a handshake and not some other alert.
		rec := make([]byte, 7)
		if _, err := io.ReadFull(craw, rec); err != nil {
			t.Errorf("server closed without an alert: %v", err)
		} else if rec[0] != 0x15 || rec[5] != 2 || rec[6] != 70 {
			t.Errorf("server answered a TLS 1.1 hello with % x, want a fatal protocol_version alert (15 03 0x 00 02 02 46)", rec)
		}
		if err := <-done; err == nil {
			t.Error("server completed a TLS 1.1 handshake")
		}
	})

	t.Run("TLS11ServerRefused", func(t *testing.T) {
		CheckGoroutines(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		old := &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
			Certificates: []tls.Certificate{*e.a.TLSCertificate()}}
		done := make(chan struct{})
		go func() {
			defer close(done)
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			defer raw.Close()
			raw.SetDeadline(time.Now().Add(10 * time.Second))
			tls.Server(raw, old).Handshake()
		}()
		cli := client(t, b, &tlsbackend.ClientConfig{RootCAs: roots})
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if c, err := cli.Handshake(context.Background(), raw, "a.example.com", nil); err == nil {
			c.Close()
			t.Error("client completed a handshake with a TLS 1.1 server")
		}
		<-done
	})

	t.Run("HandshakeTimeout", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, b, &tlsbackend.ServerConfig{Certificates: e.store(t), HandshakeTimeout: 100 * time.Millisecond})
		srvDefault := server(t, b, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		cli := client(t, b, &tlsbackend.ClientConfig{RootCAs: roots, HandshakeTimeout: 100 * time.Millisecond})
		cliDefault := client(t, b, &tlsbackend.ClientConfig{RootCAs: roots})
		ctxTimeout := func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}
		for _, tc := range []struct {
			name        string
			run         func(raw net.Conn) error // the side under test, the peer stays silent
			wantTimeout bool
		}{
			{"server, config timeout", func(raw net.Conn) error {
				_, err := srv.Handshake(context.Background(), raw)
				return err
			}, true},
			{"server, context deadline", func(raw net.Conn) error {
				_, err := srvDefault.Handshake(ctxTimeout(), raw)
				return err
			}, true},
			{"client, config timeout", func(raw net.Conn) error {
				_, err := cli.Handshake(context.Background(), raw, "a.example.com", nil)
				return err
			}, true},
			{"client, context deadline", func(raw net.Conn) error {
				_, err := cliDefault.Handshake(ctxTimeout(), raw, "a.example.com", nil)
				return err
			}, true},
			{"server, context cancelled", func(raw net.Conn) error {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				_, err := srvDefault.Handshake(ctx, raw)
				return err
			}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				craw, sraw := Pair(t)
				raw, peer := sraw, craw
				if tc.name[:6] == "client" {
					raw, peer = craw, sraw
				}
				done := make(chan error, 1)
				go func() { done <- tc.run(raw) }()
				var err error
				select {
				case err = <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("handshake against a silent peer did not end")
				}
				if err == nil {
					t.Fatal("handshake succeeded against a silent peer")
				}
				var he *tlsbackend.HandshakeError
				if !errors.As(err, &he) {
					t.Fatalf("error %T %v, want *HandshakeError", err, err)
				}
				if got := errors.Is(err, tlsbackend.ErrHandshakeTimeout); got != tc.wantTimeout {
					t.Errorf("errors.Is(%v, ErrHandshakeTimeout) = %v, want %v", err, got, tc.wantTimeout)
				}
				if !tc.wantTimeout && !errors.Is(err, context.Canceled) {
					t.Errorf("error %v does not match context.Canceled", err)
				}
				// The raw connection is closed: the silent peer sees EOF
				// (possibly after whatever the side under test sent).
				peer.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.Copy(io.Discard, peer); err != nil {
					t.Errorf("peer did not see the close: %v", err)
				}
			})
		}
	})

	t.Run("Closed", func(t *testing.T) {
		srv, err := b.Server(&tlsbackend.ServerConfig{Certificates: e.store(t)})
		if err != nil {
			t.Fatal(err)
		}
		cli, err := b.Client(&tlsbackend.ClientConfig{RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		cli.Close()
		craw, sraw := Pair(t)
		if _, err := srv.Handshake(context.Background(), sraw); !errors.Is(err, tlsbackend.ErrClosed) {
			t.Errorf("server after Close: %v", err)
		}
		if _, err := cli.Handshake(context.Background(), craw, "a.example.com", nil); !errors.Is(err, tlsbackend.ErrClosed) {
			t.Errorf("client after Close: %v", err)
		}
	})

	t.Run("ConnConcurrentSafe", func(t *testing.T) {
		CheckGoroutines(t)
		srv := server(t, b, &tlsbackend.ServerConfig{Certificates: e.store(t)})
		cli := client(t, b, &tlsbackend.ClientConfig{RootCAs: roots})
		c, s := Handshake(t, srv, cli, "a.example.com", nil)
		mustOK(t, c, s)
		// A Read blocked in one goroutine is released by Close in another.
		readErr := make(chan error, 1)
		go func() {
			_, err := s.Conn.Read(make([]byte, 10))
			readErr <- err
		}()
		time.Sleep(20 * time.Millisecond)
		s.Conn.Close()
		select {
		case err := <-readErr:
			if err == nil {
				t.Error("Read returned no error after Close")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not unblock Read")
		}
	})
}

// clientHelloTLS11 builds a TLS 1.1 ClientHello with no supported_versions
// extension, as an old client sends it.
func clientHelloTLS11(sni string) []byte {
	ext := func(typ uint16, body []byte) []byte {
		return append([]byte{byte(typ >> 8), byte(typ), byte(len(body) >> 8), byte(len(body))}, body...)
	}
	u16 := func(n int) []byte { return []byte{byte(n >> 8), byte(n)} }
	name := append([]byte{0}, append(u16(len(sni)), sni...)...)
	var exts []byte
	exts = append(exts, ext(0x0000, append(u16(len(name)), name...))...) // server_name
	exts = append(exts, ext(0x000a, []byte{0, 4, 0, 0x17, 0, 0x1d})...)  // supported_groups
	exts = append(exts, ext(0x000b, []byte{1, 0})...)                    // ec_point_formats
	body := []byte{0x03, 0x02}                                           // client_version TLS 1.1
	body = append(body, make([]byte, 32)...)                             // random
	body = append(body, 0)                                               // session_id
	body = append(body, 0, 6, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x2f)        // cipher_suites
	body = append(body, 1, 0)                                            // compression
	body = append(body, u16(len(exts))...)
	body = append(body, exts...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 0x03, 0x01, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}
