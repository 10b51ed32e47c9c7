package proxyproto_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

// readAll reads a header from input split into chunk-byte segments and
// checks that exactly the header was consumed and the rest is delivered.
func readAll(t *testing.T, input []byte, chunk int, opts proxyproto.Options) (*proxyproto.Conn, []byte, error) {
	t.Helper()
	m := newMemConn(input, chunk)
	pc, err := proxyproto.Read(m, opts)
	if err != nil {
		return nil, nil, err
	}
	rest, rerr := io.ReadAll(pc)
	require.NoError(t, rerr)
	return pc, rest, nil
}

func TestRead_V1(t *testing.T) {
	maxUnknown := "PROXY UNKNOWN " + strings.Repeat("x", 107-16) + "\r\n"
	require.Len(t, maxUnknown, proxyproto.MaxV1Len)
	tests := []struct {
		name     string
		in       string
		tr       proxyproto.Transport
		src, dst string // "" = the socket's address
	}{
		{"tcp4", "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n", proxyproto.TCP4, "192.0.2.1:56324", "198.51.100.1:443"},
		{"tcp4 zero ports", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", proxyproto.TCP4, "0.0.0.0:0", "255.255.255.255:65535"},
		{"tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n", proxyproto.TCP6, "[2001:db8::1]:1", "[2001:db8::2]:2"},
		{"tcp6 longest", "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", proxyproto.TCP6,
			"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"},
		{"tcp6 mapped v4", "PROXY TCP6 ::ffff:192.0.2.1 ::1 10 20\r\n", proxyproto.TCP6, "192.0.2.1:10", "[::1]:20"},
		{"unknown", "PROXY UNKNOWN\r\n", proxyproto.Unspec, "", ""},
		{"unknown with addresses", "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", proxyproto.Unspec, "", ""},
		{"unknown longest", maxUnknown, proxyproto.Unspec, "", ""},
	}
	for _, tt := range tests {
		for _, chunk := range []int{0, 1, 3} {
			t.Run(tt.name+"/chunk="+string(rune('0'+chunk)), func(t *testing.T) {
				pc, rest, err := readAll(t, []byte(tt.in+request), chunk, proxyproto.Options{})
				require.NoError(t, err)
				assert.Equal(t, request, string(rest), "bytes after the header")
				h := pc.Header()
				require.NotNil(t, h)
				assert.Equal(t, 1, h.Version)
				assert.Equal(t, proxyproto.Proxy, h.Command)
				assert.Equal(t, tt.tr, h.Transport)
				wantSrc, wantDst := "10.0.0.1:50000", "10.0.0.2:443"
				if tt.src != "" {
					wantSrc, wantDst = tt.src, tt.dst
					assert.IsType(t, &net.TCPAddr{}, h.Source)
				} else {
					assert.Nil(t, h.Source)
					assert.Nil(t, h.Destination)
				}
				assert.Equal(t, wantSrc, pc.RemoteAddr().String())
				assert.Equal(t, wantDst, pc.LocalAddr().String())
				assert.Zero(t, pc.Buffered())
			})
		}
	}
}

// TestRead_V1NoOverRead checks Read consumes exactly the header even when
// the client's data is already waiting, and keeps the read count modest.
func TestRead_V1NoOverRead(t *testing.T) {
	for _, hdr := range []string{
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
		"PROXY TCP6 ::1 :: 65535 0\r\n",
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN 1\r\n",
	} {
		t.Run(hdr[:len(hdr)-2], func(t *testing.T) {
			m := newMemConn([]byte(hdr+"\r\nX"), 0)
			_, err := proxyproto.Read(m, proxyproto.Options{})
			require.NoError(t, err)
			assert.Equal(t, len(hdr), m.consumed())
			assert.Less(t, m.reads, len(hdr), "reads one byte at a time")
		})
	}
}

func TestRead_V1Malformed(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // substring of the error
	}{
		{"bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "LF, not CRLF"},
		{"no CRLF within 107", "PROXY UNKNOWN " + strings.Repeat("x", 200), "no CRLF within 107 bytes"},
		{"TCP6 line one too long", "PROXY UNKNOWN " + strings.Repeat("x", 107-15) + "\r\n", "no CRLF"},
		{"unknown protocol", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", `unknown protocol "TCP5"`},
		{"lower case", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "unknown protocol"},
		{"UNKNOWNX", "PROXY UNKNOWNX\r\n", "too few fields"},
		{"empty", "PROXY \r\n", "too few fields"},
		{"too few fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "too few fields"},
		{"too many fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "too many fields"},
		{"double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "too many fields"},
		{"trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "too many fields"},
		{"v6 in TCP4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "is not IPv4"},
		{"v4 in TCP6", "PROXY TCP6 ::1 5.6.7.8 1 2\r\n", "is not IPv6"},
		{"bad address", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "bad source address"},
		{"leading zero address", "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n", "bad destination address"},
		{"host name", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "bad source address"},
		{"zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "has a zone"},
		{"port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad source port"},
		{"port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n", "bad destination port"},
		{"port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "bad source port"},
		{"port negative", "PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", "bad destination port"},
		{"port six digits", "PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n", "bad source port"},
		{"port hex", "PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n", "bad source port"},
		{"CR inside", "PROXY TCP4 1.2.3.4\r 5.6.7.8 1 2\r\n", "bad source address"},
		{"NUL inside", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x00\r\n", "bad destination port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, []byte(tt.in+request), 0, proxyproto.Options{})
			var he *proxyproto.HeaderError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 1, he.Version)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "proxyproto: invalid v1 header: "), err.Error())
		})
	}
}

func TestRead_Truncated(t *testing.T) {
	full := v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2))
	for _, in := range []string{
		"P", "PROX", "PROXY ", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r",
		"\r\n\r\n", string(sigV2), string(full[:16]), string(full[:len(full)-1]),
	} {
		t.Run(strings.ToValidUTF8(in, "?"), func(t *testing.T) {
			_, err := proxyproto.Read(newMemConn([]byte(in), 0), proxyproto.Options{})
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Contains(t, err.Error(), "proxyproto: read header: ")
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, err := proxyproto.Read(newMemConn(nil, 0), proxyproto.Options{})
		require.ErrorIs(t, err, io.EOF)
	})
}

func TestRead_V2(t *testing.T) {
	ssl := append([]byte{0x07, 0, 0, 0, 0}, append(tlv(0x21, []byte("TLSv1.3")), tlv(0x22, []byte("client.example"))...)...)
	tlvs := bytes.Join([][]byte{
		tlv(0x01, []byte("h2")), tlv(0x02, []byte("example.com")), tlv(0x04, make([]byte, 5)),
		tlv(0x05, bytes.Repeat([]byte{7}, 128)), tlv(0x20, ssl), tlv(0x30, []byte("blue")), tlv(0xE0, nil),
	}, nil)
	v6a, v6b := net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	tests := []struct {
		name     string
		in       []byte
		cmd      proxyproto.Command
		tr       proxyproto.Transport
		src, dst net.Addr // nil: the socket's
		ntlv     int
	}{
		{"tcp4", v2(0x21, 0x11, ip4(192, 0, 2, 1), ip4(198, 51, 100, 1), port(56324), port(443)),
			proxyproto.Proxy, proxyproto.TCP4, tcp("192.0.2.1:56324"), tcp("198.51.100.1:443"), 0},
		{"udp4", v2(0x21, 0x12, ip4(192, 0, 2, 1), ip4(198, 51, 100, 1), port(53), port(5353)),
			proxyproto.Proxy, proxyproto.UDP4, udp("192.0.2.1:53"), udp("198.51.100.1:5353"), 0},
		{"tcp6", v2(0x21, 0x21, v6a, v6b, port(1), port(2)),
			proxyproto.Proxy, proxyproto.TCP6, tcp("[2001:db8::1]:1"), tcp("[2001:db8::2]:2"), 0},
		{"udp6", v2(0x21, 0x22, v6a, v6b, port(65535), port(0)),
			proxyproto.Proxy, proxyproto.UDP6, udp("[2001:db8::1]:65535"), udp("[2001:db8::2]:0"), 0},
		{"unix stream", v2(0x21, 0x31, unixPath("/run/a.sock"), unixPath("/run/b.sock")),
			proxyproto.Proxy, proxyproto.UnixStream, &net.UnixAddr{Name: "/run/a.sock", Net: "unix"}, &net.UnixAddr{Name: "/run/b.sock", Net: "unix"}, 0},
		{"unix dgram abstract", v2(0x21, 0x32, unixPath("\x00abs"), unixPath(strings.Repeat("p", 108))),
			proxyproto.Proxy, proxyproto.UnixDatagram, &net.UnixAddr{Name: "@abs", Net: "unixgram"}, &net.UnixAddr{Name: strings.Repeat("p", 108), Net: "unixgram"}, 0},
		{"unspec", v2(0x21, 0x00), proxyproto.Proxy, proxyproto.Unspec, nil, nil, 0},
		{"unspec with TLV", v2(0x21, 0x00, tlv(0x01, []byte("h2"))), proxyproto.Proxy, proxyproto.Unspec, nil, nil, 1},
		{"local", v2(0x20, 0x00), proxyproto.Local, proxyproto.Unspec, nil, nil, 0},
		{"local with addresses", v2(0x20, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlv(1, []byte("x"))),
			proxyproto.Local, proxyproto.Unspec, nil, nil, 0},
		{"local short block", v2(0x20, 0x21, []byte{1, 2, 3}), proxyproto.Local, proxyproto.Unspec, nil, nil, 0},
		{"local unknown family", v2(0x20, 0x51, []byte{1, 2, 3}), proxyproto.Local, proxyproto.Unspec, nil, nil, 0},
		{"tlvs", v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlvs),
			proxyproto.Proxy, proxyproto.TCP4, tcp("1.2.3.4:1"), tcp("5.6.7.8:2"), 7},
		{"crc", withCRC(v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlv(0x01, []byte("h2"))), false),
			proxyproto.Proxy, proxyproto.TCP4, tcp("1.2.3.4:1"), tcp("5.6.7.8:2"), 2},
	}
	for _, tt := range tests {
		for _, chunk := range []int{0, 1, 7} {
			t.Run(tt.name+"/chunk="+string(rune('0'+chunk)), func(t *testing.T) {
				pc, rest, err := readAll(t, append(bytes.Clone(tt.in), request...), chunk, proxyproto.Options{})
				require.NoError(t, err)
				assert.Equal(t, request, string(rest))
				h := pc.Header()
				assert.Equal(t, 2, h.Version)
				assert.Equal(t, tt.cmd, h.Command)
				assert.Equal(t, tt.tr, h.Transport)
				assert.Equal(t, tt.src, h.Source)
				assert.Equal(t, tt.dst, h.Destination)
				assert.Len(t, h.TLVs, tt.ntlv)
				if tt.src == nil {
					assert.Equal(t, "10.0.0.1:50000", pc.RemoteAddr().String())
					assert.Equal(t, "10.0.0.2:443", pc.LocalAddr().String())
				} else {
					assert.Equal(t, tt.src, pc.RemoteAddr())
					assert.Equal(t, tt.dst, pc.LocalAddr())
				}
			})
		}
	}
}

func TestHeader_TLVHelpers(t *testing.T) {
	ssl := append([]byte{0x05, 0, 0, 0, 0}, bytes.Join([][]byte{
		tlv(0x21, []byte("TLSv1.3")), tlv(0x22, []byte("client.example")), tlv(0x23, []byte("TLS_AES_128_GCM_SHA256")),
	}, nil)...)
	in := v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2),
		tlv(0x01, []byte("h2")), tlv(0x02, []byte("example.com")), tlv(0x05, []byte("id-1")),
		tlv(0x20, ssl), tlv(0x30, []byte("blue")), tlv(0xE1, []byte("app")))
	pc, _, err := readAll(t, in, 0, proxyproto.Options{})
	require.NoError(t, err)
	h := pc.Header()
	assert.Equal(t, "h2", string(h.ALPN()))
	assert.Equal(t, "example.com", h.Authority())
	assert.Equal(t, "id-1", string(h.UniqueID()))
	assert.Equal(t, "blue", h.NetNS())
	v, ok := h.Value(0xE1)
	assert.True(t, ok)
	assert.Equal(t, "app", string(v))
	_, ok = h.Value(0xE2)
	assert.False(t, ok)
	s, ok := h.SSL()
	require.True(t, ok)
	assert.Equal(t, uint8(proxyproto.ClientSSL|proxyproto.ClientCertSess), s.Client)
	assert.True(t, s.Verified())
	assert.Equal(t, "TLSv1.3", s.Version())
	assert.Equal(t, "client.example", s.CN())
	assert.Equal(t, "TLS_AES_128_GCM_SHA256", s.Cipher())

	empty := &proxyproto.Header{}
	assert.Nil(t, empty.ALPN())
	assert.Empty(t, empty.Authority())
	_, ok = empty.SSL()
	assert.False(t, ok)
	assert.False(t, proxyproto.SSL{Client: proxyproto.ClientSSL, Verify: 0}.Verified(), "no certificate")
	assert.False(t, proxyproto.SSL{Client: 7, Verify: 1}.Verified(), "verify failed")
}

