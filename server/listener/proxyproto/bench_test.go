package proxyproto_test

import (
	"testing"

	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

var benchTLVs = []proxyproto.TLV{
	{Type: proxyproto.TypeALPN, Value: []byte("h2")},
	{Type: proxyproto.TypeAuthority, Value: []byte("www.example.com")},
	{Type: proxyproto.TypeUniqueID, Value: []byte("0123456789abcdef0123456789abcdef")},
	{Type: proxyproto.TypeSSL, Value: append([]byte{0x01, 0, 0, 0, 0}, tlv(0x21, []byte("TLSv1.3"))...)},
	{Type: proxyproto.TypeCRC32C},
}

func BenchmarkRead(b *testing.B) {
	v2tlv, err := (&proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:56324"), Destination: tcp("198.51.100.1:443"), TLVs: benchTLVs}).AppendV2(nil)
	if err != nil {
		b.Fatal(err)
	}
	inputs := []struct {
		name string
		in   []byte
	}{
		{"v1_tcp4", []byte("PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n")},
		{"v1_tcp6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n")},
		{"v2_tcp4", v2(0x21, 0x11, ip4(192, 0, 2, 1), ip4(198, 51, 100, 1), port(56324), port(443))},
		{"v2_tcp4_tlvs", v2tlv},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			m := newMemConn(in.in, 0)
			opts := proxyproto.Options{Timeout: -1}
			b.SetBytes(int64(len(in.in)))
			b.ReportAllocs()
			for b.Loop() {
				m.reset(in.in)
				if _, err := proxyproto.Read(m, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHeader_Append(b *testing.B) {
	h := &proxyproto.Header{Command: proxyproto.Proxy, Source: tcp("192.0.2.1:56324"), Destination: tcp("198.51.100.1:443")}
	ht := &proxyproto.Header{Command: proxyproto.Proxy, Source: h.Source, Destination: h.Destination, TLVs: benchTLVs}
	buf := make([]byte, 0, 256)
	b.Run("v1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.AppendV1(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.AppendV2(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("v2_tlvs_crc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ht.AppendV2(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
