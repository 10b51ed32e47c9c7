package http2

import (
	"encoding/binary"

	"golang.org/x/net/http2/hpack"
)

const (
	flagPadded   = 0x8
	flagPriority = 0x20
)

// badField is appended to the header block of a malformed request: an HPACK
// "literal header field without indexing — new name" (RFC 7541 §6.2.2)
// named "X". It leaves the dynamic table alone, and x/net/http2 rejects the
// upper-case name with a stream error of type PROTOCOL_ERROR.
var badField = []byte{0x00, 0x01, 'X', 0x00}

// blockFilter sits on the read side of a guard and holds back each header
// block from the client (a HEADERS frame and its CONTINUATION frames) until
// it is complete. It decodes the block with an HPACK decoder kept in step
// with x/net/http2's (both see every block, in order), and when a request
// carries a connection-specific field or a TE other than "trailers" (RFC
// 9113 §8.2.2) it appends badField, so that x/net resets the stream with
// RST_STREAM(PROTOCOL_ERROR) as the RFC requires, where x/net on its own
// answers 400. Everything else passes through unchanged.
//
// A held block is bounded by the frame size limit times the CONTINUATION
// limit the guard enforces. Input it cannot follow (an oversized or
// interleaved frame, an HPACK error) turns it off for the rest of the
// connection; x/net then fails the connection itself.
type blockFilter struct {
	skip     int // preface bytes still to pass
	hdr      [frameHeaderLen]byte
	n        int    // bytes of hdr filled
	left     uint32 // payload bytes of the current frame still to pass or hold
	holding  bool   // the current frame belongs to a held block
	end      bool   // the held block's last frame had END_HEADERS
	off      bool   // out of step: pass everything through
	hold     []byte // the held frames, as on the wire
	maxFrame uint32
	last     uint32 // highest stream id a block was seen on
	dec      *hpack.Decoder
	checking bool // the block being decoded opens a request
	bad      bool // it carries a field RFC 9113 §8.2.2 forbids
	te       int  // TE fields in it
	count    func(string)
}

func newBlockFilter(skip int, maxFrame, tableSize uint32, count func(string)) *blockFilter {
	if tableSize == 0 {
		tableSize = 4096 // x/net/http2's, and the protocol's initial value
	}
	f := &blockFilter{skip: skip, maxFrame: maxFrame, count: count}
	f.dec = hpack.NewDecoder(tableSize, f.onField)
	return f
}

// onField checks one decoded field of a request.
func (f *blockFilter) onField(hf hpack.HeaderField) {
	switch hf.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		f.bad = true
	case "te":
		// As x/net/http2 checks it: one TE field, "trailers" (or empty).
		f.te++
		if f.te > 1 || (hf.Value != "trailers" && hf.Value != "") {
			f.bad = true
		}
	}
}

// filter passes p through the filter. Output bytes are compacted into p
// itself while they fit (the returned count) and appended to *q after
// that, or all to *q when inPlace is false; held bytes are removed.
func (f *blockFilter) filter(p []byte, q *[]byte, inPlace bool) int {
	w, i := 0, 0
	put := func(b []byte) {
		if inPlace && len(*q) == 0 && w+len(b) <= i {
			w += copy(p[w:], b)
			return
		}
		*q = append(*q, b...)
	}
	for i < len(p) {
		switch {
		case f.off:
			b := p[i:]
			i = len(p)
			put(b)
		case f.skip > 0:
			k := min(f.skip, len(p)-i)
			f.skip -= k
			i += k
			put(p[i-k : i])
		case f.left > 0:
			k := int(min(f.left, uint32(len(p)-i)))
			f.left -= uint32(k)
			i += k
			if f.holding {
				f.hold = append(f.hold, p[i-k:i]...)
				if f.left == 0 && f.end {
					f.complete(put)
				}
			} else {
				put(p[i-k : i])
			}
		default:
			k := copy(f.hdr[f.n:], p[i:])
			f.n += k
			i += k
			if f.n < frameHeaderLen {
				continue
			}
			f.n = 0
			length := uint32(f.hdr[0])<<16 | uint32(f.hdr[1])<<8 | uint32(f.hdr[2])
			typ, flags := f.hdr[3], f.hdr[4]
			f.left = length
			switch {
			case typ == frameHeaders && !f.holding && length <= f.maxFrame:
				f.holding, f.end = true, flags&flagEndHeaders != 0
				f.hold = append(f.hold[:0], f.hdr[:]...)
			case typ == frameContinuation && f.holding && length <= f.maxFrame:
				f.end = flags&flagEndHeaders != 0
				f.hold = append(f.hold, f.hdr[:]...)
			default:
				if f.holding || typ == frameHeaders || typ == frameContinuation {
					// A frame x/net will refuse: stop following.
					f.off = true
					f.holding = false
					put(f.hold)
					f.hold = nil
				}
				put(f.hdr[:])
				continue
			}
			if f.left == 0 && f.end {
				f.complete(put)
			}
		}
	}
	return w
}

