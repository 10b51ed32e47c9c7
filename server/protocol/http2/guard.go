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

	"github.com/pingora-go/pingora/server/internal/deadline"
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
	// writeTimeout bounds each write to the connection (0: unbounded): a
	// client that stops reading loses the connection after it, however
	// many streams it keeps opening (nginx's send_timeout).
	writeTimeout time.Duration
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
	buffered   bool     // read through rbuf (cleartext connections)
	rbuf       []byte   // read buffer, allocated on first use
	rpend      []byte   // filtered bytes in rbuf to return first
	rerr       error    // read error to return once rpend and pend are empty
	replay     []byte   // bytes read before the guard (PeekPreface), unscanned
	pend       []byte   // bytes to return before reading more (after rpend)
	pendBuf    []byte   // pend's backing array, reused
	settingsAt [][2]int // SETTINGS payloads (offset, length) in the current read
	contN      int
	pings      bucket
	settings   bucket
	resets     bucket
	empty      bucket
	maxStream  atomic.Uint32 // highest client stream id seen, for GOAWAY

	wmu         sync.Mutex
	wcond       sync.Cond // L is &wmu; signaled when the flusher makes progress
	wr          frameScanner
	wbuf        []byte          // bytes accepted by Write, not yet handed to the connection
	wspare      []byte          // the other write buffer, reused
	writing     bool            // the flusher is running: true whenever wbuf is not empty
	werr        error           // the flusher's write error; later writes return it
	drainBy     time.Time       // while closing: no write may last past this
	wdl         deadline.Coarse // the write deadline armWriteLocked keeps
	localResets bucket
	tripped     error // non-nil once a flood was detected
	goAwaySent  bool

	wake atomic.Pointer[floodError] // a write-side flood the reader must finish

	finishOnce sync.Once
	finishing  atomic.Bool   // the drain's read deadline must stand
	finished   chan struct{} // closed when finish closed the connection
}

