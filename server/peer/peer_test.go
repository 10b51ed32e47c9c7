package peer_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/peer"
)

func base() *peer.Peer {
	return peer.New("127.0.0.1:443", true, "a.example")
}

func TestPeer_ReuseHash(t *testing.T) {
	ca := []*x509.Certificate{{}}
	otherCA := []*x509.Certificate{{}}
	cert := &tls.Certificate{}
	tests := []struct {
		name string
		flip func(p *peer.Peer)
	}{
		{"Network", func(p *peer.Peer) { p.Network = "tcp6" }},
		{"Addr", func(p *peer.Peer) { p.Addr = "127.0.0.1:444" }},
		{"TLS", func(p *peer.Peer) { p.TLS = false }},
		{"SNI", func(p *peer.Peer) { p.SNI = "b.example" }},
		{"AlternativeCN", func(p *peer.Peer) { p.AlternativeCN = "c.example" }},
		{"SkipVerifyCert", func(p *peer.Peer) { p.SkipVerifyCert = true }},
		{"SkipVerifyHostname", func(p *peer.Peer) { p.SkipVerifyHostname = true }},
		{"ALPN", func(p *peer.Peer) { p.ALPN = peer.ALPNH2H1 }},
		{"CA", func(p *peer.Peer) { p.CA = ca }},
		{"CA/other slice", func(p *peer.Peer) { p.CA = otherCA }},
		{"CA/shorter", func(p *peer.Peer) { p.CA = ca[:0] }},
		{"ClientCert", func(p *peer.Peer) { p.ClientCert = cert }},
		{"GroupKey", func(p *peer.Peer) { p.GroupKey = 7 }},
		{"BindTo", func(p *peer.Peer) { p.BindTo = netip.MustParseAddrPort("127.0.0.2:0") }},
		{"BindTo/port", func(p *peer.Peer) { p.BindTo = netip.MustParseAddrPort("0.0.0.0:4000") }},
		{"MaxH2Streams", func(p *peer.Peer) { p.MaxH2Streams = 10 }},
		{"Unix", func(p *peer.Peer) { p.Network = "unix" }},
		{"ProxyProtocol", func(p *peer.Peer) { p.ProxyProtocol = 1 }},
		{"ProxyProtocol/source", func(p *peer.Peer) {
			p.ProxyProtocol = 2
			p.ProxySource = netip.MustParseAddrPort("192.0.2.7:40000")
			p.ProxyDestination = netip.MustParseAddrPort("198.51.100.1:443")
		}},
		{"ProxyProtocol/source port", func(p *peer.Peer) {
			p.ProxyProtocol = 2
			p.ProxySource = netip.MustParseAddrPort("192.0.2.7:40001")
			p.ProxyDestination = netip.MustParseAddrPort("198.51.100.1:443")
		}},
	}
	seen := map[uint64]string{base().ReuseHash(): "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			if tt.name == "CA/other slice" || tt.name == "CA/shorter" {
				p.CA = ca // compare against a peer that already has a CA
			}
			before := p.Key()
			tt.flip(p)
			if tt.name == "CA/shorter" {
				// An empty slice and nil are both "system roots".
				assert.True(t, base().Key() == p.Key())
				return
			}
			assert.False(t, before == p.Key(), "keys must differ")
			assert.NotEqual(t, before.Hash(), p.ReuseHash())
			if prev, dup := seen[p.ReuseHash()]; dup && tt.name != "CA/other slice" {
				t.Errorf("hash equals the one of %s", prev)
			}
			seen[p.ReuseHash()] = tt.name
		})
	}
}

func TestPeer_ReuseHashIgnoresTuning(t *testing.T) {
	a, b := base(), base()
	b.ConnectionTimeout = time.Second
	b.TotalConnectionTimeout = 2 * time.Second
	b.ReadTimeout = 3 * time.Second
	b.WriteTimeout = 4 * time.Second
	b.IdleTimeout = 5 * time.Second
	b.TCPRecvBuf = 1 << 20
	b.NoTCPKeepAlive = true
	b.H2PingInterval = time.Second
	b.AllowH1ResponseInvalidContentLength = true
	assert.True(t, a.Key() == b.Key())
	assert.Equal(t, a.ReuseHash(), b.ReuseHash())
}

func TestPeer_ReuseHashEqualPeers(t *testing.T) {
	ca := []*x509.Certificate{{}}
	cert := &tls.Certificate{}
	mk := func() *peer.Peer {
		p := peer.NewMTLS("[::1]:8443", "a.example", cert)
		p.CA = ca
		p.ALPN = peer.ALPNH2
		p.GroupKey = 3
		return p
	}
	assert.Equal(t, mk().ReuseHash(), mk().ReuseHash())
	assert.True(t, mk().Key() == mk().Key())
	// Same CA content in another slice: not shared (identity).
	p := mk()
	p.CA = []*x509.Certificate{ca[0]}
	assert.False(t, mk().Key() == p.Key())
	assert.NotEqual(t, mk().ReuseHash(), p.ReuseHash())
	// Network "" and "tcp" are the same.
	q := mk()
	q.Network = "tcp"
	assert.Equal(t, mk().ReuseHash(), q.ReuseHash())
}

