package balancer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	perr "github.com/pingora-go/pingora/errors"
)

// HealthCheck tests one backend (Pingora's HealthCheck). The load balancer
// runs it on every backend each [Options.HealthCheckInterval], all
// backends in parallel, each under a context that ends after
// [Options.HealthCheckTimeout]; it counts consecutive results against
// [Options.HealthyThreshold] and [Options.UnhealthyThreshold]. Check must
// be safe for concurrent use on different backends and must return soon
// after ctx is done.
type HealthCheck interface {
	// Check returns nil if b is healthy, else why it is not.
	Check(ctx context.Context, b *Backend) error
}

// HealthCheckFunc adapts a function to a [HealthCheck].
type HealthCheckFunc func(ctx context.Context, b *Backend) error

// Check calls f(ctx, b).
func (f HealthCheckFunc) Check(ctx context.Context, b *Backend) error { return f(ctx, b) }

var (
	_ HealthCheck = HealthCheckFunc(nil)
	_ HealthCheck = (*TCPCheck)(nil)
	_ HealthCheck = (*HTTPCheck)(nil)
)

// TCPCheck is healthy when a connection to the backend can be established
// (Pingora's TcpHealthCheck), and with TLS set, when a verified TLS
// handshake completes too. The zero value is a plain TCP check. The
// connection is closed at once.
//
// It dials with the standard library for now; it will move to the
// project's connector (server module) once that exists, so the check
// connects exactly as the proxy does.
type TCPCheck struct {
	// TLS adds a TLS handshake, verifying the backend's certificate
	// against ServerName. Verification cannot be turned off.
	TLS bool
	// ServerName is the name sent as SNI and verified in the certificate.
	// If empty, the backend's IP address is verified (its certificate needs
	// an IP SAN); a Unix socket backend needs it set.
	ServerName string
	// RootCAs verifies the certificate. If nil, the system roots.
	RootCAs *x509.CertPool
	// Port, if not zero, replaces the backend's port.
	Port uint16
	// ProxyProtocol, 1 or 2, sends a PROXY protocol header of that version
	// first (before TLS), for backends that require one: "PROXY UNKNOWN"
	// (v1) or a LOCAL command (v2), which tell the backend the connection
	// is the proxy's own. If zero, none.
	ProxyProtocol int
}

// Check dials b.
func (c *TCPCheck) Check(ctx context.Context, b *Backend) error {
	network, addr := dialTarget(b, c.Port)
	conn, err := dialProxy(ctx, network, addr, c.ProxyProtocol)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !c.TLS {
		return nil
	}
	name := c.ServerName
	if name == "" && b.Unix == "" {
		name = b.Addr.Addr().WithZone("").String()
	}
	tc := tls.Client(conn, &tls.Config{ServerName: name, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return tlsError(addr, err)
	}
	return nil
}

// dialTarget is the network and address to dial for b, with port replaced
// if not zero.
func dialTarget(b *Backend, port uint16) (network, addr string) {
	if b.Unix != "" {
		return "unix", b.Unix
	}
	ap := b.Addr
	if port != 0 {
		ap = netip.AddrPortFrom(ap.Addr(), port)
	}
	return "tcp", ap.String()
}

// Health-check PROXY protocol headers: the connection is the proxy's own,
// so it carries no client address (HAProxy protocol spec, sections 2.1 and
// 2.2: "UNKNOWN" in version 1, the LOCAL command in version 2).
var (
	proxyV1Local = []byte("PROXY UNKNOWN\r\n")
	proxyV2Local = []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
)

// dialProxy dials, then sends a PROXY protocol header of version (1 or 2;
// 0: none) under ctx's deadline.
func dialProxy(ctx context.Context, network, addr string, version int) (net.Conn, error) {
	var hdr []byte
	switch version {
	case 0:
	case 1:
		hdr = proxyV1Local
	case 2:
		hdr = proxyV2Local
	default:
		return nil, perr.Explain(perr.InternalError, fmt.Sprintf("balancer: unknown PROXY protocol version %d", version))
	}
	conn, err := dial(ctx, network, addr)
	if err != nil || hdr == nil {
		return conn, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	if _, err := conn.Write(hdr); err != nil {
		conn.Close()
		return nil, perr.Because(perr.WriteError, "balancer: health check PROXY header to "+addr, err).AsUp()
	}
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, nil
}

// dial connects and classifies failures as perr connect errors.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err == nil {
		return conn, nil
	}
	t := perr.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		t = perr.ConnectRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		t = perr.ConnectNoRoute
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		t = perr.ConnectTimedout
	}
	return nil, perr.Because(t, "balancer: health check dial "+addr, err).AsUp()
}

