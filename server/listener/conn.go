package listener

import (
	"net"
	"time"
)

// Conn is an accepted connection and what the listener knows about it.
// It is a net.Conn: reads, writes and Close go to the embedded Conn.
type Conn struct {
	// Conn is the stream to use: for a TLS listener the conn the Handshaker
	// returned (type-assert it for the TLS state, e.g. to *tls.Conn or
	// tlsbackend.Conn), else the Preamble's conn if the listener has one,
	// else Raw.
	net.Conn
	// Raw is the accepted socket, a *net.TCPConn or *net.UnixConn. With TLS,
	// the Handshaker's conn owns it: read, write and close through Conn.
	Raw net.Conn
	// TLS reports whether Conn came from the listener's TLS Handshaker.
	TLS bool
	// Accepted is when the socket was accepted, before any handshake.
	Accepted time.Time
	// Key is the Key of the listener that accepted the connection.
	Key string
}
