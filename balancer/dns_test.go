package balancer_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/balancer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer is a tiny authoritative DNS server on 127.0.0.1, UDP and TCP
// on the same port, answering from a zone the test changes.
type dnsServer struct {
	addr string
	udp  net.PacketConn
	tcp  net.Listener
	wg   sync.WaitGroup

	mu       sync.Mutex
	zone     map[string][]dnsmessage.Resource // "name TYPE" → records
	nx       map[string]bool                  // names that do not exist
	fail     bool                             // answer SERVFAIL
	truncate bool                             // UDP answers are truncated
	queries  map[string]int                   // "name TYPE" → count
	tcpCount int
}

func newDNSServer(t *testing.T) *dnsServer {
	s := &dnsServer{zone: map[string][]dnsmessage.Resource{}, nx: map[string]bool{}, queries: map[string]int{}}
	for range 20 {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			continue
		}
		s.udp, s.tcp, s.addr = udp, tcp, udp.LocalAddr().String()
		break
	}
	require.NotNil(t, s.udp, "no port free for both UDP and TCP")
	s.wg.Go(s.serveUDP)
	s.wg.Go(s.serveTCP)
	t.Cleanup(func() { s.udp.Close(); s.tcp.Close(); s.wg.Wait() })
	return s
}

func rrKey(name string, t dnsmessage.Type) string { return strings.ToLower(name) + " " + t.String() }

// set replaces the records of name and type.
func (s *dnsServer) set(name string, ttl uint32, bodies ...dnsmessage.ResourceBody) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t dnsmessage.Type
	var rs []dnsmessage.Resource
	for _, b := range bodies {
		switch b.(type) {
		case *dnsmessage.AResource:
			t = dnsmessage.TypeA
		case *dnsmessage.AAAAResource:
			t = dnsmessage.TypeAAAA
		case *dnsmessage.SRVResource:
			t = dnsmessage.TypeSRV
		}
		rs = append(rs, dnsmessage.Resource{
			Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: t, Class: dnsmessage.ClassINET, TTL: ttl},
			Body:   b,
		})
	}
	if t == 0 {
		panic("set needs records")
	}
	s.zone[rrKey(name, t)] = rs
}

func (s *dnsServer) clear(name string, t dnsmessage.Type) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.zone, rrKey(name, t))
}

func (s *dnsServer) count(name string, t dnsmessage.Type) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[rrKey(name, t)]
}

func a4(s string) *dnsmessage.AResource {
	return &dnsmessage.AResource{A: netip.MustParseAddr(s).As4()}
}

func a6(s string) *dnsmessage.AAAAResource {
	return &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(s).As16()}
}

func srv(prio, weight, port uint16, target string) *dnsmessage.SRVResource {
	return &dnsmessage.SRVResource{Priority: prio, Weight: weight, Port: port, Target: dnsmessage.MustNewName(target)}
}

// answer builds the response to req; overUDP may truncate it.
func (s *dnsServer) answer(req []byte, overUDP bool) []byte {
	var q dnsmessage.Message
	if q.Unpack(req) != nil || len(q.Questions) != 1 {
		return nil
	}
	qu := q.Questions[0]
	k := rrKey(qu.Name.String(), qu.Type)
	s.mu.Lock()
	s.queries[k]++
	if !overUDP {
		s.tcpCount++
	}
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RecursionDesired: q.RecursionDesired},
		Questions: q.Questions,
	}
	switch {
	case s.fail:
		resp.RCode = dnsmessage.RCodeServerFailure
	case s.nx[strings.ToLower(qu.Name.String())]:
		resp.RCode = dnsmessage.RCodeNameError
	case s.truncate && overUDP:
		resp.Truncated = true
	default:
		resp.Answers = slices.Clone(s.zone[k])
	}
	s.mu.Unlock()
	out, err := resp.Pack()
	if err != nil {
		panic(err)
	}
	return out
}

func (s *dnsServer) serveUDP() {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		if out := s.answer(buf[:n], true); out != nil {
			s.udp.WriteTo(out, from)
		}
	}
}

func (s *dnsServer) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			var l [2]byte
			if _, err := io.ReadFull(c, l[:]); err != nil {
				return
			}
			req := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			out := s.answer(req, false)
			c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(out))), out...))
		})
	}
}

func backendStrings(bs []balancer.Backend) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.String()+"/"+string(rune('0'+b.Weight)))
	}
	slices.Sort(out)
	return out
}