func tlsError(addr string, err error) error {
	t := perr.TLSHandshakeFailure
	var ce *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		t = perr.InvalidCert
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		t = perr.TLSHandshakeTimedout
	}
	return perr.Because(t, "balancer: health check tls handshake with "+addr, err).AsUp()
}

// HTTPCheck sends one HTTP/1.1 request to the backend and is healthy when
// the answer has the expected status (and body, if asked), as Pingora's
// HttpHealthCheck. The zero value sends "GET /" and expects 200. Each check
// uses a new connection (no keep-alive), over TLS when TLS is set, with the
// certificate verified.
//
// It uses net/http, with a transport of its own for each check, for now;
// it will move to the project's connector (server module) once that
// exists. An HTTPCheck must not be changed while checks run.
type HTTPCheck struct {
	// Method is the request method. If empty, GET.
	Method string
	// Path is the request target. If empty, "/".
	Path string
	// Host is the Host header. If empty, the backend's address.
	Host string
	// Header holds extra request headers.
	Header http.Header
	// TLS makes the request over TLS, verifying the certificate against
	// ServerName. Verification cannot be turned off.
	TLS bool
	// ServerName is the SNI and the name verified. If empty, Host without
	// its port, or when Host is empty, the backend's IP address ("localhost"
	// for a Unix socket backend).
	ServerName string
	// RootCAs verifies the certificate. If nil, the system roots.
	RootCAs *x509.CertPool
	// Port, if not zero, replaces the backend's port.
	Port uint16
	// Status is the status code a healthy backend answers. If zero, 200.
	Status int
	// BodyContains, if not empty, must occur in the response body.
	BodyContains []byte
	// MaxBody bounds how much of the body is read (the rest is not waited
	// for). If zero, 64 KiB.
	MaxBody int64
	// Validate, if set, replaces the Status and BodyContains tests: it
	// gets the response and its body (up to MaxBody) and returns nil if the
	// backend is healthy.
	Validate func(resp *http.Response, body []byte) error
	// ProxyProtocol, 1 or 2, sends a PROXY protocol header of that version
	// first on the connection, as TCPCheck.ProxyProtocol. If zero, none.
	ProxyProtocol int
}

// transport returns a transport for one check: no keep-alive (so nothing
// stays open), no proxy, dialing network and addr whatever the URL says.
func (c *HTTPCheck) transport(network, addr string) *http.Transport {
	tc := &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if tc.ServerName == "" && c.Host != "" {
		tc.ServerName = hostOnly(c.Host)
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialProxy(ctx, network, addr, c.ProxyProtocol)
		},
		TLSClientConfig:    tc,
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// Check sends the request to b and checks the answer.
func (c *HTTPCheck) Check(ctx context.Context, b *Backend) error {
	network, addr := dialTarget(b, c.Port)
	scheme, urlHost := "http", addr
	if c.TLS {
		scheme = "https"
	}
	if b.Unix != "" {
		urlHost = "localhost"
	}
	path := c.Path
	if path == "" {
		path = "/"
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, scheme+"://"+urlHost+path, nil)
	if err != nil {
		return perr.Because(perr.InternalError, "balancer: http health check request", err)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	tr := c.transport(network, addr)
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		if pe := (*perr.Error)(nil); errors.As(err, &pe) {
			return err // dial error, already classified
		}
		var ce *tls.CertificateVerificationError
		if errors.As(err, &ce) {
			return tlsError(addr, err)
		}
		return perr.Because(perr.ReadError, "balancer: http health check of "+addr, err).AsUp()
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = 64 << 10
	}
	var body []byte
	if c.Validate != nil || len(c.BodyContains) > 0 {
		body, err = io.ReadAll(io.LimitReader(resp.Body, limit))
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
	}
	if err != nil {
		return perr.Because(perr.ReadError, "balancer: http health check body of "+addr, err).AsUp()
	}
	if c.Validate != nil {
		return c.Validate(resp, body)
	}
	want := c.Status
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		return perr.Explain(StatusMismatch(resp.StatusCode),
			"during http healthcheck: want status "+strconv.Itoa(want)).AsUp()
	}
	if len(c.BodyContains) > 0 && !bytes.Contains(body, c.BodyContains) {
		return perr.Explain(BodyMismatch, fmt.Sprintf("during http healthcheck: body does not contain %q", c.BodyContains)).AsUp()
	}
	return nil
}

// StatusMismatch is the perr type of an HTTPCheck failure because the
// backend answered status instead of the expected one (Pingora's
// "non 200 code"): errors.Is(err, balancer.StatusMismatch(503)) tells a
// 503. Its code is the status received.
func StatusMismatch(status int) perr.ErrorType {
	return perr.NewTypeCode("HealthCheckStatusMismatch", status)
}

// BodyMismatch is the perr type of an HTTPCheck failure because the body
// lacks BodyContains.
var BodyMismatch = perr.NewType("HealthCheckBodyMismatch")