func TestRead_V2Malformed(t *testing.T) {
	addrs := bytes.Join([][]byte{ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2)}, nil)
	tooLong := v2(0x21, 0x11, addrs, tlv(0xE0, make([]byte, 2046)))
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"version 1 nibble", v2(0x11, 0x11, addrs), "unsupported version 1"},
		{"version 3", v2(0x31, 0x11, addrs), "unsupported version 3"},
		{"version 0", v2(0x01, 0x11, addrs), "unsupported version 0"},
		{"command 2", v2(0x22, 0x11, addrs), "unknown command 0x2"},
		{"command F", v2(0x2F, 0x11, addrs), "unknown command 0xf"},
		{"family 4", v2(0x21, 0x41, addrs), "unknown address family and protocol 0x41"},
		{"protocol 3", v2(0x21, 0x13, addrs), "unknown address family and protocol 0x13"},
		{"inet unspec protocol", v2(0x21, 0x10, addrs), "unknown address family and protocol 0x10"},
		{"unspec family stream", v2(0x21, 0x01), "unknown address family and protocol 0x01"},
		{"short inet block", v2(0x21, 0x11, addrs[:11]), "11 bytes of addresses are too few for TCP4"},
		{"short inet6 block", v2(0x21, 0x21, addrs), "12 bytes of addresses are too few for TCP6"},
		{"short unix block", v2(0x21, 0x31, unixPath("/a")), "108 bytes of addresses are too few for UNIX_STREAM"},
		{"TLVs over limit", tooLong, "2049 bytes of TLVs exceed the limit of 2048"},
		{"max length", v2(0x21, 0x00, make([]byte, 65535)), "65535 bytes of TLVs exceed"},
		{"truncated TLV", v2(0x21, 0x11, addrs, []byte{0x01, 0x00}), "truncated TLV: 2 trailing bytes"},
		{"TLV overrun", v2(0x21, 0x11, addrs, []byte{0x01, 0x00, 0x05, 'a'}), "TLV 0x01 of 5 bytes overruns"},
		{"CRC mismatch", withCRC(v2(0x21, 0x11, addrs), true), "CRC32C mismatch"},
		{"CRC length", v2(0x21, 0x11, addrs, tlv(0x03, []byte{1, 2, 3})), "CRC32C TLV of 3 bytes"},
		{"two CRCs", withCRC(withCRC(v2(0x21, 0x11, addrs), false), false), "more than one CRC32C"},
		{"unique ID too long", v2(0x21, 0x11, addrs, tlv(0x05, make([]byte, 129))), "unique ID of 129 bytes exceeds 128"},
		{"SSL too short", v2(0x21, 0x11, addrs, tlv(0x20, []byte{1, 0, 0, 0})), "SSL TLV of 4 bytes"},
		{"SSL sub-TLV overrun", v2(0x21, 0x11, addrs, tlv(0x20, []byte{1, 0, 0, 0, 0, 0x21, 0, 9, 'x'})), "TLV 0x21 of 9 bytes overruns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemConn(append(bytes.Clone(tt.in), request...), 0)
			_, err := proxyproto.Read(m, proxyproto.Options{})
			var he *proxyproto.HeaderError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 2, he.Version)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "proxyproto: invalid v2 header: "), err.Error())
		})
	}
	t.Run("over limit is not read", func(t *testing.T) {
		m := newMemConn(append(bytes.Clone(tooLong), request...), 0)
		_, err := proxyproto.Read(m, proxyproto.Options{})
		require.Error(t, err)
		assert.Equal(t, 16, m.consumed(), "body must not be read")
	})
	t.Run("raised limit", func(t *testing.T) {
		_, _, err := readAll(t, tooLong, 0, proxyproto.Options{MaxTLVSize: 4096})
		require.NoError(t, err)
		_, _, err = readAll(t, v2(0x21, 0x00, tlv(0xE0, make([]byte, 65532))), 0, proxyproto.Options{MaxTLVSize: 65535})
		require.NoError(t, err)
	})
}

