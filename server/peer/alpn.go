package peer

import "strconv"

// ALPN is the HTTP versions offered to a peer (Pingora's ALPN enum). Over
// TLS they are offered in the ALPN extension; without TLS, ALPNH2 means
// HTTP/2 with prior knowledge (h2c) and the others mean HTTP/1.1.
type ALPN uint8

const (
	// ALPNH1 offers only HTTP/1.1 ("http/1.1"). The zero value, Pingora's
	// default.
	ALPNH1 ALPN = iota
	// ALPNH2 offers only HTTP/2 ("h2").
	ALPNH2
	// ALPNH2H1 offers HTTP/2, then HTTP/1.1 ("h2", "http/1.1").
	ALPNH2H1
)

var (
	protosH1   = []string{"http/1.1"}
	protosH2   = []string{"h2"}
	protosH2H1 = []string{"h2", "http/1.1"}
)

// ALPNFor returns the ALPN for a range of HTTP major versions, as Pingora's
// set_http_version: max 1 gives ALPNH1, min 2 gives ALPNH2, anything else
// ALPNH2H1.
func ALPNFor(maxVersion, minVersion int) ALPN {
	switch {
	case maxVersion <= 1:
		return ALPNH1
	case minVersion >= 2:
		return ALPNH2
	}
	return ALPNH2H1
}

// Protos returns the ALPN protocol IDs to offer, in preference order. The
// slice is shared: do not modify it. An unknown value offers HTTP/1.1.
func (a ALPN) Protos() []string {
	switch a {
	case ALPNH2:
		return protosH2
	case ALPNH2H1:
		return protosH2H1
	}
	return protosH1
}

// MaxHTTPVersion is the highest HTTP major version offered: 1 or 2.
func (a ALPN) MaxHTTPVersion() int {
	if a == ALPNH2 || a == ALPNH2H1 {
		return 2
	}
	return 1
}

// MinHTTPVersion is the lowest HTTP major version offered: 1 or 2.
func (a ALPN) MinHTTPVersion() int {
	if a == ALPNH2 {
		return 2
	}
	return 1
}

// String returns "H1", "H2" or "H2H1" (Pingora's names).
func (a ALPN) String() string {
	switch a {
	case ALPNH1:
		return "H1"
	case ALPNH2:
		return "H2"
	case ALPNH2H1:
		return "H2H1"
	}
	return "ALPN(" + strconv.Itoa(int(a)) + ")"
}
