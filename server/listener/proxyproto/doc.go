// Package proxyproto reads and writes the HAProxy PROXY protocol, versions 1
// (text) and 2 (binary), so a server behind a layer-4 load balancer (AWS
// NLB, HAProxy, Envoy, GCP/Azure load balancers) learns the real client
// address, and a proxy can pass it on to its upstreams.
//
// Pingora has no PROXY protocol support yet (cloudflare/pingora issue
// #132); this package is pingora-go's own, written against HAProxy's "The
// PROXY protocol, Versions 1 & 2" (doc/proxy-protocol.txt): section 2.1 for
// the text header, 2.2 for the binary one and its TLVs (2.2.1–2.2.7: ALPN,
// authority, CRC32C, NOOP, unique ID, SSL with its sub-TLVs, netns).
//
// Accept side: [Read] reads one header from the start of a connection and
// returns a [Conn] whose RemoteAddr and LocalAddr are the client's, or use
// [NewHandshaker] as a listener.Config.Preamble so the listener reads
// headers off its accept loop, before TLS if the listener has it:
//
//	pp, err := proxyproto.NewHandshaker(proxyproto.Options{}, nil)
//	l, err := listener.Listen(ctx, listener.Config{Addr: ":443", Preamble: pp, TLS: tlsHandshaker})
//	c, err := l.AcceptConn() // c.RemoteAddr() is the client behind the balancer
//
// (NewHandshaker's next argument chains a handshaker itself, for listeners
// without a Preamble field.)
//
// Send side: build a [Header] and write [Header.AppendV1] or
// [Header.AppendV2] to the upstream before anything else:
//
//	h := proxyproto.Header{Command: proxyproto.Proxy, Source: down.RemoteAddr(), Destination: down.LocalAddr()}
//	b, err := h.AppendV2(nil)
//	_, err = up.Write(b)
//
// # Parsing
//
// Parsing is strict and bounded. Read never reads past the header: a
// version 2 header's length field says exactly how much follows, and a
// version 1 line is read in steps no longer than the shortest valid rest
// of the line, so the first byte after CRLF is never consumed. A v1 line
// must end in CRLF within 107 bytes and carry exactly "TCP4" or "TCP6"
// with two addresses of that family (no zones, no leading zeros) and two
// decimal ports 0–65535 without leading zeros, each separated by one space;
// "UNKNOWN" may be followed by anything, which is ignored. A v2 header must
// have version 2, command LOCAL or PROXY, for PROXY one of the seven
// family/protocol combinations the spec allows and an address block as
// long as its family needs, TLVs that exactly fill the rest, a CRC32C that
// matches (when present, and at most one), a unique ID of at most 128
// bytes, and a well-formed SSL TLV. For LOCAL the family, the address
// block and its TLVs are ignored, as the spec says, and the socket's
// addresses are used; so they are for "PROXY UNKNOWN" and for family
// UNSPEC. Failures are [ErrNoProxyHeader], a [*HeaderError] naming the
// reason, or a read error
// (timeouts unwrap to os.ErrDeadlineExceeded, a cut-off header to
// io.ErrUnexpectedEOF); nothing panics.
//
// # Defaults
//
// The zero [Options] requires a header of either version, waits at most
// [DefaultTimeout] (5 s) for it and accepts at most [DefaultMaxTLVSize]
// (2 KiB) of v2 TLVs; a longer header is refused before its body is read.
// Options.Optional lets connections without a header through untouched.
//
// # Security
//
// The header sets the client address that logs, rate limits and access
// rules rely on, and anyone who can connect can send one. Enable the PROXY
// protocol only on listeners that only trusted load balancers can reach
// (firewall, security group, private network), and prefer the required
// mode: with Options.Optional a client that bypasses the balancer can still
// claim any address.
//
// # Concurrency
//
// Read and Handshaker.Handshake may be called from many goroutines at once
// for different connections. A [Conn] follows net.Conn's rules. A [Header]
// is a plain value: do not modify one while it is being appended.
package proxyproto