func TestDNS_Discover(t *testing.T) {
	s := newDNSServer(t)
	s.set("api.test.", 60, a4("10.0.0.1"), a4("10.0.0.2"))
	s.set("api.test.", 60, a6("2001:db8::1"))
	s.set("_http._tcp.svc.test.", 60, srv(10, 3, 8080, "a.svc.test."), srv(10, 0, 8081, "b.svc.test."), srv(20, 1, 9000, "backup.svc.test."))
	s.set("a.svc.test.", 60, a4("10.1.0.1"))
	s.set("b.svc.test.", 60, a4("10.1.0.2"))
	s.set("backup.svc.test.", 60, a4("10.9.9.9"))

	tests := []struct {
		name string
		opts balancer.DNSOptions
		want []string
	}{
		{"A and AAAA", balancer.DNSOptions{Hosts: []string{"API.test:443"}},
			[]string{"10.0.0.1:443/1", "10.0.0.2:443/1", "[2001:db8::1]:443/1"}},
		{"ip4 only", balancer.DNSOptions{Hosts: []string{"api.test.:443"}, Network: "ip4"},
			[]string{"10.0.0.1:443/1", "10.0.0.2:443/1"}},
		{"ip6 only", balancer.DNSOptions{Hosts: []string{"api.test:443"}, Network: "ip6"},
			[]string{"[2001:db8::1]:443/1"}},
		{"literal", balancer.DNSOptions{Hosts: []string{"192.0.2.7:80", "[::1]:81"}},
			[]string{"192.0.2.7:80/1", "[::1]:81/1"}},
		{"SRV lowest priority, weights", balancer.DNSOptions{SRV: []string{"_http._tcp.svc.test"}, Network: "ip4"},
			[]string{"10.1.0.1:8080/3", "10.1.0.2:8081/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Server = s.addr
			d, err := balancer.NewDNS(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, s.addr, d.Server())
			bs, err := d.Discover(t.Context())
			require.NoError(t, err)
			assert.Equal(t, tt.want, backendStrings(bs))
		})
	}
}

func TestDNS_TTL(t *testing.T) {
	s := newDNSServer(t)
	s.set("long.test.", 3600, a4("10.0.0.1"))
	s.set("short.test.", 7, a4("10.0.0.2"))
	d, err := balancer.NewDNS(balancer.DNSOptions{Hosts: []string{"long.test:80"}, Server: s.addr, Network: "ip4"})
	require.NoError(t, err)
	_, ttl, err := d.DiscoverTTL(t.Context())
	require.NoError(t, err)
	assert.Equal(t, balancer.DefaultDNSMaxTTL, ttl, "capped at MaxTTL")
	for range 3 {
		_, err := d.Discover(t.Context())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, s.count("long.test.", dnsmessage.TypeA), "answered from cache within the TTL")

	d, err = balancer.NewDNS(balancer.DNSOptions{Hosts: []string{"long.test:80", "short.test:80"}, Server: s.addr, Network: "ip4"})
	require.NoError(t, err)
	_, ttl, err = d.DiscoverTTL(t.Context())
	require.NoError(t, err)
	assert.InDelta(t, 7*time.Second, ttl, float64(time.Second), "the shortest TTL")
}

// TestDNS_RunReResolves runs a load balancer on DNS discovery without an
// UpdateInterval: the records' TTL alone drives re-resolution.
func TestDNS_RunReResolves(t *testing.T) {
	s := newDNSServer(t)
	s.set("app.test.", 0, a4("10.0.0.1")) // TTL 0: kept for MinTTL
	leaks := checkGoroutines(t)
	d, err := balancer.NewDNS(balancer.DNSOptions{Hosts: []string{"app.test:80"}, Server: s.addr, Network: "ip4", MinTTL: 20 * time.Millisecond})
	require.NoError(t, err)
	lb, err := balancer.New(d, balancer.Options{Logger: quiet})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- lb.Run(ctx) }()
	has := func(addr string) func() bool {
		return func() bool {
			b, ok := lb.Select(nil)
			return ok && b.String() == addr && len(lb.Backends()) == 1
		}
	}
	require.Eventually(t, has("10.0.0.1:80"), 5*time.Second, 5*time.Millisecond)
	s.set("app.test.", 0, a4("10.0.0.2"))
	require.Eventually(t, has("10.0.0.2:80"), 5*time.Second, 5*time.Millisecond)

	// A failing server leaves the last good set in place.
	s.mu.Lock()
	s.fail = true
	s.mu.Unlock()
	n := s.count("app.test.", dnsmessage.TypeA)
	require.Eventually(t, func() bool { return s.count("app.test.", dnsmessage.TypeA) > n }, 10*time.Second, 5*time.Millisecond)
	assert.True(t, has("10.0.0.2:80")())

	cancel()
	require.NoError(t, <-done)
	leaks()
}

