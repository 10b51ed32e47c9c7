package cache

import (
	"errors"
	"io"
)

// RangeResponse says how to send the body of a response after
// RangeHeaderFilter: which bytes of the full body, and for RangeMulti how
// to frame them (RFC 9110 §14.6). Its fields may also be set directly,
// for example to serve ranges from a representation whose header was
// built elsewhere.
type RangeResponse struct {
	// Kind is the outcome; RangeNone and RangeInvalid send the full body.
	Kind RangeKind
	// Ranges are the ranges to send, ascending and disjoint.
	Ranges []ByteRange
	// Length is the complete length of the representation, written in
	// each Content-Range.
	Length int64
	// Boundary separates the parts of a RangeMulti body. It must not
	// occur in the body (RFC 2046 §5.1.1): RangeHeaderFilter draws 128
	// random bits from crypto/rand (crypto/rand.Text, 26 characters).
	Boundary string
	// ContentType is the Content-Type of each part of a RangeMulti body;
	// empty omits the field.
	ContentType string
}

// BodySize returns the exact number of bytes Body yields, which is the
// response's Content-Length: the range's length for RangeSingle, the
// whole multipart body for RangeMulti, 0 for RangeUnsatisfiable, and -1
// for RangeNone and RangeInvalid (the full body, unchanged).
func (r *RangeResponse) BodySize() int64 {
	switch r.Kind {
	case RangeSingle:
		return r.Ranges[0].Len()
	case RangeUnsatisfiable:
		return 0
	case RangeMulti:
		var n int64
		for _, br := range r.Ranges {
			n += int64(r.partHeaderLen(br)) + br.Len()
		}
		return n + int64(len(r.closing()))
	}
	return -1
}

// partHeaderLen returns the length of a part's framing: its delimiter
// and header fields, and the CRLF after its data (sent before the next
// delimiter).
func (r *RangeResponse) partHeaderLen(br ByteRange) int {
	n := len("--") + len(r.Boundary) + len("\r\n")
	if r.ContentType != "" {
		n += len("Content-Type: ") + len(r.ContentType) + len("\r\n")
	}
	n += len("Content-Range: bytes ") + decimalLen(br.Start) + len("-") +
		decimalLen(br.End) + len("/") + decimalLen(r.Length) + len("\r\n\r\n")
	return n + len("\r\n") // the CRLF that ends this part's data
}

// closing returns the close delimiter.
func (r *RangeResponse) closing() string { return "--" + r.Boundary + "--\r\n" }

// appendPartHeader appends the framing before the data of part br.
func (r *RangeResponse) appendPartHeader(dst []byte, br ByteRange) []byte {
	dst = append(dst, "--"...)
	dst = append(dst, r.Boundary...)
	dst = append(dst, "\r\n"...)
	if r.ContentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, r.ContentType...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Range: "...)
	dst = appendContentRange(dst, br, r.Length)
	return append(dst, "\r\n\r\n"...)
}

// decimalLen returns the number of decimal digits of n ≥ 0.
func decimalLen(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// Body returns the body to send, read from src, the full body positioned
// at its start: src itself for RangeNone and RangeInvalid, an empty
// reader for RangeUnsatisfiable, the range's bytes for RangeSingle, and
// the multipart/byteranges body for RangeMulti:
//
//	--BOUNDARY\r\n
//	Content-Type: text/plain\r\n
//	Content-Range: bytes 0-4/20\r\n
//	\r\n
//	<bytes 0-4>\r\n
//	--BOUNDARY\r\n
//	...
//	--BOUNDARY--\r\n
//
// If src implements io.ReaderAt (as MemoryStorage's HitHandler does) the
// ranges are read at their offsets; otherwise src is read sequentially,
// skipping with io.Seeker if it implements it, else by reading and
// discarding. The reader returns io.ErrUnexpectedEOF if src ends before a
// range does. It belongs to one goroutine.
func (r *RangeResponse) Body(src io.Reader) io.Reader {
	switch r.Kind {
	case RangeNone, RangeInvalid:
		return src
	case RangeUnsatisfiable:
		return eofReader{}
	}
	b := &rangeBody{r: r, src: src, multi: r.Kind == RangeMulti}
	b.at, _ = src.(io.ReaderAt)
	b.seeker, _ = src.(io.Seeker)
	return b
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// rangeBody reads the ranges of a RangeResponse from a source.
type rangeBody struct {
	r      *RangeResponse
	src    io.Reader
	at     io.ReaderAt
	seeker io.Seeker
	multi  bool

	pos    int64  // read position in src (sequential reading)
	next   int    // index of the next part to start
	frame  []byte // framing bytes not yet returned
	buf    []byte // storage for frame
	off    int64  // offset in src of the current part's next byte
	remain int64  // bytes of the current part not yet returned
	closed bool   // the close delimiter was queued
	err    error
}

func (b *rangeBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if b.err != nil {
			return 0, b.err
		}
		if len(b.frame) > 0 {
			n := copy(p, b.frame)
			b.frame = b.frame[n:]
			return n, nil
		}
		if b.remain > 0 {
			return b.readData(p)
		}
		switch {
		case b.next < len(b.r.Ranges):
			br := b.r.Ranges[b.next]
			if b.multi {
				b.buf = b.buf[:0]
				if b.next > 0 {
					b.buf = append(b.buf, "\r\n"...)
				}
				b.buf = b.r.appendPartHeader(b.buf, br)
				b.frame = b.buf
			}
			b.next++
			b.off, b.remain = br.Start, br.Len()
		case b.multi && !b.closed:
			b.closed = true
			b.buf = append(append(b.buf[:0], "\r\n"...), b.r.closing()...)
			b.frame = b.buf
		default:
			b.err = io.EOF
		}
	}
}

// readData reads bytes of the current part into p.
func (b *rangeBody) readData(p []byte) (int, error) {
	p = p[:min(int64(len(p)), b.remain)]
	var n int
	var err error
	if b.at != nil {
		n, err = b.at.ReadAt(p, b.off)
	} else {
		if err = b.skipTo(b.off); err != nil {
			b.err = err
			return 0, err
		}
		n, err = b.src.Read(p)
		b.pos += int64(n)
	}
	b.off += int64(n)
	b.remain -= int64(n)
	switch {
	case n > 0 || err == nil:
		return n, nil // a short read's error shows again on the next call
	case errors.Is(err, io.EOF):
		err = io.ErrUnexpectedEOF
	}
	b.err = err
	return 0, err
}

// skipTo moves the sequential read position forward to off.
func (b *rangeBody) skipTo(off int64) error {
	if b.pos == off {
		return nil
	}
	if b.seeker != nil {
		if _, err := b.seeker.Seek(off, io.SeekStart); err != nil {
			return err
		}
		b.pos = off
		return nil
	}
	n, err := io.CopyN(io.Discard, b.src, off-b.pos)
	b.pos += n
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