func TestRead_NoHeader(t *testing.T) {
	inputs := []string{
		request,
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",                // shares "P" with v1
		"PROXZ TCP4 1.2.3.4 5.6.7.8 1 2\r\n",              // almost v1
		"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",              // lower case
		"\r\n\r\n\x00\r\nQUIX\n!\x11\x00\x0c abcdefghijk", // almost v2
		"\r\n\r\nhello",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", // TLS ClientHello
	}
	for _, in := range inputs {
		t.Run(strings.ToValidUTF8(in[:5], "?"), func(t *testing.T) {
			_, err := proxyproto.Read(newMemConn([]byte(in), 0), proxyproto.Options{})
			require.ErrorIs(t, err, proxyproto.ErrNoProxyHeader)

			for _, chunk := range []int{0, 1, 2} {
				pc, rest, err := readAll(t, []byte(in), chunk, proxyproto.Options{Optional: true})
				require.NoError(t, err)
				assert.Nil(t, pc.Header())
				assert.Equal(t, in, string(rest), "every byte delivered, in order")
				assert.Equal(t, "10.0.0.1:50000", pc.RemoteAddr().String())
			}
		})
	}
	t.Run("optional EOF mid-signature", func(t *testing.T) {
		for _, in := range []string{"", "P", "PROXY", "\r\n\r\n\x00"} {
			pc, rest, err := readAll(t, []byte(in), 1, proxyproto.Options{Optional: true})
			require.NoError(t, err)
			assert.Equal(t, in, string(rest))
			assert.Nil(t, pc.Header())
		}
	})
	t.Run("optional still reads headers", func(t *testing.T) {
		pc, rest, err := readAll(t, []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"+request), 0, proxyproto.Options{Optional: true})
		require.NoError(t, err)
		assert.Equal(t, "1.2.3.4:1", pc.RemoteAddr().String())
		assert.Equal(t, request, string(rest))
	})
	t.Run("optional malformed header fails", func(t *testing.T) {
		_, _, err := readAll(t, []byte("PROXY TCP4 1.2.3.4\r\n"), 0, proxyproto.Options{Optional: true})
		var he *proxyproto.HeaderError
		require.ErrorAs(t, err, &he)
	})
}

func TestRead_DisabledVersions(t *testing.T) {
	h1 := []byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
	h2 := v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2))

	_, err := proxyproto.Read(newMemConn(h1, 0), proxyproto.Options{DisableV1: true})
	require.ErrorIs(t, err, proxyproto.ErrNoProxyHeader)
	_, err = proxyproto.Read(newMemConn(h2, 0), proxyproto.Options{DisableV2: true})
	require.ErrorIs(t, err, proxyproto.ErrNoProxyHeader)

	pc, _, err := readAll(t, h2, 0, proxyproto.Options{DisableV1: true})
	require.NoError(t, err)
	assert.Equal(t, 2, pc.Header().Version)
	pc, _, err = readAll(t, h1, 0, proxyproto.Options{DisableV2: true})
	require.NoError(t, err)
	assert.Equal(t, 1, pc.Header().Version)

	// Optional: a disabled version's header is the client's data.
	pc, rest, err := readAll(t, h1, 0, proxyproto.Options{DisableV1: true, Optional: true})
	require.NoError(t, err)
	assert.Nil(t, pc.Header())
	assert.Equal(t, h1, rest)
}

