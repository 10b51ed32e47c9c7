package httpheader

import (
	"io"
	"iter"
	"math"
	"sync"
)

// Header is an ordered list of HTTP field lines ("Name: value"). It keeps
// each name exactly as it was given (its case), keeps lines in the order they
// were added, and allows several lines with the same name. Names are looked
// up case-insensitively (ASCII case folding) without allocating.
//
// Header is embedded in RequestHeader and ResponseHeader, which add the start
// line. The zero value is an empty header ready to use. A Header must not be
// copied after first use (use Clone).
//
// Storage: all lines live in one byte buffer in their wire form
// ("Name: value\r\n") plus a small index, so filling a Header after Reset
// allocates nothing once the buffer has grown, and writing it out is a copy.
//
// Lifetimes of returned data:
//   - Strings (Get, Values, All, ...) are immutable and stay valid forever,
//     even after Reset: they share the buffer's memory, and once a string has
//     been handed out Reset moves the header to a fresh buffer instead of
//     overwriting the old one (one allocation on the next fill).
//   - Byte slices (GetBytes, ValuesBytes, AllBytes, Field) alias the buffer
//     and are valid only until the header is next modified. Callers must not
//     modify them. These never cause the extra allocation described above,
//     so a parser or codec that only uses them runs allocation-free.
//
// Concurrency: methods that only read (Get, GetBytes, Has, Count, Values,
// All, Len, Field, AppendWire, WriteTo, Clone, ToHTTPHeader) may be called
// from several goroutines at once. Any method that modifies the header needs
// exclusive access.
type Header struct {
	a       arena
	fields  []field
	garbage int // bytes of a.b no longer referenced by any field
}

// field indexes one line stored in wire form, "name: value\r\n", at a.b[off:].
type field struct {
	off     uint32
	nameLen uint32
	valLen  uint32
}

func (f field) name(b []byte) []byte {
	end := f.off + f.nameLen
	return b[f.off:end:end]
}

func (f field) value(b []byte) []byte {
	start := f.off + f.nameLen + 2
	end := start + f.valLen
	return b[start:end:end]
}

// end is the offset just past the line's CRLF.
func (f field) end() uint32 { return f.off + f.nameLen + f.valLen + 4 }

func (f field) size() int { return int(f.nameLen) + int(f.valLen) + 4 }

// The first line stored allocates room for this many bytes and lines, which
// covers a typical request header.
const (
	initialBytes  = 512
	initialFields = 16
)

// compactMin is the amount of dead bytes below which a header is never
// compacted; above it, it is compacted once dead bytes are half the buffer.
const compactMin = 1024

// Len returns the number of field lines.
func (h *Header) Len() int { return len(h.fields) }

// Field returns the name and value of the i-th line in wire order. The slices
// alias the header's storage: valid until the header is modified, not to be
// modified. It panics if i is not in [0, Len()).
func (h *Header) Field(i int) (name, value []byte) {
	f := h.fields[i]
	return f.name(h.a.b), f.value(h.a.b)
}

// index returns the position of the first line named name, or -1.
func (h *Header) index(name string) int {
	n := uint32(len(name))
	for i, f := range h.fields {
		if f.nameLen == n && equalFold(h.a.b[f.off:f.off+n], name) {
			return i
		}
	}
	return -1
}

// Has reports whether a line named name (any case) exists.
func (h *Header) Has(name string) bool { return h.index(name) >= 0 }

// Count returns the number of lines named name (any case).
func (h *Header) Count(name string) int {
	n := 0
	for i := h.index(name); i >= 0 && i < len(h.fields); i++ {
		if h.match(i, name) {
			n++
		}
	}
	return n
}

func (h *Header) match(i int, name string) bool {
	f := h.fields[i]
	return f.nameLen == uint32(len(name)) && equalFold(h.a.b[f.off:f.off+f.nameLen], name)
}

// Get returns the value of the first line named name (any case), or "" if
// there is none. It does not allocate; the string shares the header's
// storage and stays valid (see Header).
func (h *Header) Get(name string) string {
	i := h.index(name)
	if i < 0 {
		return ""
	}
	return h.a.str(h.fields[i].value(h.a.b))
}

// GetBytes returns the value of the first line named name (any case). It
// returns nil if there is none and a non-nil empty slice if the value is
// empty. The slice aliases the header's storage: valid until the header is
// modified, not to be modified.
func (h *Header) GetBytes(name string) []byte {
	i := h.index(name)
	if i < 0 {
		return nil
	}
	return h.fields[i].value(h.a.b)
}

// Values iterates over the values of every line named name (any case), in
// wire order. The header must not be modified during the iteration.
func (h *Header) Values(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := h.index(name); i >= 0 && i < len(h.fields); i++ {
			if h.match(i, name) && !yield(h.a.str(h.fields[i].value(h.a.b))) {
				return
			}
		}
	}
}

