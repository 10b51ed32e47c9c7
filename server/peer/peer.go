package peer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Peer is an upstream server and how to connect to it (Pingora's HttpPeer
// with its PeerOptions). Build one with New, NewUnix or NewMTLS, or as a
// struct literal, then set the fields that differ from their defaults. The
// zero value of every field but Addr is a documented default; see the
// package documentation.
type Peer struct {
	// Network is "tcp", "tcp4", "tcp6" or "unix". If empty, "tcp".
	Network string
	// Addr is "host:port" for TCP (host a name or an IP address; a name is
	// resolved at each dial) or a socket path for "unix". Required.
	Addr string

	// TLS makes connections speak TLS (the https scheme). If false,
	// plaintext.
	TLS bool
	// SNI is the server name sent in the TLS handshake and the name the
	// certificate is verified against. If empty, ServerName is used
	// instead: the host of Addr. An IP address is never sent as SNI.
	SNI string
	// AlternativeCN is one more name the certificate may carry instead of
	// SNI. If empty, none.
	AlternativeCN string
	// SkipVerifyCert accepts any certificate chain (Pingora's
	// verify_cert false). If false, the chain must lead to CA (or the system
	// roots). Only for tests and peers reached over an authenticated channel.
	SkipVerifyCert bool
	// SkipVerifyHostname accepts a valid chain whatever names it carries
	// (Pingora's verify_hostname false). If false, the certificate must be
	// valid for ServerName or AlternativeCN.
	SkipVerifyHostname bool
	// ALPN is the HTTP versions offered. If zero, ALPNH1.
	ALPN ALPN
	// CA is the roots the peer's certificate must chain to. If nil, the
	// system roots. Compared by identity in Key.
	CA []*x509.Certificate
	// ClientCert is presented when the peer asks for a client certificate
	// (mutual TLS). If nil, none. Compared by identity in Key.
	ClientCert *tls.Certificate
	// GroupKey partitions the connection pool further: peers equal in every
	// other key field but with different GroupKey share no connections. If
	// zero, no extra partition.
	GroupKey uint64

	// BindTo is the local address (and port, if not zero) to connect from.
	// If not valid (the zero value), the OS chooses. Ignored for Unix
	// sockets.
	BindTo netip.AddrPort

	// ConnectionTimeout bounds the TCP (or Unix) connect. If zero, only the
	// OS bounds it.
	ConnectionTimeout time.Duration
	// TotalConnectionTimeout bounds connect plus TLS handshake. If zero, no
	// bound beyond ConnectionTimeout and the context.
	TotalConnectionTimeout time.Duration
	// ReadTimeout bounds each read from the peer (the timer restarts at each
	// read). Applied by the HTTP session. If zero, the session's default.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write to the peer. Applied by the HTTP
	// session. If zero, the session's default.
	WriteTimeout time.Duration
	// IdleTimeout is how long an idle connection stays pooled. If zero, the
	// connector's default; if negative, connections to this peer are never
	// pooled (Pingora's idle_timeout 0).
	IdleTimeout time.Duration

	// TCPKeepAlive configures TCP keep-alive probes. If Enable is false,
	// Go's default applies: probes after 15 s idle, every 15 s.
	TCPKeepAlive net.KeepAliveConfig
	// NoTCPKeepAlive switches TCP keep-alive probes off.
	NoTCPKeepAlive bool
	// TCPRecvBuf sets SO_RCVBUF, in bytes. If zero, the OS default.
	TCPRecvBuf int

	// MaxH2Streams caps the concurrent streams of one HTTP/2 connection. If
	// zero, the server's SETTINGS_MAX_CONCURRENT_STREAMS is the only cap.
	MaxH2Streams int
	// H2PingInterval sends an HTTP/2 PING this often; a PING unanswered in
	// time closes the connection. If zero, no pings.
	H2PingInterval time.Duration
	// H2StreamWindowSize and H2ConnectionWindowSize are the HTTP/2 flow
	// control windows. If zero, 8 MiB each (Pingora's).
	H2StreamWindowSize     uint32
	H2ConnectionWindowSize uint32
	// AllowH1ResponseInvalidContentLength treats an unparsable
	// Content-Length in an HTTP/1 response as absent instead of an error.
	AllowH1ResponseInvalidContentLength bool

	// ProxyProtocol is the version, 1 (text) or 2 (binary), of the HAProxy
	// PROXY protocol header sent first on every new connection, before
	// TLS, to tell the peer the original client's address. If zero, no
	// header is sent.
	ProxyProtocol int
	// ProxySource and ProxyDestination are the addresses the PROXY header
	// carries: the original client's and the one it connected to (the
	// proxy fills them from the downstream connection when both are
	// unset). If either is not valid, the header carries no addresses
	// (version 1 "PROXY UNKNOWN", version 2 family UNSPEC), as for a
	// connection of the proxy's own such as a health check. IPv4-mapped
	// IPv6 addresses are sent as IPv4, zones are dropped. Both are part of
	// the Key: a connection that announced one client is never handed to
	// another.
	ProxySource, ProxyDestination netip.AddrPort
}

// New returns a TCP peer at addr ("host:port"), with TLS on or off and the
// given SNI. Addr is not resolved here: a host name is resolved at each
// dial.
func New(addr string, useTLS bool, sni string) *Peer {
	return &Peer{Addr: addr, TLS: useTLS, SNI: sni}
}

// NewUnix returns a peer at the Unix socket path.
func NewUnix(path string, useTLS bool, sni string) *Peer {
	return &Peer{Network: "unix", Addr: path, TLS: useTLS, SNI: sni}
}

// NewMTLS returns a TLS peer at addr that presents cert when asked for a
// client certificate.
func NewMTLS(addr, sni string, cert *tls.Certificate) *Peer {
	return &Peer{Addr: addr, TLS: true, SNI: sni, ClientCert: cert}
}

// Errors returned by Validate.
var (
	// ErrNoAddr reports a peer without an address.
	ErrNoAddr = errors.New("peer: no address")
	// ErrNoServerName reports a TLS peer whose certificate must be verified
	// against a name but that has none: a Unix socket peer with an empty
	// SNI. Set SNI, or SkipVerifyHostname to verify only the chain.
	ErrNoServerName = errors.New("peer: no name to verify the certificate against: set SNI or SkipVerifyHostname")
)

// network returns the effective network.
func (p *Peer) network() string {
	if p.Network == "" {
		return "tcp"
	}
	return p.Network
}

// IsUnix reports whether the peer is a Unix socket.
func (p *Peer) IsUnix() bool { return p.Network == "unix" }

// ServerName returns the name sent as SNI and verified in the certificate:
// SNI if set, else the host of a TCP Addr (an IP address or a name,
// without brackets), else "" (a Unix socket).
func (p *Peer) ServerName() string {
	if p.SNI != "" || p.IsUnix() {
		return p.SNI
	}
	host, _, err := net.SplitHostPort(p.Addr)
	if err != nil {
		return ""
	}
	return host
}

// Validate reports whether the peer can be connected to: a known network,
// an address (host:port for TCP), no negative timeout but IdleTimeout,
// MaxH2Streams not negative, and for TLS with host-name verification a
// name to verify against (ErrNoServerName). Connectors call it before
// dialing.
func (p *Peer) Validate() error {
	if p.Addr == "" {
		return ErrNoAddr
	}
	switch p.network() {
	case "tcp", "tcp4", "tcp6":
		host, port, err := net.SplitHostPort(p.Addr)
		if err != nil {
			return fmt.Errorf("peer: address %q: %w", p.Addr, err)
		}
		if host == "" {
			return fmt.Errorf("peer: address %q has no host", p.Addr)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("peer: address %q has an invalid port", p.Addr)
		}
	case "unix":
	default:
		return fmt.Errorf("peer: unknown network %q", p.Network)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ConnectionTimeout", p.ConnectionTimeout},
		{"TotalConnectionTimeout", p.TotalConnectionTimeout},
		{"ReadTimeout", p.ReadTimeout},
		{"WriteTimeout", p.WriteTimeout},
		{"H2PingInterval", p.H2PingInterval},
	} {
		if d.v < 0 {
			return fmt.Errorf("peer: negative %s %v", d.name, d.v)
		}
	}
	if p.MaxH2Streams < 0 {
		return fmt.Errorf("peer: negative MaxH2Streams %d", p.MaxH2Streams)
	}
	if p.TCPRecvBuf < 0 {
		return fmt.Errorf("peer: negative TCPRecvBuf %d", p.TCPRecvBuf)
	}
	if p.ProxyProtocol < 0 || p.ProxyProtocol > 2 {
		return fmt.Errorf("peer: unknown PROXY protocol version %d (want 1 or 2)", p.ProxyProtocol)
	}
	if p.ALPN > ALPNH2H1 {
		return fmt.Errorf("peer: unknown %v", p.ALPN)
	}
	if p.TLS && !p.SkipVerifyCert && !p.SkipVerifyHostname && p.ServerName() == "" {
		return ErrNoServerName
	}
	return nil
}

// Key is the part of a Peer that decides whether two peers' connections are
// interchangeable: peers with equal Keys may share pooled connections, and
// no others. Keys are comparable with ==.
type Key struct {
	network, addr, sni, alternativeCN string
	tls, skipCert, skipHost           bool
	alpn                              ALPN
	ca                                **x509.Certificate // &CA[0]: identity of the slice
	caLen                             int
	clientCert                        *tls.Certificate
	groupKey                          uint64
	bindTo                            netip.AddrPort
	maxH2Streams                      int
	proxyProtocol                     int
	proxySource, proxyDestination     netip.AddrPort
}

// Key returns the peer's connection identity; see the package
// documentation for the fields it covers.
func (p *Peer) Key() Key {
	k := Key{
		network: p.network(), addr: p.Addr, sni: p.SNI, alternativeCN: p.AlternativeCN,
		tls: p.TLS, skipCert: p.SkipVerifyCert, skipHost: p.SkipVerifyHostname,
		alpn: p.ALPN, caLen: len(p.CA), clientCert: p.ClientCert,
		groupKey: p.GroupKey, bindTo: p.BindTo, maxH2Streams: p.MaxH2Streams,
	}
	if p.ProxyProtocol != 0 {
		k.proxyProtocol = p.ProxyProtocol
		k.proxySource, k.proxyDestination = p.ProxyAddrs()
	}
	if len(p.CA) > 0 {
		k.ca = &p.CA[0]
	}
	return k
}

// seed makes hashes differ between processes; keys are only compared
// within one.
var seed = maphash.MakeSeed()

// Hash returns a 64-bit hash of k, stable for the life of the process.
func (k Key) Hash() uint64 { return maphash.Comparable(seed, k) }

// ReuseHash is the connection pool key of the peer: p.Key().Hash(). Equal
// peers (in their Key fields) have equal hashes; a hash collision between
// different peers is possible in theory (2^-64), so a pool user that must
// never mix peers compares Keys too, as the connector does.
func (p *Peer) ReuseHash() uint64 { return p.Key().Hash() }

// String describes the peer as Pingora does, e.g.
// "addr: 10.0.0.1:443, scheme: HTTPS, sni: api.example.com".
func (p *Peer) String() string {
	var b strings.Builder
	b.WriteString("addr: ")
	if p.IsUnix() {
		b.WriteString("unix:")
	}
	b.WriteString(p.Addr)
	b.WriteString(", scheme: ")
	if p.TLS {
		b.WriteString("HTTPS")
	} else {
		b.WriteString("HTTP")
	}
	if p.SNI != "" {
		b.WriteString(", sni: ")
		b.WriteString(p.SNI)
	}
	if p.ClientCert != nil {
		b.WriteString(", client cert: yes")
	}
	if p.ProxyProtocol != 0 {
		b.WriteString(", proxy protocol: v")
		b.WriteString(strconv.Itoa(p.ProxyProtocol))
	}
	return b.String()
}

// ForClient returns the peer to connect to on behalf of a client at
// client that connected to local: p itself, unless p sends a PROXY
// protocol header and carries neither address, in which case a copy
// carrying both (TCP addresses; anything else, a Unix socket client,
// leaves the header without addresses). Proxies call it so that a shared
// Peer announces each client, and its connections are pooled per client.
func (p *Peer) ForClient(client, local net.Addr) *Peer {
	if p.ProxyProtocol == 0 || p.ProxySource.IsValid() || p.ProxyDestination.IsValid() {
		return p
	}
	cp := *p
	cp.ProxySource, cp.ProxyDestination = tcpAddrPort(client), tcpAddrPort(local)
	return &cp
}

// tcpAddrPort returns a TCP address as a netip.AddrPort (an IPv4-mapped
// address as IPv4), anything else as the zero value.
func tcpAddrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// ProxyAddrs returns the addresses a PROXY header to the peer carries:
// ProxySource and ProxyDestination with IPv4-mapped IPv6 addresses
// unmapped and zones dropped, or two zero values if either is not valid
// (the header then carries no addresses).
func (p *Peer) ProxyAddrs() (src, dst netip.AddrPort) {
	if !p.ProxySource.IsValid() || !p.ProxyDestination.IsValid() {
		return netip.AddrPort{}, netip.AddrPort{}
	}
	norm := func(a netip.AddrPort) netip.AddrPort {
		return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
	}
	return norm(p.ProxySource), norm(p.ProxyDestination)
}