// newGuard guards c. A replayConn from PeekPreface is unwrapped: its bytes
// are read first and the connection is used directly after them.
func newGuard(c net.Conn, lim *guardLimits) *guard {
	var replay []byte
	if rc, ok := c.(*replayConn); ok {
		c, replay = rc.Conn, rc.buf
	}
	_, isTLS := c.(connectionStater)
	g := &guard{
		Conn:        c,
		buffered:    !isTLS,
		replay:      replay,
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
	g.wcond.L = &g.wmu
	return g
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

// readBufSize is the guard's read buffer on a cleartext connection.
// x/net/http2's Framer reads each frame with two calls (the 9-octet header,
// then the payload) straight from the connection; without a buffer each is a
// read(2), and a client that pipelines ten small HEADERS frames costs twenty
// system calls where one will do. Reads at least this large bypass the buffer.
// A TLS connection buffers records itself and is read directly.
const readBufSize = 4 << 10

// Read reads from the connection and checks every frame header read. Header
// blocks are passed on whole, once complete, through the blockFilter.
func (g *guard) Read(p []byte) (int, error) {
	for {
		if len(g.rpend) > 0 {
			n := copy(p, g.rpend)
			g.rpend = g.rpend[n:]
			return n, nil
		}
		if len(g.pend) > 0 {
			n := copy(p, g.pend)
			g.pend = g.pend[n:]
			return n, nil
		}
		if err := g.rerr; err != nil {
			g.rerr = nil // once: a later read may succeed (a deadline moved)
			return 0, err
		}
		buf, direct := p, true
		if g.buffered && len(p) < readBufSize {
			if g.rbuf == nil {
				g.rbuf = make([]byte, readBufSize)
			}
			buf, direct = g.rbuf, false
		}
		var n int
		var err error
		if len(g.replay) > 0 {
			// Bytes PeekPreface read, not yet seen by the scanner.
			n = copy(buf, g.replay)
			g.replay = g.replay[n:]
		} else {
			n, err = g.Conn.Read(buf)
		}
		if fe := g.wake.Load(); fe != nil {
			g.finish()
			return 0, fe
		}
		if n > 0 {
			g.settingsAt = g.settingsAt[:0]
			if ferr := g.rd.scan(buf[:n], g.onRead); ferr != nil {
				fe := ferr.(*floodError)
				g.trip(fe)
				g.finish()
				return 0, fe
			}
			var rest []byte
			if len(g.settingsAt) > 0 {
				var rerr error
				if rest, rerr = g.dedupeSettings(buf[:n]); rerr != nil {
					return 0, rerr
				}
			}
			if cap(g.pendBuf) > 64<<10 {
				g.pendBuf = nil // a large header block passed: do not keep its memory
			}
			q := g.pendBuf[:0]
			n = g.blocks.filter(buf[:n], &q, true)
			if len(rest) > 0 {
				g.blocks.filter(rest, &q, false)
			}
			g.pend, g.pendBuf = q, q
		}
		if direct {
			if n > 0 || err != nil || len(p) == 0 {
				return n, err
			}
			continue // everything read so far is a header block still held
		}
		// Buffered: serve the filtered bytes first, an error after them.
		g.rpend = buf[:n]
		if n == 0 && len(g.pend) == 0 {
			if err != nil || len(p) == 0 {
				return 0, err
			}
			continue // a header block still held
		}
		g.rerr = err
	}
}

// rawReader reads what the guard has not scanned yet: replayed bytes, then
// the connection.
type rawReader struct{ g *guard }

func (r rawReader) Read(p []byte) (int, error) {
	if len(r.g.replay) > 0 {
		n := copy(p, r.g.replay)
		r.g.replay = r.g.replay[n:]
		return n, nil
	}
	return r.g.Conn.Read(p)
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
			if _, err := io.ReadFull(rawReader{g}, more); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF // the frame is cut off
				}
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

// Write coalescing. x/net/http2 flushes its 4 KiB frame buffer whenever its
// write queue runs empty: a response head and its body are usually two
// flushes, and a connection with many small streams does a write(2) per
// frame. The guard instead accepts small writes into a buffer and hands them
// to the connection from a flusher goroutine, which writes everything
// accepted while it was last busy in one call: writes become cheap, and
// flushes of many streams share one system call. Nothing waits on a timer:
// the flusher writes as soon as the scheduler runs it.
const (
	// directWriteSize: a write this large goes to the connection from the
	// caller, in order after the bytes accepted before it (no copy).
	directWriteSize = 8 << 10
	// maxPendingWrite bounds the accepted bytes; past it Write waits for the
	// flusher (backpressure, as a blocking write would give).
	maxPendingWrite = 64 << 10
	// keepWriteBuf is the largest buffer kept while the connection is idle.
	keepWriteBuf = 8 << 10
)

// Write writes p, counting the RST_STREAM frames the server sends: a client
// that makes the server reset streams (CVE-2025-8671, "MadeYouReset") is
// treated like one that resets them itself. Small writes are coalesced (see
// directWriteSize); an error of the connection is returned by the writes
// after it, and closes the connection as x/net/http2 would.
func (g *guard) Write(p []byte) (int, error) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	// Wait before p is scanned: every byte the write-side scanner has seen
	// must already be queued or written whenever the lock is released, so
	// that a GOAWAY placed by trip lands on a frame boundary of the wire.
	small := len(p) < directWriteSize
	for small && len(g.wbuf) >= maxPendingWrite && g.werr == nil && g.tripped == nil {
		g.wcond.Wait() // backpressure
	}
	for !small && g.writing && g.tripped == nil {
		g.wcond.Wait() // a direct write goes after the accepted bytes
	}
	if g.tripped != nil {
		g.waitWrites()
		return g.writeTripped(p)
	}
	if g.werr != nil {
		return 0, g.werr
	}
	var fe *floodError
	_ = g.wr.scan(p, func(h frameHeader, _ int) error {
		if h.typ == frameRSTStream && fe == nil && !g.localResets.take(g.now()) {
			fe = g.flood("local_reset").(*floodError)
		}
		return nil
	})
	n, err := len(p), error(nil)
	if small {
		g.wbuf = append(g.wbuf, p...)
		if !g.writing {
			g.writing = true
			go g.flushLoop()
		}
		if fe == nil {
			return n, nil
		}
		g.waitWrites() // p goes out before the GOAWAY
		err = g.werr
	} else {
		g.armWriteLocked()
		n, err = g.Conn.Write(p)
	}
	if fe != nil && err == nil {
		g.tripLocked(fe)
		// Wake the reader so it drains and closes the connection.
		g.wake.Store(fe)
		_ = g.Conn.SetReadDeadline(time.Now())
	}
	return n, err
}

// waitWrites waits until the flusher has written every accepted byte (or
// failed). g.wmu must be held.
func (g *guard) waitWrites() {
	for g.writing {
		g.wcond.Wait()
	}
}

// waitWritesFor is waitWrites for a connection that is closing: a client
// that does not read gets d to take the accepted bytes. g.wmu must be held.
func (g *guard) waitWritesFor(d time.Duration) {
	g.drainBy = time.Now().Add(d)
	if g.writing {
		g.wdl.Forget()
		_ = g.Conn.SetWriteDeadline(g.drainBy)
		g.waitWrites()
	}
}

// armWriteLocked sets the deadline of a write to the connection starting
// now: writeTimeout from now (kept coarsely: between it and 9/8 of it), or
// the drain's end while closing. The guard arms every write of its own;
// x/net/http2 sets no write deadline (no WriteByteTimeout: its writes end
// in the guard's buffer). g.wmu must be held.
func (g *guard) armWriteLocked() {
	if g.drainBy.IsZero() {
		_ = g.wdl.Set(g.Conn.SetWriteDeadline, g.lim.writeTimeout)
		return
	}
	g.wdl.Forget()
	_ = g.Conn.SetWriteDeadline(g.drainBy)
}

// flushLoop writes the accepted bytes until none are left.
func (g *guard) flushLoop() {
	g.wmu.Lock()
	for len(g.wbuf) > 0 && g.werr == nil {
		b := g.wbuf
		g.wbuf, g.wspare = g.wspare[:0], nil
		g.armWriteLocked()
		g.wmu.Unlock()
		_, err := g.Conn.Write(b)
		g.wmu.Lock()
		if g.wspare == nil && cap(b) <= maxPendingWrite {
			g.wspare = b[:0]
		}
		if err != nil {
			g.werr = err
		}
		g.wcond.Broadcast()
	}
	failed := g.werr != nil
	if failed {
		g.wbuf = nil
	}
	if cap(g.wspare) > keepWriteBuf {
		g.wspare = nil
	}
	if cap(g.wbuf) > keepWriteBuf {
		g.wbuf = nil
	}
	g.writing = false
	g.wcond.Broadcast()
	g.wmu.Unlock()
	if failed {
		// x/net/http2 closes the connection when a write fails; it has
		// been told this one succeeded.
		g.finish()
	}
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
	g.waitWritesFor(drainTimeout)
	g.tripLocked(fe)
}

// g.wmu must be held and no flusher running.
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
	g.wdl.Forget()
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
	// Accepted bytes go out before the write side closes, as they would
	// have had each write been a system call.
	g.wmu.Lock()
	g.waitWritesFor(drainTimeout)
	g.wmu.Unlock()
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
	return g.SetWriteDeadline(t)
}

// SetWriteDeadline passes through; the guard's next write arms its own
// deadline again.
func (g *guard) SetWriteDeadline(t time.Time) error {
	g.wdl.Forget()
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
