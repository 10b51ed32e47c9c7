package http2_test

import (
	"bytes"
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
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// leakCheck fails the test if goroutines started during it outlive it.
// Register it first: cleanups run last-in first-out.
func leakCheck(t testing.TB) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

// testServer is a Server on a loopback listener.
type testServer struct {
	addr string
	srv  *h2.Server
	errs chan error
}

// startServer serves h2c (prior knowledge) with opts and h on 127.0.0.1.
func startServer(t testing.TB, opts h2.ServerOptions, h h2.Handler) *testServer {
	return startServerTLS(t, opts, h, nil)
}

func startServerTLS(t testing.TB, opts h2.ServerOptions, h h2.Handler, cfg *tls.Config) *testServer {
	srv, err := h2.NewServer(opts)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{addr: ln.Addr().String(), srv: srv, errs: make(chan error, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if cfg != nil {
					tc := tls.Server(c, cfg)
					if err := tc.HandshakeContext(ctx); err != nil {
						_ = c.Close()
						return
					}
					c = tc
				}
				if err := srv.ServeConn(ctx, c, h); err != nil {
					select {
					case ts.errs <- err:
					default:
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		_ = srv.Close()
		cancel()
		wg.Wait()
	})
	return ts
}

// h2cTransport is an x/net/http2 client speaking h2c with prior knowledge.
func h2cTransport(t testing.TB) *http2.Transport {
	tr := &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// rawClient drives a server frame by frame.
type rawClient struct {
	t      testing.TB
	c      net.Conn
	fr     *http2.Framer
	encBuf bytes.Buffer
	enc    *hpack.Encoder
	mu     sync.Mutex // serializes writes
}

// dialRaw connects, sends the preface and an empty SETTINGS (or settings).
func dialRaw(t testing.TB, addr string, settings ...http2.Setting) *rawClient {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	rc := &rawClient{t: t, c: c}
	rc.fr = http2.NewFramer(c, c)
	rc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	rc.fr.MaxHeaderListSize = 1 << 20
	rc.fr.AllowIllegalWrites = true
	rc.enc = hpack.NewEncoder(&rc.encBuf)
	_, err = io.WriteString(c, http2.ClientPreface)
	require.NoError(t, err)
	require.NoError(t, rc.fr.WriteSettings(settings...))
	return rc
}

// block encodes header fields given as name, value pairs.
func (rc *rawClient) block(kv ...string) []byte {
	rc.encBuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = rc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(rc.encBuf.Bytes())
}

// get sends a complete GET on stream id with extra fields.
func (rc *rawClient) headers(id uint32, endStream bool, kv ...string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.NoError(rc.t, rc.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: rc.block(kv...), EndStream: endStream, EndHeaders: true,
	}))
}

func reqFields(extra ...string) []string {
	return append([]string{":method", "GET", ":scheme", "http", ":authority", "example.com", ":path", "/"}, extra...)
}

var errNoGoAway = errors.New("connection ended without GOAWAY")

// readUntil reads frames until pred accepts one, the connection ends, or
// 10 s pass.
func (rc *rawClient) readUntil(pred func(http2.Frame) bool) (http2.Frame, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer rc.c.SetReadDeadline(time.Time{})
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			return nil, err
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			rc.mu.Lock()
			_ = rc.fr.WriteSettingsAck()
			rc.mu.Unlock()
		}
		if pred(f) {
			return f, nil
		}
	}
}

// goAway reads until GOAWAY and returns its code.
func (rc *rawClient) goAway() (http2.ErrCode, error) {
	f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if err != nil {
		return 0, errors.Join(errNoGoAway, err)
	}
	return f.(*http2.GoAwayFrame).ErrCode, nil
}

// streamEnd reads until stream id is reset or its response headers arrive,
// returning the RST code or the :status.
func (rc *rawClient) streamEnd(id uint32) (rst http2.ErrCode, status string, err error) {
	f, err := rc.readUntil(func(f http2.Frame) bool {
		switch f := f.(type) {
		case *http2.RSTStreamFrame:
			return f.StreamID == id
		case *http2.MetaHeadersFrame:
			return f.StreamID == id
		case *http2.GoAwayFrame:
			return true
		}
		return false
	})
	if err != nil {
		return 0, "", err
	}
	switch f := f.(type) {
	case *http2.RSTStreamFrame:
		return f.ErrCode, "", nil
	case *http2.MetaHeadersFrame:
		return 0, f.PseudoValue("status"), nil
	default:
		return 0, "", errors.New("goaway: " + f.(*http2.GoAwayFrame).ErrCode.String())
	}
}

// okHandler answers 200 with body "ok".
var okHandler = h2.HandlerFunc(func(s *h2.Session) {
	resp := mustResponse(200, "content-type", "text/plain")
	if err := s.WriteResponseHeader(resp, false); err != nil {
		return
	}
	_ = s.WriteBody([]byte("ok"), true)
})

// testTLSConfig returns a server config with a fresh self-signed
// certificate for 127.0.0.1 and ALPN h2.
func testTLSConfig(t testing.TB) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		NextProtos:   []string{"h2"},
		MinVersion:   tls.VersionTLS12,
	}
}

func newGet(url string) (*http.Request, error) { return http.NewRequest(http.MethodGet, url, nil) }

var deadlineFar = time.Now().Add(time.Hour)

// memConn is a net.Conn reading from a byte slice, for benchmarks.
type memConn struct {
	net.Conn
	data []byte
}

func (c *memConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *memConn) SetReadDeadline(time.Time) error { return nil }
