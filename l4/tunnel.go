package l4

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
)

// ErrClientHelloTooLarge is the cause of the error a connection ends with
// when its ClientHello is longer than Options.MaxPeek.
var ErrClientHelloTooLarge = errors.New("l4: client hello longer than MaxPeek")

// buffer is a pooled copy buffer.
type buffer struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, bufSize)} }}

// getBuf returns a buffer of max(n, bufSize) bytes: a pooled one unless n
// is larger.
func getBuf(n int) *buffer {
	if n > bufSize {
		return &buffer{b: make([]byte, n)}
	}
	return bufPool.Get().(*buffer)
}

func putBuf(b *buffer) {
	if len(b.b) == bufSize {
		bufPool.Put(b)
	}
}

// atomicDuration is a time.Duration read and written atomically.
type atomicDuration struct{ v atomic.Int64 }

func (a *atomicDuration) Load() time.Duration   { return time.Duration(a.v.Load()) }
func (a *atomicDuration) Store(d time.Duration) { a.v.Store(int64(d)) }

// touch records activity now.
func (s *session) touch() { s.last.Store(time.Since(s.start)) }

// peek reads the start of the client's stream into buf until it is known
// whether it is a TLS ClientHello and, if it is, the whole of it has been
// read; it fills s.info and returns how many bytes it read. An error ends
// the connection.
func (s *session) peek(buf []byte) (int, error) {
	o := &s.p.opts
	c := s.client
	limit := min(o.MaxPeek, len(buf))
	if err := c.SetReadDeadline(s.start.Add(o.PeekTimeout)); err != nil {
		return 0, perr.Because(perr.ReadError, "l4: set read deadline", err).AsDown()
	}
	n, err := s.readHello(buf[:limit])
	if err == nil {
		if derr := c.SetReadDeadline(time.Time{}); derr != nil {
			err = perr.Because(perr.ReadError, "l4: clear read deadline", derr).AsDown()
		}
	}
	return n, err
}

// readHello is peek's read loop over buf, whose length is the limit.
func (s *session) readHello(buf []byte) (int, error) {
	n := 0
	for {
		m, rerr := s.client.Read(buf[n:])
		n += m
		if n > 0 {
			if buf[0] != recordTypeHS {
				return n, nil // not TLS: decided by the first byte
			}
			sni, alpn, err := ParseClientHello(buf[:n])
			switch {
			case err == nil:
				s.info.TLS, s.info.SNI, s.info.ALPN = true, sni, alpn
				return n, nil
			case err == ErrNotTLS:
				return n, nil
			case err != ErrNeedMore:
				return n, perr.Because(perr.ReadError, "l4: client hello", err).AsDown()
			case n == len(buf):
				return n, perr.Because(perr.ReadError, "l4: client hello longer than "+strconv.Itoa(len(buf))+" bytes", ErrClientHelloTooLarge).AsDown()
			}
		}
		if rerr == nil {
			continue
		}
		var ne net.Error
		switch {
		case errors.As(rerr, &ne) && ne.Timeout():
			if n == 0 {
				return 0, nil // a client waiting for the server to speak first
			}
			return n, perr.Because(perr.ReadTimedout, "l4: client hello not complete within "+s.p.opts.PeekTimeout.String(), rerr).AsDown()
		case rerr == io.EOF && n == 0:
			return 0, perr.Explain(perr.ConnectionClosed, "l4: client closed before sending").AsDown()
		case rerr == io.EOF:
			return n, perr.Because(perr.ConnectionClosed, "l4: client closed inside its client hello", io.ErrUnexpectedEOF).AsDown()
		}
		return n, perr.Because(perr.ReadError, "l4: read client hello", rerr).AsDown()
	}
}

// armIdle starts the idle timer: one timer per tunnel, which on firing
// either ends the tunnel or re-arms itself for the rest of the period.
func (s *session) armIdle() {
	d := s.p.opts.IdleTimeout
	if d < 0 {
		return
	}
	s.touch()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.done {
		return
	}
	s.callbacks.Add(1)
	s.idle = time.AfterFunc(d, s.checkIdle)
}

// checkIdle is the idle timer's callback.
func (s *session) checkIdle() {
	defer s.callbacks.Done()
	s.mu.Lock()
	if s.ended || s.done {
		s.mu.Unlock()
		return
	}
	d := s.p.opts.IdleTimeout
	quiet := time.Since(s.start) - s.last.Load()
	if quiet < d {
		s.callbacks.Add(1)
		s.idle.Reset(d - quiet)
		s.mu.Unlock()
		return
	}
	closeFn := s.endLocked(perr.Explain(perr.ReadTimedout, "l4: idle for "+d.String()))
	s.mu.Unlock()
	closeFn()
}

// pipe writes pending to dst, then copies src to dst until src ends. On
// EOF from src it half-closes dst (or, if dst cannot, ends the session);
// on an error it ends the session with it. srcSide is which side src is.
// It returns the bytes written to dst.
func (s *session) pipe(dst, src net.Conn, pending, buf []byte, srcSide perr.Source) int64 {
	var written int64
	if len(pending) > 0 {
		w, err := dst.Write(pending)
		written += int64(w)
		if err != nil {
			s.end(ioError(perr.WriteError, other(srcSide), err))
			return written
		}
	}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			s.touch()
			w, werr := dst.Write(buf[:n])
			written += int64(w)
			if werr != nil {
				s.end(ioError(perr.WriteError, other(srcSide), werr))
				return written
			}
			s.touch() // a long write to a slow reader is activity too
		}
		if rerr == nil {
			continue
		}
		if rerr == io.EOF {
			if cw, ok := dst.(interface{ CloseWrite() error }); !ok || cw.CloseWrite() != nil {
				s.end(nil)
			}
		} else {
			s.end(ioError(perr.ReadError, srcSide, rerr))
		}
		return written
	}
}

func other(side perr.Source) perr.Source {
	if side == perr.Downstream {
		return perr.Upstream
	}
	return perr.Downstream
}

// ioError types an I/O error of a tunnel. Errors after the session ended
// are never recorded (end keeps the first reason), so a read interrupted
// by our own Close does not show.
func ioError(t perr.ErrorType, side perr.Source, err error) error {
	what := "l4: read from "
	if t == perr.WriteError {
		what = "l4: write to "
	}
	if side == perr.Downstream {
		what += "client"
	} else {
		what += "upstream"
	}
	return perr.Create(t, side, what, err)
}