func TestDNS_Errors(t *testing.T) {
	s := newDNSServer(t)
	s.set("ok.test.", 60, a4("10.0.0.1"))
	s.set("_x._tcp.empty.test.", 60, srv(1, 1, 80, "."))
	s.mu.Lock()
	s.nx["gone.test."] = true
	s.mu.Unlock()
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // never answers
	require.NoError(t, err)
	defer silent.Close()

	tests := []struct {
		name string
		opts balancer.DNSOptions
		want string
	}{
		{"nxdomain", balancer.DNSOptions{Hosts: []string{"ok.test:80", "gone.test:80"}}, "no such name (NXDOMAIN)"},
		{"no addresses", balancer.DNSOptions{Hosts: []string{"nothing.test:80"}}, "balancer: dns: no addresses for nothing.test."},
		{"SRV without service", balancer.DNSOptions{SRV: []string{"_x._tcp.empty.test"}}, ""},
		{"SRV missing", balancer.DNSOptions{SRV: []string{"_y._tcp.empty.test"}}, "no SRV records"},
		{"timeout", balancer.DNSOptions{Hosts: []string{"ok.test:80"}, Server: silent.LocalAddr().String(), Timeout: 30 * time.Millisecond}, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Server == "" {
				tt.opts.Server = s.addr
			}
			d, err := balancer.NewDNS(tt.opts)
			require.NoError(t, err)
			bs, err := d.Discover(t.Context())
			if tt.want == "" {
				require.NoError(t, err)
				assert.Empty(t, bs)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestDNS_TruncatedFallsBackToTCP(t *testing.T) {
	s := newDNSServer(t)
	s.mu.Lock()
	s.truncate = true
	s.mu.Unlock()
	s.set("big.test.", 60, a4("10.0.0.1"), a4("10.0.0.2"))
	d, err := balancer.NewDNS(balancer.DNSOptions{Hosts: []string{"big.test:80"}, Server: s.addr, Network: "ip4"})
	require.NoError(t, err)
	bs, err := d.Discover(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:80/1", "10.0.0.2:80/1"}, backendStrings(bs))
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, 1, s.tcpCount)
}

func TestNewDNS_Errors(t *testing.T) {
	tests := []struct {
		name string
		opts balancer.DNSOptions
		want string
	}{
		{"nothing", balancer.DNSOptions{}, "balancer: dns: no Hosts and no SRV names"},
		{"no port", balancer.DNSOptions{Hosts: []string{"a.test"}}, `balancer: dns: host "a.test": address a.test: missing port in address`},
		{"bad port", balancer.DNSOptions{Hosts: []string{"a.test:http"}}, `balancer: dns: host "a.test:http": bad port`},
		{"bad name", balancer.DNSOptions{Hosts: []string{"a..test:80"}}, `balancer: dns: host "a..test:80": invalid name`},
		{"long label", balancer.DNSOptions{SRV: []string{strings.Repeat("x", 64) + ".test"}}, "invalid name"},
		{"bad network", balancer.DNSOptions{Hosts: []string{"a.test:80"}, Network: "tcp"}, `balancer: dns: unknown network "tcp"`},
		{"bad server", balancer.DNSOptions{Hosts: []string{"a.test:80"}, Server: "dns.test:53"}, `balancer: dns: server "dns.test:53" is not ip or ip:port`},
		{"negative", balancer.DNSOptions{Hosts: []string{"a.test:80"}, MinTTL: -1}, "balancer: dns: negative duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := balancer.NewDNS(tt.opts)
			require.ErrorContains(t, err, tt.want)
		})
	}
	d, err := balancer.NewDNS(balancer.DNSOptions{Hosts: []string{"a.test:80"}, Server: "::1"})
	require.NoError(t, err)
	assert.Equal(t, "[::1]:53", d.Server())
}