// complete ends a held block: it is put through as it came, or rewritten.
func (f *blockFilter) complete(put func([]byte)) {
	blk := f.hold
	f.holding, f.end = false, false
	out := f.check(blk)
	if out == nil {
		put(blk)
	} else {
		put(out)
	}
	f.hold = f.hold[:0]
	if cap(f.hold) > 64<<10 {
		f.hold = nil
	}
}

// check decodes the block's fragments and returns the rewritten block for a
// malformed request, nil otherwise.
func (f *blockFilter) check(blk []byte) []byte {
	stream := binary.BigEndian.Uint32(blk[5:9]) & (1<<31 - 1)
	flags := blk[4]
	f.checking = stream > f.last && stream%2 == 1
	if stream > f.last {
		f.last = stream
	}
	f.bad, f.te = false, 0
	f.dec.SetEmitEnabled(f.checking)
	var prio []byte
	for rest, first := blk, true; len(rest) > 0; first = false {
		n := int(uint32(rest[0])<<16 | uint32(rest[1])<<8 | uint32(rest[2]))
		frag := rest[frameHeaderLen : frameHeaderLen+n]
		rest = rest[frameHeaderLen+n:]
		if first {
			var ok bool
			if frag, prio, ok = headersFragment(frag, flags); !ok {
				f.off = true
				return nil
			}
		}
		if _, err := f.dec.Write(frag); err != nil {
			f.off = true
			return nil
		}
	}
	if err := f.dec.Close(); err != nil {
		f.off = true
		return nil
	}
	if !f.checking || !f.bad {
		return nil
	}
	if f.count != nil {
		f.count("connection_specific_header")
	}
	return f.rewrite(blk, stream, flags, prio)
}

// headersFragment returns the header block fragment and priority fields of
// a HEADERS payload.
func headersFragment(payload []byte, flags uint8) (frag, prio []byte, ok bool) {
	if flags&flagPadded != 0 {
		if len(payload) < 1 || int(payload[0]) >= len(payload) {
			return nil, nil, false
		}
		payload = payload[1 : len(payload)-int(payload[0])]
	}
	if flags&flagPriority != 0 {
		if len(payload) < 5 {
			return nil, nil, false
		}
		prio, payload = payload[:5], payload[5:]
	}
	return payload, prio, true
}

// rewrite returns the block as HEADERS and CONTINUATION frames without
// padding, with badField appended to the fragments.
func (f *blockFilter) rewrite(blk []byte, stream uint32, flags uint8, prio []byte) []byte {
	block := make([]byte, 0, len(blk)+len(badField))
	block = append(block, prio...)
	for rest, first := blk, true; len(rest) > 0; first = false {
		n := int(uint32(rest[0])<<16 | uint32(rest[1])<<8 | uint32(rest[2]))
		frag := rest[frameHeaderLen : frameHeaderLen+n]
		rest = rest[frameHeaderLen+n:]
		if first {
			frag, _, _ = headersFragment(frag, flags)
		}
		block = append(block, frag...)
	}
	block = append(block, badField...)
	out := make([]byte, 0, len(block)+2*frameHeaderLen)
	typ, fl := uint8(frameHeaders), flags&(flagEndStream|flagPriority)
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), int(f.maxFrame))
		chunk := block[:n]
		block = block[n:]
		if len(block) == 0 {
			fl |= flagEndHeaders
		}
		out = append(out, byte(n>>16), byte(n>>8), byte(n), typ, fl)
		out = binary.BigEndian.AppendUint32(out, stream)
		out = append(out, chunk...)
		typ, fl = frameContinuation, 0
	}
	return out
}
