package l4_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/require"
)

// front is a Proxy served on a real listener on 127.0.0.1.
type front struct {
	addr     string
	proxy    *l4.Proxy
	cancel   context.CancelFunc // cancels every ServeConn's ctx
	shutdown chan struct{}
	ln       *listener.Listener
	wg       sync.WaitGroup
	once     sync.Once
}

// serve starts p's front; the test's cleanup stops it and waits for every
// ServeConn to return.
func serve(tb testing.TB, opts l4.Options) *front {
	tb.Helper()
	return serveOn(tb, listener.Config{Addr: "127.0.0.1:0"}, opts)
}

// serveOn is serve with a listener configuration.
func serveOn(tb testing.TB, cfg listener.Config, opts l4.Options) *front {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := l4.New(opts)
	require.NoError(tb, err)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := listener.Listen(ctx, cfg)
	require.NoError(tb, err)
	f := &front{addr: ln.Addr().String(), proxy: p, cancel: cancel, shutdown: make(chan struct{}), ln: ln}
	f.wg.Go(func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return
			}
			f.wg.Go(func() { p.ServeConn(ctx, c, f.shutdown) })
		}
	})
	tb.Cleanup(f.stop)
	return f
}

// stop closes the listener, cancels every tunnel and waits for them.
func (f *front) stop() {
	f.once.Do(func() {
		_ = f.ln.Close()
		f.cancel()
		f.wg.Wait()
		_ = f.proxy.Close()
	})
}

// backend is a TCP server on 127.0.0.1 running handle per connection.
type backend struct {
	addr string
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	cs   []net.Conn
}

func newBackend(tb testing.TB, handle func(c net.Conn)) *backend {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	b := &backend{addr: ln.Addr().String(), ln: ln}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.cs = append(b.cs, c)
			b.mu.Unlock()
			b.wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	tb.Cleanup(func() {
		_ = ln.Close()
		b.mu.Lock()
		for _, c := range b.cs {
			_ = c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

// echo copies c back to itself and half-closes it at EOF.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c)
}

// newEcho starts an echo backend.
func newEcho(tb testing.TB) *backend { return newBackend(tb, echo) }

// refusedAddr returns a 127.0.0.1 address nothing listens on.
func refusedAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return addr
}

// fixed routes every connection to addr.
func fixed(addr string) func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
	return func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
		return peer.New(addr, false, ""), nil
	}
}

// closed records the OnClose calls of a proxy.
type closed struct {
	mu    sync.Mutex
	calls []closeCall
	ch    chan closeCall
}

type closeCall struct {
	info l4.ConnInfo
	peer *peer.Peer
	st   l4.Stats
	err  error
}

func newClosed() *closed { return &closed{ch: make(chan closeCall, 64)} }

func (c *closed) hook(info *l4.ConnInfo, p *peer.Peer, st l4.Stats, err error) {
	cc := closeCall{info: *info, peer: p, st: st, err: err}
	c.mu.Lock()
	c.calls = append(c.calls, cc)
	c.mu.Unlock()
	c.ch <- cc
}

// next waits for the next OnClose call.
func (c *closed) next(tb testing.TB) closeCall {
	tb.Helper()
	select {
	case cc := <-c.ch:
		return cc
	case <-time.After(10 * time.Second):
		tb.Fatal("OnClose was not called")
		return closeCall{}
	}
}

// dial connects to addr with a deadline for the whole test step.
func dial(tb testing.TB, addr string) *net.TCPConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(tb, err)
	require.NoError(tb, c.SetDeadline(time.Now().Add(20*time.Second)))
	tb.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

// waitEOF reads c until it ends and reports whether it ended by EOF or a
// reset (both mean the proxy closed it), returning what was read.
func waitEOF(tb testing.TB, c net.Conn) []byte {
	tb.Helper()
	b, err := io.ReadAll(c)
	if err != nil {
		var ne net.Error
		require.False(tb, errors.As(err, &ne) && ne.Timeout(), "connection was not closed: %v", err)
	}
	return b
}

// selfSigned makes a certificate for name, valid for an hour.
func selfSigned(tb testing.TB, name string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(tb, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// captureHello returns the first TLS record a crypto/tls client sends
// with cfg: its ClientHello.
func captureHello(tb testing.TB, cfg *tls.Config) []byte {
	tb.Helper()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tls.Client(a, cfg).Handshake()
		_ = a.Close()
	}()
	hdr := make([]byte, 5)
	_, err := io.ReadFull(b, hdr)
	require.NoError(tb, err)
	rec := make([]byte, 5+int(binary.BigEndian.Uint16(hdr[3:])))
	copy(rec, hdr)
	_, err = io.ReadFull(b, rec[5:])
	require.NoError(tb, err)
	_ = b.Close()
	<-done
	return rec
}

// refragment splits the handshake data of one TLS record into records
// of at most n bytes each.
func refragment(rec []byte, n int) []byte {
	data := rec[5:]
	var out []byte
	for len(data) > 0 {
		k := min(n, len(data))
		out = append(out, rec[0], rec[1], rec[2], byte(k>>8), byte(k))
		out = append(out, data[:k]...)
		data = data[k:]
	}
	return out
}

// Builders of handcrafted ClientHellos.

// hello wraps extensions (already encoded) into a ClientHello record.
// exts nil means no extensions block at all.
func hello(exts []byte) []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0, 2, 0x13, 0x01)    // one cipher suite
	body = append(body, 1, 0)                // null compression
	if exts != nil {
		body = binary.BigEndian.AppendUint16(body, uint16(len(exts)))
		body = append(body, exts...)
	}
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	rec := []byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}
	return append(rec, msg...)
}

// ext encodes one extension.
func ext(typ uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// sniExt encodes a server_name extension with one host_name.
func sniExt(name string) []byte {
	entry := append([]byte{0}, binary.BigEndian.AppendUint16(nil, uint16(len(name)))...)
	entry = append(entry, name...)
	return ext(0, append(binary.BigEndian.AppendUint16(nil, uint16(len(entry))), entry...))
}

// alpnExt encodes an ALPN extension.
func alpnExt(protos ...string) []byte {
	var list []byte
	for _, p := range protos {
		list = append(list, byte(len(p)))
		list = append(list, p...)
	}
	return ext(16, append(binary.BigEndian.AppendUint16(nil, uint16(len(list))), list...))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