func TestRead_Options(t *testing.T) {
	for _, o := range []proxyproto.Options{
		{DisableV1: true, DisableV2: true},
		{MaxTLVSize: -1},
	} {
		m := newMemConn([]byte("PROXY UNKNOWN\r\n"), 0)
		_, err := proxyproto.Read(m, o)
		require.Error(t, err)
		assert.Zero(t, m.consumed())
		_, err = proxyproto.NewHandshaker(o, nil)
		require.Error(t, err)
	}
}

func TestRead_Deadline(t *testing.T) {
	t.Run("default set then cleared", func(t *testing.T) {
		m := newMemConn([]byte("PROXY UNKNOWN\r\n"), 0)
		before := time.Now()
		_, err := proxyproto.Read(m, proxyproto.Options{})
		require.NoError(t, err)
		require.Len(t, m.deadlines, 2)
		assert.WithinRange(t, m.deadlines[0], before.Add(proxyproto.DefaultTimeout), time.Now().Add(proxyproto.DefaultTimeout))
		assert.True(t, m.deadlines[1].IsZero())
	})
	t.Run("cleared after error", func(t *testing.T) {
		m := newMemConn([]byte("GET"), 0)
		_, err := proxyproto.Read(m, proxyproto.Options{Timeout: time.Second})
		require.Error(t, err)
		require.Len(t, m.deadlines, 2)
		assert.True(t, m.deadlines[1].IsZero())
	})
	t.Run("negative leaves deadline alone", func(t *testing.T) {
		m := newMemConn([]byte("PROXY UNKNOWN\r\n"), 0)
		_, err := proxyproto.Read(m, proxyproto.Options{Timeout: -1})
		require.NoError(t, err)
		assert.Empty(t, m.deadlines)
	})
}