// ValuesBytes is Values yielding byte slices that alias the header's
// storage (see GetBytes).
func (h *Header) ValuesBytes(name string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for i := h.index(name); i >= 0 && i < len(h.fields); i++ {
			if h.match(i, name) && !yield(h.fields[i].value(h.a.b)) {
				return
			}
		}
	}
}

// All iterates over every line in wire order, yielding the name as stored
// (original case) and the value. The header must not be modified during the
// iteration.
func (h *Header) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := 0; i < len(h.fields); i++ {
			f := h.fields[i]
			if !yield(h.a.str(f.name(h.a.b)), h.a.str(f.value(h.a.b))) {
				return
			}
		}
	}
}

// AllBytes is All yielding byte slices that alias the header's storage (see
// GetBytes). It does not allocate.
func (h *Header) AllBytes() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for i := 0; i < len(h.fields); i++ {
			f := h.fields[i]
			if !yield(f.name(h.a.b), f.value(h.a.b)) {
				return
			}
		}
	}
}

// Add appends the line "name: value" after all existing lines and reports
// whether a line with that name (any case) already existed. The name is
// stored with the case given. Leading and trailing spaces and tabs are
// trimmed from value (RFC 9110 §5.5). It returns an error wrapping
// ErrInvalidName or ErrInvalidValue, and changes nothing, if name is not a
// token or value holds a control byte such as CR, LF or NUL.
func (h *Header) Add(name, value string) (existed bool, err error) {
	value = trimOWS(value)
	if err := check(name, value); err != nil {
		return false, err
	}
	existed = h.index(name) >= 0
	return existed, appendLine(h, name, value)
}

// AppendBytes appends the line "name: value" like Add, validating and
// trimming the same way, but takes byte slices (which it copies) and does
// not report whether the name existed. It is the entry point for parsers.
func (h *Header) AppendBytes(name, value []byte) error {
	value = trimOWS(value)
	if err := check(name, value); err != nil {
		return err
	}
	return appendLine(h, name, value)
}

// AppendBytesUnchecked appends the line "name: value" without validating or
// trimming: the caller has already checked that name is a token (ValidName)
// and that value is valid (ValidValue) with no leading or trailing
// whitespace. Invalid input here produces invalid wire output. It copies
// both slices. It panics if the header would exceed 4 GiB, which a parser
// with any header size limit never reaches.
func (h *Header) AppendBytesUnchecked(name, value []byte) {
	if err := appendLine(h, name, value); err != nil {
		panic(err)
	}
}

// Set replaces every line named name (any case) with the single line
// "name: value". The first existing line is updated in place, keeping its
// position, and takes the case of name; later lines with that name are
// removed. If there was none, the line is appended. Validation and
// trimming are as for Add.
func (h *Header) Set(name, value string) error {
	value = trimOWS(value)
	if err := check(name, value); err != nil {
		return err
	}
	return setLine(h, name, value)
}

// SetBytes is Set with the value given as bytes (copied), for codecs that
// hold values such as a cached Date in byte slices.
func (h *Header) SetBytes(name string, value []byte) error {
	value = trimOWS(value)
	if err := check(name, value); err != nil {
		return err
	}
	return setLine(h, name, value)
}

// Del removes every line named name (any case) and reports whether there
// was any.
func (h *Header) Del(name string) bool {
	i := h.index(name)
	if i < 0 {
		return false
	}
	h.removeFrom(i, name)
	h.maybeCompact()
	return true
}

// Reset removes every line, keeping the storage for reuse (see Header for
// when it cannot be reused). Buffers over 64 KiB or 1024 lines are released.
func (h *Header) Reset() {
	h.a.reset()
	if cap(h.fields) > maxRetainFields {
		h.fields = nil
	} else {
		h.fields = h.fields[:0]
	}
	h.garbage = 0
}

// Clone returns a deep copy of h, compacted.
func (h *Header) Clone() *Header {
	c := new(Header)
	h.cloneInto(c)
	return c
}

// AppendWire appends the field lines to dst in HTTP/1 wire form, each
// "Name: value\r\n" with the name as stored, in order, and returns the
// extended slice. Name and value are always separated by ": " (whatever
// whitespace a parser saw around the value is not kept). It does not append
// the blank line that ends a header section. It does not allocate if dst
// has room.
func (h *Header) AppendWire(dst []byte) []byte {
	b := h.a.b
	if h.garbage == 0 {
		// Nothing was replaced or removed: the buffer is the wire form.
		return append(dst, b...)
	}
	// Copy runs of lines that are adjacent in the buffer in one go.
	var start, end uint32
	for _, f := range h.fields {
		if f.off != end {
			dst = append(dst, b[start:end]...)
			start = f.off
		}
		end = f.end()
	}
	return append(dst, b[start:end]...)
}

// WireLen returns the number of bytes AppendWire appends.
func (h *Header) WireLen() int {
	return len(h.a.b) - h.garbage
}

// WriteTo writes the field lines as AppendWire does, without the final
// blank line. It implements io.WriterTo.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	if h.garbage == 0 {
		// Every byte of the buffer is live and in order: write it as is.
		n, err := w.Write(h.a.b)
		return int64(n), err
	}
	return writeWith(w, h.AppendWire)
}

