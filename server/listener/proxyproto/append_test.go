package proxyproto_test

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

func TestHeader_AppendV1(t *testing.T) {
	tests := []struct {
		name string
		h    proxyproto.Header
		want string
	}{
		{"tcp4", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:56324"), Destination: tcp("198.51.100.1:443")},
			"PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"},
		{"tcp4 16-byte IPs", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 1}, Destination: &net.TCPAddr{IP: net.IPv4(5, 6, 7, 8), Port: 2}},
			"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"},
		{"tcp6", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("[2001:db8::1]:1"), Destination: tcp("[::1]:65535")},
			"PROXY TCP6 2001:db8::1 ::1 1 65535\r\n"},
		{"mixed families", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:1"), Destination: tcp("[::1]:2")},
			"PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n"},
		{"no addresses", proxyproto.Header{Command: proxyproto.Proxy}, "PROXY UNKNOWN\r\n"},
		{"local", proxyproto.Header{Command: proxyproto.Local, Source: tcp("1.2.3.4:1"), Destination: tcp("1.2.3.4:2")}, "PROXY UNKNOWN\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.h.AppendV1([]byte("x"))
			require.NoError(t, err)
			assert.Equal(t, "x"+tt.want, string(b))
			assert.LessOrEqual(t, len(tt.want), proxyproto.MaxV1Len)
		})
	}
}

func TestHeader_AppendErrors(t *testing.T) {
	long := &net.UnixAddr{Name: "/" + strings.Repeat("a", 108), Net: "unix"}
	tests := []struct {
		name   string
		h      proxyproto.Header
		v1, v2 string // "" = no error
	}{
		{"TLVs", proxyproto.Header{Command: proxyproto.Proxy, TLVs: []proxyproto.TLV{{Type: proxyproto.TypeALPN, Value: []byte("h2")}}},
			"cannot carry TLVs", ""},
		{"udp", proxyproto.Header{Command: proxyproto.Proxy, Source: udp("1.2.3.4:1"), Destination: udp("1.2.3.4:2")},
			"only *net.TCPAddr", ""},
		{"unix", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: "/a", Net: "unix"}, Destination: &net.UnixAddr{Name: "/b", Net: "unix"}},
			"only *net.TCPAddr", ""},
		{"one address", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("1.2.3.4:1")},
			"only *net.TCPAddr", "cannot carry *net.TCPAddr and <nil>"},
		{"mixed types", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("1.2.3.4:1"), Destination: udp("1.2.3.4:2")},
			"only *net.TCPAddr", "cannot carry *net.TCPAddr and *net.UDPAddr"},
		{"bad IP", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.TCPAddr{IP: net.IP{1, 2}}, Destination: tcp("1.2.3.4:2")},
			"bad source IP", "bad source IP"},
		{"nil IP", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("1.2.3.4:2"), Destination: &net.TCPAddr{}},
			"bad destination IP", "bad destination IP"},
		{"zone", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, Destination: tcp("[::1]:2")},
			"zone", "zone"},
		{"port", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("1.2.3.4:1"), Destination: &net.TCPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 65536}},
			"bad destination port", "bad destination port"},
		{"negative port", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: -1}, Destination: udp("1.2.3.4:2")},
			"only *net.TCPAddr", "bad source port"},
		{"command", proxyproto.Header{Command: 2}, "unknown command 0x2", "unknown command 0x2"},
		{"unix path too long", proxyproto.Header{Command: proxyproto.Proxy, Source: long, Destination: long},
			"only *net.TCPAddr", "unix path of 109 bytes exceeds 108"},
		{"unix nets differ", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: "/a", Net: "unix"}, Destination: &net.UnixAddr{Name: "/b", Net: "unixgram"}},
			"only *net.TCPAddr", `source network "unix" differs from destination "unixgram"`},
		{"unixpacket", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: "/a", Net: "unixpacket"}, Destination: &net.UnixAddr{Name: "/b", Net: "unixpacket"}},
			"only *net.TCPAddr", `cannot carry network "unixpacket"`},
		{"TLV too long", proxyproto.Header{Command: proxyproto.Local, TLVs: []proxyproto.TLV{{Type: 0xE0, Value: make([]byte, 65536)}}},
			"cannot carry TLVs", "TLV 0xe0 of 65536 bytes exceeds 65535"},
		{"header too long", proxyproto.Header{Command: proxyproto.Local, TLVs: []proxyproto.TLV{{Type: 0xE0, Value: make([]byte, 40000)}, {Type: 0xE1, Value: make([]byte, 40000)}}},
			"cannot carry TLVs", "header of 80006 bytes exceeds 65535"},
		{"two CRCs", proxyproto.Header{Command: proxyproto.Local, TLVs: []proxyproto.TLV{{Type: proxyproto.TypeCRC32C}, {Type: proxyproto.TypeCRC32C}}},
			"cannot carry TLVs", "more than one CRC32C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for v, want := range map[int]string{1: tt.v1, 2: tt.v2} {
				prefix := []byte("keep")
				var b []byte
				var err error
				if v == 1 {
					b, err = tt.h.AppendV1(prefix)
				} else {
					b, err = tt.h.AppendV2(prefix)
				}
				if want == "" {
					require.NoError(t, err, "v%d", v)
					continue
				}
				var he *proxyproto.HeaderError
				require.ErrorAs(t, err, &he, "v%d", v)
				assert.Equal(t, v, he.Version)
				assert.Contains(t, err.Error(), want)
				assert.Equal(t, "keep", string(b), "dst unchanged on error")
			}
		})
	}
}