// TestRead_SlowSender checks a client that stops mid-header is cut off by
// Options.Timeout and the connection stays usable for the caller to close.
func TestRead_SlowSender(t *testing.T) {
	for _, partial := range []string{"", "PROXY TCP4 1.2.3.4 ", string(sigV2), string(sigV2[:5])} {
		t.Run(strings.ToValidUTF8(partial, "?"), func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = client.Write([]byte(partial))
			}()
			_, err := proxyproto.Read(server, proxyproto.Options{Timeout: 50 * time.Millisecond, Optional: true})
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			server.Close()
			<-done
		})
	}
}

// TestRead_Segments sends a header in pieces over TCP, with the client's
// request right behind it, and checks both arrive intact.
func TestRead_Segments(t *testing.T) {
	hdr, err := (&proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.7:4000"), Destination: tcp("192.0.2.8:443"),
		TLVs: []proxyproto.TLV{{Type: proxyproto.TypeAuthority, Value: []byte("example.com")}, {Type: proxyproto.TypeCRC32C}}}).AppendV2(nil)
	require.NoError(t, err)
	v1 := []byte("PROXY TCP6 2001:db8::7 2001:db8::8 4000 443\r\n")
	for name, h := range map[string][]byte{"v1": v1, "v2": hdr} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			done := make(chan error, 1)
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				msg := append(bytes.Clone(h), request...)
				for _, cut := range [][2]int{{0, 1}, {1, 13}, {13, len(h) - 1}, {len(h) - 1, len(msg)}} {
					if _, err := c.Write(msg[cut[0]:cut[1]]); err != nil {
						done <- err
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				done <- c.(*net.TCPConn).CloseWrite()
			}()
			raw, err := ln.Accept()
			require.NoError(t, err)
			defer raw.Close()
			pc, err := proxyproto.Read(raw, proxyproto.Options{})
			require.NoError(t, err)
			rest, err := io.ReadAll(pc)
			require.NoError(t, err)
			assert.Equal(t, request, string(rest))
			assert.Contains(t, pc.RemoteAddr().String(), ":4000")
			require.NoError(t, <-done)

			// The socket stays reachable for callers that unwrap.
			assert.IsType(t, &net.TCPConn{}, pc.NetConn())
			rc, err := pc.SyscallConn()
			require.NoError(t, err)
			assert.NotNil(t, rc)
			require.NoError(t, pc.CloseWrite())
		})
	}
}

