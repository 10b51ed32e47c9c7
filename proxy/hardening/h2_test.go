package hardening

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is an HTTP/2 attacker speaking h2c with prior knowledge through
// an x/net/http2 Framer.
type h2Conn struct {
	t   *testing.T
	c   net.Conn
	fr  *http2.Framer
	buf bytes.Buffer
	enc *hpack.Encoder
	// noAck stops read from acknowledging SETTINGS: set it before another
	// goroutine writes frames (a Framer allows one writer).
	noAck bool
}

func (e *env) dialH2(settings ...http2.Setting) *h2Conn {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.addr, time.Second)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = c.Close() })
	h := &h2Conn{t: e.t, c: c}
	h.fr = http2.NewFramer(c, c)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.fr.MaxHeaderListSize = 1 << 20
	h.fr.AllowIllegalWrites = true // attacks send what the spec forbids
	h.enc = hpack.NewEncoder(&h.buf)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, http2.ClientPreface)
	require.NoError(e.t, err)
	require.NoError(e.t, h.fr.WriteSettings(settings...))
	return h
}

// block encodes header fields given as name, value pairs.
func (h *h2Conn) block(kv ...string) []byte {
	h.buf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = h.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(h.buf.Bytes())
}

func reqFields(path string, extra ...string) []string {
	return append([]string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", path}, extra...)
}

// request sends a complete HEADERS frame.
func (h *h2Conn) request(id uint32, endStream bool, kv ...string) error {
	return h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.block(kv...), EndStream: endStream, EndHeaders: true})
}

// outcome is what the server did: the first response status of a stream,
// RST_STREAM codes, a GOAWAY code, and whether the connection closed.
type outcome struct {
	status  map[uint32]string
	rst     map[uint32]http2.ErrCode
	goaway  *http2.ErrCode
	closed  bool
	dataLen int
}

// read reads frames until stop says so, the connection ends or d passes.
// It acknowledges SETTINGS.
func (h *h2Conn) read(d time.Duration, stop func(*outcome) bool) *outcome {
	o := &outcome{status: map[uint32]string{}, rst: map[uint32]http2.ErrCode{}}
	_ = h.c.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				o.closed = true
			}
			return o
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && !h.noAck {
				_ = h.fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if _, ok := o.status[f.StreamID]; !ok {
				o.status[f.StreamID] = f.PseudoValue("status")
			}
		case *http2.RSTStreamFrame:
			o.rst[f.StreamID] = f.ErrCode
		case *http2.GoAwayFrame:
			code := f.ErrCode
			o.goaway = &code
		case *http2.DataFrame:
			o.dataLen += len(f.Data())
		}
		if stop != nil && stop(o) {
			return o
		}
	}
}

// untilEnd reads until the connection closes (or d).
func (h *h2Conn) untilEnd(d time.Duration) *outcome { return h.read(d, nil) }

// streamDone stops when stream id got a status or a reset.
func streamDone(id uint32) func(*outcome) bool {
	return func(o *outcome) bool {
		_, s := o.status[id]
		_, r := o.rst[id]
		return s || r || o.goaway != nil
	}
}

// rejected reports that stream id was refused: RST_STREAM, a 4xx status,
// or a connection error.
func (o *outcome) rejected(id uint32) bool {
	if _, ok := o.rst[id]; ok {
		return true
	}
	if st := o.status[id]; st != "" && st[0] == '4' {
		return true
	}
	return o.goaway != nil && *o.goaway != http2.ErrCodeNo || o.closed
}

// TestH2_Baseline: a normal h2c request is proxied (control for the rest).
func TestH2_Baseline(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	require.NoError(t, h.request(1, true, reqFields("/")...))
	o := h.read(ioWait, streamDone(1))
	assert.Equal(t, "200", o.status[1])
	assert.Len(t, e.origin.Requests(), 1)
}

// TestH2_SettingsFlood and TestH2_PingFlood: floods of control frames end
// in GOAWAY(ENHANCE_YOUR_CALM) or a close (RFC 9113 §10.5).
func TestH2_SettingsFlood(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	h.noAck = true
	go func() {
		for range 20000 {
			if h.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 65535}) != nil {
				return
			}
		}
	}()
	o := h.untilEnd(ioWait)
	assert.True(t, o.closed || o.goaway != nil, "the flood must end the connection")
	if o.goaway != nil {
		assert.Equal(t, http2.ErrCodeEnhanceYourCalm, *o.goaway)
	}
}

func TestH2_PingFlood(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	h.noAck = true
	go func() {
		for i := range 20000 {
			if h.fr.WritePing(false, [8]byte{byte(i)}) != nil {
				return
			}
		}
	}()
	o := h.untilEnd(ioWait)
	assert.True(t, o.closed || o.goaway != nil, "the flood must end the connection")
	if o.goaway != nil {
		assert.Equal(t, http2.ErrCodeEnhanceYourCalm, *o.goaway)
	}
}

