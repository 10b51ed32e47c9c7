package http2_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

var benchBody = make([]byte, 1024)

// benchHandler answers every request with a 1 KiB body.
var benchHandler = h2.HandlerFunc(func(s *h2.Session) {
	if err := s.WriteResponseHeader(mustResponse(200, "content-length", "1024"), false); err != nil {
		return
	}
	_ = s.WriteBody(benchBody, true)
})

var benchNetHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "1024")
	_, _ = w.Write(benchBody)
})

// clientRoundTrip is one GET through a Client.
func clientRoundTrip(b *testing.B, c *h2.Client, d *dialer, buf []byte) {
	s, err := c.NewStream(context.Background(), "bench", d.dial)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.WriteRequestHeader(mustRequest("GET", "/", "host", "bench"), true); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ReadResponseHeader(); err != nil {
		b.Fatal(err)
	}
	for {
		_, err := s.ReadResponseBody(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = s.Close()
}

// transportRoundTrip is one GET through x/net/http2's Transport.
func transportRoundTrip(b *testing.B, tr *http2.Transport, url string, buf []byte) {
	req, _ := http.NewRequest("GET", url, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	for {
		_, err := res.Body.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = res.Body.Close()
}

// BenchmarkRoundTrip runs sequential GETs with a 1 KiB response over one
// loopback h2c connection, for each pairing of this package's Client and
// Server with x/net/http2's Transport and Server.
func BenchmarkRoundTrip(b *testing.B) {
	ours := startServer(b, h2.ServerOptions{}, benchHandler)
	theirs := startPeer(b, &http2.Server{}, benchNetHandler)
	buf := make([]byte, 32<<10)
	b.Run("client=pingora/server=pingora", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: ours.addr}
		b.ReportAllocs()
		for b.Loop() {
			clientRoundTrip(b, c, d, buf)
		}
	})
	b.Run("client=pingora/server=xnet", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: theirs}
		b.ReportAllocs()
		for b.Loop() {
			clientRoundTrip(b, c, d, buf)
		}
	})
	b.Run("client=xnet/server=pingora", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		for b.Loop() {
			transportRoundTrip(b, tr, "http://"+ours.addr+"/", buf)
		}
	})
	b.Run("client=xnet/server=xnet", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		for b.Loop() {
			transportRoundTrip(b, tr, "http://"+theirs+"/", buf)
		}
	})
}

// BenchmarkRoundTripParallel runs concurrent GETs multiplexed on one
// connection (the server allows 100 streams), ours beside x/net/http2's.
func BenchmarkRoundTripParallel(b *testing.B) {
	ours := startServer(b, h2.ServerOptions{}, benchHandler)
	theirs := startPeer(b, &http2.Server{MaxConcurrentStreams: 100}, benchNetHandler)
	b.Run("client=pingora/server=pingora", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: ours.addr}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 32<<10)
			for pb.Next() {
				clientRoundTrip(b, c, d, buf)
			}
		})
		b.ReportMetric(float64(d.dials.Load()), "conns")
	})
	b.Run("client=xnet/server=xnet", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 32<<10)
			for pb.Next() {
				transportRoundTrip(b, tr, "http://"+theirs+"/", buf)
			}
		})
	})
}

// BenchmarkPeekPreface measures telling h2c from HTTP/1 on a new connection.
func BenchmarkPeekPreface(b *testing.B) {
	for _, tc := range []struct{ name, data string }{
		{"proto=h2", http2.ClientPreface},
		{"proto=http1", "GET / HTTP/1.1\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := &memConn{data: []byte(tc.data)}
				if _, _, err := h2.PeekPreface(c, deadlineFar); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var smallBody = make([]byte, 100)

// serveSmall answers with a 100-byte body the way a proxy forwards a small
// response: the head, then the whole body at once.
var serveSmall = h2.HandlerFunc(func(s *h2.Session) {
	if err := s.WriteResponseHeader(mustResponse(200, "content-type", "text/plain", "content-length", "100"), false); err != nil {
		return
	}
	_ = s.WriteBody(smallBody, true)
})

// serveSmallBuffered is serveSmall with the head sent together with the
// body (BufferResponseHeader).
var serveSmallBuffered = h2.HandlerFunc(func(s *h2.Session) {
	if err := s.BufferResponseHeader(mustResponse(200, "content-type", "text/plain", "content-length", "100")); err != nil {
		return
	}
	_ = s.WriteBody(smallBody, true)
})

var serveSmallNet = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{"100"}
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	_, _ = w.Write(smallBody)
})

// loadConn is an h2load-like client connection: it keeps up to depth
// requests in flight with pre-encoded HEADERS frames and reads responses
// with a Framer, so that little of the benchmark's CPU goes to the client.
type loadConn struct {
	c     net.Conn
	fr    *http2.Framer
	wmu   sync.Mutex
	slots chan struct{}
	next  uint32
	block []byte
	done  atomic.Int64
	fails atomic.Int64
	dead  chan struct{} // closed when readLoop ends, with its error in err
	err   error
}

func dialLoad(b *testing.B, addr string, depth int) *loadConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	lc := &loadConn{c: c, fr: http2.NewFramer(c, c), slots: make(chan struct{}, depth), next: 1, dead: make(chan struct{})}
	lc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	// Static-table references and literals without indexing: the same
	// bytes are a valid block on every stream.
	enc.SetMaxDynamicTableSizeLimit(0)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "bench"}, {":path", "/100"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	lc.block = buf.Bytes()
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		b.Fatal(err)
	}
	if err := lc.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30}); err != nil {
		b.Fatal(err)
	}
	if err := lc.fr.WriteWindowUpdate(0, 1<<30); err != nil {
		b.Fatal(err)
	}
	go lc.readLoop()
	return lc
}

