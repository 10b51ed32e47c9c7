//go:build openssl && cgo

package openssl

/*
#cgo LDFLAGS: -lssl -lcrypto
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/cgo"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/internal/hs"
)

// Available reports whether this build contains the OpenSSL backend.
const Available = true

// Backend is the OpenSSL backend. The zero value is ready to use.
type Backend struct{}

var _ tlsbackend.Backend = (*Backend)(nil)

// New returns the OpenSSL backend. The error is always nil in a build with
// cgo and -tags openssl.
func New() (*Backend, error) { return &Backend{}, nil }

// Name returns "openssl".
func (b *Backend) Name() string { return "openssl" }

// FIPS reports whether OpenSSL's default properties select the FIPS
// provider.
func (b *Backend) FIPS() bool { return C.pg_fips() == 1 }

// Version returns the linked library's version text, e.g.
// "OpenSSL 3.0.19 27 Jan 2026".
func Version() string { return C.GoString(C.pg_version()) }

// Values of OpenSSL constants (macros cgo cannot always see as constants).
const (
	sslErrorWantRead   = 2 // SSL_ERROR_WANT_READ
	sslErrorZeroReturn = 6 // SSL_ERROR_ZERO_RETURN

	verifyNone             = 0 // SSL_VERIFY_NONE
	verifyPeer             = 1 // SSL_VERIFY_PEER
	verifyFailIfNoPeerCert = 2 // SSL_VERIFY_FAIL_IF_NO_PEER_CERT

	tlsextErrOK         = 0 // SSL_TLSEXT_ERR_OK
	tlsextErrAlertFatal = 2 // SSL_TLSEXT_ERR_ALERT_FATAL
)

// sslError turns an OpenSSL failure into an error.
func sslError(op string, sslerr C.int, code C.ulong) error {
	if code != 0 {
		var buf [256]C.char
		C.pg_errstr(code, &buf[0], C.size_t(len(buf)))
		return fmt.Errorf("openssl: %s: %s", op, C.GoString(&buf[0]))
	}
	return fmt.Errorf("openssl: %s failed (SSL_get_error %d)", op, int(sslerr))
}

// ctxHolder owns an SSL_CTX and frees it once it is closed and no
// handshake still uses it.
type ctxHolder struct {
	mu     sync.Mutex
	ctx    *C.SSL_CTX
	active int
	closed bool
	free   func() // frees everything; h.mu held
}

// acquire registers a handshake; it fails after Close.
func (h *ctxHolder) acquire() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return tlsbackend.ErrClosed
	}
	h.active++
	return nil
}

func (h *ctxHolder) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.active--
	if h.closed && h.active == 0 {
		h.free()
	}
}

func (h *ctxHolder) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	if h.active == 0 {
		h.free()
	}
	return nil
}

func newCtx(server bool, p tlsbackend.Params) (*C.SSL_CTX, error) {
	var code C.ulong
	ctx := C.pg_ctx_new(cbool(server), C.int(p.MinVersion), C.int(p.MaxVersion), &code)
	if ctx == nil {
		return nil, sslError("new SSL_CTX", 0, code)
	}
	return ctx, nil
}

func addCAs(ctx *C.SSL_CTX, cas []*x509.Certificate, clientCA bool) error {
	for _, ca := range cas {
		var code C.ulong
		if C.pg_ctx_add_ca(ctx, cbytes(ca.Raw), C.int(len(ca.Raw)), cbool(clientCA), &code) != 1 {
			return sslError("add CA "+ca.Subject.String(), 0, code)
		}
	}
	return nil
}

// Server returns a ServerTLS serving cfg.Certificates.
func (b *Backend) Server(cfg *tlsbackend.ServerConfig) (tlsbackend.ServerTLS, error) {
	p, err := tlsbackend.ServerParams(cfg)
	if err != nil {
		return nil, err
	}
	ctx, err := newCtx(true, p)
	if err != nil {
		return nil, err
	}
	s := &server{params: p, store: cfg.Certificates, reject: cfg.RejectUnknownSNI}
	s.certs.m = make(map[*tlsbackend.Certificate]*C.pg_keypair)
	s.h.ctx = ctx
	s.h.free = s.free
	if len(cfg.NextProtos) > 0 {
		wire := alpnWire(cfg.NextProtos)
		s.alpn = (*C.pg_alpn)(C.calloc(1, C.size_t(unsafe.Sizeof(C.pg_alpn{}))))
		s.alpn.protos = (*C.uchar)(C.CBytes(wire))
		s.alpn.len = C.uint(len(wire))
	}
	var code C.ulong
	C.pg_ctx_set_server(ctx, s.alpn, &code)
	switch cfg.ClientAuth {
	case tlsbackend.VerifyClientCertIfGiven:
		C.pg_ctx_set_verify(ctx, verifyPeer)
	case tlsbackend.RequireAndVerifyClientCert:
		C.pg_ctx_set_verify(ctx, verifyPeer|verifyFailIfNoPeerCert)
	}
	if cfg.ClientAuth != tlsbackend.NoClientCert {
		if err := addCAs(ctx, cfg.ClientCAs, true); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

type server struct {
	h      ctxHolder
	params tlsbackend.Params
	store  *tlsbackend.CertStore
	reject bool
	alpn   *C.pg_alpn

	certs struct {
		sync.Mutex
		gen uint64
		m   map[*tlsbackend.Certificate]*C.pg_keypair
	}
}

// free releases the C objects. s.h.mu must be held.
func (s *server) free() {
	C.SSL_CTX_free(s.h.ctx)
	s.h.ctx = nil
	if s.alpn != nil {
		C.free(unsafe.Pointer(s.alpn.protos))
		C.free(unsafe.Pointer(s.alpn))
		s.alpn = nil
	}
	s.certs.Lock()
	s.dropCerts()
	s.certs.Unlock()
}

// s.certs must be held.
func (s *server) dropCerts() {
	for k, kp := range s.certs.m {
		C.pg_keypair_free(kp)
		delete(s.certs.m, k)
	}
}

func (s *server) Close() error { return s.h.Close() }

// useCert installs the certificate for serverName on ssl; called from the
// SNI callback during a handshake.
func (s *server) useCert(ssl *C.SSL, serverName string) error {
	cert, ok := s.store.Get(serverName)
	if !ok && s.reject && serverName != "" {
		return fmt.Errorf("tlsbackend: no certificate for server name %q", serverName)
	}
	gen := s.store.Generation()
	s.certs.Lock()
	defer s.certs.Unlock()
	if gen != s.certs.gen {
		// The store changed: drop the C copies of the old set. Handshakes
		// that installed them hold their own references.
		s.dropCerts()
		s.certs.gen = gen
	}
	kp := s.certs.m[cert]
	if kp == nil {
		var err error
		if kp, err = newKeypair(cert); err != nil {
			return err
		}
		s.certs.m[cert] = kp
	}
	if C.pg_use_keypair(ssl, kp) != 1 {
		return errors.New("openssl: SSL_use_cert_and_key failed")
	}
	return nil
}

func (s *server) Handshake(ctx context.Context, raw net.Conn) (tlsbackend.Conn, error) {
	if err := s.h.acquire(); err != nil {
		return nil, hs.Fail(raw, "openssl", "server", err)
	}
	defer s.h.release()
	c := &Conn{raw: raw, server: s}
	g := hs.Arm(ctx, raw, s.params.HandshakeTimeout, "openssl", "server")
	if err := g.Done(c.handshake(s.h.ctx, true, nil)); err != nil {
		c.free() // the handshake may have finished as ctx was cancelled
		return nil, err
	}
	return c, nil
}

// Client returns a ClientTLS verifying servers as cfg says.
func (b *Backend) Client(cfg *tlsbackend.ClientConfig) (tlsbackend.ClientTLS, error) {
	p, err := tlsbackend.ClientParams(cfg)
	if err != nil {
		return nil, err
	}
	ctx, err := newCtx(false, p)
	if err != nil {
		return nil, err
	}
	c := &client{
		params: p, verify: !cfg.InsecureSkipVerify, protos: cfg.NextProtos,
		skipHost: cfg.SkipVerifyHostname, alt: slices.Clone(cfg.AlternativeNames),
	}
	c.h.ctx = ctx
	c.h.free = func() { C.SSL_CTX_free(c.h.ctx); c.h.ctx = nil }
	if c.verify {
		C.pg_ctx_set_verify(ctx, verifyPeer)
		if cfg.RootCAs == nil {
			var code C.ulong
			if C.pg_ctx_default_roots(ctx, &code) != 1 {
				c.Close()
				return nil, sslError("load system roots", 0, code)
			}
		} else if err := addCAs(ctx, cfg.RootCAs, false); err != nil {
			c.Close()
			return nil, err
		}
	} else {
		C.pg_ctx_set_verify(ctx, verifyNone)
	}
	if cfg.Certificate != nil {
		kp, err := newKeypair(cfg.Certificate)
		if err == nil {
			var code C.ulong
			if C.pg_ctx_use_keypair(ctx, kp, &code) != 1 {
				err = sslError("use client certificate", 0, code)
			}
			C.pg_keypair_free(kp) // the SSL_CTX holds its own references
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

type client struct {
	h        ctxHolder
	params   tlsbackend.Params
	verify   bool
	protos   []string
	skipHost bool     // verify the chain only
	alt      []string // ClientConfig.AlternativeNames
}

func (c *client) Close() error { return c.h.Close() }

// ErrNoServerName is returned by a verifying client handshake given no
// server name.
var ErrNoServerName = errors.New("tlsbackend: empty server name: certificate verification needs one (or set InsecureSkipVerify)")

func (c *client) Handshake(ctx context.Context, raw net.Conn, serverName string, alpn []string) (tlsbackend.Conn, error) {
	if serverName == "" && c.verify && !c.skipHost && len(c.alt) == 0 {
		return nil, hs.Fail(raw, "openssl", "client", ErrNoServerName)
	}
	if alpn == nil {
		alpn = c.protos
	}
	if err := tlsbackend.CheckALPN(alpn); err != nil {
		return nil, hs.Fail(raw, "openssl", "client", err)
	}
	if err := c.h.acquire(); err != nil {
		return nil, hs.Fail(raw, "openssl", "client", err)
	}
	defer c.h.release()
	setup := &clientSetup{serverName: serverName, alpn: alpnWire(alpn)}
	if c.verify && !c.skipHost {
		setup.names = tlsbackend.VerifyNames(&tlsbackend.ClientConfig{AlternativeNames: c.alt}, serverName)
	}
	conn := &Conn{raw: raw, sni: serverName}
	g := hs.Arm(ctx, raw, c.params.HandshakeTimeout, "openssl", "client")
	err := conn.handshake(c.h.ctx, false, setup)
	if err == nil && setup.postCheck {
		if len(conn.state.PeerCertificates) == 0 {
			err = fmt.Errorf("%w: server sent no certificate", tlsbackend.ErrCertificateVerify)
		} else {
			err = tlsbackend.CheckHostname(conn.state.PeerCertificates[0], setup.names)
		}
	}
	if err := g.Done(err); err != nil {
		conn.free() // the handshake may have finished as ctx was cancelled
		return nil, err
	}
	return conn, nil
}

type clientSetup struct {
	serverName string
	names      []string // names to verify the certificate against; nil: none
	alpn       []byte
	postCheck  bool // names are checked in Go after the handshake
}

// apply configures a new client SSL.
func (cs *clientSetup) apply(ssl *C.SSL) error {
	var sni, host, ip *C.char
	if cs.serverName != "" {
		name := C.CString(cs.serverName)
		defer C.free(unsafe.Pointer(name))
		if !isIP(cs.serverName) {
			sni = name // RFC 6066: no SNI for IP literals
		}
	}
	// OpenSSL accepts a certificate matching any of several DNS names, but
	// requires a host and an IP address both to match when both are set:
	// a list mixing the two is checked in Go after the handshake.
	var more []string
	switch {
	case len(cs.names) == 1 && isIP(cs.names[0]):
		ip = C.CString(cs.names[0])
		defer C.free(unsafe.Pointer(ip))
	case len(cs.names) > 0 && !slices.ContainsFunc(cs.names, isIP):
		host = C.CString(cs.names[0])
		defer C.free(unsafe.Pointer(host))
		more = cs.names[1:]
	case len(cs.names) > 0:
		cs.postCheck = true
	}
	var code C.ulong
	var alpn *C.uchar
	if len(cs.alpn) > 0 {
		alpn = (*C.uchar)(unsafe.Pointer(&cs.alpn[0]))
	}
	if C.pg_client_setup(ssl, sni, host, ip, alpn, C.uint(len(cs.alpn)), &code) != 1 {
		return sslError("client setup", 0, code)
	}
	for _, n := range more {
		name := C.CString(n)
		r := C.pg_add_host(ssl, name, &code)
		C.free(unsafe.Pointer(name))
		if r != 1 {
			return sslError("add verify host "+strconv.Quote(n), 0, code)
		}
	}
	return nil
}

func isIP(name string) bool {
	_, err := netip.ParseAddr(name)
	return err == nil
}

// newKeypair converts a certificate for OpenSSL.
func newKeypair(cert *tlsbackend.Certificate) (*C.pg_keypair, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey())
	if err != nil {
		return nil, fmt.Errorf("openssl: private key %T cannot be exported to OpenSSL: %w", cert.PrivateKey(), err)
	}
	kp := C.pg_keypair_new()
	if kp == nil {
		return nil, errors.New("openssl: out of memory")
	}
	chain := cert.Chain()
	var code C.ulong
	if C.pg_keypair_set(kp, cbytes(chain[0]), C.int(len(chain[0])), cbytes(keyDER), C.int(len(keyDER)), &code) != 1 {
		C.pg_keypair_free(kp)
		return nil, sslError("load certificate and key", 0, code)
	}
	clear(keyDER)
	for _, der := range chain[1:] {
		if C.pg_keypair_add_chain(kp, cbytes(der), C.int(len(der)), &code) != 1 {
			C.pg_keypair_free(kp)
			return nil, sslError("load chain certificate", 0, code)
		}
	}
	return kp, nil
}

// alpnWire encodes protos as the ALPN wire list (length-prefixed names).
func alpnWire(protos []string) []byte {
	var out []byte
	for _, p := range protos {
		out = append(out, byte(len(p)))
		out = append(out, p...)
	}
	return out
}

func cbytes(b []byte) *C.uchar {
	if len(b) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&b[0]))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

//export pgoServerName
func pgoServerName(h C.uintptr_t, ssl *C.SSL) (ret C.int) {
	defer func() {
		if recover() != nil {
			ret = tlsextErrAlertFatal
		}
	}()
	if h == 0 {
		return tlsextErrAlertFatal
	}
	c := cgo.Handle(h).Value().(*Conn)
	name := ""
	if p := C.pg_servername(ssl); p != nil {
		name = C.GoString(p)
	}
	c.sni = name
	if err := c.server.useCert(ssl, name); err != nil {
		c.cbErr = err
		return tlsextErrAlertFatal
	}
	return tlsextErrOK
}
