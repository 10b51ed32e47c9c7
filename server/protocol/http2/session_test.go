package http2_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// frameLog reads stream 1's frames until it ends and describes them.
func frameLog(t *testing.T, rc *rawClient) []string {
	t.Helper()
	var log []string
	_, err := rc.readUntil(func(f http2.Frame) bool {
		if f.Header().StreamID != 1 {
			return false
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			var fields []string
			for _, hf := range f.Fields {
				fields = append(fields, hf.Name+"="+hf.Value)
			}
			log = append(log, fmt.Sprintf("HEADERS%v end=%v", fields, f.StreamEnded()))
			return f.StreamEnded()
		case *http2.DataFrame:
			if len(f.Data()) > 0 {
				log = append(log, fmt.Sprintf("DATA %q end=%v", f.Data(), f.StreamEnded()))
			} else {
				log = append(log, fmt.Sprintf("DATA end=%v", f.StreamEnded()))
			}
			return f.StreamEnded()
		case *http2.RSTStreamFrame:
			log = append(log, "RST "+f.ErrCode.String())
			return true
		}
		return false
	})
	require.NoError(t, err)
	return log
}

func TestSession_BufferResponseHeader(t *testing.T) {
	leakCheck(t)
	trailers := func() *httpheader.Header {
		var h httpheader.Header
		_, _ = h.Add("grpc-status", "0")
		return &h
	}
	for _, tc := range []struct {
		name    string
		handler func(s *h2.Session)
		want    []string
	}{
		{"body with end", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(200, "x-a", "1")))
			require.NoError(t, s.WriteBody([]byte("hello"), true))
		}, []string{"HEADERS[:status=200 x-a=1] end=false", `DATA "hello" end=true`}},
		{"body in two writes", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(200)))
			require.NoError(t, s.WriteBody([]byte("he"), false))
			require.NoError(t, s.WriteBody([]byte("llo"), true))
		}, []string{"HEADERS[:status=200] end=false", `DATA "he" end=false`, `DATA "llo" end=true`}},
		{"no body", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(204)))
		}, []string{"HEADERS[:status=204] end=true"}},
		{"trailers", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(200, "content-type", "application/grpc")))
			require.NoError(t, s.WriteTrailers(trailers()))
		}, []string{"HEADERS[:status=200 content-type=application/grpc] end=false", "HEADERS[grpc-status=0] end=true"}},
		{"after 103", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(103, "link", "</a>")))
			require.NoError(t, s.BufferResponseHeader(mustResponse(200)))
			require.NoError(t, s.WriteBody([]byte("x"), true))
		}, []string{"HEADERS[:status=103 link=</a>] end=false", "HEADERS[:status=200] end=false", `DATA "x" end=true`}},
		{"errors as WriteResponseHeader", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(200)))
			require.Error(t, s.BufferResponseHeader(mustResponse(200)))
			require.Error(t, s.WriteResponseHeader(mustResponse(200), false))
			require.NoError(t, s.Flush())
			require.NoError(t, s.WriteBody(nil, true))
			assert.ErrorIs(t, s.BufferResponseHeader(mustResponse(200)), h2.ErrResponseDone)
		}, []string{"HEADERS[:status=200] end=false", "DATA end=true"}},
		{"abort", func(s *h2.Session) {
			require.NoError(t, s.BufferResponseHeader(mustResponse(200)))
			s.Abort()
			assert.NoError(t, s.Flush())
		}, []string{"RST INTERNAL_ERROR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(tc.handler))
			rc := dialRaw(t, ts.addr)
			rc.headers(1, true, reqFields()...)
			assert.Equal(t, tc.want, frameLog(t, rc))
		})
	}
}

// Flush sends a buffered head while the handler waits, and a 100-byte body
// written whole gets no content-length added.
func TestSession_FlushSendsHeadNow(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		require.NoError(t, s.BufferResponseHeader(mustResponse(200)))
		require.NoError(t, s.Flush())
		require.NoError(t, s.Flush()) // nothing left: no-op
		<-release
		_ = s.WriteBody(make([]byte, 100), true)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, reqFields()...)
	f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok })
	require.NoError(t, err)
	assert.Equal(t, "200", f.(*http2.MetaHeadersFrame).PseudoValue("status"))
	assert.Empty(t, f.(*http2.MetaHeadersFrame).RegularFields())
	close(release)
	d, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	require.NoError(t, err)
	assert.Len(t, d.(*http2.DataFrame).Data(), 100)
}

