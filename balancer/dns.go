package balancer

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSOptions configures a DNS discovery.
type DNSOptions struct {
	// Hosts are "name:port" entries; each address the name's A and AAAA
	// records hold becomes a backend of weight 1 on that port. An IP
	// literal ("10.0.0.1:80") is taken as it is.
	Hosts []string
	// SRV are names whose SRV records ("_http._tcp.example.com") give the
	// backends: each target's addresses with the record's port and weight
	// (weight 0 counts as 1). Only the records of the lowest priority are
	// used.
	SRV []string
	// Server is the DNS server, "ip:port" or "ip" (port 53). If empty, the
	// first nameserver of /etc/resolv.conf, else 127.0.0.1:53. Queries go
	// over UDP, and over TCP when an answer is truncated.
	Server string
	// Network says which addresses to ask for: "ip" (A and AAAA), "ip4" (A)
	// or "ip6" (AAAA). If empty, "ip".
	Network string
	// Timeout bounds one query. If zero, 2s.
	Timeout time.Duration
	// MinTTL is the shortest time an answer is kept: smaller TTLs (and
	// TTL 0) count as MinTTL, so a zero TTL cannot make discovery spin.
	// If zero, 1s.
	MinTTL time.Duration
	// MaxTTL is the longest time an answer is kept, however large its TTL.
	// If zero, 5m.
	MaxTTL time.Duration
}

// Defaults of DNSOptions, and how long an answer without records (NODATA)
// is kept when the server sends no SOA record saying so.
const (
	DefaultDNSTimeout = 2 * time.Second
	DefaultDNSMinTTL  = time.Second
	DefaultDNSMaxTTL  = 5 * time.Minute
	defaultNegTTL     = 30 * time.Second
)

// DNS discovers backends by resolving names with A/AAAA and SRV queries,
// keeping each answer for its TTL (clamped to MinTTL..MaxTTL). It is a
// [TTLDiscovery]: a load balancer using it discovers again when the first
// answer expires, and in between Discover answers from its cache. It talks
// to one DNS server directly (the standard library's resolver does not
// report TTLs), asks for names as given, fully qualified (no search
// domains), and follows no CNAME itself: it relies on the recursive server
// to put the chain's records in the answer. Any name that fails to
// resolve, or resolves to no address, fails the whole discovery, so the
// load balancer keeps its previous backends. It is safe for concurrent use.
type DNS struct {
	hosts  []dnsHost
	srv    []string
	server string
	qtypes []dnsmessage.Type
	opts   DNSOptions

	mu    sync.Mutex // held for a whole discovery: queries are serialized
	cache map[dnsKey]dnsAnswer
}

type dnsHost struct {
	name string // fully qualified, or "" for an IP literal
	ip   netip.Addr
	port uint16
}

type dnsKey struct {
	name  string // lower case, fully qualified
	qtype dnsmessage.Type
}

// dnsAnswer is the part of a response the discovery uses.
type dnsAnswer struct {
	addrs   []netip.Addr
	srv     []dnsmessage.SRVResource
	expires time.Time
}

// NewDNS checks opts and returns a DNS discovery. It does no I/O except
// reading /etc/resolv.conf when Server is empty.
func NewDNS(opts DNSOptions) (*DNS, error) {
	if len(opts.Hosts) == 0 && len(opts.SRV) == 0 {
		return nil, errors.New("balancer: dns: no Hosts and no SRV names")
	}
	if opts.Timeout < 0 || opts.MinTTL < 0 || opts.MaxTTL < 0 {
		return nil, errors.New("balancer: dns: negative duration")
	}
	opts.Timeout = cmpOr(opts.Timeout, DefaultDNSTimeout)
	opts.MinTTL = cmpOr(opts.MinTTL, DefaultDNSMinTTL)
	opts.MaxTTL = cmpOr(opts.MaxTTL, DefaultDNSMaxTTL)
	opts.MaxTTL = max(opts.MaxTTL, opts.MinTTL)
	d := &DNS{opts: opts, cache: make(map[dnsKey]dnsAnswer)}
	switch opts.Network {
	case "", "ip":
		d.qtypes = []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}
	case "ip4":
		d.qtypes = []dnsmessage.Type{dnsmessage.TypeA}
	case "ip6":
		d.qtypes = []dnsmessage.Type{dnsmessage.TypeAAAA}
	default:
		return nil, fmt.Errorf("balancer: dns: unknown network %q", opts.Network)
	}
	for _, h := range opts.Hosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return nil, fmt.Errorf("balancer: dns: host %q: %w", h, err)
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("balancer: dns: host %q: bad port", h)
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			d.hosts = append(d.hosts, dnsHost{ip: ip, port: uint16(p)})
			continue
		}
		name, err := fqdn(host)
		if err != nil {
			return nil, fmt.Errorf("balancer: dns: host %q: %w", h, err)
		}
		d.hosts = append(d.hosts, dnsHost{name: name, port: uint16(p)})
	}
	for _, s := range opts.SRV {
		name, err := fqdn(s)
		if err != nil {
			return nil, fmt.Errorf("balancer: dns: srv %q: %w", s, err)
		}
		d.srv = append(d.srv, name)
	}
	server := opts.Server
	if server == "" {
		server = "127.0.0.1:53"
		if f, err := os.Open("/etc/resolv.conf"); err == nil {
			if ns, ok := parseResolvConf(f); ok {
				server = ns
			}
			f.Close()
		}
	}
	if ip, err := netip.ParseAddr(server); err == nil {
		server = netip.AddrPortFrom(ip, 53).String()
	} else if _, err := netip.ParseAddrPort(server); err != nil {
		return nil, fmt.Errorf("balancer: dns: server %q is not ip or ip:port", server)
	}
	d.server = server
	return d, nil
}