// TestHeader_RoundTrip writes headers with Append and reads them back.
func TestHeader_RoundTrip(t *testing.T) {
	tlvs := []proxyproto.TLV{
		{Type: proxyproto.TypeALPN, Value: []byte("http/1.1")},
		{Type: proxyproto.TypeAuthority, Value: []byte("example.com")},
		{Type: proxyproto.TypeUniqueID, Value: []byte("abc")},
		{Type: proxyproto.TypeSSL, Value: []byte{1, 0, 0, 0, 0}},
		{Type: proxyproto.TypeNetNS, Value: []byte("ns")},
		{Type: 0xEE, Value: []byte{}},
		{Type: proxyproto.TypeCRC32C, Value: []byte("junk")},
	}
	tests := []struct {
		name string
		h    proxyproto.Header
		tr   proxyproto.Transport
		v1   bool
	}{
		{"tcp4", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:1"), Destination: tcp("192.0.2.2:2")}, proxyproto.TCP4, true},
		{"tcp6", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("[2001:db8::1]:1"), Destination: tcp("[2001:db8::2]:2")}, proxyproto.TCP6, true},
		{"unspec", proxyproto.Header{Command: proxyproto.Proxy}, proxyproto.Unspec, true},
		{"udp4", proxyproto.Header{Command: proxyproto.Proxy, Source: udp("192.0.2.1:1"), Destination: udp("192.0.2.2:2")}, proxyproto.UDP4, false},
		{"udp6", proxyproto.Header{Command: proxyproto.Proxy, Source: udp("[::1]:1"), Destination: udp("[::2]:2")}, proxyproto.UDP6, false},
		{"unix", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: "/run/a", Net: "unix"}, Destination: &net.UnixAddr{Name: "@abstract", Net: "unix"}}, proxyproto.UnixStream, false},
		{"unixgram", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: strings.Repeat("b", 108), Net: "unixgram"}, Destination: &net.UnixAddr{Name: "", Net: "unixgram"}}, proxyproto.UnixDatagram, false},
		{"unix at and unnamed", proxyproto.Header{Command: proxyproto.Proxy, Source: &net.UnixAddr{Name: "@", Net: "unix"}, Destination: &net.UnixAddr{Name: "", Net: "unix"}}, proxyproto.UnixStream, false},
		{"tlvs", proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:1"), Destination: tcp("192.0.2.2:2"), TLVs: tlvs}, proxyproto.TCP4, false},
		{"local", proxyproto.Header{Command: proxyproto.Local}, proxyproto.Unspec, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			versions := []int{2}
			if tt.v1 {
				versions = append(versions, 1)
			}
			for _, v := range versions {
				var b []byte
				var err error
				if v == 1 {
					b, err = tt.h.AppendV1(nil)
				} else {
					b, err = tt.h.AppendV2(nil)
				}
				require.NoError(t, err)
				pc, rest, err := readAll(t, append(b, request...), 0, proxyproto.Options{})
				require.NoError(t, err, "v%d %q", v, b)
				assert.Equal(t, request, string(rest))
				got := pc.Header()
				assert.Equal(t, v, got.Version)
				assert.Equal(t, tt.tr, got.Transport)
				if v == 1 && tt.h.Command == proxyproto.Local {
					assert.Equal(t, proxyproto.Proxy, got.Command, "v1 has no LOCAL: UNKNOWN")
				} else {
					assert.Equal(t, tt.h.Command, got.Command)
				}
				if tt.h.Command == proxyproto.Proxy {
					assert.Equal(t, tt.h.Source, got.Source)
					assert.Equal(t, tt.h.Destination, got.Destination)
				}
				if v == 2 && tt.h.Command == proxyproto.Proxy {
					require.Len(t, got.TLVs, len(tt.h.TLVs))
					for i, want := range tt.h.TLVs {
						assert.Equal(t, want.Type, got.TLVs[i].Type)
						if want.Type != proxyproto.TypeCRC32C {
							assert.Equal(t, string(want.Value), string(got.TLVs[i].Value))
						}
					}
				}
				// Re-encoding what was read gives the same bytes.
				var again []byte
				if v == 1 {
					again, err = got.AppendV1(nil)
				} else {
					again, err = got.AppendV2(nil)
				}
				require.NoError(t, err)
				if tt.h.Command == proxyproto.Proxy || v == 1 {
					assert.Equal(t, b, again)
				}
			}
		})
	}
}
