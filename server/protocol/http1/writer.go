package http1

import (
	"net"
	"strconv"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/internal/rawsock"
)

// ioConn returns the connection a session reads and writes through:
// conn's socket with raw system calls when conn is (or wraps, as
// connector.Conn does) a TCP or Unix socket on Linux (see package
// rawsock), else conn itself.
func ioConn(conn net.Conn) net.Conn {
	if rc := rawsock.Wrap(conn); rc != nil {
		return rc
	}
	return conn
}

var crlf = []byte("\r\n")

// Chunks up to smallChunk bytes are framed in a pooled buffer and written
// at once; larger ones go out as a vectored write of header, data, CRLF.
const smallChunk = 8 << 10

var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 0, smallChunk+32); return &b }}

// bodyWriter writes one message body with its framing.
type bodyWriter struct {
	conn    net.Conn
	dl      *deadlines
	kind    BodyKind
	left    int64 // BodyLength: bytes still to write
	done    bool
	src     perr.Source // the side the connection faces, for errors
	timeout time.Duration
	written int64
	hdr     [20]byte
	vec     net.Buffers
	vecArr  [4][]byte

	// held is set while *head holds a message head not yet written: it goes
	// out with the first body bytes (one write), at finish or at flush.
	held    bool
	head    *[]byte
	copyMax int // coalesceMax or coalesceVecMax
}

// coalesceMax is the most body bytes copied behind a held head so that
// both go out in one write; larger bodies are written as a vector. On a
// connection with vectored writes (writev: TCP and Unix sockets) only up
// to coalesceVecMax is copied, since the vector costs the same one system
// call without the copy; TLS would send a vector as two records, so there
// the copy is worth more.
const (
	coalesceMax    = 16 << 10
	coalesceVecMax = 2 << 10
)

func (bw *bodyWriter) reset(conn net.Conn, dl *deadlines, fr Framing, src perr.Source, timeout time.Duration) {
	bw.conn, bw.dl, bw.kind, bw.left, bw.src, bw.timeout = conn, dl, fr.Kind, fr.Length, src, timeout
	bw.done, bw.written = fr.Kind == BodyNone, 0
	bw.held = false
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn, *rawsock.Conn:
		bw.copyMax = coalesceVecMax
	default:
		bw.copyMax = coalesceMax
	}
}

// hold keeps the head in *head for the first write (see held).
func (bw *bodyWriter) hold(head *[]byte) {
	bw.held, bw.head = true, head
}

// flush writes a held head.
func (bw *bodyWriter) flush() error {
	if !bw.held {
		return nil
	}
	bw.held = false
	return bw.writeDirect(*bw.head)
}

// writeRaw writes b with the write timeout, behind a held head if any.
func (bw *bodyWriter) writeRaw(b []byte) error {
	if bw.held {
		bw.held = false
		if len(b) <= bw.copyMax {
			*bw.head = append(*bw.head, b...)
			return bw.writeDirect(*bw.head)
		}
		bw.vecArr = [4][]byte{*bw.head, b}
		return bw.writeVec(bw.vecArr[:2])
	}
	return bw.writeDirect(b)
}

func (bw *bodyWriter) writeDirect(b []byte) error {
	bw.dl.write(bw.timeout)
	if _, err := bw.conn.Write(b); err != nil {
		return writeError(err, bw.src)
	}
	return nil
}

// writeVec writes v in one vectored write where the conn supports it.
func (bw *bodyWriter) writeVec(v [][]byte) error {
	bw.dl.write(bw.timeout)
	var err error
	if rc, ok := bw.conn.(*rawsock.Conn); ok {
		_, err = rc.Writev(v)
	} else {
		bw.vec = v
		_, err = bw.vec.WriteTo(bw.conn)
	}
	bw.vecArr = [4][]byte{}
	if err != nil {
		return writeError(err, bw.src)
	}
	return nil
}

// write writes body bytes p in the body's framing.
func (bw *bodyWriter) write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	switch {
	case bw.done && bw.kind == BodyNone:
		return 0, ErrBodyNotAllowed
	case bw.done:
		return 0, ErrBodyTooLong
	}
	switch bw.kind {
	case BodyLength:
		if int64(len(p)) > bw.left {
			return 0, ErrBodyTooLong
		}
		if err := bw.writeRaw(p); err != nil {
			return 0, err
		}
		bw.left -= int64(len(p))
		bw.done = bw.left == 0
	case BodyChunked:
		h := strconv.AppendInt(bw.hdr[:0], int64(len(p)), 16)
		h = append(h, '\r', '\n')
		if len(p) <= smallChunk {
			// One write, so a TLS conn sends one record, not three.
			bp := chunkBufs.Get().(*[]byte)
			b := append(append(append((*bp)[:0], h...), p...), crlf...)
			err := bw.writeRaw(b)
			chunkBufs.Put(bp)
			if err != nil {
				return 0, err
			}
			break
		}
		v := bw.vecArr[:0]
		if bw.held {
			bw.held = false
			v = append(v, *bw.head)
		}
		v = append(v, h, p, crlf)
		if err := bw.writeVec(v); err != nil {
			return 0, err
		}
	default:
		if err := bw.writeRaw(p); err != nil {
			return 0, err
		}
	}
	bw.written += int64(len(p))
	return len(p), nil
}

// finish ends the body: the last chunk and trailers for chunked, a check
// that the whole length was written for Content-Length.
func (bw *bodyWriter) finish(trailers *httpheader.Header, scratch *[]byte) error {
	if bw.held && (bw.done || bw.kind != BodyChunked || bw.head != scratch) {
		if err := bw.flush(); err != nil {
			return err
		}
	}
	if bw.done {
		return nil
	}
	switch bw.kind {
	case BodyLength:
		return perr.Create(perr.PrematureBodyEnd, perr.Internal, "http1: body shorter than its content-length", nil)
	case BodyChunked:
		b := (*scratch)[:0]
		if bw.held {
			// the last chunk goes out with the held head
			b = *scratch
			bw.held = false
		}
		b = append(b, '0', '\r', '\n')
		if trailers != nil {
			b = trailers.AppendWire(b)
		}
		b = append(b, '\r', '\n')
		*scratch = b
		if err := bw.writeRaw(b); err != nil {
			return err
		}
	}
	bw.done = true
	return nil
}
