package cache

import (
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// MaxDelta is the largest delta-seconds value kept: larger values, and
// values too long to represent, are taken as 2^31−1 (RFC 9111 §1.2.2).
const MaxDelta = 1<<31 - 1

// Delta is the value of a delta-seconds directive such as max-age.
type Delta struct {
	// Seconds is the value, at most MaxDelta. Zero when Invalid.
	Seconds uint32
	// Present reports whether the directive appeared at all.
	Present bool
	// Invalid reports that the directive appeared without a value or with
	// one that is not a non-negative decimal integer.
	Invalid bool
}

// Valid reports whether the directive is present with a usable value.
func (d Delta) Valid() bool { return d.Present && !d.Invalid }

// Directive is one Cache-Control directive that CacheControl has no field
// for (an extension, RFC 9111 §5.2.3).
type Directive struct {
	Name     string // lower case
	Value    string // unquoted
	HasValue bool
}

// CacheControl is a parsed Cache-Control field (RFC 9111 §5.2), request or
// response. Directive names are matched case-insensitively. When a
// delta-seconds directive appears more than once the first occurrence wins
// (RFC 9111 §4.2.1 allows "the first occurrence"); the unqualified forms of
// no-cache and private win over their field-name forms, and the field names
// of every qualified occurrence are collected (stripping more fields is
// always safe).
type CacheControl struct {
	NoStore         bool
	NoCache         bool     // unqualified no-cache
	NoCacheFields   []string // lower-case names from no-cache="a, b"
	Private         bool     // unqualified private
	PrivateFields   []string // lower-case names from private="a, b"
	Public          bool
	MustRevalidate  bool
	ProxyRevalidate bool
	MustUnderstand  bool
	NoTransform     bool
	Immutable       bool
	OnlyIfCached    bool // request directive

	MaxAge               Delta
	SMaxAge              Delta
	StaleWhileRevalidate Delta // RFC 5861
	StaleIfError         Delta // RFC 5861
	MaxStale             Delta // request; without a value: MaxDelta (any staleness)
	MinFresh             Delta // request

	// Extensions lists every other directive, in order.
	Extensions []Directive
}

// ParseCacheControl parses every Cache-Control line of h, as if they were
// one comma-separated list (RFC 9110 §5.3). It never fails: malformed
// directives are skipped and a quoted string left open runs to the end of
// its line.
func ParseCacheControl(h *httpheader.Header) CacheControl {
	var cc CacheControl
	for v := range h.Values("Cache-Control") {
		cc.parse(v)
	}
	return cc
}

// ParseCacheControlString parses one Cache-Control field value.
func ParseCacheControlString(s string) CacheControl {
	var cc CacheControl
	cc.parse(s)
	return cc
}

// IsZero reports whether no directive was found.
func (cc CacheControl) IsZero() bool {
	return !cc.NoStore && !cc.NoCache && cc.NoCacheFields == nil && !cc.Private &&
		cc.PrivateFields == nil && !cc.Public && !cc.MustRevalidate && !cc.ProxyRevalidate &&
		!cc.MustUnderstand && !cc.NoTransform && !cc.Immutable && !cc.OnlyIfCached &&
		!cc.MaxAge.Present && !cc.SMaxAge.Present && !cc.StaleWhileRevalidate.Present &&
		!cc.StaleIfError.Present && !cc.MaxStale.Present && !cc.MinFresh.Present &&
		cc.Extensions == nil
}

// parse adds the directives of one field line to cc.
func (cc *CacheControl) parse(s string) {
	for len(s) > 0 {
		var name, value string
		var hasValue bool
		name, value, hasValue, s = nextDirective(s)
		if name == "" {
			continue
		}
		cc.add(name, value, hasValue)
	}
}

// nextDirective splits the first directive off s. name is "" for an empty
// or malformed list element, which the caller skips.
func nextDirective(s string) (name, value string, hasValue bool, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	name, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if len(s) > 0 && s[0] == '=' {
		hasValue = true
		s = strings.TrimLeft(s[1:], " \t")
		if len(s) > 0 && s[0] == '"' {
			value, s = unquote(s)
		} else {
			j := 0
			for j < len(s) && isTokenChar(s[j]) {
				j++
			}
			value, s = s[:j], s[j:]
		}
		s = strings.TrimLeft(s, " \t")
	}
	if len(s) > 0 && s[0] != ',' {
		// Garbage after the directive: drop the whole list element.
		if j := strings.IndexByte(s, ','); j >= 0 {
			return "", "", false, s[j:]
		}
		return "", "", false, ""
	}
	return strings.ToLower(name), value, hasValue, s
}

// unquote reads the quoted-string at the start of s (s[0] == '"') and
// returns its unescaped content and what follows it. An unterminated
// string runs to the end of s.
func unquote(s string) (string, string) {
	s = s[1:]
	if i := strings.IndexAny(s, "\"\\"); i >= 0 && s[i] == '"' {
		return s[:i], s[i+1:] // fast path: no escapes
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

func (cc *CacheControl) add(name, value string, hasValue bool) {
	switch name {
	case "no-store":
		cc.NoStore = true
	case "no-cache":
		if hasValue {
			cc.NoCacheFields = appendFieldNames(cc.NoCacheFields, value)
		} else {
			cc.NoCache = true
		}
	case "private":
		if hasValue {
			cc.PrivateFields = appendFieldNames(cc.PrivateFields, value)
		} else {
			cc.Private = true
		}
	case "public":
		cc.Public = true
	case "must-revalidate":
		cc.MustRevalidate = true
	case "proxy-revalidate":
		cc.ProxyRevalidate = true
	case "must-understand":
		cc.MustUnderstand = true
	case "no-transform":
		cc.NoTransform = true
	case "immutable":
		cc.Immutable = true
	case "only-if-cached":
		cc.OnlyIfCached = true
	case "max-age":
		setDelta(&cc.MaxAge, value, hasValue)
	case "s-maxage":
		setDelta(&cc.SMaxAge, value, hasValue)
	case "stale-while-revalidate":
		setDelta(&cc.StaleWhileRevalidate, value, hasValue)
	case "stale-if-error":
		setDelta(&cc.StaleIfError, value, hasValue)
	case "max-stale":
		if !cc.MaxStale.Present && !hasValue {
			cc.MaxStale = Delta{Seconds: MaxDelta, Present: true}
			return
		}
		setDelta(&cc.MaxStale, value, hasValue)
	case "min-fresh":
		setDelta(&cc.MinFresh, value, hasValue)
	default:
		if len(cc.Extensions) < maxExtensions {
			cc.Extensions = append(cc.Extensions, Directive{Name: name, Value: value, HasValue: hasValue})
		}
	}
}

// maxExtensions bounds the extensions kept from one response.
const maxExtensions = 32

// setDelta records a delta-seconds directive unless an earlier occurrence
// already did.
func setDelta(d *Delta, value string, hasValue bool) {
	if d.Present {
		return
	}
	secs, ok := parseDelta(value)
	*d = Delta{Seconds: secs, Present: true, Invalid: !hasValue || !ok}
}

// parseDelta parses delta-seconds: 1*DIGIT, capped at MaxDelta.
func parseDelta(s string) (uint32, bool) {
	n, _, ok := parseDigits(s, MaxDelta)
	return uint32(n), ok
}

// parseDigits parses 1*DIGIT, the one number syntax of the headers this
// package reads, saturating at limit; capped reports that it did.
func parseDigits(s string, limit uint64) (n uint64, capped, ok bool) {
	if s == "" {
		return 0, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			n, capped = limit, true
		} else if !capped {
			n = n*10 + d
		}
	}
	return n, capped, true
}

// appendFieldNames adds the comma-separated field names in list, lower
// cased, to names.
func appendFieldNames(names []string, list string) []string {
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f != "" && httpheader.ValidName(f) {
			names = append(names, strings.ToLower(f))
		}
	}
	if names == nil {
		names = []string{} // the qualified form was present, even if empty
	}
	return names
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	return tokenTable[c]
}

var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
