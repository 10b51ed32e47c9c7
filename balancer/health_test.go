package balancer_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/balancer"
	perr "github.com/pingora-go/pingora/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// healthEvents records OnHealthChange calls.
type healthEvents struct {
	mu  sync.Mutex
	got []string
}

func (e *healthEvents) record(b balancer.Backend, healthy bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := b.String() + " down"
	if healthy {
		s = b.String() + " up"
	}
	if healthy != (err == nil) {
		s += " (inconsistent error)"
	}
	e.got = append(e.got, s)
}

func (e *healthEvents) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

func TestTCPCheck_DownAndBack(t *testing.T) {
	u1, u2 := newUpstream(t, nil), newUpstream(t, nil)
	var ev healthEvents
	lb, _ := newLB(t, balancer.Options{
		HealthCheck:        &balancer.TCPCheck{},
		UnhealthyThreshold: 2,
		HealthyThreshold:   3,
		OnHealthChange:     ev.record,
	}, u1.backend(), u2.backend())
	ctx := t.Context()
	selects := func() map[string]bool {
		got := map[string]bool{}
		for range 10 {
			b, ok := lb.Select(nil)
			require.True(t, ok)
			got[b.String()] = true
		}
		return got
	}

	lb.CheckHealth(ctx)
	assert.Empty(t, ev.take())
	assert.Len(t, selects(), 2)

	u1.stop()
	lb.CheckHealth(ctx) // one failure: below the threshold of 2
	h, _ := lb.Health(u1.backend())
	assert.True(t, h.Healthy)
	require.Error(t, h.LastError)
	assert.True(t, errors.Is(h.LastError, perr.ConnectRefused), "%v", h.LastError)
	assert.Len(t, selects(), 2)

	lb.CheckHealth(ctx)
	assert.Equal(t, []string{u1.addr + " down"}, ev.take())
	assert.Equal(t, map[string]bool{u2.addr: true}, selects())

	u1.start()
	for i := range 3 {
		lb.CheckHealth(ctx)
		h, _ := lb.Health(u1.backend())
		require.NoError(t, h.LastError)
		assert.Equal(t, i == 2, h.Healthy, "after %d passes", i+1)
	}
	assert.Equal(t, []string{u1.addr + " up"}, ev.take())
	assert.Len(t, selects(), 2)

	// A pass between failures resets the streak.
	u1.stop()
	lb.CheckHealth(ctx)
	u1.start()
	lb.CheckHealth(ctx)
	u1.stop()
	lb.CheckHealth(ctx)
	h, _ = lb.Health(u1.backend())
	assert.True(t, h.Healthy)
	assert.Empty(t, ev.take())
}

func TestTCPCheck_Unix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	b := balancer.Backend{Unix: path}
	require.NoError(t, (&balancer.TCPCheck{}).Check(t.Context(), &b))
	b.Unix += ".missing"
	err = (&balancer.TCPCheck{}).Check(t.Context(), &b)
	require.ErrorIs(t, err, perr.ConnectRefused)
}

// request is what an HTTP upstream saw.
type request struct{ method, path, host, header string }

// httpUpstream answers HTTP/1.1 requests with the current status and body
// and records them.
type httpUpstream struct {
	*upstream
	mu     sync.Mutex
	status int
	body   string
	seen   []request
}

func newHTTPUpstream(t *testing.T) *httpUpstream {
	h := &httpUpstream{status: 200, body: "ok"}
	h.upstream = newUpstream(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		h.mu.Lock()
		h.seen = append(h.seen, request{req.Method, req.URL.RequestURI(), req.Host, req.Header.Get("X-Check")})
		status, body := h.status, h.body
		h.mu.Unlock()
		resp := &http.Response{StatusCode: status, ProtoMajor: 1, ProtoMinor: 1, Close: true,
			ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}
		resp.Write(c)
	})
	return h
}

func (h *httpUpstream) set(status int, body string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.body = status, body
}

