package l4_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/l4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClientHello_CryptoTLS(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
		sni  string
		alpn []string
	}{
		{"sni and alpn", &tls.Config{ServerName: "a.example", NextProtos: []string{"h2", "http/1.1"}}, "a.example", []string{"h2", "http/1.1"}},
		{"upper case sni is lowered", &tls.Config{ServerName: "WWW.Example.COM"}, "www.example.com", nil},
		{"ip address: no sni", &tls.Config{ServerName: "127.0.0.1", NextProtos: []string{"x-custom"}}, "", []string{"x-custom"}},
		{"tls 1.2 only", &tls.Config{ServerName: "b.example", MaxVersion: tls.VersionTLS12}, "b.example", nil},
		{"tls 1.3 only", &tls.Config{ServerName: "c.example", MinVersion: tls.VersionTLS13}, "c.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := captureHello(t, tt.cfg)
			for _, frag := range []int{len(rec), 100, 7, 1} {
				b := refragment(rec, frag)
				sni, alpn, err := l4.ParseClientHello(b)
				require.NoError(t, err, "fragments of %d", frag)
				assert.Equal(t, tt.sni, sni)
				assert.Equal(t, tt.alpn, alpn)

				// Bytes after the ClientHello change nothing.
				sni2, alpn2, err := l4.ParseClientHello(append(b[:len(b):len(b)], 0x14, 3, 3, 0, 1, 1))
				require.NoError(t, err)
				assert.Equal(t, sni, sni2)
				assert.Equal(t, alpn, alpn2)
			}
		})
	}
}

func TestParseClientHello_EveryPrefixNeedsMore(t *testing.T) {
	for _, frag := range []int{1 << 14, 50} {
		b := refragment(captureHello(t, &tls.Config{ServerName: "a.example", NextProtos: []string{"h2"}}), frag)
		for i := range len(b) {
			_, _, err := l4.ParseClientHello(b[:i])
			require.ErrorIs(t, err, l4.ErrNeedMore, "prefix of %d bytes, fragments of %d", i, frag)
		}
	}
}

