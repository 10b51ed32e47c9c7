// Package listener accepts the server's downstream connections: TCP over IPv4
// and IPv6, Unix sockets, and TLS over either, with the socket options a
// proxy sets and listening sockets that survive a graceful binary upgrade.
//
// It ports the listeners of pingora-core in Cloudflare's Pingora 0.8
// (listeners/mod.rs, listeners/l4.rs and the FD table of
// server/transfer_fd): a [Config] is Pingora's ListenerEndpoint with its
// TcpSocketOptions, a [Table] is its address → FD table.
//
//	l, err := listener.Listen(ctx, listener.Config{Addr: "0.0.0.0:6188", TLS: hs})
//	if err != nil { … }
//	for {
//		c, err := l.AcceptConn() // c.Conn is hs's conn; c.TLS, c.Raw, c.Accepted
//		if err != nil { return err } // net.ErrClosed after l.Close()
//		go serve(c)
//	}
//
// # TLS
//
// The package does not import a TLS library. Config.TLS is a [Handshaker],
// which a tlsbackend server or a crypto/tls config fits through
// [HandshakerFunc]. Each handshake runs on its own goroutine, bounded by
// Config.HandshakeTimeout, so a slow or silent client never delays other
// accepts. A failed handshake closes the connection and goes to
// Config.OnError as a [*HandshakeError]; Accept never returns it.
//
// # Accept errors
//
// Temporary accept errors (EMFILE and ENFILE when descriptors run out,
// ENOBUFS, ENOMEM, and the network errors accept(2) says to retry) are
// retried after a back-off that starts at 5 ms, doubles up to 1 s and
// starts over after a success, as net/http does; each goes to
// Config.OnError as an [*AcceptError]. Other errors are returned.
//
// # Graceful upgrade
//
// [Listener.File] duplicates a listening socket for another process;
// [FileListener] turns such a file back into a Listener, checking that it is
// the socket its Config describes. A [Table] does both by address string, as
// Pingora does: the old process binds through [Table.Listen] and sends
// [Table.Files]; the new process builds a Table from what it received and
// its Table.Listen adopts the socket for each configured address instead of
// binding a new one. Moving the files between processes is the job of the
// server's upgrade code.
//
// # Defaults
//
// Network "tcp"; HandshakeTimeout 60 s; TCP_NODELAY set on accepted
// connections (Config.Nagle clears it); keep-alive probes as Go sets them
// (15 s idle, 15 s interval, 9 probes); SO_REUSEADDR set (by Go);
// SO_REUSEPORT, IPV6_V6ONLY, TCP Fast Open, TCP_USER_TIMEOUT and buffer sizes
// left to the system; accept queue as long as the system allows; Unix socket
// mode 0666; no bind retry. A stale Unix socket file (nothing accepts on
// it) is removed before bind, where Pingora removes any file: a live
// socket or another kind of file is left alone and Listen fails.
//
// # Concurrency
//
// A Listener's methods may be called from any goroutines at once, and so
// may a Table's. Close interrupts Accept calls and handshakes in progress
// and returns once every goroutine the Listener started has ended; it does
// not close connections already accepted.
package listener