// TestRead_OptionalHTTP serves a plain HTTP client through an optional
// listener: the request must arrive whole.
func TestRead_OptionalHTTP(t *testing.T) {
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() {
		defer client.Close()
		if _, err := client.Write([]byte(request)); err != nil {
			done <- err
			return
		}
		buf := make([]byte, 2)
		_, err := io.ReadFull(client, buf)
		done <- err
	}()
	pc, err := proxyproto.Read(server, proxyproto.Options{Optional: true})
	require.NoError(t, err)
	defer pc.Close()
	assert.Positive(t, pc.Buffered())
	got := make([]byte, len(request))
	_, err = io.ReadFull(pc, got)
	require.NoError(t, err)
	assert.Equal(t, request, string(got))
	_, err = pc.Write([]byte("ok"))
	require.NoError(t, err)
	require.NoError(t, <-done)
	assert.Equal(t, client.LocalAddr(), pc.RemoteAddr())
}

func TestConn_Passthrough(t *testing.T) {
	m := newMemConn([]byte("PROXY UNKNOWN\r\nbody"), 0)
	pc, err := proxyproto.Read(m, proxyproto.Options{})
	require.NoError(t, err)
	n, err := pc.Write([]byte("reply"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.Equal(t, "reply", m.written.String())
	require.NoError(t, pc.SetDeadline(time.Unix(5, 0)))
	require.NoError(t, pc.SetReadDeadline(time.Unix(6, 0)))
	require.NoError(t, pc.SetWriteDeadline(time.Unix(7, 0)))
	assert.Equal(t, time.Unix(6, 0), m.deadlines[len(m.deadlines)-1])
	var sb strings.Builder
	k, err := pc.WriteTo(&sb)
	require.NoError(t, err)
	assert.Equal(t, int64(4), k)
	assert.Equal(t, "body", sb.String())
	k, err = pc.ReadFrom(strings.NewReader("more"))
	require.NoError(t, err)
	assert.Equal(t, int64(4), k)
	assert.Equal(t, "replymore", m.written.String())
	assert.Same(t, m, pc.NetConn())
	assert.Error(t, pc.CloseWrite(), "memConn has no CloseWrite")
	_, err = pc.SyscallConn()
	assert.Error(t, err)
	require.NoError(t, pc.Close())
	assert.True(t, m.closed)

	// WriteTo replays buffered bytes first.
	pc, err = proxyproto.Read(newMemConn([]byte(request), 1), proxyproto.Options{Optional: true})
	require.NoError(t, err)
	sb.Reset()
	_, err = pc.WriteTo(&sb)
	require.NoError(t, err)
	assert.Equal(t, request, sb.String())
}

func TestHeaderError_Error(t *testing.T) {
	err := error(&proxyproto.HeaderError{Version: 2, Reason: "unknown command 0x3"})
	assert.Equal(t, "proxyproto: invalid v2 header: unknown command 0x3", err.Error())
	assert.False(t, errors.Is(err, proxyproto.ErrNoProxyHeader))
	assert.Equal(t, "PROXY", proxyproto.Proxy.String())
	assert.Equal(t, "LOCAL", proxyproto.Local.String())
	assert.Equal(t, "Command(0x7)", proxyproto.Command(7).String())
	assert.Equal(t, "UNIX_DGRAM", proxyproto.UnixDatagram.String())
	assert.Equal(t, "Transport(0x44)", proxyproto.Transport(0x44).String())
}

// TestRead_CRC32CVector checks the checksum against a header with a CRC32C
// computed by another implementation (big-endian CRC-32C over the whole
// header with the value zeroed, spec 2.2.5).
func TestRead_CRC32CVector(t *testing.T) {
	in := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x13" +
		"\xff\x00\xff\x00\x00\xff\x00\xff\xaa\xbb\xbb\xaa\x03\x00\x04\xb5\x2e\x83\x7b")
	pc, _, err := readAll(t, in, 0, proxyproto.Options{})
	require.NoError(t, err)
	assert.Equal(t, "255.0.255.0:43707", pc.RemoteAddr().String())
	assert.Equal(t, "0.255.0.255:48042", pc.LocalAddr().String())

	out, err := pc.Header().AppendV2(nil)
	require.NoError(t, err)
	assert.Equal(t, in, out, "AppendV2 computes the same checksum")

	in[len(in)-1] ^= 0x80
	_, _, err = readAll(t, in, 0, proxyproto.Options{})
	require.ErrorContains(t, err, "CRC32C mismatch")
}

// stuckConn returns neither bytes nor errors.
type stuckConn struct{ memConn }

func (*stuckConn) Read([]byte) (int, error) { return 0, nil }

func TestRead_NoProgress(t *testing.T) {
	_, err := proxyproto.Read(&stuckConn{}, proxyproto.Options{})
	require.ErrorIs(t, err, io.ErrNoProgress)
}
