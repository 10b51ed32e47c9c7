package http2_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

func mustResponse(status int, kv ...string) *httpheader.ResponseHeader {
	r, err := httpheader.NewResponse(status)
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

func TestServer_RequestConversion(t *testing.T) {
	leakCheck(t)
	got := make(chan string, 1)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		got <- string(s.Request().AppendWire(nil))
		_ = s.WriteResponseHeader(mustResponse(204), true)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, ":method", "POST", ":scheme", "https", ":authority", "example.com:8443",
		":path", "/a/b?c=d", "cookie", "a=1", "x-b", "2", "cookie", "b=2", "accept", "*/*")
	_, status, err := rc.streamEnd(1)
	require.NoError(t, err)
	assert.Equal(t, "204", status)
	assert.Equal(t, "POST /a/b?c=d HTTP/2.0\r\nhost: example.com:8443\r\naccept: */*\r\ncookie: a=1; b=2\r\nx-b: 2\r\n\r\n", <-got)
}

func TestServer_ResponseWrittenAsStored(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		resp := mustResponse(200, "X-Custom-Name", "v", "Connection", "close", "Transfer-Encoding", "chunked",
			"Keep-Alive", "5", "Upgrade", "h2c", "Proxy-Connection", "x", "Set-Cookie", "a=1", "Set-Cookie", "b=2")
		_ = s.WriteResponseHeader(resp, false)
		_ = s.WriteBody([]byte("<html>"), true)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, reqFields()...)
	f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok })
	require.NoError(t, err)
	var names []string
	for _, hf := range f.(*http2.MetaHeadersFrame).Fields {
		names = append(names, hf.Name+"="+hf.Value)
	}
	// Lower case, hop-by-hop fields dropped, no Date or sniffed Content-Type added.
	assert.ElementsMatch(t, []string{":status=200", "x-custom-name=v", "set-cookie=a=1", "set-cookie=b=2"}, names)
}

func TestServer_BodyAndTrailersBothWays(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		body, err := io.ReadAll(s.Body())
		if err != nil {
			s.Abort()
			return
		}
		tr := s.RequestTrailers()
		_ = s.WriteResponseHeader(mustResponse(200), false)
		_ = s.WriteBody(bytes.ToUpper(body), false)
		var out httpheader.Header
		if tr != nil {
			_, _ = out.Add("x-echo", tr.Get("x-sum"))
		}
		_, _ = out.Add("grpc-status", "0")
		_ = s.WriteTrailers(&out)
	}))
	tr := h2cTransport(t)
	req, _ := http.NewRequest("POST", "http://"+ts.addr+"/", io.NopCloser(strings.NewReader("hello")))
	req.Trailer = http.Header{"X-Sum": {"42"}}
	res, err := tr.RoundTrip(req)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, "HELLO", string(b))
	assert.Equal(t, "42", res.Trailer.Get("X-Echo"))
	assert.Equal(t, "0", res.Trailer.Get("Grpc-Status"))
}

