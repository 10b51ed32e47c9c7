package http2_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// startPeer serves h with x/net/http2 (h2c) on loopback: the upstream.
func startPeer(t testing.TB, srv *http2.Server, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv.ServeConn(c, &http2.ServeConnOpts{Handler: h})
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dialer dials addr and counts dials.
type dialer struct {
	addr  string
	dials atomic.Int32
}

func (d *dialer) dial(ctx context.Context) (net.Conn, error) {
	d.dials.Add(1)
	var nd net.Dialer
	return nd.DialContext(ctx, "tcp", d.addr)
}

func newClient(t testing.TB, opts h2.ClientOptions) *h2.Client {
	c, err := h2.NewClient(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustRequest(method, target string, kv ...string) *httpheader.RequestHeader {
	r, err := httpheader.NewRequest(method, target)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, err := r.Add(kv[i], kv[i+1]); err != nil {
			panic(err)
		}
	}
	return r
}

// get runs one bodiless request and returns the status and body.
func get(ctx context.Context, c *h2.Client, key string, d *dialer) (int, string, error) {
	s, err := c.NewStream(ctx, key, d.dial)
	if err != nil {
		return 0, "", err
	}
	defer s.Close()
	if err := s.WriteRequestHeader(mustRequest("GET", "/", "host", "example.com"), true); err != nil {
		return 0, "", err
	}
	resp, err := s.ReadResponseHeader()
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(readerFunc(s.ReadResponseBody))
	return resp.Status(), string(b), err
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestClient_MultiplexesUpToPeerLimit(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	var inHandler atomic.Int32
	addr := startPeer(t, &http2.Server{MaxConcurrentStreams: 2}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	c := newClient(t, h2.ClientOptions{})
	d := &dialer{addr: addr}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body, err := get(context.Background(), c, "peer", d)
			if err == nil && (status != 200 || body != "ok") {
				err = errors.New("bad response " + body)
			}
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return inHandler.Load() == 10 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 5, c.Conns("peer"), "10 streams at 2 per connection")
	assert.Equal(t, int32(5), d.dials.Load())
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// Idle connections are reused, not redialed.
	_, _, err := get(context.Background(), c, "peer", d)
	require.NoError(t, err)
	assert.Equal(t, int32(5), d.dials.Load())
}

func TestClient_MaxStreamsPerConnCaps(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	var inHandler atomic.Int32
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
	}))
	c := newClient(t, h2.ClientOptions{MaxStreamsPerConn: 3})
	d := &dialer{addr: addr}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = get(context.Background(), c, "peer", d)
		}()
	}
	require.Eventually(t, func() bool { return inHandler.Load() == 6 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 2, c.Conns("peer"))
	close(release)
	wg.Wait()
}

func TestClient_NewStreamWithCapsPerKey(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	var inHandler atomic.Int32
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
	}))
	c := newClient(t, h2.ClientOptions{MaxStreamsPerConn: 10})
	d := &dialer{addr: addr}
	var wg sync.WaitGroup
	for _, key := range []string{"capped", "capped", "capped", "capped", "free", "free", "free", "free"} {
		so := h2.StreamOptions{}
		if key == "capped" {
			so.MaxStreamsPerConn = 2
		}
		wg.Go(func() {
			s, err := c.NewStreamWith(context.Background(), key, so, d.dial)
			if err != nil {
				return
			}
			defer s.Close()
			if s.WriteRequestHeader(mustRequest("GET", "/", "host", "a"), true) == nil {
				_, _ = s.ReadResponseHeader()
			}
		})
	}
	require.Eventually(t, func() bool { return inHandler.Load() == 8 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, 2, c.Conns("capped"), "4 streams at 2 per connection")
	assert.Equal(t, 1, c.Conns("free"), "ClientOptions.MaxStreamsPerConn is 10")
	close(release)
	wg.Wait()
	_, err := c.NewStreamWith(context.Background(), "capped", h2.StreamOptions{MaxStreamsPerConn: -1}, d.dial)
	require.Error(t, err)
}

