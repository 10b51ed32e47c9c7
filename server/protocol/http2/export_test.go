package http2

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// ScanFrames exposes the frame scanner to the fuzz test: it feeds chunks
// (with a preface skip of skip bytes) and returns the frame headers seen as
// (length, type, flags, stream) quadruples.
func ScanFrames(skip int, chunks [][]byte) [][4]uint32 {
	s := frameScanner{skip: skip}
	var out [][4]uint32
	for _, c := range chunks {
		_ = s.scan(c, func(h frameHeader, _ int) error {
			out = append(out, [4]uint32{h.length, uint32(h.typ), uint32(h.flags), h.stream})
			return nil
		})
	}
	return out
}

// RewriteDuplicateSettings exposes rewriteDuplicateSettings.
func RewriteDuplicateSettings(payload []byte) { rewriteDuplicateSettings(payload) }

// FilterBlocks passes chunks through a header-block filter (preface skip of
// skip bytes, 16 KiB frames) and returns its output.
func FilterBlocks(skip int, chunks [][]byte) []byte {
	f := newBlockFilter(skip, 1<<14, 0, nil)
	var out []byte
	for _, c := range chunks {
		c = append([]byte(nil), c...)
		var q []byte
		n := f.filter(c, &q, true)
		out = append(out, c[:n]...)
		out = append(out, q...)
	}
	return out
}

// chunkConn is a net.Conn that reads data in pieces of at most chunk
// bytes, then io.EOF.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.data[:min(c.chunk, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) SetReadDeadline(time.Time) error { return nil }

// GuardRead passes data (which must start with the client preface) through
// a guard with flood limits off, the connection delivering at most chunk
// bytes per read and the caller reading with the sizes in reads, in turn.
// The first replay bytes come through a replayConn, as after PeekPreface;
// buffered selects the read buffer. It returns what x/net/http2 would read.
func GuardRead(data []byte, replay, chunk int, reads []int, buffered bool) ([]byte, error) {
	off := FloodLimit{Burst: -1}
	lim := &guardLimits{maxContinuation: 1 << 30, maxFrame: 1 << 14, pings: off, settings: off, resets: off, localResets: off, empty: off}
	var c net.Conn = &chunkConn{data: data[replay:], chunk: max(chunk, 1)}
	if replay > 0 {
		c = newReplayConn(c, bytes.Clone(data[:replay]))
	}
	g := newGuard(c, lim)
	g.buffered = buffered
	var out []byte
	for i := 0; ; i++ {
		p := make([]byte, max(reads[i%len(reads)], 1))
		n, err := g.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// recConn records writes, taking a moment for each so that writes pile up
// behind the flusher.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (c *recConn) Write(p []byte) (int, error) {
	time.Sleep(200 * time.Microsecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, p...)
	return len(p), nil
}

func (c *recConn) SetWriteDeadline(time.Time) error { return nil }
func (c *recConn) SetReadDeadline(time.Time) error  { return nil }

// GuardWrites writes chunks through a guard, trips it from another
// goroutine (as the reader does on a flood) when chunk tripAt is written,
// keeps writing the rest, and returns the bytes that reached the
// connection.
func GuardWrites(chunks [][]byte, tripAt int) []byte {
	off := FloodLimit{Burst: -1}
	lim := &guardLimits{maxContinuation: 16, maxFrame: 1 << 14, pings: off, settings: off, resets: off, localResets: off, empty: off}
	rc := &recConn{}
	g := newGuard(rc, lim)
	var wg sync.WaitGroup
	for i, c := range chunks {
		if i == tripAt {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g.trip(&floodError{kind: "ping"})
			}()
		}
		_, _ = g.Write(c)
	}
	wg.Wait()
	g.wmu.Lock()
	g.waitWrites()
	g.wmu.Unlock()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return bytes.Clone(rc.out)
}