func TestServer_SafeDefaultSettings(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, okHandler)
	rc := dialRaw(t, ts.addr)
	f, err := rc.readUntil(func(f http2.Frame) bool { sf, ok := f.(*http2.SettingsFrame); return ok && !sf.IsAck() })
	require.NoError(t, err)
	settings := map[http2.SettingID]uint32{}
	_ = f.(*http2.SettingsFrame).ForeachSetting(func(st http2.Setting) error { settings[st.ID] = st.Val; return nil })
	// The connection window opens to 2 MiB right away.
	wu, err := rc.readUntil(func(f http2.Frame) bool { w, ok := f.(*http2.WindowUpdateFrame); return ok && w.StreamID == 0 })
	require.NoError(t, err)
	assert.Equal(t, uint32(2<<20-65535), wu.(*http2.WindowUpdateFrame).Increment)
	for _, tc := range []struct {
		id   http2.SettingID
		want uint32
	}{
		{http2.SettingMaxConcurrentStreams, 100},
		{http2.SettingMaxHeaderListSize, 64 << 10},
		{http2.SettingMaxFrameSize, 16 << 10},
		{http2.SettingInitialWindowSize, 1 << 20},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			v, ok := settings[tc.id]
			require.True(t, ok)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestServer_MaxConcurrentStreams(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	var started atomic.Int32
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		started.Add(1)
		select {
		case <-release:
		case <-s.Context().Done():
		}
		_ = s.WriteResponseHeader(mustResponse(200), true)
	}))
	defer close(release)
	rc := dialRaw(t, ts.addr)
	// Wait for the server's SETTINGS to be acknowledged so the limit applies.
	_, err := rc.readUntil(func(f http2.Frame) bool { sf, ok := f.(*http2.SettingsFrame); return ok && sf.IsAck() })
	require.NoError(t, err)
	for i := range 101 {
		rc.headers(uint32(2*i+1), true, reqFields()...)
	}
	code, _, err := rc.streamEnd(201)
	require.NoError(t, err)
	assert.Contains(t, []http2.ErrCode{http2.ErrCodeRefusedStream, http2.ErrCodeProtocol}, code)
	assert.LessOrEqual(t, started.Load(), int32(100))
}

func TestServer_HeaderListTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []string
	}{
		// 70 fields of 1 KiB: over 64 KiB in total, each field fine.
		{"many fields", func() []string {
			f := reqFields()
			for i := range 70 {
				f = append(f, fmt.Sprintf("x-f%d", i), strings.Repeat("a", 1<<10))
			}
			return f
		}()},
		// One 70 KiB value: x/net refuses the string itself.
		{"one huge field", append(reqFields(), "x-big", strings.Repeat("a", 70<<10))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			ts := startServer(t, h2.ServerOptions{}, okHandler)
			rc := dialRaw(t, ts.addr)
			// HEADERS + CONTINUATION frames of 16 KiB (at most 5: within the limit).
			block := rc.block(tc.fields...)
			const chunk = 16 << 10
			require.NoError(t, rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:chunk], EndStream: true}))
			rest := block[chunk:]
			for len(rest) > 0 {
				n := min(chunk, len(rest))
				require.NoError(t, rc.fr.WriteContinuation(1, n == len(rest), rest[:n]))
				rest = rest[n:]
			}
			_, status, err := rc.streamEnd(1)
			if err != nil {
				// A connection error is the other accepted answer (RFC 9113 §10.5.1).
				assert.Contains(t, err.Error(), "goaway: COMPRESSION_ERROR")
				return
			}
			assert.Equal(t, "431", status)
		})
	}
}

// The HTTP/2 "Bomb" and CVE-2023-45288: an endless header block, in many
// CONTINUATION frames, ends the connection.
func TestServer_ContinuationFlood(t *testing.T) {
	// A valid header block of many small fields, sent one byte per frame.
	var valid []string
	for i := range 200 {
		valid = append(valid, fmt.Sprintf("x-f%d", i), "v")
	}
	for _, tc := range []struct {
		name   string
		frames func(rc *rawClient) [][]byte
		want   []http2.ErrCode
	}{
		{"tiny frames", func(rc *rawClient) [][]byte {
			var out [][]byte
			for _, b := range rc.block(valid...) {
				out = append(out, []byte{b})
			}
			return out
		}, []http2.ErrCode{http2.ErrCodeEnhanceYourCalm}},
		{"empty frames", func(*rawClient) [][]byte {
			return make([][]byte, 100)
		}, []http2.ErrCode{http2.ErrCodeEnhanceYourCalm}},
		// Megabytes of fields: x/net's byte bound or the frame count stops it.
		{"huge block", func(rc *rawClient) [][]byte {
			frag := rc.block("x-big", strings.Repeat("a", 15000))
			out := make([][]byte, 1000)
			for i := range out {
				out[i] = frag
			}
			return out
		}, []http2.ErrCode{http2.ErrCodeEnhanceYourCalm, http2.ErrCodeProtocol, http2.ErrCodeCompression}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			ts := startServer(t, h2.ServerOptions{}, okHandler)
			rc := dialRaw(t, ts.addr)
			_, err := rc.readUntil(func(f http2.Frame) bool { sf, ok := f.(*http2.SettingsFrame); return ok && sf.IsAck() })
			require.NoError(t, err)
			frames := tc.frames(rc)
			head := rc.block(reqFields()...)
			go func() {
				// One unbroken header block: nothing may interleave.
				rc.mu.Lock()
				defer rc.mu.Unlock()
				_ = rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: head})
				for _, f := range frames {
					if rc.fr.WriteContinuation(1, false, f) != nil {
						return
					}
				}
			}()
			code, err := rc.goAway()
			require.NoError(t, err)
			assert.Contains(t, tc.want, code)
		})
	}
}