func TestClient_ReusedReportsConnectionReuse(t *testing.T) {
	leakCheck(t)
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c := newClient(t, h2.ClientOptions{})
	d := &dialer{addr: addr}
	for i, want := range []bool{false, true, true} {
		s, err := c.NewStream(context.Background(), "k", d.dial)
		require.NoError(t, err)
		assert.Equal(t, want, s.Reused(), "stream %d", i)
		require.NoError(t, s.WriteRequestHeader(mustRequest("GET", "/", "host", "a"), true))
		_, err = s.ReadResponseHeader()
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
	// Keys never share connections.
	s, err := c.NewStream(context.Background(), "other", d.dial)
	require.NoError(t, err)
	assert.False(t, s.Reused())
	require.NoError(t, s.Close())
}

func TestClient_TrailersBothWays(t *testing.T) {
	leakCheck(t)
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Echo")
		w.WriteHeader(200)
		_, _ = w.Write(bytes.ToUpper(b))
		w.Header().Set("X-Echo", r.Trailer.Get("X-Sum")+"/"+r.Header.Get("Te"))
	}))
	c := newClient(t, h2.ClientOptions{})
	d := &dialer{addr: addr}
	s, err := c.NewStream(context.Background(), "k", d.dial)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.WriteRequestHeader(mustRequest("POST", "/echo", "host", "a", "te", "trailers", "connection", "te", "trailer", "x-sum"), false))
	require.NoError(t, s.WriteRequestBody([]byte("hello "), false))
	require.NoError(t, s.WriteRequestBody([]byte("world"), false))
	var tr httpheader.Header
	_, _ = tr.Add("x-sum", "42")
	require.NoError(t, s.WriteRequestTrailers(&tr))
	resp, err := s.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	assert.Nil(t, s.ResponseTrailers(), "no trailers before EOF")
	b, err := io.ReadAll(readerFunc(s.ReadResponseBody))
	require.NoError(t, err)
	assert.Equal(t, "HELLO WORLD", string(b))
	rt := s.ResponseTrailers()
	require.NotNil(t, rt)
	assert.Equal(t, "42/trailers", rt.Get("x-echo"))
}

func TestClient_SlowReaderBackpressure(t *testing.T) {
	leakCheck(t)
	const window = 256 << 10
	var written atomic.Int64
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 16<<10)
		for range (8 << 20) / len(chunk) {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	c := newClient(t, h2.ClientOptions{StreamWindow: window, ConnWindow: window})
	d := &dialer{addr: addr}
	s, err := c.NewStream(context.Background(), "k", d.dial)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.WriteRequestHeader(mustRequest("GET", "/big", "host", "a"), true))
	_, err = s.ReadResponseHeader()
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the reader stalls
	assert.Less(t, written.Load(), int64(window+256<<10), "peer wrote far past the window")
	n, err := io.Copy(io.Discard, readerFunc(s.ReadResponseBody))
	require.NoError(t, err)
	assert.Equal(t, int64(8<<20), n)
}

// rawPeer is a hand-driven upstream: it answers the handshake, then calls
// onHeaders for each request.
type rawPeer struct {
	addr string
}

type rawPeerConn struct {
	c  net.Conn
	fr *http2.Framer
	mu sync.Mutex
	hb bytes.Buffer
	he *hpack.Encoder
}

func (pc *rawPeerConn) respond(id uint32, status string, end bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.hb.Reset()
	_ = pc.he.WriteField(hpack.HeaderField{Name: ":status", Value: status})
	_ = pc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: pc.hb.Bytes(), EndStream: end, EndHeaders: true})
}

func (pc *rawPeerConn) do(f func(fr *http2.Framer)) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	f(pc.fr)
}

// startRawPeer accepts connections; pings beyond ackPings (if >= 0) go
// unanswered.
func startRawPeer(t testing.TB, maxStreams uint32, ackPings int, onHeaders func(pc *rawPeerConn, id uint32)) *rawPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				pc := &rawPeerConn{c: c, fr: http2.NewFramer(c, c)}
				pc.he = hpack.NewEncoder(&pc.hb)
				pc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
				pc.do(func(fr *http2.Framer) {
					_ = fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: maxStreams})
				})
				pings := 0
				for {
					f, err := pc.fr.ReadFrame()
					if err != nil {
						return
					}
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							pc.do(func(fr *http2.Framer) { _ = fr.WriteSettingsAck() })
						}
					case *http2.PingFrame:
						if !f.IsAck() && (ackPings < 0 || pings < ackPings) {
							pings++
							pc.do(func(fr *http2.Framer) { _ = fr.WritePing(true, f.Data) })
						}
					case *http2.MetaHeadersFrame:
						onHeaders(pc, f.StreamID)
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &rawPeer{addr: ln.Addr().String()}
}

