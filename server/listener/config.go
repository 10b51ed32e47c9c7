package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"runtime"
	"time"
)

// Defaults applied by [Listen] and [FileListener] to zero [Config] fields.
const (
	// DefaultHandshakeTimeout bounds a TLS handshake when
	// Config.HandshakeTimeout is zero. It is Pingora's 60 s, the same as
	// tlsbackend's default.
	DefaultHandshakeTimeout = 60 * time.Second
	// DefaultUnixMode is the permission of a Unix socket file when
	// Config.UnixMode is zero: any local user may connect, as in Pingora.
	DefaultUnixMode fs.FileMode = 0o666
	// DefaultBindRetryDelay is the pause between bind attempts when
	// Config.BindRetryDelay is zero, as in Pingora.
	DefaultBindRetryDelay = time.Second
)

// Config describes one listening socket: where it listens, the socket options
// it sets, and whether accepted connections go through a TLS handshake. Addr
// is required; every other field has a usable zero value. [Listen] fills the
// defaults on a copy and never modifies the caller's Config.
type Config struct {
	// Network is "tcp", "tcp4", "tcp6" or "unix". If empty, "tcp".
	Network string
	// Addr is where to listen: "host:port" for TCP ("0.0.0.0:6188",
	// "[::1]:0", ":443"; a host name resolves to its first address), a file
	// path for "unix", or "@name" for a Linux abstract Unix socket. Addr is
	// also the key under which a graceful upgrade hands the socket to the
	// next process (see [Table]), so it is kept exactly as written.
	Addr string

	// TLS, if set, runs on every accepted connection before Accept returns
	// it, on a goroutine of its own so that a slow client never delays other
	// accepts. If nil, connections are plaintext.
	TLS Handshaker
	// Preamble, if set, runs on every accepted connection before TLS (or
	// alone, for a plaintext listener), on the same goroutine and within
	// the same HandshakeTimeout: a PROXY protocol header reader, for
	// instance (see the proxyproto package). The conn it returns is what
	// TLS runs on and what Accept returns without TLS. If nil, nothing.
	Preamble Handshaker
	// HandshakeTimeout bounds each handshake (Preamble and TLS together);
	// the connection is closed when it expires. If zero,
	// DefaultHandshakeTimeout (60 s). Negative is an error.
	HandshakeTimeout time.Duration

	// ReusePort sets SO_REUSEPORT before bind, so several sockets (in this
	// process or others) may listen on one port and the kernel spreads new
	// connections among them. TCP on Linux and the BSDs only. If false, not
	// set.
	ReusePort bool
	// IPv6Only sets IPV6_V6ONLY, so a socket on "[::]:port" does not also
	// take IPv4 connections. If false, Go's default: dual-stack for "tcp"
	// with an unspecified address, IPv6 only for "tcp6".
	IPv6Only bool
	// Backlog is the length of the accept queue. If zero, the largest the
	// system allows (net.core.somaxconn on Linux). Pingora asks for 65535,
	// which the kernel caps to the same value.
	Backlog int
	// FastOpen enables TCP Fast Open on the listening socket with this
	// queue length of pending Fast Open requests. Linux only. If zero, off.
	FastOpen int

	// Nagle clears TCP_NODELAY on accepted connections, so the kernel
	// coalesces small writes. If false, TCP_NODELAY is set, as Pingora
	// always does: a proxy writes whole header blocks and body chunks
	// itself and must not wait for the peer's ACK.
	Nagle bool
	// KeepAlive configures TCP keep-alive probes on accepted connections.
	// If KeepAlive.Enable is false, Go's defaults apply: probes after 15 s
	// idle, every 15 s, 9 of them. See NoKeepAlive to switch probes off.
	KeepAlive net.KeepAliveConfig
	// NoKeepAlive switches keep-alive probes off; KeepAlive is ignored.
	NoKeepAlive bool
	// UserTimeout sets TCP_USER_TIMEOUT: how long sent data may stay
	// unacknowledged before the kernel drops the connection. Set on the
	// listening socket, accepted connections inherit it. Linux only. If
	// zero, the system default.
	UserTimeout time.Duration
	// SendBuffer and RecvBuffer set SO_SNDBUF and SO_RCVBUF, in bytes, on the
	// listening socket before it listens, so accepted connections inherit
	// them (and TCP window scaling sees the receive size). If zero, the
	// system defaults.
	SendBuffer, RecvBuffer int
	// NotSentLowat sets TCP_NOTSENT_LOWAT, in bytes, on every accepted
	// connection (it is not inherited from the listener): the most bytes the
	// kernel keeps queued but not yet sent before a write waits. A small
	// value (16 KiB is Cloudflare's) keeps a response's bulk in the proxy
	// instead of in socket buffers the client's window cannot drain yet:
	// less kernel memory per slow client, and bytes are sent by the
	// proxy's own writes rather than when the client's acknowledgements
	// arrive. Linux only. If zero, the system default
	// (net.ipv4.tcp_notsent_lowat, unlimited unless changed).
	NotSentLowat int

	// UnixMode is the permission of the Unix socket file, set after bind
	// and before the socket listens, so no client connects under a looser
	// mode. Only the permission bits are used. If zero, DefaultUnixMode
	// (0666). Only for "unix".
	UnixMode fs.FileMode

	// BindRetries is how many more times Listen tries a bind that failed
	// with EADDRINUSE (also returned for a Unix socket path with a live
	// listener), waiting BindRetryDelay between tries. Pingora retries 30
	// times while an old process lets go of the port. If zero, no retry.
	BindRetries int
	// BindRetryDelay is the wait between bind attempts. If zero,
	// DefaultBindRetryDelay (1 s).
	BindRetryDelay time.Duration

	// OnError receives the errors that are not returned: failed TLS
	// handshakes ([*HandshakeError]), temporary accept errors retried after
	// a back-off ([*AcceptError] with Retry > 0), and binds that Listen
	// retries (see BindRetries). It may be called from several goroutines
	// at once and must not call Close. If nil, these errors are dropped.
	OnError func(err error)
}