// floodCase sends one kind of flood; the server must GOAWAY with
// ENHANCE_YOUR_CALM and close, while a benign client on another
// connection is served throughout.
func TestServer_FloodsGoAway(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(rc *rawClient, i int) error
	}{
		{"rapid reset CVE-2023-44487", func(rc *rawClient, i int) error {
			id := uint32(2*i + 1)
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.block(reqFields()...), EndStream: true, EndHeaders: true}); err != nil {
				return err
			}
			return rc.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}},
		{"MadeYouReset CVE-2025-8671", func(rc *rawClient, i int) error {
			id := uint32(2*i + 1)
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.block(reqFields()...), EndHeaders: true}); err != nil {
				return err
			}
			// A zero increment is a stream error: the server resets the stream.
			return rc.fr.WriteWindowUpdate(id, 0)
		}},
		{"ping", func(rc *rawClient, i int) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return rc.fr.WritePing(false, [8]byte{byte(i)})
		}},
		{"settings", func(rc *rawClient, i int) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return rc.fr.WriteSettings()
		}},
		{"empty data", func(rc *rawClient, i int) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if i == 0 {
				if err := rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.block(":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/"), EndHeaders: true}); err != nil {
					return err
				}
			}
			return rc.fr.WriteData(1, false, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			var counted sync.Map
			release := make(chan struct{})
			ts := startServer(t, h2.ServerOptions{CountError: func(s string) { counted.Store(s, true) }}, h2.HandlerFunc(func(s *h2.Session) {
				select {
				case <-release:
				case <-s.Context().Done():
				}
				_ = s.WriteResponseHeader(mustResponse(200), true)
			}))
			close(release)
			// A benign client keeps working while the attacker floods.
			benign := h2cTransport(t)
			stop := make(chan struct{})
			benignErr := make(chan error, 1)
			var benignOK atomic.Int32
			go func() {
				defer close(benignErr)
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := benign.RoundTrip(must(http.NewRequest("GET", "http://"+ts.addr+"/", nil)))
					if err != nil {
						benignErr <- err
						return
					}
					_ = res.Body.Close()
					benignOK.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
			}()
			rc := dialRaw(t, ts.addr)
			go func() {
				for i := range 5000 {
					if tc.send(rc, i) != nil {
						return
					}
				}
			}()
			code, err := rc.goAway()
			require.NoError(t, err)
			assert.Equal(t, http2.ErrCodeEnhanceYourCalm, code)
			// The connection then closes.
			_, err = rc.readUntil(func(http2.Frame) bool { return false })
			require.Error(t, err)
			close(stop)
			require.NoError(t, <-benignErr)
			assert.Positive(t, benignOK.Load())
			var floods []string
			counted.Range(func(k, _ any) bool {
				if s := k.(string); strings.HasPrefix(s, "flood_") {
					floods = append(floods, s)
				}
				return true
			})
			assert.NotEmpty(t, floods)
			select {
			case err := <-ts.errs:
				assert.True(t, errors.Is(err, perr.InvalidH2), "%v", err)
			case <-time.After(5 * time.Second):
				t.Fatal("ServeConn did not report the flood")
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestServer_MalformedRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields []string
	}{
		{"missing method", []string{":scheme", "http", ":authority", "a", ":path", "/"}},
		{"missing path", []string{":method", "GET", ":scheme", "http", ":authority", "a"}},
		{"empty path", []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", ""}},
		{"unknown pseudo", reqFields(":foo", "bar")},
		{"pseudo after regular", []string{":method", "GET", "x-a", "b", ":scheme", "http", ":authority", "a", ":path", "/"}},
		{"duplicate method", reqFields(":method", "POST")},
		{"uppercase name", reqFields("X-Upper", "v")},
		{"connection", reqFields("connection", "keep-alive")},
		{"keep-alive", reqFields("keep-alive", "5")},
		{"proxy-connection", reqFields("proxy-connection", "x")},
		{"transfer-encoding", reqFields("transfer-encoding", "chunked")},
		{"upgrade", reqFields("upgrade", "websocket")},
		{"te gzip", reqFields("te", "gzip")},
		{"te trailers twice", reqFields("te", "trailers", "te", "trailers")},
		{"response pseudo", reqFields(":status", "200")},
		{"name with space", reqFields("x a", "v")},
		{"value with newline", reqFields("x-a", "a\nb")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			var served atomic.Int32
			ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
				served.Add(1)
				_ = s.WriteResponseHeader(mustResponse(200), true)
			}))
			rc := dialRaw(t, ts.addr)
			rc.headers(1, true, tc.fields...)
			// RFC 9113 §8.1.1: a malformed request is a stream error of
			// type PROTOCOL_ERROR.
			code, status, err := rc.streamEnd(1)
			require.NoError(t, err)
			assert.Empty(t, status, "a response instead of RST_STREAM")
			assert.Equal(t, http2.ErrCodeProtocol, code)
			assert.Zero(t, served.Load())
			// The connection stays usable.
			rc.headers(3, true, reqFields()...)
			_, status, err = rc.streamEnd(3)
			require.NoError(t, err)
			assert.Equal(t, "200", status)
		})
	}
}

