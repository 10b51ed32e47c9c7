package httpheader

import (
	"errors"
	"fmt"
)

// Errors returned for input the package rejects. Returned errors wrap one of
// these; test with errors.Is.
var (
	// ErrInvalidName reports a field name that is not an RFC 9110 token.
	ErrInvalidName = errors.New("httpheader: invalid field name")
	// ErrInvalidValue reports a field value with a control byte (other than
	// HTAB), such as CR, LF or NUL.
	ErrInvalidValue = errors.New("httpheader: invalid field value")
	// ErrInvalidMethod reports a method that is not an RFC 9110 token.
	ErrInvalidMethod = errors.New("httpheader: invalid method")
	// ErrInvalidTarget reports an empty request target or one holding a space
	// or control byte.
	ErrInvalidTarget = errors.New("httpheader: invalid request target")
	// ErrInvalidVersion reports a version that cannot be written as HTTP/D.D.
	ErrInvalidVersion = errors.New("httpheader: invalid version")
	// ErrInvalidStatus reports a status code outside 100–999.
	ErrInvalidStatus = errors.New("httpheader: invalid status")
	// ErrInvalidReason reports a reason phrase with a control byte other
	// than HTAB.
	ErrInvalidReason = errors.New("httpheader: invalid reason phrase")
	// ErrTooLarge reports a header that would exceed 4 GiB of storage.
	ErrTooLarge = errors.New("httpheader: header too large")
)

// errorf wraps a sentinel with the offending input. It is only called on
// error paths, so its allocations do not matter.
func errorf[T ~string | ~[]byte](sentinel error, input T) error {
	const max = 64
	s := string(input)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Errorf("%w %q", sentinel, s)
}

// Byte classes, one bit each, indexed by byte value.
const (
	classToken  = 1 << iota // tchar (RFC 9110 §5.6.2)
	classValue              // field-vchar, SP or HTAB (RFC 9110 §5.5)
	classTarget             // any byte allowed in a request target
)

var classes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] |= classToken
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			t[c] |= classToken
		}
		// Field values: VCHAR, obs-text, SP and HTAB. Every other control
		// byte (NUL, CR, LF, DEL, ...) is rejected.
		if c == '\t' || (c >= 0x20 && c != 0x7f) {
			t[c] |= classValue
		}
		// Request targets: no spaces and no control bytes; obs-text is kept
		// so that non-UTF-8 raw paths survive (Pingora keeps them too).
		if c > 0x20 && c != 0x7f {
			t[c] |= classTarget
		}
	}
	return t
}()

// lower maps ASCII upper-case letters to lower case and every other byte
// to itself.
var lower = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// ValidName reports whether s is a valid field name: a non-empty RFC 9110
// token (§5.1, §5.6.2). Methods are tokens too, so it also validates methods.
func ValidName[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if classes[s[i]]&classToken == 0 {
			return false
		}
	}
	return true
}

// ValidValue reports whether s may be stored as a field value: it holds only
// visible ASCII, obs-text (0x80–0xFF), SP and HTAB, so never CR, LF, NUL or
// another control byte (RFC 9110 §5.5). It may be empty. Leading and trailing
// whitespace is allowed here; the setters trim it.
func ValidValue[T ~string | ~[]byte](s T) bool {
	// Fast path, 8 bytes at a time: stop at the first word holding a byte
	// below 0x20 or equal to 0x7F (bytes >= 0x80 are fine), then let the
	// table decide from there (HTAB is allowed).
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		del := w ^ (0x7f * lo) // zero bytes where w has DEL
		if ((w-0x20*lo)|(del-lo))&^w&hi != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if classes[s[i]]&classValue == 0 {
			return false
		}
	}
	return true
}

// validTarget reports whether s is a non-empty run of bytes above SP other
// than DEL.
func validTarget[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if classes[s[i]]&classTarget == 0 {
			return false
		}
	}
	return true
}

// trimOWS drops leading and trailing SP and HTAB.
func trimOWS[T ~string | ~[]byte](s T) T {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return s[i:j]
}

// equalFold reports whether b and s are equal under ASCII case folding.
// It does not allocate.
func equalFold[T ~string | ~[]byte](b []byte, s T) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if x, y := b[i], s[i]; x != y && lower[x] != lower[y] {
			return false
		}
	}
	return true
}