// resolve returns a copy of c with the defaults filled in, or the first
// reason c cannot be used.
func (c Config) resolve() (Config, error) {
	if c.Network == "" {
		c.Network = "tcp"
	}
	unix := c.Network == "unix"
	switch c.Network {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return c, fmt.Errorf("listener: unsupported network %q (want tcp, tcp4, tcp6 or unix)", c.Network)
	}
	if c.Addr == "" {
		return c, errors.New("listener: empty address")
	}
	if c.HandshakeTimeout < 0 {
		return c, fmt.Errorf("listener: negative HandshakeTimeout %v", c.HandshakeTimeout)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.Backlog < 0 || c.FastOpen < 0 || c.SendBuffer < 0 || c.RecvBuffer < 0 || c.NotSentLowat < 0 ||
		c.UserTimeout < 0 || c.BindRetries < 0 || c.BindRetryDelay < 0 {
		return c, errors.New("listener: negative Backlog, FastOpen, SendBuffer, RecvBuffer, NotSentLowat, UserTimeout, BindRetries or BindRetryDelay")
	}
	if c.BindRetryDelay == 0 {
		c.BindRetryDelay = DefaultBindRetryDelay
	}
	if c.UnixMode&^fs.ModePerm != 0 {
		return c, fmt.Errorf("listener: UnixMode %v has bits other than permissions", c.UnixMode)
	}
	if unix {
		if c.UnixMode == 0 {
			c.UnixMode = DefaultUnixMode
		}
		tcpOnly := []struct {
			set  bool
			name string
		}{
			{c.ReusePort, "ReusePort"}, {c.IPv6Only, "IPv6Only"}, {c.FastOpen != 0, "FastOpen"},
			{c.Nagle, "Nagle"}, {c.KeepAlive != (net.KeepAliveConfig{}), "KeepAlive"},
			{c.NoKeepAlive, "NoKeepAlive"}, {c.UserTimeout != 0, "UserTimeout"},
			{c.NotSentLowat != 0, "NotSentLowat"},
		}
		for _, o := range tcpOnly {
			if o.set {
				return c, fmt.Errorf("listener: %s applies to tcp, not to unix socket %s", o.name, c.Addr)
			}
		}
	} else if c.UnixMode != 0 {
		return c, fmt.Errorf("listener: UnixMode applies to unix sockets, not to %s %s", c.Network, c.Addr)
	}
	unsupported := []struct {
		set, have bool
		name      string
	}{
		{c.ReusePort, haveReusePort, "ReusePort"},
		{c.IPv6Only, haveSockopts, "IPv6Only"},
		{c.Backlog != 0, haveSockopts, "Backlog"},
		{c.SendBuffer != 0 || c.RecvBuffer != 0, haveSockopts, "SendBuffer and RecvBuffer"},
		{c.FastOpen != 0, haveLinuxTCP, "FastOpen"},
		{c.UserTimeout != 0, haveLinuxTCP, "UserTimeout"},
		{c.NotSentLowat != 0, haveLinuxTCP, "NotSentLowat"},
	}
	for _, o := range unsupported {
		if o.set && !o.have {
			return c, fmt.Errorf("listener: %s is not supported on %s", o.name, runtime.GOOS)
		}
	}
	return c, nil
}