func TestServer_ZeroWindowStallTimesOut(t *testing.T) {
	leakCheck(t)
	werr := make(chan error, 1)
	ts := startServer(t, h2.ServerOptions{WriteTimeout: 200 * time.Millisecond}, h2.HandlerFunc(func(s *h2.Session) {
		_ = s.WriteResponseHeader(mustResponse(200), false)
		werr <- s.WriteBody(make([]byte, 100), false)
	}))
	rc := dialRaw(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	rc.headers(1, true, reqFields()...)
	code, _, err := rc.streamEnd(1)
	require.NoError(t, err)
	if code == 0 { // the response headers came first; the reset follows
		f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok })
		require.NoError(t, err)
		code = f.(*http2.RSTStreamFrame).ErrCode
	}
	assert.Equal(t, http2.ErrCodeInternal, code)
	err = <-werr
	require.Error(t, err)
	assert.True(t, errors.Is(err, perr.WriteTimedout), "%v", err)
}

func TestServer_RequestBodyBackpressure(t *testing.T) {
	leakCheck(t)
	const window = 64 << 10
	readNow := make(chan struct{})
	done := make(chan int, 1)
	ts := startServer(t, h2.ServerOptions{StreamWindow: window, ConnWindow: 1 << 20}, h2.HandlerFunc(func(s *h2.Session) {
		<-readNow
		n, _ := io.Copy(io.Discard, s.Body())
		done <- int(n)
		_ = s.WriteResponseHeader(mustResponse(200), true)
	}))
	tr := h2cTransport(t)
	var sent atomic.Int64
	body := &countingReader{n: 4 << 20, sent: &sent}
	resCh := make(chan error, 1)
	go func() {
		res, err := tr.RoundTrip(must(http.NewRequest("POST", "http://"+ts.addr+"/", body)))
		if err == nil {
			_ = res.Body.Close()
		}
		resCh <- err
	}()
	// Without reads the client can send only about one window.
	time.Sleep(300 * time.Millisecond)
	assert.Less(t, sent.Load(), int64(window+512<<10), "client sent far past the window")
	close(readNow)
	assert.Equal(t, 4<<20, <-done)
	require.NoError(t, <-resCh)
}