// TestH2_EmptyFrameFlood: DATA frames with no payload and no END_STREAM.
func TestH2_EmptyFrameFlood(t *testing.T) {
	e := newEnv(t, func(oc *originConn) { _, _ = oc.nextHead(); oc.sleep(3 * time.Second) })
	h := e.dialH2()
	h.noAck = true
	require.NoError(t, h.request(1, false, append([]string{":method", "POST"}, reqFields("/")[2:]...)...))
	go func() {
		for range 20000 {
			if h.fr.WriteData(1, false, nil) != nil {
				return
			}
		}
	}()
	o := h.untilEnd(ioWait)
	assert.True(t, o.closed || o.goaway != nil, "the flood must end the connection")
}

// TestH2_HPACKBomb: one large literal entry in the dynamic table, then
// thousands of one-byte indexed references to it; the decoded list is far
// over the 64 KiB limit: 431, reset or close, nothing upstream.
func TestH2_HPACKBomb(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	h.buf.Reset()
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":authority", Value: "a"}, {Name: ":path", Value: "/"}} {
		_ = h.enc.WriteField(f)
	}
	_ = h.enc.WriteField(hpack.HeaderField{Name: "x-bomb", Value: strings.Repeat("b", 3900)})
	blk := h.buf.Bytes()
	// the newest dynamic entry has index 62: 0x80|62
	blk = append(blk, bytes.Repeat([]byte{0x80 | 62}, 8000)...)
	require.NoError(t, h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:min(len(blk), 16000)], EndStream: true, EndHeaders: len(blk) <= 16000}))
	rest := blk[min(len(blk), 16000):]
	for len(rest) > 0 {
		n := min(len(rest), 16000)
		if h.fr.WriteContinuation(1, n == len(rest), rest[:n]) != nil {
			break
		}
		rest = rest[n:]
	}
	o := h.read(ioWait, streamDone(1))
	assert.True(t, o.rejected(1), "a 30 MB decoded header list must be refused: %+v", o)
	assert.Empty(t, e.origin.Raw(), "nothing may go upstream")
}

// TestH2_ZeroWindow: a client that never opens its window cannot pin a
// stream forever: the stream is reset after the write timeout.
func TestH2_ZeroWindow(t *testing.T) {
	big := strings.Repeat("z", 256<<10)
	e := newEnv(t, respondAll("HTTP/1.1 200 OK\r\nContent-Length: "+itoa(len(big))+"\r\n\r\n"+big))
	h := e.dialH2(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	require.NoError(t, h.request(1, true, reqFields("/")...))
	start := time.Now()
	o := h.read(4*time.Second, func(o *outcome) bool { _, r := o.rst[1]; return r || o.goaway != nil })
	assert.True(t, o.rejected(1), "the stalled stream must be reset: %+v", o)
	assert.Zero(t, o.dataLen, "no DATA may be sent into a zero window")
	assert.Less(t, time.Since(start), 4*time.Second)
}

// TestH2_StreamLimit: HEADERS beyond SETTINGS_MAX_CONCURRENT_STREAMS are
// refused (RFC 9113 §5.1.2).
func TestH2_StreamLimit(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(oc *originConn) {
		if _, err := oc.next(); err == nil {
			select {
			case <-release:
			case <-oc.o.done:
			}
			oc.write(okResp)
		}
	}, func(c *config) { c.opts.DownstreamH2.MaxConcurrentStreams = 5 })
	defer close(release)
	h := e.dialH2()
	for i := range 8 {
		require.NoError(t, h.request(uint32(1+2*i), true, reqFields("/")...))
	}
	o := h.read(2*time.Second, func(o *outcome) bool { return len(o.rst) >= 3 || o.goaway != nil })
	refused := 0
	for i := range 8 {
		if o.rejected(uint32(1 + 2*i)) {
			refused++
		}
	}
	assert.GreaterOrEqual(t, refused, 3, "streams over the limit must be refused: %+v", o)
	assert.LessOrEqual(t, e.origin.Conns(), 5)
}

// TestH2_MalformedPseudoHeaders: malformed requests are stream errors and
// never forwarded (RFC 9113 §8.1.1, §8.2.1, §8.3.1).
func TestH2_MalformedPseudoHeaders(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name string
		kv   []string
	}{
		{"missing-path", []string{":method", "GET", ":scheme", "http", ":authority", "a"}},
		{"missing-method", []string{":scheme", "http", ":authority", "a", ":path", "/"}},
		{"missing-scheme", []string{":method", "GET", ":authority", "a", ":path", "/"}},
		{"duplicate-method", reqFields("/", ":method", "POST")},
		{"duplicate-path", append([]string{":path", "/x"}, reqFields("/")...)},
		{"unknown-pseudo", reqFields("/", ":foo", "bar")},
		{"pseudo-after-regular", append([]string{":method", "GET", ":scheme", "http", "x-a", "1"}, ":authority", "a", ":path", "/")},
		{"response-pseudo", reqFields("/", ":status", "200")},
		{"uppercase-name", reqFields("/", "X-Upper", "1")},
		{"empty-path", []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", ""}},
		{"space-in-name", reqFields("/", "x a", "1")},
		{"CRLF-in-value", reqFields("/", "x-a", "1\r\nx-injected: 1")},
		{"NUL-in-value", reqFields("/", "x-a", "1\x00")},
	}
	h := e.dialH2()
	id := uint32(1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if h == nil {
				h = e.dialH2()
				id = 1
			}
			require.NoError(t, h.request(id, true, tc.kv...))
			o := h.read(ioWait, streamDone(id))
			assert.True(t, o.rejected(id), "malformed request must be refused: %+v", o)
			if o.goaway != nil || o.closed {
				h = nil
			}
			id += 2
		})
	}
	assert.Empty(t, e.origin.Raw(), "nothing may go upstream")
}

