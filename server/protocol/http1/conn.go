package http1

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
)

// Read buffers come from two pools: every connection starts with a small
// one and moves to a large one only for a head or line that needs it. The
// large buffer has room past the 64 KiB limit so that a head over the limit
// is seen as such.
var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, minBuffer); return &b }}
	largeBufs = sync.Pool{New: func() any { b := make([]byte, maxBuffer+4096); return &b }}
)

// reader is the buffered read side of a connection. Bytes in buf[r:w] were
// read from conn and not yet consumed.
type reader struct {
	conn net.Conn
	dl   *deadlines // the session's, for body reads
	buf  *[]byte    // nil while idle
	r, w int
}

func (rd *reader) buffered() []byte {
	if rd.buf == nil {
		return nil
	}
	return (*rd.buf)[rd.r:rd.w]
}

func (rd *reader) consume(n int) {
	rd.r += n
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
	}
}

// fill reads once from conn into the free space of the buffer, moving
// unconsumed bytes to the front first and growing to the large buffer if
// the small one is full. It returns io.ErrShortBuffer if the large buffer
// is full.
func (rd *reader) fill() (int, error) {
	if rd.buf == nil {
		rd.buf = smallBufs.Get().(*[]byte)
	}
	b := *rd.buf
	if rd.w == len(b) && rd.r > 0 {
		copy(b, b[rd.r:rd.w])
		rd.w -= rd.r
		rd.r = 0
	}
	if rd.w == len(b) {
		if len(b) != minBuffer {
			return 0, io.ErrShortBuffer
		}
		nb := largeBufs.Get().(*[]byte)
		copy(*nb, b[rd.r:rd.w])
		rd.w -= rd.r
		rd.r = 0
		smallBufs.Put(rd.buf)
		rd.buf, b = nb, *nb
	}
	n, err := rd.conn.Read(b[rd.w:])
	rd.w += n
	return n, err
}

// release returns the buffer to its pool if nothing is buffered.
func (rd *reader) release() {
	if rd.buf == nil || rd.r != rd.w {
		return
	}
	if len(*rd.buf) == minBuffer {
		smallBufs.Put(rd.buf)
	} else {
		largeBufs.Put(rd.buf)
	}
	rd.buf, rd.r, rd.w = nil, 0, 0
}

// take returns a copy of the buffered bytes and releases the buffer.
func (rd *reader) take() []byte {
	out := bytes.Clone(rd.buffered())
	rd.r = rd.w
	rd.release()
	return out
}

// headEnd reports whether b holds the blank line ending a head (a bare LF
// counts, so that the parser sees and rejects it).
func headEnd(b []byte) bool {
	return bytes.Contains(b, []byte("\n\r\n")) || bytes.Contains(b, []byte("\n\n"))
}