// fqdn lower-cases name and ends it with a dot, checking its length.
func fqdn(name string) (string, error) {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	if name == "." || len(name) > 254 {
		return "", errors.New("invalid name")
	}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" || len(label) > 63 {
			return "", errors.New("invalid name")
		}
	}
	return name, nil
}

// parseResolvConf returns the first nameserver of a resolv.conf as
// "ip:53".
func parseResolvConf(r io.Reader) (string, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if ip, err := netip.ParseAddr(f[1]); err == nil {
				return netip.AddrPortFrom(ip, 53).String(), true
			}
		}
	}
	return "", false
}

// Server returns the "ip:port" of the DNS server queried.
func (d *DNS) Server() string { return d.server }

// Discover resolves every name (from cache where not expired).
func (d *DNS) Discover(ctx context.Context) ([]Backend, error) {
	bs, _, err := d.DiscoverTTL(ctx)
	return bs, err
}

// DiscoverTTL resolves every name (from cache where not expired) and
// reports how long the result stays valid: until the first of its answers
// expires, at least MinTTL.
func (d *DNS) DiscoverTTL(ctx context.Context) ([]Backend, time.Duration, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	expires := now.Add(d.opts.MaxTTL)
	var out []Backend
	for _, h := range d.hosts {
		if h.name == "" {
			out = append(out, Backend{Addr: netip.AddrPortFrom(h.ip, h.port), Weight: 1})
			continue
		}
		addrs, exp, err := d.lookupIP(ctx, h.name, now)
		if err != nil {
			return nil, 0, err
		}
		expires = minTime(expires, exp)
		for _, a := range addrs {
			out = append(out, Backend{Addr: netip.AddrPortFrom(a, h.port), Weight: 1})
		}
	}
	for _, name := range d.srv {
		ans, err := d.lookup(ctx, name, dnsmessage.TypeSRV, now)
		if err != nil {
			return nil, 0, err
		}
		expires = minTime(expires, ans.expires)
		if len(ans.srv) == 0 {
			return nil, 0, fmt.Errorf("balancer: dns: no SRV records for %s", name)
		}
		prio := ans.srv[0].Priority
		for _, r := range ans.srv {
			prio = min(prio, r.Priority)
		}
		for _, r := range ans.srv {
			if r.Priority != prio || r.Target.String() == "." { // "." is "no service here" (RFC 2782)
				continue
			}
			target, err := fqdn(r.Target.String())
			if err != nil {
				return nil, 0, fmt.Errorf("balancer: dns: SRV %s: target %q: %w", name, r.Target.String(), err)
			}
			addrs, exp, err := d.lookupIP(ctx, target, now)
			if err != nil {
				return nil, 0, err
			}
			expires = minTime(expires, exp)
			for _, a := range addrs {
				out = append(out, Backend{Addr: netip.AddrPortFrom(a, r.Port), Weight: max(uint32(r.Weight), 1)})
			}
		}
	}
	return out, max(expires.Sub(now), d.opts.MinTTL), nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// lookupIP asks for every address type of name and reports the earliest
// expiry; no address at all is an error.
func (d *DNS) lookupIP(ctx context.Context, name string, now time.Time) ([]netip.Addr, time.Time, error) {
	var addrs []netip.Addr
	expires := now.Add(d.opts.MaxTTL)
	for _, t := range d.qtypes {
		ans, err := d.lookup(ctx, name, t, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		addrs = append(addrs, ans.addrs...)
		expires = minTime(expires, ans.expires)
	}
	if len(addrs) == 0 {
		return nil, time.Time{}, fmt.Errorf("balancer: dns: no addresses for %s", name)
	}
	return addrs, expires, nil
}

// lookup answers from the cache or asks the server. d.mu must be held.
func (d *DNS) lookup(ctx context.Context, name string, t dnsmessage.Type, now time.Time) (dnsAnswer, error) {
	k := dnsKey{name, t}
	if a, ok := d.cache[k]; ok && now.Before(a.expires) {
		return a, nil
	}
	delete(d.cache, k)
	a, ttl, err := d.query(ctx, name, t)
	if err != nil {
		return dnsAnswer{}, err
	}
	a.expires = now.Add(min(max(ttl, d.opts.MinTTL), d.opts.MaxTTL))
	d.cache[k] = a
	return a, nil
}

// query sends one question to the server, over UDP and again over TCP if
// the answer is truncated, and returns the answer and its TTL.
func (d *DNS) query(ctx context.Context, name string, t dnsmessage.Type) (dnsAnswer, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	id := uint16(rand.Uint32())
	q := dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: t, Class: dnsmessage.ClassINET}
	req, err := packQuery(id, q)
	if err != nil {
		return dnsAnswer{}, 0, fmt.Errorf("balancer: dns: %s %s: %w", name, t, err)
	}
	resp, err := exchangeUDP(ctx, d.server, id, req)
	var a dnsAnswer
	var ttl time.Duration
	if err == nil {
		a, ttl, err = parseResponse(resp, id, q)
		if errors.Is(err, errTruncated) {
			if resp, err = exchangeTCP(ctx, d.server, req); err == nil {
				a, ttl, err = parseResponse(resp, id, q)
			}
		}
	}
	if err != nil {
		return dnsAnswer{}, 0, fmt.Errorf("balancer: dns: %s %s via %s: %w", name, t, d.server, err)
	}
	return a, ttl, nil
}

func packQuery(id uint16, q dnsmessage.Question) ([]byte, error) {
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	m := dnsmessage.Message{
		Header:      dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions:   []dnsmessage.Question{q},
		Additionals: []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}},
	}
	return m.Pack()
}