func TestHTTPCheck(t *testing.T) {
	u := newHTTPUpstream(t)
	tests := []struct {
		name     string
		check    balancer.HTTPCheck
		status   int
		body     string
		wantType perr.ErrorType // zero: healthy
		wantReq  request
	}{
		{"defaults", balancer.HTTPCheck{}, 200, "ok", perr.ErrorType{}, request{"GET", "/", u.addr, ""}},
		{"503", balancer.HTTPCheck{}, 503, "", balancer.StatusMismatch(503), request{"GET", "/", u.addr, ""}},
		{"expected 204", balancer.HTTPCheck{Status: 204}, 204, "", perr.ErrorType{}, request{"GET", "/", u.addr, ""}},
		{"expected 204, got 200", balancer.HTTPCheck{Status: 204}, 200, "", balancer.StatusMismatch(200), request{"GET", "/", u.addr, ""}},
		{"method path host header", balancer.HTTPCheck{Method: "HEAD", Path: "/healthz?full=1", Host: "svc.example", Header: http.Header{"X-Check": {"1"}}},
			200, "", perr.ErrorType{}, request{"HEAD", "/healthz?full=1", "svc.example", "1"}},
		{"body matches", balancer.HTTPCheck{BodyContains: []byte("READY")}, 200, "state: READY\n", perr.ErrorType{}, request{"GET", "/", u.addr, ""}},
		{"body does not match", balancer.HTTPCheck{BodyContains: []byte("READY")}, 200, "state: DRAINING\n", balancer.BodyMismatch, request{"GET", "/", u.addr, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u.set(tt.status, tt.body)
			u.mu.Lock()
			u.seen = nil
			u.mu.Unlock()
			b := u.backend()
			err := tt.check.Check(t.Context(), &b)
			if tt.wantType == (perr.ErrorType{}) {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantType)
			}
			u.mu.Lock()
			defer u.mu.Unlock()
			assert.Equal(t, []request{tt.wantReq}, u.seen)
		})
	}

	t.Run("validate", func(t *testing.T) {
		u.set(418, "teapot")
		b := u.backend()
		c := balancer.HTTPCheck{Validate: func(r *http.Response, body []byte) error {
			if r.StatusCode == 418 && string(body) == "teapot" {
				return nil
			}
			return errDown
		}}
		require.NoError(t, c.Check(t.Context(), &b))
		u.set(200, "coffee")
		require.ErrorIs(t, c.Check(t.Context(), &b), errDown)
	})
	t.Run("port override and refused", func(t *testing.T) {
		b := u.backend()
		b.Addr = netip.AddrPortFrom(b.Addr.Addr(), 1) // nothing listens on port 1
		c := balancer.HTTPCheck{Port: u.backend().Addr.Port()}
		u.set(200, "")
		require.NoError(t, c.Check(t.Context(), &b))
		require.ErrorIs(t, (&balancer.HTTPCheck{}).Check(t.Context(), &b), perr.ConnectRefused)
	})
}