func TestParseClientHello_Handcrafted(t *testing.T) {
	long := strings.Repeat("a", 63)
	name253 := strings.Join([]string{long, long, long, strings.Repeat("b", 61)}, ".")
	require.Len(t, name253, 253)
	tests := []struct {
		name    string
		in      []byte
		sni     string
		alpn    []string
		wantErr error
	}{
		{"no extensions block", hello(nil), "", nil, nil},
		{"empty extensions", hello([]byte{}), "", nil, nil},
		{"unknown extensions skipped", hello(cat(ext(0xff01, []byte{0}), ext(43, []byte{2, 3, 4}), sniExt("x.example"))), "x.example", nil, nil},
		{"sni with digits and hyphens", hello(sniExt("a-1.b-2.example")), "a-1.b-2.example", nil, nil},
		{"longest name", hello(sniExt(name253)), name253, nil, nil},
		{"alpn", hello(alpnExt("h2", "http/1.1", "spdy/3")), "", []string{"h2", "http/1.1", "spdy/3"}, nil},

		{"empty input", nil, "", nil, l4.ErrNeedMore},
		{"http request", []byte("GET / HTTP/1.1\r\n"), "", nil, l4.ErrNotTLS},
		{"alert record", []byte{21, 3, 3, 0, 2, 2, 40}, "", nil, l4.ErrNotTLS},
		{"sslv3 record version", []byte{22, 3, 0, 0, 4}, "", nil, l4.ErrNotTLS},
		{"record version 3.5", []byte{22, 3, 5, 0, 4}, "", nil, l4.ErrNotTLS},
		{"record major 2", []byte{22, 2, 1}, "", nil, l4.ErrNotTLS},
		{"empty record", []byte{22, 3, 1, 0, 0}, "", nil, l4.ErrMalformedClientHello},
		{"record too long", []byte{22, 3, 1, 0x40, 1}, "", nil, l4.ErrMalformedClientHello},
		{"server hello", []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}, "", nil, l4.ErrMalformedClientHello},
		{"server hello split", []byte{22, 3, 3, 0, 1, 2}, "", nil, l4.ErrMalformedClientHello},
		{"empty client hello body", []byte{22, 3, 3, 0, 4, 1, 0, 0, 0}, "", nil, l4.ErrMalformedClientHello},
		{"second record not handshake", cat(refragment(hello(nil), 10)[:15], []byte{23, 3, 3, 0, 1, 0}), "", nil, l4.ErrMalformedClientHello},
		{"trailing dot", hello(sniExt("a.example.")), "", nil, l4.ErrMalformedClientHello},
		{"empty label", hello(sniExt("a..example")), "", nil, l4.ErrMalformedClientHello},
		{"leading dot", hello(sniExt(".example")), "", nil, l4.ErrMalformedClientHello},
		{"underscore", hello(sniExt("a_b.example")), "", nil, l4.ErrMalformedClientHello},
		{"nul byte", hello(sniExt("a\x00.example")), "", nil, l4.ErrMalformedClientHello},
		{"label of 64", hello(sniExt(strings.Repeat("a", 64) + ".example")), "", nil, l4.ErrMalformedClientHello},
		{"name of 254", hello(sniExt("a" + name253)), "", nil, l4.ErrMalformedClientHello},
		{"empty name", hello(sniExt("")), "", nil, l4.ErrMalformedClientHello},
		{"two sni extensions", hello(cat(sniExt("a.example"), sniExt("b.example"))), "", nil, l4.ErrMalformedClientHello},
		{"two alpn extensions", hello(cat(alpnExt("h2"), alpnExt("h2"))), "", nil, l4.ErrMalformedClientHello},
		{"two host names", hello(ext(0, []byte{0, 10, 0, 0, 2, 'a', 'b', 0, 0, 2, 'c', 'd'})), "", nil, l4.ErrMalformedClientHello},
		{"other name type skipped", hello(ext(0, []byte{0, 5, 7, 0, 2, 'a', 'b'})), "", nil, nil},
		{"empty server name list", hello(ext(0, []byte{0, 0})), "", nil, l4.ErrMalformedClientHello},
		{"server name list too long", hello(ext(0, []byte{0, 9, 0, 0, 2, 'a', 'b'})), "", nil, l4.ErrMalformedClientHello},
		{"empty alpn protocol", hello(alpnExt("h2", "")), "", nil, l4.ErrMalformedClientHello},
		{"empty alpn list", hello(ext(16, []byte{0, 0})), "", nil, l4.ErrMalformedClientHello},
		{"alpn name past list", hello(ext(16, []byte{0, 3, 5, 'h', '2'})), "", nil, l4.ErrMalformedClientHello},
		{"extension past block", hello(ext(0xff01, []byte{0}))[:0], "", nil, l4.ErrNeedMore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sni, alpn, err := l4.ParseClientHello(tt.in)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, sni)
				assert.Nil(t, alpn)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.sni, sni)
			assert.Equal(t, tt.alpn, alpn)
		})
	}
}

// TestParseClientHello_LengthMismatch corrupts each length field of a
// handcrafted ClientHello and expects an error, never a panic.
func TestParseClientHello_LengthMismatch(t *testing.T) {
	base := hello(cat(sniExt("a.example"), alpnExt("h2")))
	// Offsets: record length 3–4, handshake length 6–8, session id 43,
	// cipher suites 44–45, compression 48, extensions 50–51.
	for _, off := range []int{4, 8, 43, 45, 48, 51, 55, 57, 60} {
		for _, delta := range []int{-1, 1, 0x80} {
			t.Run("", func(t *testing.T) {
				b := append([]byte(nil), base...)
				b[off] = byte(int(b[off]) + delta)
				_, _, err := l4.ParseClientHello(b)
				if err == nil {
					return // some changes stay valid (a longer record with the message inside)
				}
				assert.True(t, errors.Is(err, l4.ErrMalformedClientHello) || errors.Is(err, l4.ErrNeedMore) || errors.Is(err, l4.ErrNotTLS), "offset %d: %v", off, err)
			})
		}
	}
}

func TestParseClientHello_ErrorText(t *testing.T) {
	_, _, err := l4.ParseClientHello(hello(sniExt("a_b.example")))
	require.EqualError(t, err, "l4: malformed client hello: host_name is not a valid dns name")
}