func TestPeer_ServerName(t *testing.T) {
	tests := []struct {
		p    *peer.Peer
		want string
	}{
		{peer.New("10.0.0.1:443", true, "a.example"), "a.example"},
		{peer.New("10.0.0.1:443", true, ""), "10.0.0.1"},
		{peer.New("[::1]:443", true, ""), "::1"},
		{peer.New("origin.example:443", true, ""), "origin.example"},
		{peer.New("bad", true, ""), ""},
		{peer.NewUnix("/run/x.sock", true, ""), ""},
		{peer.NewUnix("/run/x.sock", true, "u.example"), "u.example"},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.ServerName())
		})
	}
}

func TestPeer_Validate(t *testing.T) {
	tests := []struct {
		name    string
		p       *peer.Peer
		wantErr string
	}{
		{"ok tls", peer.New("127.0.0.1:443", true, ""), ""},
		{"ok plain", peer.New("example.com:80", false, ""), ""},
		{"ok unix plain", peer.NewUnix("/tmp/s", false, ""), ""},
		{"ok unix tls sni", peer.NewUnix("/tmp/s", true, "a.example"), ""},
		{"no addr", &peer.Peer{}, "peer: no address"},
		{"no port", peer.New("127.0.0.1", false, ""), "missing port"},
		{"bad port", peer.New("127.0.0.1:http", false, ""), "invalid port"},
		{"big port", peer.New("127.0.0.1:70000", false, ""), "invalid port"},
		{"no host", peer.New(":80", false, ""), "has no host"},
		{"network", &peer.Peer{Network: "udp", Addr: "127.0.0.1:1"}, "unknown network"},
		{"unix tls no name", peer.NewUnix("/tmp/s", true, ""), "set SNI or SkipVerifyHostname"},
		{"negative timeout", &peer.Peer{Addr: "a:1", ConnectionTimeout: -1}, "negative ConnectionTimeout"},
		{"negative streams", &peer.Peer{Addr: "a:1", MaxH2Streams: -1}, "negative MaxH2Streams"},
		{"negative rcvbuf", &peer.Peer{Addr: "a:1", TCPRecvBuf: -1}, "negative TCPRecvBuf"},
		{"alpn", &peer.Peer{Addr: "a:1", ALPN: 9}, "unknown ALPN(9)"},
		{"proxy protocol v2", &peer.Peer{Addr: "a:1", ProxyProtocol: 2}, ""},
		{"proxy protocol v3", &peer.Peer{Addr: "a:1", ProxyProtocol: 3}, "unknown PROXY protocol version 3"},
		{"proxy protocol negative", &peer.Peer{Addr: "a:1", ProxyProtocol: -1}, "unknown PROXY protocol version -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
	p := peer.NewUnix("/tmp/s", true, "")
	p.SkipVerifyHostname = true
	assert.NoError(t, p.Validate(), "chain-only verification needs no name")
	assert.ErrorIs(t, peer.NewUnix("/tmp/s", true, "").Validate(), peer.ErrNoServerName)
}

func TestALPN(t *testing.T) {
	tests := []struct {
		a        peer.ALPN
		protos   []string
		min, max int
		name     string
	}{
		{peer.ALPNH1, []string{"http/1.1"}, 1, 1, "H1"},
		{peer.ALPNH2, []string{"h2"}, 2, 2, "H2"},
		{peer.ALPNH2H1, []string{"h2", "http/1.1"}, 1, 2, "H2H1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.protos, tt.a.Protos())
			assert.Equal(t, tt.min, tt.a.MinHTTPVersion())
			assert.Equal(t, tt.max, tt.a.MaxHTTPVersion())
			assert.Equal(t, tt.name, tt.a.String())
			assert.Equal(t, tt.a, peer.ALPNFor(tt.max, tt.min))
		})
	}
	var zero peer.ALPN
	assert.Equal(t, peer.ALPNH1, zero)
	assert.Equal(t, peer.ALPNH1, peer.ALPNFor(1, 2))
}

func TestPeer_String(t *testing.T) {
	assert.Equal(t, "addr: 10.0.0.1:443, scheme: HTTPS, sni: a.example", peer.New("10.0.0.1:443", true, "a.example").String())
	assert.Equal(t, "addr: 10.0.0.1:80, scheme: HTTP", peer.New("10.0.0.1:80", false, "").String())
	assert.Equal(t, "addr: unix:/run/s, scheme: HTTPS, sni: u, client cert: yes",
		(&peer.Peer{Network: "unix", Addr: "/run/s", TLS: true, SNI: "u", ClientCert: &tls.Certificate{}}).String())
}

func TestPeer_ProxyAddrs(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name             string
		src, dst         netip.AddrPort
		wantSrc, wantDst string
	}{
		{"ipv4", ap("192.0.2.7:40000"), ap("198.51.100.1:443"), "192.0.2.7:40000", "198.51.100.1:443"},
		{"ipv6", ap("[2001:db8::1]:5"), ap("[2001:db8::2]:443"), "[2001:db8::1]:5", "[2001:db8::2]:443"},
		{"mapped", ap("[::ffff:192.0.2.7]:5"), ap("[::ffff:198.51.100.1]:80"), "192.0.2.7:5", "198.51.100.1:80"},
		{"zone", ap("[fe80::1%eth0]:5"), ap("[fe80::2%eth0]:80"), "[fe80::1]:5", "[fe80::2]:80"},
		{"no source", netip.AddrPort{}, ap("198.51.100.1:443"), "invalid AddrPort", "invalid AddrPort"},
		{"no destination", ap("192.0.2.7:40000"), netip.AddrPort{}, "invalid AddrPort", "invalid AddrPort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &peer.Peer{Addr: "a:1", ProxyProtocol: 1, ProxySource: tt.src, ProxyDestination: tt.dst}
			src, dst := p.ProxyAddrs()
			assert.Equal(t, tt.wantSrc, src.String())
			assert.Equal(t, tt.wantDst, dst.String())
		})
	}
	// Addresses that only differ in how they are written share connections.
	a := &peer.Peer{Addr: "a:1", ProxyProtocol: 2, ProxySource: ap("[::ffff:192.0.2.7]:5"), ProxyDestination: ap("198.51.100.1:80")}
	b := &peer.Peer{Addr: "a:1", ProxyProtocol: 2, ProxySource: ap("192.0.2.7:5"), ProxyDestination: ap("198.51.100.1:80")}
	assert.True(t, a.Key() == b.Key())
	// Without ProxyProtocol the addresses are not part of the identity.
	a.ProxyProtocol, b.ProxyProtocol, b.ProxySource = 0, 0, ap("192.0.2.8:5")
	assert.True(t, a.Key() == b.Key())
	assert.Equal(t, "addr: a:1, scheme: HTTP, proxy protocol: v2", (&peer.Peer{Addr: "a:1", ProxyProtocol: 2}).String())
}