func TestClient_GoAwayStreamsAboveLastIDRetryable(t *testing.T) {
	leakCheck(t)
	var mu sync.Mutex
	var ids []uint32
	peer := startRawPeer(t, 100, -1, func(pc *rawPeerConn, id uint32) {
		mu.Lock()
		ids = append(ids, id)
		n := len(ids)
		mu.Unlock()
		if n == 3 {
			// Only stream 1 was processed; 3 and 5 must go elsewhere.
			pc.do(func(fr *http2.Framer) { _ = fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
			pc.respond(1, "200", true)
		}
	})
	c := newClient(t, h2.ClientOptions{})
	d := &dialer{addr: peer.addr}
	type result struct {
		status int
		err    error
	}
	results := make(chan result, 3)
	var streams []*h2.Stream
	for range 3 {
		s, err := c.NewStream(context.Background(), "k", d.dial)
		require.NoError(t, err)
		streams = append(streams, s)
		// Send the headers now, in order, so stream ids are 1, 3, 5.
		require.NoError(t, s.WriteRequestHeader(mustRequest("POST", "/", "host", "a"), false))
	}
	for _, s := range streams {
		go func() {
			defer s.Close()
			resp, err := s.ReadResponseHeader()
			if err != nil {
				results <- result{err: err}
				return
			}
			results <- result{status: resp.Status()}
		}()
	}
	var ok, retryable int
	for range 3 {
		r := <-results
		if r.err == nil {
			assert.Equal(t, 200, r.status)
			ok++
			continue
		}
		var pe *perr.Error
		require.True(t, errors.As(r.err, &pe), "%v", r.err)
		assert.True(t, pe.Retry(), "%v", r.err)
		assert.Equal(t, perr.Upstream, pe.Source())
		assert.True(t, errors.Is(r.err, perr.H2Error), "%v", r.err)
		retryable++
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 2, retryable)
	// The draining connection takes no new stream.
	s, err := c.NewStream(context.Background(), "k", d.dial)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	assert.Equal(t, int32(2), d.dials.Load())
}

func TestClient_ErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   func(pc *rawPeerConn, id uint32)
		typ   perr.ErrorType
		retry bool
	}{
		{"refused stream", func(pc *rawPeerConn, id uint32) {
			pc.do(func(fr *http2.Framer) { _ = fr.WriteRSTStream(id, http2.ErrCodeRefusedStream) })
		}, perr.H2Error, true},
		{"http/1.1 required", func(pc *rawPeerConn, id uint32) {
			pc.do(func(fr *http2.Framer) { _ = fr.WriteRSTStream(id, http2.ErrCodeHTTP11Required) })
		}, perr.H2Downgrade, true},
		{"internal reset", func(pc *rawPeerConn, id uint32) {
			pc.do(func(fr *http2.Framer) { _ = fr.WriteRSTStream(id, http2.ErrCodeInternal) })
		}, perr.H2Error, false},
		{"goaway protocol error", func(pc *rawPeerConn, id uint32) {
			pc.do(func(fr *http2.Framer) { _ = fr.WriteGoAway(id, http2.ErrCodeProtocol, nil) })
			_ = pc.c.Close()
		}, perr.InvalidH2, true},
		{"connection closed", func(pc *rawPeerConn, id uint32) {
			_ = pc.c.Close()
		}, perr.ReadError, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			peer := startRawPeer(t, 100, -1, tc.act)
			c := newClient(t, h2.ClientOptions{})
			_, _, err := get(context.Background(), c, "k", &dialer{addr: peer.addr})
			require.Error(t, err)
			var pe *perr.Error
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.True(t, errors.Is(err, tc.typ), "%v", err)
			assert.Equal(t, tc.retry, pe.Retry(), "%v", err)
			assert.Equal(t, perr.Upstream, pe.Source())
		})
	}
}

func TestClient_PingTimeout(t *testing.T) {
	leakCheck(t)
	// The peer answers the handshake ping only, and never responds.
	peer := startRawPeer(t, 100, 1, func(*rawPeerConn, uint32) {})
	c := newClient(t, h2.ClientOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	_, _, err := get(context.Background(), c, "k", &dialer{addr: peer.addr})
	require.Error(t, err)
	assert.True(t, errors.Is(err, perr.PingTimedout), "%v", err)
}

func TestClient_CloseCancelsStream(t *testing.T) {
	leakCheck(t)
	canceled := make(chan struct{})
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(canceled)
	}))
	c := newClient(t, h2.ClientOptions{})
	s, err := c.NewStream(context.Background(), "k", (&dialer{addr: addr}).dial)
	require.NoError(t, err)
	require.NoError(t, s.WriteRequestHeader(mustRequest("GET", "/", "host", "a"), true))
	_, err = s.ReadResponseHeader()
	require.NoError(t, err)
	require.NoError(t, s.Close())
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("peer did not see the reset")
	}
}