// TestH2_DowngradeRules: connection-specific fields and a TE other than
// "trailers" make an HTTP/2 request malformed (RFC 9113 §8.2.2); the
// accepted forms reach HTTP/1 origins correctly (cookie crumbs joined, TE
// removed, no Transfer-Encoding smuggled).
func TestH2_DowngradeRules(t *testing.T) {
	e := newEnv(t, nil)
	for _, kv := range [][]string{
		{"connection", "keep-alive"}, {"keep-alive", "300"}, {"proxy-connection", "keep-alive"},
		{"transfer-encoding", "chunked"}, {"upgrade", "websocket"}, {"te", "gzip"}, {"te", "trailers, gzip"},
	} {
		t.Run(kv[0]+"="+kv[1], func(t *testing.T) {
			h := e.dialH2()
			require.NoError(t, h.request(1, true, reqFields("/", kv...)...))
			o := h.read(ioWait, streamDone(1))
			assert.True(t, o.rejected(1), "%s must be refused: %+v", kv[0], o)
		})
	}
	require.Empty(t, e.origin.Raw(), "nothing may go upstream")

	t.Run("accepted", func(t *testing.T) {
		h := e.dialH2()
		require.NoError(t, h.request(1, true, reqFields("/ok", "te", "trailers", "cookie", "a=1", "cookie", "b=2")...))
		o := h.read(ioWait, streamDone(1))
		require.Equal(t, "200", o.status[1])
		reqs := e.origin.Requests()
		require.Len(t, reqs, 1)
		assert.Equal(t, "a=1; b=2", reqs[0].Header.Get("Cookie"), "crumbs joined with \"; \" (RFC 9113 §8.2.3)")
		assert.Empty(t, reqs[0].Header.Get("Te"))
		assert.Empty(t, reqs[0].Header.Values("Transfer-Encoding"))
	})
	t.Run("content-length-mismatch", func(t *testing.T) {
		h := e.dialH2()
		require.NoError(t, h.request(3, false, ":method", "POST", ":scheme", "http", ":authority", "a", ":path", "/cl", "content-length", "5"))
		require.NoError(t, h.fr.WriteData(3, true, []byte("hello"+smuggled)))
		o := h.read(ioWait, streamDone(3))
		_ = o
		for _, r := range e.origin.Requests() {
			assert.NotEqual(t, "/smuggled", r.Target, "extra DATA must not become a request")
			if r.Target == "/cl" {
				assert.LessOrEqual(t, len(r.Body), 5)
			}
		}
	})
}

// TestH2_WindowUpdateZeroAndOverflow: WINDOW_UPDATE 0 and a window over
// 2^31-1 are errors (RFC 9113 §6.9).
func TestH2_WindowUpdateZeroAndOverflow(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("zero-conn", func(t *testing.T) {
		h := e.dialH2()
		require.NoError(t, h.fr.WriteWindowUpdate(0, 0))
		o := h.untilEnd(ioWait)
		assert.True(t, o.closed || o.goaway != nil)
	})
	t.Run("overflow-conn", func(t *testing.T) {
		h := e.dialH2()
		require.NoError(t, h.fr.WriteWindowUpdate(0, 1<<31-1))
		require.NoError(t, h.fr.WriteWindowUpdate(0, 1<<31-1))
		o := h.untilEnd(ioWait)
		require.NotNil(t, o.goaway)
		assert.Equal(t, http2.ErrCodeFlowControl, *o.goaway)
	})
}

// TestH2_ContinuationWithoutHeaders: a CONTINUATION not preceded by an open
// header block is a connection error (RFC 9113 §6.10).
func TestH2_ContinuationWithoutHeaders(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	require.NoError(t, h.fr.WriteContinuation(1, true, h.block(reqFields("/")...)))
	o := h.untilEnd(ioWait)
	require.True(t, o.closed || o.goaway != nil)
	if o.goaway != nil {
		assert.Equal(t, http2.ErrCodeProtocol, *o.goaway)
	}
	assert.Empty(t, e.origin.Raw())
}

// TestH2_OversizedFrame: a frame larger than SETTINGS_MAX_FRAME_SIZE is a
// FRAME_SIZE_ERROR (RFC 9113 §4.2).
func TestH2_OversizedFrame(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	require.NoError(t, h.request(1, false, append([]string{":method", "POST"}, reqFields("/")[2:]...)...))
	require.NoError(t, h.fr.WriteData(1, false, make([]byte, 20000)))
	o := h.untilEnd(ioWait)
	require.True(t, o.closed || o.goaway != nil)
	if o.goaway != nil {
		assert.Equal(t, http2.ErrCodeFrameSize, *o.goaway)
	}
}