func TestPeer_ForClient(t *testing.T) {
	client := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}
	local := &net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 443}
	plain := peer.New("10.0.0.1:80", false, "")
	assert.Same(t, plain, plain.ForClient(client, local), "no PROXY protocol: the peer itself")

	pp := &peer.Peer{Addr: "10.0.0.1:80", ProxyProtocol: 2}
	got := pp.ForClient(client, local)
	require.NotSame(t, pp, got, "a copy: the shared peer is not changed")
	assert.False(t, pp.ProxySource.IsValid())
	assert.Equal(t, "192.0.2.7:40000", got.ProxySource.String())
	assert.Equal(t, "198.51.100.1:443", got.ProxyDestination.String())
	assert.False(t, pp.Key() == got.Key(), "connections are pooled per client")

	set := &peer.Peer{Addr: "10.0.0.1:80", ProxyProtocol: 1, ProxySource: netip.MustParseAddrPort("203.0.113.1:1")}
	assert.Same(t, set, set.ForClient(client, local), "addresses a hook set are kept")

	unix := pp.ForClient(&net.UnixAddr{Name: "/run/c.sock", Net: "unix"}, local)
	assert.False(t, unix.ProxySource.IsValid(), "a Unix socket client: no addresses")
}

func FuzzPeer_Validate(f *testing.F) {
	for _, s := range []string{"127.0.0.1:80", "[::1]:443", "a.example:8443", ":80", "x", "[::1", "a:b:c", "/tmp/s.sock", ""} {
		f.Add("tcp", s, "", true)
		f.Add("unix", s, "sni", false)
	}
	f.Fuzz(func(t *testing.T, network, addr, sni string, useTLS bool) {
		p := &peer.Peer{Network: network, Addr: addr, SNI: sni, TLS: useTLS}
		err := p.Validate()
		name := p.ServerName()
		if err == nil && useTLS && name == "" {
			t.Fatalf("valid TLS peer %v has no name to verify", p)
		}
		if sni != "" && name != sni {
			t.Fatalf("ServerName %q, SNI %q", name, sni)
		}
		_ = p.ReuseHash()
		_ = p.String()
	})
}