type countingReader struct {
	n    int
	sent *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, 16<<10)
	r.n -= k
	r.sent.Add(int64(k))
	return k, nil
}

func TestServer_AbortResetsStream(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		_ = s.WriteResponseHeader(mustResponse(200), false)
		s.Abort()
		assert.ErrorIs(t, s.WriteBody([]byte("x"), true), h2.ErrResponseDone)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, reqFields()...)
	f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.RSTStreamFrame); return ok })
	require.NoError(t, err)
	assert.Equal(t, http2.ErrCodeInternal, f.(*http2.RSTStreamFrame).ErrCode)
}

func TestServer_ClientResetCancelsContext(t *testing.T) {
	leakCheck(t)
	canceled := make(chan struct{})
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		<-s.Context().Done()
		close(canceled)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, false, reqFields()...)
	time.Sleep(50 * time.Millisecond)
	rc.mu.Lock()
	require.NoError(t, rc.fr.WriteRSTStream(1, http2.ErrCodeCancel))
	rc.mu.Unlock()
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("context not canceled")
	}
}

func TestServer_TLS(t *testing.T) {
	leakCheck(t)
	cfg := testTLSConfig(t)
	gotTLS := make(chan bool, 1)
	ts := startServerTLS(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		gotTLS <- s.TLS() != nil && s.TLS().NegotiatedProtocol == "h2"
		_ = s.WriteResponseHeader(mustResponse(200), true)
	}), cfg)
	tr := &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	t.Cleanup(tr.CloseIdleConnections)
	res, err := tr.RoundTrip(must(http.NewRequest("GET", "https://"+ts.addr+"/", nil)))
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.True(t, <-gotTLS)
}

func TestServer_ShutdownGoAway(t *testing.T) {
	leakCheck(t)
	inHandler := make(chan struct{})
	release := make(chan struct{})
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		close(inHandler)
		<-release
		_ = s.WriteResponseHeader(mustResponse(200), true)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, true, reqFields()...)
	<-inHandler
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	code, err := rc.goAway()
	require.NoError(t, err)
	assert.Equal(t, http2.ErrCodeNo, code)
	close(release)
	_, status, err := rc.streamEnd(1)
	require.NoError(t, err)
	assert.Equal(t, "200", status)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}

func TestNewServer_InvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts h2.ServerOptions
	}{
		{"tiny header list", h2.ServerOptions{MaxHeaderListSize: 10}},
		{"frame too small", h2.ServerOptions{MaxReadFrameSize: 100}},
		{"frame too large", h2.ServerOptions{MaxReadFrameSize: 1 << 24}},
		{"negative window", h2.ServerOptions{StreamWindow: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h2.NewServer(tc.opts)
			assert.Error(t, err)
		})
	}
}