// A read or write is bounded from its own start: time spent between calls
// does not count, and a call that stalls fails after the timeout, not
// before.
func TestSession_TimeoutsPerCall(t *testing.T) {
	leakCheck(t)
	const d = 300 * time.Millisecond
	type result struct {
		first     error
		stalled   error
		stalledIn time.Duration
	}
	got := make(chan result, 1)
	ts := startServer(t, h2.ServerOptions{ReadTimeout: d, WriteTimeout: d}, h2.HandlerFunc(func(s *h2.Session) {
		var r result
		time.Sleep(d + d/2) // idle longer than a timeout: no call in progress
		buf := make([]byte, 10)
		_, r.first = io.ReadFull(s.Body(), buf[:5]) // sent at once by the client
		start := time.Now()
		_, r.stalled = s.ReadBody(buf) // nothing more comes
		r.stalledIn = time.Since(start)
		got <- r
		var w result
		_ = s.WriteResponseHeader(mustResponse(200), false)
		time.Sleep(d + d/2)
		w.first = s.WriteBody(make([]byte, 50), false) // fits the client's window of 50
		start = time.Now()
		w.stalled = s.WriteBody(make([]byte, 50), false) // the window stays shut
		w.stalledIn = time.Since(start)
		got <- w
	}))
	rc := dialRaw(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 50})
	rc.headers(1, false, reqFields()...)
	rc.mu.Lock()
	require.NoError(t, rc.fr.WriteData(1, false, []byte("hello")))
	rc.mu.Unlock()
	go func() { _, _ = rc.readUntil(func(http2.Frame) bool { return false }) }()
	for _, kind := range []perr.ErrorType{perr.ReadTimedout, perr.WriteTimedout} {
		select {
		case r := <-got:
			require.NoError(t, r.first, "%v after an idle period", kind)
			require.Error(t, r.stalled)
			assert.True(t, errors.Is(r.stalled, kind), "%v", r.stalled)
			assert.GreaterOrEqual(t, r.stalledIn, d-10*time.Millisecond, "%v came early", kind)
			assert.Less(t, r.stalledIn, 10*d, "%v came late", kind)
		case <-time.After(20 * time.Second):
			t.Fatalf("no %v", kind)
		}
	}
}

// Abort after the handler returned does nothing (the stream is x/net's
// again), also when racing the return.
func TestSession_AbortAfterReturn(t *testing.T) {
	leakCheck(t)
	sessions := make(chan *h2.Session, 64)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		_ = s.WriteResponseHeader(mustResponse(200), false)
		_ = s.WriteBody([]byte("ok"), true)
		sessions <- s
	}))
	tr := h2cTransport(t)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := tr.RoundTrip(must(newGet("http://" + ts.addr + "/")))
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			(<-sessions).Abort()
		}()
	}
	wg.Wait()
}

// Writes of every size, coalesced or direct, reach the client whole and in
// order, on many streams at once.
func TestServer_WritesArriveInOrder(t *testing.T) {
	leakCheck(t)
	sizes := []int{1, 9, 100, 4095, 4096, 4097, 8191, 8192, 16384, 70000}
	body := make([]byte, 0, 200<<10)
	for i := 0; len(body) < cap(body); i++ {
		body = append(body, byte(i*7+i/251))
	}
	want := sha256.Sum256(body)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		if err := s.BufferResponseHeader(mustResponse(200)); err != nil {
			return
		}
		rest := body
		for i := 0; len(rest) > 0; i++ {
			n := min(sizes[i%len(sizes)], len(rest))
			if err := s.WriteBody(rest[:n], n == len(rest)); err != nil {
				return
			}
			rest = rest[n:]
		}
	}))
	tr := h2cTransport(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := tr.RoundTrip(must(newGet("http://" + ts.addr + "/")))
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, res.Body); err != nil {
				errs <- err
				return
			}
			if sha256.Sum256(buf.Bytes()) != want || res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("body of %d bytes differs", buf.Len())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A client that goes away mid-response fails the handler's writes and ends
// the connection, coalesced writes included.
func TestServer_ClientGoneFailsWrites(t *testing.T) {
	leakCheck(t)
	werr := make(chan error, 1)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		_ = s.BufferResponseHeader(mustResponse(200))
		chunk := make([]byte, 100)
		for {
			if err := s.WriteBody(chunk, false); err != nil {
				werr <- err
				return
			}
		}
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, reqFields()...)
	_, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	require.NoError(t, err)
	_ = rc.c.Close()
	select {
	case err := <-werr:
		assert.True(t, errors.Is(err, perr.WriteError) || errors.Is(err, perr.WriteTimedout), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("writes to a gone client did not fail")
	}
}

// TestServer_ClientNotReadingLosesConnection: a client that opens its
// flow-control windows wide and then never reads the socket cannot hold
// the connection (and the response bytes queued for it) beyond the write
// timeout.
func TestServer_ClientNotReadingLosesConnection(t *testing.T) {
	leakCheck(t)
	werr := make(chan error, 1)
	ts := startServer(t, h2.ServerOptions{WriteTimeout: 300 * time.Millisecond}, h2.HandlerFunc(func(s *h2.Session) {
		_ = s.WriteResponseHeader(mustResponse(200), false)
		chunk := make([]byte, 16<<10)
		for {
			if err := s.WriteBody(chunk, false); err != nil {
				werr <- err
				return
			}
		}
	}))
	rc := dialRaw(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
	require.NoError(t, rc.fr.WriteWindowUpdate(0, 1<<31-1-65535))
	rc.headers(1, true, reqFields()...)
	// Never read: the kernel buffers fill, then the server's writes stall.
	select {
	case err := <-werr:
		assert.Error(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("a client that stopped reading kept the connection")
	}
	// The stream failed; the connection must be gone too, not merely
	// waiting for the client to read what is queued.
	time.Sleep(time.Second)
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, rc.c)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the connection open: %v", err)
}
