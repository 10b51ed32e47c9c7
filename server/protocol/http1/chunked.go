package http1

import (
	"bytes"

	"github.com/pingora-go/pingora/httpheader"
)

type chunkState uint8

const (
	chunkSize     chunkState = iota // expecting a chunk-size line
	chunkData                       // inside chunk data
	chunkDataCRLF                   // expecting the CRLF after chunk data
	chunkTrailer                    // inside the trailer section
	chunkDone                       // after the final CRLF
)

// ChunkedDecoder decodes a body in the chunked transfer coding (RFC 9112
// §7.1) incrementally and without copying: the data it returns are
// sub-slices of the input.
//
// It is strict: chunk sizes are 1 to 15 hex digits (a size that would
// overflow is rejected before it does), chunk lines end in CRLF (a bare LF
// is an error: CVE-2025-22871), chunk extensions are ignored but bounded in
// total per line by Limits.MaxChunkExtension and may hold no control byte
// other than HTAB, chunk data must be followed by CRLF, and trailer lines
// follow the rules of header lines, bounded by Limits.MaxTrailerBytes and
// Limits.MaxHeaderCount.
//
// Errors are *perr.Error values of type perr.InvalidChunk with no source
// set; the sessions mark them Downstream (400) or Upstream (502).
//
// The zero value is ready to use. A ChunkedDecoder must not be used by
// several goroutines at once.
type ChunkedDecoder struct {
	// Limits bounds chunk extensions and trailers. If nil, the defaults.
	Limits *Limits
	// Trailers, if not nil, receives the trailer fields (names and order
	// kept). Otherwise trailers are checked and discarded.
	Trailers *httpheader.Header

	state        chunkState
	left         int64 // bytes left in the current chunk
	trailerBytes int
	trailerCount int
}

// Reset makes d ready for a new body, keeping Limits and Trailers (which it
// does not reset).
func (d *ChunkedDecoder) Reset() {
	d.state, d.left, d.trailerBytes, d.trailerCount = chunkSize, 0, 0, 0
}

// Done reports whether the last chunk and the trailer section were decoded.
func (d *ChunkedDecoder) Done() bool { return d.state == chunkDone }

// Decode decodes from the start of src. It returns the number of bytes of
// src consumed, which the caller must drop before the next call, and data:
// body bytes found, a sub-slice of src counted in n (nil if none). It stops
// after returning data, so data is always one contiguous piece.
//
// err is ErrIncomplete when src ends inside a chunk line, the CRLF after
// chunk data or a trailer line and no data was found: call again with more
// bytes appended to the unconsumed rest (n may still be above 0). Once Done
// is true Decode consumes nothing: what follows belongs to the next message.
func (d *ChunkedDecoder) Decode(src []byte) (n int, data []byte, err error) {
	for {
		switch d.state {
		case chunkDone:
			return n, nil, nil
		case chunkData:
			if n == len(src) {
				return n, nil, ErrIncomplete
			}
			take := min(int64(len(src)-n), d.left)
			data = src[n : n+int(take)]
			n += int(take)
			if d.left -= take; d.left == 0 {
				d.state = chunkDataCRLF
			}
			return n, data, nil
		case chunkDataCRLF:
			switch {
			case len(src)-n >= 2 && src[n] == '\r' && src[n+1] == '\n':
				n += 2
				d.state = chunkSize
			case len(src)-n >= 2 || (len(src)-n == 1 && src[n] != '\r'):
				return n, nil, chunkError("http1: chunk data not followed by CRLF")
			default:
				return n, nil, ErrIncomplete
			}
		case chunkSize:
			used, e := d.sizeLine(src[n:])
			if e != nil {
				return n, nil, e
			}
			n += used
		case chunkTrailer:
			name, value, next, f := parseFieldLine(src, n)
			if f.status != 0 {
				return n, nil, chunkError("http1: bad trailer line: " + f.msg[len("http1: "):])
			}
			if next == 0 {
				if len(src)-n > d.Limits.trailerBytes()-d.trailerBytes {
					return n, nil, chunkError("http1: trailer section too large")
				}
				return n, nil, ErrIncomplete
			}
			d.trailerBytes += next - n
			if d.trailerBytes > d.Limits.trailerBytes() {
				return n, nil, chunkError("http1: trailer section too large")
			}
			n = next
			if name == nil {
				d.state = chunkDone
				continue
			}
			if d.trailerCount++; d.trailerCount > d.Limits.headerCount() {
				return n, nil, chunkError("http1: too many trailer fields")
			}
			if d.Trailers != nil {
				d.Trailers.AppendBytesUnchecked(name, value)
			}
		}
	}
}

// maxHexDigits is the longest chunk size accepted: 15 hex digits stay below
// 2^60, far above any real body and safe from int64 overflow.
const maxHexDigits = 15

// sizeLine parses a chunk-size line at the start of b and returns its
// length, or ErrIncomplete.
func (d *ChunkedDecoder) sizeLine(b []byte) (int, error) {
	maxExt := d.Limits.chunkExtension()
	lf := bytes.IndexByte(b, '\n')
	if lf < 0 {
		if len(b) > maxHexDigits+maxExt+1 {
			return 0, chunkError("http1: chunk extension too long")
		}
		if i := bytes.IndexByte(b, '\r'); i >= 0 && i != len(b)-1 {
			return 0, chunkError("http1: bare CR in chunk line")
		}
		return 0, ErrIncomplete
	}
	if lf == 0 || b[lf-1] != '\r' {
		return 0, chunkError("http1: chunk line not ended by CRLF")
	}
	line := b[:lf-1]
	var size int64
	i := 0
	for ; i < len(line); i++ {
		v := unhex(line[i])
		if v < 0 {
			break
		}
		if i == maxHexDigits {
			return 0, chunkError("http1: chunk size too large")
		}
		size = size<<4 | int64(v)
	}
	if i == 0 {
		return 0, chunkError("http1: invalid chunk size")
	}
	ext := line[i:]
	if len(ext) > maxExt {
		return 0, chunkError("http1: chunk extension too long")
	}
	if len(ext) > 0 {
		// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
		// Extensions are ignored, so only their shape at the start and
		// their bytes are checked.
		j := 0
		for j < len(ext) && (ext[j] == ' ' || ext[j] == '\t') {
			j++
		}
		if j == len(ext) || ext[j] != ';' {
			return 0, chunkError("http1: invalid chunk size")
		}
		if !httpheader.ValidValue(ext) {
			return 0, chunkError("http1: invalid byte in chunk extension")
		}
	}
	if size == 0 {
		d.state = chunkTrailer
	} else {
		d.state, d.left = chunkData, size
	}
	return lf + 1, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