func TestServer_ReadBodyTimeout(t *testing.T) {
	leakCheck(t)
	rerr := make(chan error, 1)
	ts := startServer(t, h2.ServerOptions{ReadTimeout: 200 * time.Millisecond}, h2.HandlerFunc(func(s *h2.Session) {
		_, err := s.ReadBody(make([]byte, 10))
		rerr <- err
		_ = s.WriteResponseHeader(mustResponse(408), true)
	}))
	rc := dialRaw(t, ts.addr)
	rc.headers(1, false, append(reqFields(), ":method", "POST")[2:]...) // a body that never comes
	select {
	case err := <-rerr:
		assert.True(t, errors.Is(err, perr.ReadTimedout), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("ReadBody did not time out")
	}
}

func TestServer_ConcurrentSafe(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		b, _ := io.ReadAll(s.Body())
		_ = s.WriteResponseHeader(mustResponse(200), false)
		_ = s.WriteBody(b, true)
	}))
	c := newClient(t, h2.ClientOptions{})
	d := &dialer{addr: ts.addr}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				want := fmt.Sprintf("g%d-i%d", g, i)
				s, err := c.NewStream(context.Background(), "k", d.dial)
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, s.WriteRequestHeader(mustRequest("POST", "/", "host", "a"), false))
				assert.NoError(t, s.WriteRequestBody([]byte(want), true))
				_, err = s.ReadResponseHeader()
				assert.NoError(t, err)
				got, err := io.ReadAll(readerFunc(s.ReadResponseBody))
				assert.NoError(t, err)
				assert.Equal(t, want, string(got))
				_ = s.Close()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), d.dials.Load(), "all streams share one connection")
}

// An idle connection gets GOAWAY and is closed even if the client never
// closes its side.
func TestServer_IdleTimeoutCloses(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{IdleTimeout: 100 * time.Millisecond}, okHandler)
	rc := dialRaw(t, ts.addr)
	code, err := rc.goAway()
	require.NoError(t, err)
	assert.Equal(t, http2.ErrCodeNo, code)
	_, err = rc.readUntil(func(http2.Frame) bool { return false })
	assert.ErrorIs(t, err, io.EOF)
}

// TestServer_ConnectionSpecificFieldReset covers the framings a malformed
// request can arrive in, and that the connection's HPACK state survives the
// rewrite that makes x/net reset such a stream: later requests refer to
// dynamic table entries the malformed one added.
func TestServer_ConnectionSpecificFieldReset(t *testing.T) {
	leakCheck(t)
	var served atomic.Int32
	var gotN atomic.Value
	ts := startServer(t, h2.ServerOptions{}, h2.HandlerFunc(func(s *h2.Session) {
		served.Add(1)
		gotN.Store(s.Request().Get("x-n"))
		_ = s.WriteResponseHeader(mustResponse(200), true)
	}))
	rc := dialRaw(t, ts.addr)
	ok := func(id uint32) {
		t.Helper()
		_, status, err := rc.streamEnd(id)
		require.NoError(t, err)
		require.Equal(t, "200", status)
	}
	reset := func(id uint32) {
		t.Helper()
		code, status, err := rc.streamEnd(id)
		require.NoError(t, err)
		require.Empty(t, status)
		require.Equal(t, http2.ErrCodeProtocol, code)
	}

	// te: trailers is allowed; x-n enters the dynamic table.
	rc.headers(1, true, reqFields("te", "trailers", "x-n", "one")...)
	ok(1)
	// Padded, with priority: the connection field is indexed by the encoder.
	blk := rc.block(reqFields("x-n", "one", "connection", "close")...)
	require.NoError(t, rc.fr.WriteHeaders(http2.HeadersFrameParam{
		StreamID: 3, BlockFragment: blk, EndStream: true, EndHeaders: true, PadLength: 7,
		Priority: http2.PriorityParam{StreamDep: 0, Weight: 10},
	}))
	reset(3)
	// Split over CONTINUATION frames, referring to the entries above.
	blk = rc.block(reqFields("x-n", "one", "connection", "close", "x-pad", strings.Repeat("p", 100))...)
	require.NoError(t, rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: blk[:3], EndStream: true}))
	require.NoError(t, rc.fr.WriteContinuation(5, false, blk[3:40]))
	require.NoError(t, rc.fr.WriteContinuation(5, true, blk[40:]))
	reset(5)
	// A valid request still decodes: HPACK stayed in step.
	rc.headers(7, true, reqFields("x-n", "two", "x-pad", strings.Repeat("p", 100))...)
	ok(7)
	assert.Equal(t, "two", gotN.Load())
	assert.Equal(t, int32(2), served.Load())
}
