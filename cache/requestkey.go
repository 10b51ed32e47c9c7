package cache

import (
	"errors"
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// Errors from RequestKey.
var (
	// ErrNoHost: the request names no host (no Host field and no
	// absolute-form target), so it has no safe key.
	ErrNoHost = errors.New("cache: request has no host")
	// ErrBadHost: several Host lines, or a host with characters no
	// authority has.
	ErrBadHost = errors.New("cache: request host is ambiguous or invalid")
	// ErrBadTarget: the target is not origin-form or absolute-form.
	ErrBadTarget = errors.New("cache: request target has no path")
	// ErrBadScheme: the scheme is not a URI scheme (RFC 3986 §3.1).
	ErrBadScheme = errors.New("cache: invalid scheme")
)

// RequestKey returns the key that identifies req's target URI (RFC 9111
// §2): Primary is scheme "://" host path-and-query, and Namespace is
// namespace. scheme is the scheme the client used ("http" or "https");
// the host is the authority of an absolute-form target, else the single
// Host field (RFC 9112 §3.2.2), lower cased, with the scheme's default
// port removed. The fragment is dropped; the path is kept as sent (not
// percent-decoded). The method is not part of the key: only GET and HEAD
// are cached and HEAD is served from the GET response.
//
// Keying on the host is what keeps one site's responses from being served
// for another behind the same cache (Pingora CVE-2026-2836). A request
// without a usable host returns ErrNoHost or ErrBadHost and should
// bypass the cache.
func RequestKey(namespace []byte, scheme string, req *httpheader.RequestHeader) (Key, error) {
	if !validScheme(scheme) {
		return Key{}, ErrBadScheme
	}
	scheme = lower(scheme)
	target := string(req.RawTarget())
	var host, rest string
	switch {
	case strings.HasPrefix(target, "/"):
		switch req.Count("Host") {
		case 0:
			return Key{}, ErrNoHost
		case 1:
			host = req.Get("Host")
		default:
			return Key{}, ErrBadHost
		}
		rest = target
	default:
		i := strings.Index(target, "://")
		if i <= 0 {
			return Key{}, ErrBadTarget
		}
		authority := target[i+3:]
		end := strings.IndexAny(authority, "/?#")
		if end < 0 {
			end = len(authority)
		}
		host, rest = authority[:end], authority[end:]
		if j := strings.LastIndexByte(host, '@'); j >= 0 {
			host = host[j+1:] // userinfo is not part of the resource
		}
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest // "http://h" and "http://h?q": empty path is "/"
		}
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	host, err := normalizeHost(host, scheme)
	if err != nil {
		return Key{}, err
	}
	primary := make([]byte, 0, len(scheme)+3+len(host)+len(rest))
	primary = append(append(append(append(primary, scheme...), "://"...), host...), rest...)
	return Key{Namespace: namespace, Primary: primary}, nil
}

// normalizeHost lower-cases host and removes the scheme's default port.
func normalizeHost(host, scheme string) (string, error) {
	if host == "" {
		return "", ErrNoHost
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`/?#@\"<>{}|^`+"`", c) >= 0 {
			return "", ErrBadHost
		}
	}
	host = lower(host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-4]
	}
	host = strings.TrimSuffix(host, ":") // empty port (RFC 3986 §6.2.3)
	if host == "" || host[0] == ':' {
		return "", ErrBadHost
	}
	return host, nil
}

// validScheme reports whether s is ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.'):
		default:
			return false
		}
	}
	return true
}