func TestHTTPCheck_TLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "example.com" && !strings.HasPrefix(r.Host, "127.0.0.1") {
			w.WriteHeader(400)
		}
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	b := balancer.Backend{Addr: netip.MustParseAddrPort(srv.Listener.Addr().String())}
	tests := []struct {
		name  string
		check balancer.HealthCheck
		want  perr.ErrorType // zero: healthy
	}{
		{"http verified by ip", &balancer.HTTPCheck{TLS: true, RootCAs: roots}, perr.ErrorType{}},
		{"http verified by host", &balancer.HTTPCheck{TLS: true, RootCAs: roots, Host: "example.com"}, perr.ErrorType{}},
		{"http unknown ca", &balancer.HTTPCheck{TLS: true}, perr.InvalidCert},
		{"http wrong name", &balancer.HTTPCheck{TLS: true, RootCAs: roots, ServerName: "wrong.test"}, perr.InvalidCert},
		{"tcp verified", &balancer.TCPCheck{TLS: true, RootCAs: roots, ServerName: "example.com"}, perr.ErrorType{}},
		{"tcp verified by ip", &balancer.TCPCheck{TLS: true, RootCAs: roots}, perr.ErrorType{}},
		{"tcp unknown ca", &balancer.TCPCheck{TLS: true}, perr.InvalidCert},
		{"tcp wrong name", &balancer.TCPCheck{TLS: true, RootCAs: roots, ServerName: "wrong.test"}, perr.InvalidCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check.Check(t.Context(), &b)
			if tt.want == (perr.ErrorType{}) {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestCheckHealth_TimeoutPanicCustom(t *testing.T) {
	bs := addrs(3)
	hc := balancer.HealthCheckFunc(func(ctx context.Context, b *balancer.Backend) error {
		switch b.Addr {
		case bs[0].Addr:
			<-ctx.Done() // hangs until the timeout
			return ctx.Err()
		case bs[1].Addr:
			panic("boom")
		}
		return nil
	})
	var ev healthEvents
	lb, _ := newLB(t, balancer.Options{HealthCheck: hc, HealthCheckTimeout: 20 * time.Millisecond, OnHealthChange: ev.record}, bs...)
	lb.CheckHealth(t.Context())
	h0, _ := lb.Health(bs[0])
	assert.ErrorIs(t, h0.LastError, context.DeadlineExceeded)
	assert.False(t, h0.Healthy)
	h1, _ := lb.Health(bs[1])
	assert.ErrorContains(t, h1.LastError, "panicked: boom")
	h2, _ := lb.Health(bs[2])
	assert.True(t, h2.Healthy)
	assert.False(t, h2.LastCheck.IsZero())
	assert.ElementsMatch(t, []string{bs[0].String() + " down", bs[1].String() + " down"}, ev.take())
	for range 10 {
		b, ok := lb.Select(nil)
		require.True(t, ok)
		assert.Equal(t, bs[2].Addr, b.Addr)
	}

	// A round cut short by its context records nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	lb.CheckHealth(ctx)
	h0b, _ := lb.Health(bs[0])
	assert.Equal(t, h0.LastCheck, h0b.LastCheck)
}

// TestLoadBalancer_RunHealthChecks runs active HTTP checks through Run on
// loopback origins that go down and come back, then checks that nothing
// is left running after ctx ends.
func TestLoadBalancer_RunHealthChecks(t *testing.T) {
	u1, u2 := newHTTPUpstream(t), newHTTPUpstream(t)
	leaks := checkGoroutines(t)
	lb, err := balancer.New(balancer.NewStatic(u1.backend(), u2.backend()), balancer.Options{
		HealthCheck:         &balancer.HTTPCheck{Path: "/health"},
		HealthCheckInterval: 10 * time.Millisecond,
		Logger:              quiet,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- lb.Run(ctx) }()

	only := func(want string) func() bool {
		return func() bool {
			for range 6 {
				b, ok := lb.Select(nil)
				if !ok || b.String() != want {
					return false
				}
			}
			return true
		}
	}
	both := func() bool {
		seen := map[string]bool{}
		for range 6 {
			if b, ok := lb.Select(nil); ok {
				seen[b.String()] = true
			}
		}
		return len(seen) == 2
	}
	require.Eventually(t, both, 5*time.Second, 5*time.Millisecond)
	u1.set(500, "")
	require.Eventually(t, only(u2.addr), 5*time.Second, 5*time.Millisecond)
	u1.set(200, "")
	require.Eventually(t, both, 5*time.Second, 5*time.Millisecond)
	u2.stop()
	require.Eventually(t, only(u1.addr), 5*time.Second, 5*time.Millisecond)
	u2.start()
	require.Eventually(t, both, 5*time.Second, 5*time.Millisecond)

	cancel()
	require.NoError(t, <-done)
	leaks()
}

func TestCheck_ProxyProtocol(t *testing.T) {
	v1 := "PROXY UNKNOWN\r\n"
	v2 := "\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00" // version 2, LOCAL, UNSPEC, no addresses
	for _, tt := range []struct {
		name    string
		version int
		want    string
	}{{"v1", 1, v1}, {"v2", 2, v2}} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan string, 4)
			// An HTTP backend that requires the header before the request.
			u := newUpstream(t, func(c net.Conn) {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				hdr := make([]byte, len(tt.want))
				if _, err := io.ReadFull(c, hdr); err != nil {
					got <- "error: " + err.Error()
					return
				}
				got <- string(hdr)
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return // the TCP check sends nothing more
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			})
			b := u.backend()
			require.NoError(t, (&balancer.HTTPCheck{ProxyProtocol: tt.version}).Check(t.Context(), &b))
			assert.Equal(t, tt.want, <-got)
			require.NoError(t, (&balancer.TCPCheck{ProxyProtocol: tt.version}).Check(t.Context(), &b))
			assert.Equal(t, tt.want, <-got)
		})
	}
	t.Run("unknown version", func(t *testing.T) {
		b := balancer.Backend{Addr: netip.MustParseAddrPort("127.0.0.1:1")}
		err := (&balancer.TCPCheck{ProxyProtocol: 3}).Check(t.Context(), &b)
		require.ErrorIs(t, err, perr.InternalError)
		assert.Contains(t, err.Error(), "unknown PROXY protocol version 3")
	})
}