// writeWith writes what appendFn produces, using a pooled buffer.
func writeWith(w io.Writer, appendFn func([]byte) []byte) (int64, error) {
	bp := wireBufs.Get().(*[]byte)
	b := appendFn((*bp)[:0])
	n, err := w.Write(b)
	if cap(b) <= maxRetainBytes {
		*bp = b
		wireBufs.Put(bp)
	}
	return int64(n), err
}

var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// check validates a field name and an already trimmed value.
func check[N, V ~string | ~[]byte](name N, value V) error {
	if !ValidName(name) {
		return errorf(ErrInvalidName, name)
	}
	if !ValidValue(value) {
		return errorf(ErrInvalidValue, value)
	}
	return nil
}

// appendLine stores "name: value\r\n" after every other line. It only
// fails, changing nothing, if the buffer would outgrow 32-bit offsets.
func appendLine[N, V ~string | ~[]byte](h *Header, name N, value V) error {
	f, err := storeLine(h, name, value)
	if err != nil {
		return err
	}
	h.fields = append(h.fields, f)
	return nil
}

// storeLine writes a line at the end of the buffer and returns its index
// entry without adding it to h.fields.
func storeLine[N, V ~string | ~[]byte](h *Header, name N, value V) (field, error) {
	off := len(h.a.b)
	need := len(name) + len(value) + 4
	if uint64(off)+uint64(need) > math.MaxUint32 {
		return field{}, ErrTooLarge
	}
	if h.a.b == nil {
		// First line: one allocation big enough for a typical header
		// instead of a series of doublings.
		h.a.b = make([]byte, 0, max(initialBytes, need))
		if h.fields == nil {
			h.fields = make([]field, 0, initialFields)
		}
	}
	b := append(h.a.b, name...)
	b = append(b, ':', ' ')
	b = append(b, value...)
	h.a.b = append(b, '\r', '\n')
	return field{off: uint32(off), nameLen: uint32(len(name)), valLen: uint32(len(value))}, nil
}

// setLine implements Set for validated input.
func setLine[V ~string | ~[]byte](h *Header, name string, value V) error {
	i := h.index(name)
	if i < 0 {
		return appendLine(h, name, value)
	}
	old := h.fields[i]
	if !h.a.shared.Load() {
		// No string points into the buffer, so the old line's bytes may be
		// reused: overwrite a line of the same size in place, or rewrite
		// the last line of the buffer.
		if old.valLen == uint32(len(value)) {
			copy(h.a.b[old.off:], name)
			copy(h.a.b[old.off+old.nameLen+2:], value)
			h.removeFrom(i+1, name)
			h.maybeCompact()
			return nil
		}
		if int(old.end()) == len(h.a.b) {
			h.a.b = h.a.b[:old.off]
			f, err := storeLine(h, name, value)
			if err != nil {
				h.a.b = h.a.b[:old.end()] // restore: nothing was written
				return err
			}
			h.fields[i] = f
			h.removeFrom(i+1, name)
			h.maybeCompact()
			return nil
		}
	}
	f, err := storeLine(h, name, value)
	if err != nil {
		return err
	}
	h.garbage += old.size()
	h.fields[i] = f
	if i+1 < len(h.fields) {
		h.removeFrom(i+1, name)
	}
	h.maybeCompact()
	return nil
}

// removeFrom drops every line named name at position i or later, keeping
// the order of the others.
func (h *Header) removeFrom(i int, name string) {
	kept := h.fields[:i]
	for j := i; j < len(h.fields); j++ {
		if h.match(j, name) {
			h.garbage += h.fields[j].size()
			continue
		}
		kept = append(kept, h.fields[j])
	}
	clear(h.fields[len(kept):])
	h.fields = kept
}

// maybeCompact rewrites the buffer without dead bytes once they are at
// least compactMin and half of it. The new buffer is always freshly
// allocated, because strings may still point into the old one.
func (h *Header) maybeCompact() {
	if h.garbage < compactMin || h.garbage*2 < len(h.a.b) {
		return
	}
	h.compactInto(h, len(h.a.b)-h.garbage)
}

// compactInto writes h's live lines, in order, into a new buffer of the
// given capacity and makes it dst's storage. dst may be h.
func (h *Header) compactInto(dst *Header, capacity int) {
	b := make([]byte, 0, capacity)
	fields := dst.fields[:0]
	if dst != h {
		fields = make([]field, 0, len(h.fields))
	}
	for _, f := range h.fields {
		off := uint32(len(b))
		b = append(b, h.a.b[f.off:f.end()]...)
		f.off = off
		fields = append(fields, f)
	}
	dst.a.b = b
	dst.a.shared.Store(false)
	dst.fields = fields
	dst.garbage = 0
}

// cloneInto makes dst a compact deep copy of h.
func (h *Header) cloneInto(dst *Header) {
	h.compactInto(dst, len(h.a.b)-h.garbage)
}