// readHead reads until parse accepts a head. parse is called when a head
// end is buffered, after the first read and when the buffer holds more than
// maxHead bytes or a start line longer than maxLine (so limits are reported
// without quadratic re-parsing of a trickled head). deadline applies to the
// whole head. It returns the number of bytes the head took, or the parse or
// I/O error; got reports whether any byte of the head had arrived.
//
// arm, if not nil, is called once before the first read from conn (to set
// the deadline), so that a head already buffered costs no deadline change.
func (rd *reader) readHead(parse func([]byte) (int, error), maxLine, maxHead int, arm func()) (n int, got bool, err error) {
	first := true
	scanned := 0 // b[:scanned] holds no head end (so each byte is searched once)
	lineEnd := false
	for {
		b := rd.buffered()
		if len(b) > 0 {
			got = true
			lineEnd = lineEnd || bytes.IndexByte(b, '\n') >= 0
			from := max(scanned-2, 0)
			end := headEnd(b[from:])
			scanned = len(b)
			if first || end || len(b) > maxHead || (!lineEnd && len(b) > maxLine+1) {
				n, err := parse(b)
				if err == nil {
					return n, true, nil
				}
				if err != ErrIncomplete {
					return 0, true, err
				}
			}
			first = false
		}
		if arm != nil {
			arm()
			arm = nil
		}
		if n, err := rd.fill(); err != nil {
			if n > 0 {
				first = true // parse what arrived with the error first
				continue
			}
			return 0, got || rd.r != rd.w, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ioError classifies a read error on a body or head.
func ioError(err error, src perr.Source, what string) error {
	switch {
	case isTimeout(err):
		return perr.Create(perr.ReadTimedout, src, what, err)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
		return perr.Create(perr.ConnectionClosed, src, what, err)
	}
	return perr.Create(perr.ReadError, src, what, err)
}

func writeError(err error, src perr.Source) error {
	if isTimeout(err) {
		return perr.Create(perr.WriteTimedout, src, "http1: write", err)
	}
	return perr.Create(perr.WriteError, src, "http1: write", err)
}

// bodyReader reads one message body from a reader, never past its end.
type bodyReader struct {
	rd      *reader
	kind    BodyKind
	left    int64 // BodyLength: bytes still to read
	chunk   ChunkedDecoder
	pending []byte // decoded chunk data not yet returned (aliases rd's buffer)
	done    bool
	err     error // sticky
	src     perr.Source
	timeout time.Duration
	read    int64
	max     int64 // if > 0, more body bytes than this is a 413 error
}

func (br *bodyReader) reset(rd *reader, fr Framing, src perr.Source, timeout time.Duration, lim *Limits, trailers *httpheader.Header) {
	*br = bodyReader{rd: rd, kind: fr.Kind, left: fr.Length, src: src, timeout: timeout}
	br.chunk.Limits, br.chunk.Trailers = lim, trailers
	br.done = fr.Kind == BodyNone
}

func (br *bodyReader) fail(err error) (int, error) {
	br.err = err
	return 0, err
}

// Read reads body bytes into p. It returns io.EOF once the body is complete.
func (br *bodyReader) Read(p []byte) (int, error) {
	if br.err != nil {
		return 0, br.err
	}
	if len(br.pending) > 0 {
		n := copy(p, br.pending)
		br.pending = br.pending[n:]
		br.read += int64(n)
		return n, nil
	}
	if br.done {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	switch br.kind {
	case BodyLength:
		return br.readLength(p)
	case BodyChunked:
		n, err := br.readChunked(p)
		if br.max > 0 && br.read > br.max {
			return br.fail(requestError(fault{413, "http1: request body too large"}))
		}
		return n, err
	default:
		return br.readUntilClose(p)
	}
}

func (br *bodyReader) setDeadline() {
	br.rd.dl.read(br.timeout)
}

func (br *bodyReader) readLength(p []byte) (int, error) {
	if int64(len(p)) > br.left {
		p = p[:br.left]
	}
	var n int
	if b := br.rd.buffered(); len(b) > 0 {
		n = copy(p, b)
		br.rd.consume(n)
	} else {
		br.setDeadline()
		var err error
		n, err = br.rd.conn.Read(p)
		if n == 0 && err != nil {
			if err == io.EOF {
				return br.fail(perr.Create(perr.PrematureBodyEnd, br.src, "http1: body shorter than its content-length", err))
			}
			return br.fail(ioError(err, br.src, "http1: read body"))
		}
	}
	br.left -= int64(n)
	br.read += int64(n)
	if br.left == 0 {
		br.done = true
		return n, io.EOF
	}
	return n, nil
}

func (br *bodyReader) readChunked(p []byte) (int, error) {
	for {
		if b := br.rd.buffered(); len(b) > 0 {
			n, data, err := br.chunk.Decode(b)
			br.rd.consume(n) // data stays in memory: consume never moves bytes
			switch {
			case len(data) > 0:
				c := copy(p, data)
				br.pending = data[c:]
				br.read += int64(c)
				return c, nil
			case br.chunk.Done():
				br.done = true
				return 0, io.EOF
			case err != nil && err != ErrIncomplete:
				if e, ok := err.(*perr.Error); ok {
					setSource(e, br.src)
				}
				return br.fail(err)
			}
		}
		br.setDeadline()
		if n, err := br.rd.fill(); err != nil && n == 0 {
			if err == io.EOF {
				return br.fail(perr.Create(perr.PrematureBodyEnd, br.src, "http1: chunked body ended early", err))
			}
			if err == io.ErrShortBuffer {
				return br.fail(perr.Create(perr.InvalidChunk, br.src, "http1: chunk line too long", nil))
			}
			return br.fail(ioError(err, br.src, "http1: read body"))
		}
	}
}

func (br *bodyReader) readUntilClose(p []byte) (int, error) {
	if b := br.rd.buffered(); len(b) > 0 {
		n := copy(p, b)
		br.rd.consume(n)
		br.read += int64(n)
		return n, nil
	}
	br.setDeadline()
	n, err := br.rd.conn.Read(p)
	br.read += int64(n)
	if err == io.EOF {
		br.done = true
		return n, io.EOF
	}
	if err != nil && n == 0 {
		return br.fail(ioError(err, br.src, "http1: read body"))
	}
	return n, nil
}

// drain reads and discards the rest of the body, at most limit bytes. It
// reports whether the body was completed.
func (br *bodyReader) drain(limit int64) bool {
	if br.kind == BodyUntilClose || br.kind == BodyTunnel {
		return false
	}
	var scratch [4096]byte
	start := br.read
	for !br.done && br.err == nil {
		if br.read-start >= limit {
			return false
		}
		_, err := br.Read(scratch[:min(int64(len(scratch)), limit-(br.read-start))])
		if err != nil && err != io.EOF {
			return false
		}
	}
	return br.done && br.err == nil
}

func setSource(e *perr.Error, src perr.Source) {
	if src == perr.Upstream {
		e.AsUp()
	} else {
		e.AsDown()
	}
}
