//go:build openssl && cgo

package openssl

/*
#include "shim.h"
*/
import "C"

import (
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pingora-go/pingora/tlsbackend"
)

// Ciphertext moves between the raw connection and OpenSSL's memory BIOs
// through pooled buffers. A Read blocked on an idle connection holds a fill
// buffer, so it is one TLS record (16 KiB plus overhead), as crypto/tls
// keeps; flush buffers are held only while writing.
const (
	fillSize  = 16<<10 + 512
	flushSize = 64 << 10
	// maxWrite bounds one SSL_write so the write BIO stays small.
	maxWrite = 64 << 10
)

var (
	fillPool  = sync.Pool{New: func() any { b := make([]byte, fillSize); return &b }}
	flushPool = sync.Pool{New: func() any { b := make([]byte, flushSize); return &b }}
)

// Conn is an established OpenSSL connection over a Go net.Conn. OpenSSL
// reads and writes ciphertext through memory BIOs that Conn fills from and
// drains to the raw connection, so no file descriptor is handed to C.
//
// Locks, in order: readMu (one Read at a time), writeMu (one writer of
// ciphertext to raw at a time, so records leave in order), mu (every call
// into the SSL object; never held across raw I/O).
type Conn struct {
	raw    net.Conn
	server *server // nil on a client

	readMu  sync.Mutex
	rres    sslResult // readMu held
	writeMu sync.Mutex
	werr    error     // sticky write error; writeMu held
	wres    sslResult // writeMu held

	mu     sync.Mutex
	ssl    *C.SSL // nil once freed
	closed atomic.Bool

	state tlsbackend.ConnState
	sni   string // SNI seen by the server callback, or the client's server name
	cbErr error  // error from the SNI callback
}

var _ tlsbackend.Conn = (*Conn)(nil)

// sslResult receives SSL_get_error and the queued error code from C. It
// lives in Conn so that passing its address to C does not allocate; cgo
// allows it because the fields hold no Go pointers.
type sslResult struct {
	sslerr C.int
	code   C.ulong
}

// handshake creates the SSL object and drives the handshake to its end.
// On error the SSL object is freed.
func (c *Conn) handshake(ctx *C.SSL_CTX, server bool, setup *clientSetup) (err error) {
	h := cgo.NewHandle(c)
	defer h.Delete()
	var code C.ulong
	ssl := C.pg_ssl_new(ctx, cbool(server), C.uintptr_t(h), &code)
	if ssl == nil {
		return sslError("new SSL", 0, code)
	}
	c.ssl = ssl
	defer func() {
		c.mu.Lock()
		if c.ssl != nil {
			C.pg_set_handle(c.ssl, 0) // the handle dies with this call
		}
		c.mu.Unlock()
		if err != nil {
			c.free()
		}
	}()
	if setup != nil {
		if err := setup.apply(ssl); err != nil {
			return err
		}
	}
	for {
		var sslerr C.int
		c.mu.Lock()
		r := C.pg_handshake(ssl, &sslerr, &code)
		c.mu.Unlock()
		// Send what OpenSSL produced, including a fatal alert.
		c.writeMu.Lock()
		ferr := c.flushLocked()
		c.writeMu.Unlock()
		if r == 1 {
			if ferr != nil {
				return ferr
			}
			c.fillState(server)
			return nil
		}
		switch sslerr {
		case sslErrorWantRead:
			if ferr != nil {
				return ferr
			}
			if err := c.fill(); err != nil {
				if err == io.EOF {
					err = fmt.Errorf("openssl: peer closed the connection during the handshake: %w", io.ErrUnexpectedEOF)
				}
				return err
			}
		default:
			return c.handshakeError(sslerr, code)
		}
	}
}

func (c *Conn) handshakeError(sslerr C.int, code C.ulong) error {
	if c.cbErr != nil {
		return c.cbErr
	}
	err := sslError("handshake", sslerr, code)
	if v := C.SSL_get_verify_result(c.ssl); v != 0 {
		err = fmt.Errorf("%w: %w: %s", err, tlsbackend.ErrCertificateVerify, C.GoString(C.X509_verify_cert_error_string(v)))
	}
	return err
}

// fillState records the negotiated parameters.
func (c *Conn) fillState(server bool) {
	st := tlsbackend.ConnState{
		Version:     uint16(C.SSL_version(c.ssl)),
		CipherSuite: uint16(C.pg_cipher_id(c.ssl)),
		ServerName:  c.sni,
		DidResume:   C.SSL_session_reused(c.ssl) == 1,
	}
	var proto *C.uchar
	if n := C.pg_alpn_selected(c.ssl, &proto); n > 0 {
		st.NegotiatedProtocol = string(C.GoBytes(unsafe.Pointer(proto), n))
	}
	n := int(C.pg_peer_count(c.ssl))
	buf := make([]byte, 4096)
	for i := range n {
		k := int(C.pg_peer_der(c.ssl, C.int(i), cbytes(buf), C.int(len(buf))))
		if k > len(buf) {
			buf = make([]byte, k)
			k = int(C.pg_peer_der(c.ssl, C.int(i), cbytes(buf), C.int(len(buf))))
		}
		if k <= 0 {
			break
		}
		cert, err := x509.ParseCertificate(append([]byte(nil), buf[:k]...))
		if err != nil {
			break // OpenSSL accepted it; keep what parsed
		}
		st.PeerCertificates = append(st.PeerCertificates, cert)
	}
	c.state = st
}

