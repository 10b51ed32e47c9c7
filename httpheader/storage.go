package httpheader

import (
	"sync/atomic"
	"unsafe"
)

// Buffers larger than these are dropped by Reset instead of kept for reuse,
// so that one huge message does not pin memory in a pooled header.
const (
	maxRetainBytes  = 64 << 10
	maxRetainFields = 1024
)

// arena is a byte buffer whose bytes can be handed out as strings without
// copying.
//
// Strings returned by str alias the buffer. Go strings must never change, so
// once any has been handed out (shared is set) the bytes already in the
// buffer are never written again: reset then starts a fresh buffer instead of
// reusing this one. Until then reset reuses the capacity, which is what keeps
// a parser that only uses the []byte accessors allocation-free.
//
// Bytes are only ever appended between resets, never overwritten.
type arena struct {
	b      []byte
	shared atomic.Bool // atomic so concurrent readers may call str
}

// str returns b, which must be a sub-slice of a.b, as a string sharing
// its memory.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if !a.shared.Load() {
		a.shared.Store(true)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// reset empties the buffer, keeping its capacity unless bytes were shared
// or it is very large.
func (a *arena) reset() {
	switch {
	case cap(a.b) > maxRetainBytes:
		a.b = nil
	case a.shared.Load():
		a.b = make([]byte, 0, cap(a.b))
	default:
		a.b = a.b[:0]
	}
	a.shared.Store(false)
}

// replace makes the buffer hold exactly s, reusing capacity when nothing
// has been shared.
func replace[T ~string | ~[]byte](a *arena, s T) {
	if a.shared.Load() || cap(a.b) > maxRetainBytes {
		a.b = make([]byte, 0, len(s))
		a.shared.Store(false)
	}
	a.b = append(a.b[:0], s...)
}
