package httpheader

import "strconv"

// Version is an HTTP protocol version. The zero Version means "unset"; the
// request and response types report it as HTTP/1.1.
type Version struct {
	Major, Minor uint8
}

// Well-known versions.
var (
	HTTP09 = Version{0, 9}
	HTTP10 = Version{1, 0}
	HTTP11 = Version{1, 1}
	HTTP2  = Version{2, 0}
)

// String returns the version as written in an HTTP/1 start line, such as
// "HTTP/1.1" or "HTTP/2.0" (the form net/http uses for Proto).
func (v Version) String() string {
	switch v {
	case HTTP10:
		return "HTTP/1.0"
	case HTTP11:
		return "HTTP/1.1"
	case HTTP2:
		return "HTTP/2.0"
	}
	return "HTTP/" + strconv.Itoa(int(v.Major)) + "." + strconv.Itoa(int(v.Minor))
}

// valid reports whether v can be written as HTTP/D.D.
func (v Version) valid() bool { return v.Major <= 9 && v.Minor <= 9 }

// appendTo appends "HTTP/M.m". v must be valid.
func (v Version) appendTo(dst []byte) []byte {
	return append(dst, 'H', 'T', 'T', 'P', '/', '0'+v.Major, '.', '0'+v.Minor)
}

// orDefault maps the zero Version to HTTP/1.1.
func (v Version) orDefault() Version {
	if v == (Version{}) {
		return HTTP11
	}
	return v
}

// ParseVersion parses the HTTP-version of an HTTP/1 start line, exactly
// "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3; the name is case-sensitive).
// It does not allocate.
func ParseVersion[T ~string | ~[]byte](s T) (Version, error) {
	if len(s) != 8 || s[0] != 'H' || s[1] != 'T' || s[2] != 'T' || s[3] != 'P' || s[4] != '/' ||
		s[6] != '.' || !isDigit(s[5]) || !isDigit(s[7]) {
		return Version{}, errorf(ErrInvalidVersion, s)
	}
	return Version{s[5] - '0', s[7] - '0'}, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