// fill reads ciphertext from raw into the read BIO.
func (c *Conn) fill() error {
	bp := fillPool.Get().(*[]byte)
	defer fillPool.Put(bp)
	buf := *bp
	n, err := c.raw.Read(buf)
	if n > 0 {
		c.mu.Lock()
		if c.ssl == nil {
			c.mu.Unlock()
			return net.ErrClosed
		}
		C.pg_feed(c.ssl, unsafe.Pointer(&buf[0]), C.int(n))
		c.mu.Unlock()
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// flushLocked writes everything in the write BIO to raw. c.writeMu must be
// held.
func (c *Conn) flushLocked() error {
	if c.werr != nil {
		return c.werr
	}
	bp := flushPool.Get().(*[]byte)
	defer flushPool.Put(bp)
	buf := *bp
	for {
		c.mu.Lock()
		if c.ssl == nil {
			c.mu.Unlock()
			return net.ErrClosed
		}
		n := int(C.pg_drain(c.ssl, unsafe.Pointer(&buf[0]), C.int(len(buf))))
		c.mu.Unlock()
		if n == 0 {
			return nil
		}
		if _, err := c.raw.Write(buf[:n]); err != nil {
			// Part of a record may have gone out: the stream is broken.
			c.werr = err
			return err
		}
	}
}

// Read reads plaintext.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	p = p[:min(len(p), 1<<30)]
	c.readMu.Lock()
	defer c.readMu.Unlock()
	r := &c.rres
	for {
		c.mu.Lock()
		if c.ssl == nil {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		n := int(C.pg_read(c.ssl, unsafe.Pointer(&p[0]), C.int(len(p)), &r.sslerr, &r.code))
		out := C.pg_pending_out(c.ssl)
		c.mu.Unlock()
		if out > 0 {
			// Reading produced records to send (a key update answer).
			c.writeMu.Lock()
			err := c.flushLocked()
			c.writeMu.Unlock()
			if err != nil && n <= 0 {
				return 0, err
			}
		}
		if n > 0 {
			return n, nil
		}
		switch r.sslerr {
		case sslErrorWantRead:
			if err := c.fill(); err != nil {
				if err == io.EOF && c.pendingIn() {
					err = io.ErrUnexpectedEOF
				}
				return 0, err
			}
		case sslErrorZeroReturn:
			return 0, io.EOF
		default:
			if c.closed.Load() {
				return 0, net.ErrClosed
			}
			return 0, sslError("read", r.sslerr, r.code)
		}
	}
}

func (c *Conn) pendingIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ssl != nil && C.pg_pending_in(c.ssl) > 0
}

// Write writes plaintext. A failed write leaves the connection unusable for
// writing, as with crypto/tls.
func (c *Conn) Write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxWrite)]
		r := &c.wres
		c.mu.Lock()
		if c.ssl == nil {
			c.mu.Unlock()
			return written, net.ErrClosed
		}
		n := int(C.pg_write(c.ssl, unsafe.Pointer(&chunk[0]), C.int(len(chunk)), &r.sslerr, &r.code))
		c.mu.Unlock()
		if n <= 0 {
			c.werr = sslError("write", r.sslerr, r.code)
			return written, c.werr
		}
		if err := c.flushLocked(); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// Close sends close_notify (unless a Write is in progress or failed; the
// alert is bounded by a 5 s write deadline), closes raw and frees the SSL
// object. Close unblocks a concurrent Read or Write.
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	if c.writeMu.TryLock() {
		if c.werr == nil {
			c.raw.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.mu.Lock()
			if c.ssl != nil {
				C.pg_shutdown(c.ssl)
			}
			c.mu.Unlock()
			c.flushLocked()
			c.werr = net.ErrClosed
		}
		c.writeMu.Unlock()
	}
	err := c.raw.Close()
	c.free()
	return err
}

// free releases the SSL object (and its BIOs).
func (c *Conn) free() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ssl != nil {
		C.SSL_free(c.ssl)
		c.ssl = nil
	}
}

// State returns what the handshake negotiated.
func (c *Conn) State() tlsbackend.ConnState { return c.state }

// NetConn returns the raw connection. Reading or writing it directly
// corrupts the TLS stream.
func (c *Conn) NetConn() net.Conn { return c.raw }

// LocalAddr returns the raw connection's local address.
func (c *Conn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the raw connection's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the raw connection's deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.raw.SetDeadline(t) }

// SetReadDeadline sets the raw connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.raw.SetReadDeadline(t) }

// SetWriteDeadline sets the raw connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