// exchangeUDP sends req and returns the first datagram carrying id: others
// (late answers to earlier queries, forgeries with a wrong id) are skipped.
func exchangeUDP(ctx context.Context, server string, id uint16, req []byte) ([]byte, error) {
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(req); err != nil {
		return nil, ctxErr(ctx, err)
	}
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if n >= 2 && binary.BigEndian.Uint16(buf) == id {
			return buf[:n], nil
		}
	}
}

// exchangeTCP sends req with its 2-byte length and reads one answer.
func exchangeTCP(ctx context.Context, server string, req []byte) ([]byte, error) {
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(req)), uint16(len(req)))
	if _, err := conn.Write(append(msg, req...)); err != nil {
		return nil, ctxErr(ctx, err)
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, ctxErr(ctx, err)
	}
	resp := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, resp); err != nil {
		return nil, ctxErr(ctx, err)
	}
	return resp, nil
}

// ctxErr prefers the context's error to the deadline error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

var (
	errTruncated = errors.New("truncated answer")
	errNXDomain  = errors.New("no such name (NXDOMAIN)")
)

// parseResponse checks that msg answers q with id and extracts the
// addresses or SRV records, with the smallest TTL of the records used (the
// CNAMEs leading to them included). An answer without records takes its
// TTL from the SOA record of the authority section (RFC 2308), else
// defaultNegTTL.
func parseResponse(msg []byte, id uint16, q dnsmessage.Question) (dnsAnswer, time.Duration, error) {
	var m dnsmessage.Message
	if err := m.Unpack(msg); err != nil {
		return dnsAnswer{}, 0, fmt.Errorf("bad answer: %w", err)
	}
	switch {
	case m.ID != id || !m.Response:
		return dnsAnswer{}, 0, errors.New("answer does not match the query")
	case len(m.Questions) != 1 || m.Questions[0].Type != q.Type ||
		!strings.EqualFold(m.Questions[0].Name.String(), q.Name.String()):
		return dnsAnswer{}, 0, errors.New("answer is for another question")
	case m.Truncated:
		return dnsAnswer{}, 0, errTruncated
	case m.RCode == dnsmessage.RCodeNameError:
		return dnsAnswer{}, 0, errNXDomain
	case m.RCode != dnsmessage.RCodeSuccess:
		return dnsAnswer{}, 0, fmt.Errorf("server answered %v", m.RCode)
	}
	var a dnsAnswer
	ttl := uint32(1<<32 - 1)
	found := false
	for _, r := range m.Answers {
		if r.Header.Class != dnsmessage.ClassINET {
			continue
		}
		switch body := r.Body.(type) {
		case *dnsmessage.AResource:
			if q.Type != dnsmessage.TypeA {
				continue
			}
			a.addrs = append(a.addrs, netip.AddrFrom4(body.A))
		case *dnsmessage.AAAAResource:
			if q.Type != dnsmessage.TypeAAAA {
				continue
			}
			a.addrs = append(a.addrs, netip.AddrFrom16(body.AAAA))
		case *dnsmessage.SRVResource:
			if q.Type != dnsmessage.TypeSRV {
				continue
			}
			a.srv = append(a.srv, *body)
		case *dnsmessage.CNAMEResource:
		default:
			continue
		}
		found = true
		ttl = min(ttl, r.Header.TTL)
	}
	if len(a.addrs) == 0 && len(a.srv) == 0 {
		neg := uint32(defaultNegTTL / time.Second)
		for _, r := range m.Authorities {
			if soa, ok := r.Body.(*dnsmessage.SOAResource); ok {
				neg = min(r.Header.TTL, soa.MinTTL)
				break
			}
		}
		if found {
			neg = min(neg, ttl)
		}
		ttl = neg
	}
	return a, time.Duration(ttl) * time.Second, nil
}
