package http2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

// Frame types and flags the guard looks at (RFC 9113 §6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePing         = 0x6
	frameGoAway       = 0x7
	frameContinuation = 0x9

	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4

	frameHeaderLen = 9
)

// drainTimeout bounds how long a tripped guard keeps reading (and discarding)
// after its GOAWAY, so that closing the socket does not reset the connection
// before the peer has read the GOAWAY.
const drainTimeout = time.Second

// drainLimit bounds how many bytes a tripped guard discards.
const drainLimit = 1 << 20

// frameHeader is the fixed 9-octet header of an HTTP/2 frame.
type frameHeader struct {
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
}

// frameScanner follows the frame boundaries of one direction of an HTTP/2
// byte stream. It copies nothing but the 9-octet frame headers: payload bytes
// are only counted.
type frameScanner struct {
	skip int // bytes still to pass before the first frame (the client preface)
	hdr  [frameHeaderLen]byte
	n    int    // bytes of hdr filled
	left uint32 // payload bytes of the current frame still to pass
}

// scan consumes p, calling fn with each frame header as soon as its 9 octets
// are complete, and the offset in p where the frame's payload starts. It
// stops at, and returns, fn's first error.
func (s *frameScanner) scan(p []byte, fn func(h frameHeader, payloadOff int) error) error {
	total := len(p)
	for len(p) > 0 {
		if s.skip > 0 {
			k := min(s.skip, len(p))
			s.skip -= k
			p = p[k:]
			continue
		}
		if s.left > 0 {
			k := min(int(min(s.left, uint32(len(p)))), len(p))
			s.left -= uint32(k)
			p = p[k:]
			continue
		}
		k := copy(s.hdr[s.n:], p)
		s.n += k
		p = p[k:]
		if s.n < frameHeaderLen {
			return nil
		}
		s.n = 0
		h := frameHeader{
			length: uint32(s.hdr[0])<<16 | uint32(s.hdr[1])<<8 | uint32(s.hdr[2]),
			typ:    s.hdr[3],
			flags:  s.hdr[4],
			stream: binary.BigEndian.Uint32(s.hdr[5:]) & (1<<31 - 1),
		}
		s.left = h.length
		if err := fn(h, total-len(p)); err != nil {
			return err
		}
	}
	return nil
}

// atBoundary reports whether the stream so far ends exactly between frames.
func (s *frameScanner) atBoundary() bool { return s.skip == 0 && s.n == 0 && s.left == 0 }

// FloodLimit is a token bucket for one kind of suspicious frame: Burst
// frames are allowed at once and the allowance refills at PerSecond. The zero
// FloodLimit means "use the default"; a negative Burst disables the limit.
type FloodLimit struct {
	Burst     int
	PerSecond float64
}

func (l FloodLimit) orDefault(d FloodLimit) FloodLimit {
	if l.Burst == 0 && l.PerSecond == 0 {
		return d
	}
	return l
}

// bucket is a FloodLimit in use. It is not safe for concurrent use.
type bucket struct {
	limit  FloodLimit
	tokens float64
	last   time.Time
}

func newBucket(l FloodLimit) bucket { return bucket{limit: l, tokens: float64(l.Burst)} }