func TestClient_TLS(t *testing.T) {
	leakCheck(t)
	cfg := testTLSConfig(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	srv := &http2.Server{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if err := c.(*tls.Conn).Handshake(); err != nil {
			return
		}
		srv.ServeConn(c, &http2.ServeConnOpts{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, r.URL.Scheme+r.Proto+r.Host)
		})})
	}()
	defer func() { _ = ln.Close(); <-done }()
	c := newClient(t, h2.ClientOptions{})
	dial := func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}}
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	s, err := c.NewStream(context.Background(), "k", dial)
	require.NoError(t, err)
	require.NoError(t, s.WriteRequestHeader(mustRequest("GET", "/", "host", "example.com"), true))
	_, err = s.ReadResponseHeader()
	require.NoError(t, err)
	b, err := io.ReadAll(readerFunc(s.ReadResponseBody))
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0example.com", string(b))
	require.NoError(t, s.Close())
	require.NoError(t, c.Close())
}

func TestClient_DialErrorAndClosed(t *testing.T) {
	leakCheck(t)
	c := newClient(t, h2.ClientOptions{})
	_, err := c.NewStream(context.Background(), "k", func(context.Context) (net.Conn, error) {
		return nil, errors.New("refused")
	})
	assert.True(t, errors.Is(err, perr.ConnectError), "%v", err)
	require.NoError(t, c.Close())
	_, err = c.NewStream(context.Background(), "k", nil)
	assert.True(t, errors.Is(err, perr.ConnectionClosed), "%v", err)
}

func TestClient_TLSWithoutH2IsDowngrade(t *testing.T) {
	leakCheck(t)
	cfg := testTLSConfig(t)
	cfg.NextProtos = []string{"http/1.1"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.(*tls.Conn).Handshake()
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
	}()
	defer func() { _ = ln.Close(); <-done }()
	c := newClient(t, h2.ClientOptions{})
	_, err = c.NewStream(context.Background(), "k", func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}}
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	})
	require.Error(t, err)
	assert.True(t, errors.Is(err, perr.H2Downgrade), "%v", err)
	var pe *perr.Error
	require.True(t, errors.As(err, &pe))
	assert.True(t, pe.Retry())
}

func TestClient_RequestBodyBackpressure(t *testing.T) {
	leakCheck(t)
	readNow := make(chan struct{})
	addr := startPeer(t, &http2.Server{MaxUploadBufferPerStream: 64 << 10, MaxUploadBufferPerConnection: 64 << 10},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-readNow
			n, _ := io.Copy(io.Discard, r.Body)
			_, _ = fmt.Fprint(w, n)
		}))
	c := newClient(t, h2.ClientOptions{})
	s, err := c.NewStream(context.Background(), "k", (&dialer{addr: addr}).dial)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.WriteRequestHeader(mustRequest("POST", "/", "host", "a"), false))
	var accepted atomic.Int64
	wdone := make(chan error, 1)
	go func() {
		chunk := make([]byte, 16<<10)
		for range (4 << 20) / len(chunk) {
			if err := s.WriteRequestBody(chunk, false); err != nil {
				wdone <- err
				return
			}
			accepted.Add(int64(len(chunk)))
		}
		wdone <- s.WriteRequestBody(nil, true)
	}()
	time.Sleep(300 * time.Millisecond) // the peer does not read
	assert.Less(t, accepted.Load(), int64(1<<20), "writes were not held back")
	close(readNow)
	require.NoError(t, <-wdone)
	resp, err := s.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	b, err := io.ReadAll(readerFunc(s.ReadResponseBody))
	require.NoError(t, err)
	assert.Equal(t, "4194304", string(b))
}

func TestClient_CloseFromAnotherGoroutineUnblocks(t *testing.T) {
	leakCheck(t)
	addr := startPeer(t, &http2.Server{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	c := newClient(t, h2.ClientOptions{})
	s, err := c.NewStream(context.Background(), "k", (&dialer{addr: addr}).dial)
	require.NoError(t, err)
	require.NoError(t, s.WriteRequestHeader(mustRequest("POST", "/", "host", "a"), false))
	_, err = s.ReadResponseHeader()
	require.NoError(t, err)
	readErr := make(chan error, 1)
	go func() {
		_, err := s.ReadResponseBody(make([]byte, 10))
		readErr <- err
	}()
	writeErr := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			err = s.WriteRequestBody(make([]byte, 64<<10), false)
		}
		writeErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, s.Close())
	for _, ch := range []chan error{readErr, writeErr} {
		select {
		case err := <-ch:
			require.Error(t, err)
			var pe *perr.Error
			assert.True(t, errors.As(err, &pe), "%v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock")
		}
	}
}