// readLoop counts finished streams and keeps the connection window open.
func (lc *loadConn) readLoop() {
	defer close(lc.dead)
	var got uint32
	for {
		f, err := lc.fr.ReadFrame()
		if err != nil {
			lc.err = err
			return
		}
		end := false
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				lc.wmu.Lock()
				_ = lc.fr.WriteSettingsAck()
				lc.wmu.Unlock()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				lc.wmu.Lock()
				_ = lc.fr.WritePing(true, f.Data)
				lc.wmu.Unlock()
			}
		case *http2.MetaHeadersFrame:
			end = f.StreamEnded()
		case *http2.DataFrame:
			end = f.StreamEnded()
			if got += f.Length; got > 1<<20 {
				lc.wmu.Lock()
				_ = lc.fr.WriteWindowUpdate(0, got)
				lc.wmu.Unlock()
				got = 0
			}
		case *http2.RSTStreamFrame:
			if f.ErrCode != http2.ErrCodeNo {
				lc.fails.Add(1)
				end = true
			}
		case *http2.GoAwayFrame:
			lc.err = fmt.Errorf("goaway %v", f.ErrCode)
			return
		}
		if end {
			lc.done.Add(1)
			<-lc.slots
		}
	}
}

// request starts one GET, waiting for a free slot first.
func (lc *loadConn) request() error {
	select {
	case lc.slots <- struct{}{}:
	case <-lc.dead:
		return lc.err
	}
	lc.wmu.Lock()
	id := lc.next
	lc.next += 2
	err := lc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: lc.block, EndStream: true, EndHeaders: true})
	lc.wmu.Unlock()
	return err
}

// finish waits for the requests in flight and closes the connection.
func (lc *loadConn) finish() error {
	for range cap(lc.slots) {
		select {
		case lc.slots <- struct{}{}:
		case <-lc.dead:
			return lc.err
		}
	}
	_ = lc.c.Close()
	<-lc.dead
	if n := lc.fails.Load(); n > 0 {
		return fmt.Errorf("%d streams reset", n)
	}
	return nil
}

// runLoad sends b.N GETs over conns connections with depth streams in
// flight on each, h2load style, and reports the CPU time per request.
func runLoad(b *testing.B, addr string, conns, depth int) {
	lcs := make([]*loadConn, conns)
	for i := range lcs {
		lcs[i] = dialLoad(b, addr, depth)
	}
	var wg sync.WaitGroup
	var n atomic.Int64
	errs := make(chan error, conns)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for _, lc := range lcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n.Add(1) <= int64(b.N) {
				if err := lc.request(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, lc := range lcs {
		if err := lc.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	// CPU time (user+system, client included) per request: steadier than
	// ns/op on a machine shared with other work.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServer_ServeConn drives a Server the way h2load does (pre-encoded GETs,
// conns connections with 10 streams in flight each, 100-byte responses over
// loopback), beside x/net/http2's Server with an equivalent net/http
// handler. ns/op and allocs/op are per request, client included (the client
// is light: a Framer and fixed header blocks).
func BenchmarkServer_ServeConn(b *testing.B) {
	servers := []struct {
		name string
		addr func(b *testing.B) string
	}{
		{"server=pingora/head=flush", func(b *testing.B) string { return startServer(b, h2.ServerOptions{}, serveSmall).addr }},
		{"server=pingora/head=buffered", func(b *testing.B) string {
			return startServer(b, h2.ServerOptions{}, serveSmallBuffered).addr
		}},
		{"server=xnet", func(b *testing.B) string {
			return startPeer(b, &http2.Server{MaxConcurrentStreams: 100}, serveSmallNet)
		}},
	}
	for _, conns := range []int{1, 16} {
		for _, srv := range servers {
			b.Run(fmt.Sprintf("%s/conns=%d", srv.name, conns), func(b *testing.B) {
				runLoad(b, srv.addr(b), conns, 10)
			})
		}
	}
}

// BenchmarkServer_ServeConnTransport is BenchmarkServer_ServeConn with x/net/http2's
// Transport as the client: 16 goroutines multiplexed on one connection.
func BenchmarkServer_ServeConnTransport(b *testing.B) {
	ts := startServer(b, h2.ServerOptions{}, serveSmall)
	tr := h2cTransport(b)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 1024)
		for pb.Next() {
			transportRoundTrip(b, tr, "http://"+ts.addr+"/", buf)
		}
	})
}