// take spends one token at now, reporting false when none is left.
func (b *bucket) take(now time.Time) bool {
	if b.limit.Burst < 0 {
		return true
	}
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(float64(b.limit.Burst), b.tokens+now.Sub(b.last).Seconds()*b.limit.PerSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// guardLimits are the resolved flood limits of a guard.
type guardLimits struct {
	maxContinuation int
	maxFrame        uint32 // SETTINGS_MAX_FRAME_SIZE the server announces
	tableSize       uint32 // SETTINGS_HEADER_TABLE_SIZE the server announces (0: 4096)
	pings           FloodLimit
	settings        FloodLimit
	resets          FloodLimit
	localResets     FloodLimit
	empty           FloodLimit
	countError      func(string)
}

// floodError is why a guard closed a connection.
type floodError struct{ kind string }

func (e *floodError) Error() string { return "http2: " + e.kind + " flood" }

// errGuardClosed is returned by writes after the guard closed the connection.
var errGuardClosed = errors.New("http2: connection closed by flood protection")

// guard sits between a downstream connection and x/net/http2's server. It
// watches the frame headers flowing in both directions and, when the client
// exceeds a flood limit, sends GOAWAY(ENHANCE_YOUR_CALM) at a frame boundary
// and closes the connection. x/net/http2 already bounds header list bytes,
// concurrent streams and queued control frames; the guard adds the per-kind
// rate limits and the CONTINUATION count it lacks.
type guard struct {
	net.Conn
	lim *guardLimits
	now func() time.Time

	// Read side: used only by the one goroutine that reads (x/net's frame reader).
	rd         frameScanner
	blocks     *blockFilter
	pend       []byte   // bytes to return before reading more
	pendBuf    []byte   // pend's backing array, reused
	settingsAt [][2]int // SETTINGS payloads (offset, length) in the current read
	contN      int
	pings      bucket
	settings   bucket
	resets     bucket
	empty      bucket
	maxStream  atomic.Uint32 // highest client stream id seen, for GOAWAY

	wmu         sync.Mutex
	wr          frameScanner
	localResets bucket
	tripped     error // non-nil once a flood was detected
	goAwaySent  bool

	wake atomic.Pointer[floodError] // a write-side flood the reader must finish

	finishOnce sync.Once
	finishing  atomic.Bool   // the drain's read deadline must stand
	finished   chan struct{} // closed when finish closed the connection
}

func newGuard(c net.Conn, lim *guardLimits) *guard {
	return &guard{
		Conn:        c,
		lim:         lim,
		now:         time.Now,
		rd:          frameScanner{skip: len(http2.ClientPreface)},
		blocks:      newBlockFilter(len(http2.ClientPreface), lim.maxFrame, lim.tableSize, lim.countError),
		pings:       newBucket(lim.pings),
		settings:    newBucket(lim.settings),
		resets:      newBucket(lim.resets),
		empty:       newBucket(lim.empty),
		localResets: newBucket(lim.localResets),
		finished:    make(chan struct{}),
	}
}

// Close closes the connection gracefully: it half-closes, then discards
// what the client still sends for up to drainTimeout, so the kernel does not
// answer that with a TCP reset that would destroy a GOAWAY in flight.
func (g *guard) Close() error {
	g.finish()
	return nil
}

// wait blocks until the guard has closed the connection.
func (g *guard) wait() { <-g.finished }

// err returns the flood that closed the connection, or nil.
func (g *guard) err() error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.tripped
}

// Read reads from the connection and checks every frame header read. Header
// blocks are passed on whole, once complete, through the blockFilter.
func (g *guard) Read(p []byte) (int, error) {
	for {
		if len(g.pend) > 0 {
			n := copy(p, g.pend)
			g.pend = g.pend[n:]
			return n, nil
		}
		n, err := g.Conn.Read(p)
		if fe := g.wake.Load(); fe != nil {
			g.finish()
			return 0, fe
		}
		if n > 0 {
			g.settingsAt = g.settingsAt[:0]
			if ferr := g.rd.scan(p[:n], g.onRead); ferr != nil {
				fe := ferr.(*floodError)
				g.trip(fe)
				g.finish()
				return 0, fe
			}
			var rest []byte
			if len(g.settingsAt) > 0 {
				var rerr error
				if rest, rerr = g.dedupeSettings(p[:n]); rerr != nil {
					return 0, rerr
				}
			}
			if cap(g.pendBuf) > 64<<10 {
				g.pendBuf = nil // a large header block passed: do not keep its memory
			}
			q := g.pendBuf[:0]
			n = g.blocks.filter(p[:n], &q, true)
			if len(rest) > 0 {
				g.blocks.filter(rest, &q, false)
			}
			g.pend, g.pendBuf = q, q
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
		// Everything read so far is a header block still held.
	}
}

// maxDedupeSettings bounds the SETTINGS frames the guard rewrites; x/net
// rejects frames with more than 100 settings anyway.
const maxDedupeSettings = 100

// dedupeSettings makes every SETTINGS frame in p (whose payloads start at
// g.settingsAt) carry each setting id once: x/net/http2 treats repeated ids
// as a connection error, but RFC 9113 §6.5.3 says to apply them in order,
// which for every defined setting ends where applying only the last value
// does. Earlier duplicates get distinct unknown ids, which a receiver must
// ignore (§6.5.2). A payload cut off at the end of p is completed by reading
// the rest first; that rest is returned, to follow p.
func (g *guard) dedupeSettings(p []byte) (rest []byte, err error) {
	for _, at := range g.settingsAt {
		off, length := at[0], at[1]
		payload := p[off:min(len(p), off+length)]
		if len(payload) < length {
			more := make([]byte, length-len(payload))
			if _, err := io.ReadFull(g.Conn, more); err != nil {
				return nil, err
			}
			_ = g.rd.scan(more, func(frameHeader, int) error { return nil }) // payload only
			full := append(bytes.Clone(payload), more...)
			rewriteDuplicateSettings(full)
			copy(payload, full)
			rest = full[len(payload):]
			continue
		}
		rewriteDuplicateSettings(payload)
	}
	return rest, nil
}

// rewriteDuplicateSettings gives each setting that a later one repeats an
// unknown id (0xf000 + index).
func rewriteDuplicateSettings(payload []byte) {
	n := len(payload) / 6
	for i := range n {
		id := binary.BigEndian.Uint16(payload[6*i:])
		for j := i + 1; j < n; j++ {
			if binary.BigEndian.Uint16(payload[6*j:]) == id {
				binary.BigEndian.PutUint16(payload[6*i:], 0xf000+uint16(i))
				break
			}
		}
	}
}

// onRead accounts for one frame sent by the client.
func (g *guard) onRead(h frameHeader, off int) error {
	switch h.typ {
	case frameHeaders:
		if h.stream > g.maxStream.Load() {
			g.maxStream.Store(h.stream)
		}
		g.contN = 0
		if h.length == 0 && h.flags&flagEndHeaders == 0 {
			return g.spend(&g.empty, "empty frame")
		}
	case frameContinuation:
		g.contN++
		if g.contN > g.lim.maxContinuation {
			return g.flood("continuation")
		}
		if h.length == 0 && h.flags&flagEndHeaders == 0 {
			return g.spend(&g.empty, "empty frame")
		}
	case frameData:
		if h.length == 0 && h.flags&flagEndStream == 0 {
			return g.spend(&g.empty, "empty frame")
		}
	case frameRSTStream:
		return g.spend(&g.resets, "rst_stream")
	case framePing:
		if h.flags&flagAck == 0 {
			return g.spend(&g.pings, "ping")
		}
	case frameSettings:
		if h.flags&flagAck == 0 {
			if h.length%6 == 0 && h.length > 6 && h.length <= 6*maxDedupeSettings && h.stream == 0 {
				g.settingsAt = append(g.settingsAt, [2]int{off, int(h.length)})
			}
			return g.spend(&g.settings, "settings")
		}
	}
	return nil
}

func (g *guard) spend(b *bucket, kind string) error {
	if b.take(g.now()) {
		return nil
	}
	return g.flood(kind)
}

func (g *guard) flood(kind string) error {
	if f := g.lim.countError; f != nil {
		f("flood_" + kind)
	}
	return &floodError{kind: kind}
}

// Write writes p, counting the RST_STREAM frames the server sends: a client
// that makes the server reset streams (CVE-2025-8671, "MadeYouReset") is
// treated like one that resets them itself.
func (g *guard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	if g.tripped != nil {
		return g.writeTripped(p)
	}
	var fe *floodError
	_ = g.wr.scan(p, func(h frameHeader, _ int) error {
		if h.typ == frameRSTStream && fe == nil && !g.localResets.take(g.now()) {
			fe = g.flood("local_reset").(*floodError)
		}
		return nil
	})
	n, err := g.Conn.Write(p)
	if fe != nil && err == nil {
		g.tripLocked(fe)
		// Wake the reader so it drains and closes the connection.
		g.wake.Store(fe)
		_ = g.Conn.SetReadDeadline(time.Now())
	}
	return n, err
}

// writeTripped passes on only what completes the frame in flight, then
// sends the pending GOAWAY; everything after is refused.
// g.wmu must be held.
func (g *guard) writeTripped(p []byte) (int, error) {
	if g.goAwaySent {
		return 0, errGuardClosed
	}
	n := 0
	for len(p) > n && !g.wr.atBoundary() {
		k := len(p) - n
		if g.wr.n > 0 {
			k = min(k, frameHeaderLen-g.wr.n)
		} else {
			k = min(k, int(min(g.wr.left, uint32(k))))
		}
		_ = g.wr.scan(p[n:n+k], func(frameHeader, int) error { return nil })
		w, err := g.Conn.Write(p[n : n+k])
		n += w
		if err != nil {
			return n, err
		}
	}
	if g.wr.atBoundary() {
		g.sendGoAway()
	}
	if n < len(p) {
		return n, errGuardClosed
	}
	return n, nil
}

// trip sends GOAWAY(ENHANCE_YOUR_CALM) as soon as the write side is between
// frames and stops all further writes.
func (g *guard) trip(fe *floodError) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.tripLocked(fe)
}

// g.wmu must be held.
func (g *guard) tripLocked(fe *floodError) {
	if g.tripped != nil {
		return
	}
	g.tripped = fe
	if g.wr.atBoundary() {
		g.sendGoAway()
	}
}

// g.wmu must be held.
func (g *guard) sendGoAway() {
	g.goAwaySent = true
	_ = g.Conn.SetWriteDeadline(time.Now().Add(drainTimeout))
	_, _ = g.Conn.Write(goAwayFrame(g.maxStream.Load(), http2.ErrCodeEnhanceYourCalm, g.tripped.(*floodError).kind))
}

// finish half-closes the connection, discards what the client still sends
// for a short while, then closes. It runs once; later calls wait for it.
func (g *guard) finish() {
	g.finishOnce.Do(g.drainAndClose)
}

func (g *guard) drainAndClose() {
	defer close(g.finished)
	g.finishing.Store(true)
	if cw, ok := g.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	end := time.Now().Add(drainTimeout)
	buf := make([]byte, 4096)
	for total := 0; total < drainLimit; {
		_ = g.Conn.SetReadDeadline(end) // again each time: x/net may have raced to clear it
		n, err := g.Conn.Read(buf)
		total += n
		if err != nil {
			break
		}
	}
	_ = g.Conn.Close()
}

// SetReadDeadline passes through unless the guard is closing the
// connection: x/net/http2 must not lift the drain's deadline.
func (g *guard) SetReadDeadline(t time.Time) error {
	if g.wake.Load() != nil || g.finishing.Load() {
		return nil
	}
	return g.Conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines, the read one only when SetReadDeadline
// would.
func (g *guard) SetDeadline(t time.Time) error {
	_ = g.SetReadDeadline(t)
	return g.Conn.SetWriteDeadline(t)
}

// goAwayFrame encodes a GOAWAY frame.
func goAwayFrame(last uint32, code http2.ErrCode, debug string) []byte {
	b := make([]byte, frameHeaderLen+8+len(debug))
	n := 8 + len(debug)
	b[0], b[1], b[2] = byte(n>>16), byte(n>>8), byte(n)
	b[3] = frameGoAway
	binary.BigEndian.PutUint32(b[9:], last&(1<<31-1))
	binary.BigEndian.PutUint32(b[13:], uint32(code))
	copy(b[17:], debug)
	return b
}

// isTimeout reports whether err is a deadline error.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
