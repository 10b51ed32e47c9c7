package proxyproto_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

// FuzzRead feeds arbitrary bytes, in segments of 1–8 bytes, to Read in
// required and optional mode. It checks that nothing panics, that the
// header and the bytes the Conn delivers add up to the input exactly (no
// byte lost or read twice), and that a parsed header re-encodes to a header
// that parses to the same addresses.
func FuzzRead(f *testing.F) {
	seeds := [][]byte{
		[]byte("PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n\r\n"),
		[]byte("PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 65535\r\n"),
		[]byte("PROXY UNKNOWN whatever\r\nrest"),
		[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlv(0x01, []byte("h2")), tlv(0x20, []byte{1, 0, 0, 0, 0, 0x21, 0, 1, 'x'})),
		withCRC(v2(0x21, 0x21, make([]byte, 36)), false),
		v2(0x21, 0x32, unixPath("\x00abs"), unixPath("/b")),
		v2(0x20, 0x00),
		v2(0x21, 0x12, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlv(0x05, make([]byte, 129))),
	}
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	f.Fuzz(checkRead)
}

// FuzzReadV1 is FuzzRead with the v1 signature in place, so the fuzzer
// spends its time on the line.
func FuzzReadV1(f *testing.F) {
	for i, s := range []string{
		"TCP4 192.0.2.1 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n\r\n",
		"TCP6 2001:db8::1 ::ffff:1.2.3.4 1 65535\r\n", "UNKNOWN\r\n", "UNKNOWN x y\r\nz",
		"TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "TCP6 fe80::1%eth0 ::1 1 2\r\n",
	} {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		checkRead(t, append([]byte("PROXY "), in...), chunk)
	})
}

// FuzzReadV2 is FuzzRead with the v2 signature in place.
func FuzzReadV2(f *testing.F) {
	for i, s := range [][]byte{
		v2(0x21, 0x11, ip4(1, 2, 3, 4), ip4(5, 6, 7, 8), port(1), port(2), tlv(0x01, []byte("h2")), tlv(0x20, []byte{1, 0, 0, 0, 0, 0x21, 0, 1, 'x'})),
		withCRC(v2(0x21, 0x21, make([]byte, 36)), false),
		v2(0x21, 0x31, unixPath("/a"), unixPath("\x00b")),
		v2(0x20, 0x00), v2(0x21, 0x00, tlv(0x05, []byte("id"))),
	} {
		f.Add(s[len(sigV2):], uint8(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		checkRead(t, append(append([]byte{}, sigV2...), in...), chunk)
	})
}

// checkRead reads in, split into segments of 1–8 bytes, in required and
// optional mode, and checks the result is consistent.
func checkRead(t *testing.T, in []byte, chunk uint8) {
	for _, optional := range []bool{false, true} {
		m := newMemConn(in, int(chunk%8)+1)
		pc, err := proxyproto.Read(m, proxyproto.Options{Optional: optional, Timeout: -1})
		if err != nil {
			var he *proxyproto.HeaderError
			if !errors.Is(err, proxyproto.ErrNoProxyHeader) && !errors.As(err, &he) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if optional && errors.Is(err, proxyproto.ErrNoProxyHeader) {
				t.Fatal("optional mode returned ErrNoProxyHeader")
			}
			continue
		}
		hdrLen := m.consumed() - pc.Buffered()
		rest, _ := io.ReadAll(pc)
		if hdrLen < 0 || !bytes.Equal(rest, in[hdrLen:]) {
			t.Fatalf("delivered %q after a %d-byte header of %q", rest, hdrLen, in)
		}
		h := pc.Header()
		if h == nil {
			if hdrLen != 0 {
				t.Fatalf("no header but %d bytes consumed", hdrLen)
			}
			continue
		}
		if h.Version == 1 && hdrLen > proxyproto.MaxV1Len {
			t.Fatalf("v1 header of %d bytes", hdrLen)
		}
		var out []byte
		if h.Version == 1 {
			out, err = h.AppendV1(nil)
		} else {
			out, err = h.AppendV2(nil)
		}
		if err != nil {
			t.Fatalf("re-encode %+v: %v", h, err)
		}
		pc2, err := proxyproto.Read(newMemConn(out, 0), proxyproto.Options{Timeout: -1})
		if err != nil {
			t.Fatalf("re-read %q: %v", out, err)
		}
		h2 := pc2.Header()
		if h2.Command != h.Command || h2.Transport != h.Transport || addrString(h2.Source) != addrString(h.Source) ||
			addrString(h2.Destination) != addrString(h.Destination) || len(h2.TLVs) != len(h.TLVs) {
			t.Fatalf("round trip changed %+v into %+v", h, h2)
		}
	}
}

func addrString(a interface{ String() string }) string {
	if a == nil {
		return "<nil>"
	}
	return a.String()
}
