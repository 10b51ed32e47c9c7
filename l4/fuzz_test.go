package l4_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/l4"
)

// FuzzParseClientHello checks that ParseClientHello never panics, returns
// only its documented errors, returns a valid lower-case name, and that a
// successful parse does not change when bytes are appended.
func FuzzParseClientHello(f *testing.F) {
	for _, cfg := range []*tls.Config{
		{ServerName: "a.example", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "127.0.0.1"},
		{ServerName: "Mixed.Case.Example", MaxVersion: tls.VersionTLS12},
		{ServerName: "tls13.example", MinVersion: tls.VersionTLS13, NextProtos: []string{"acme-tls/1"}},
	} {
		// X25519 only: without the 1.2 KB ML-KEM key share the seeds are
		// ~300 bytes, which the fuzzer mutates and minimizes far faster
		// (full-size hellos are covered by TestParseClientHello_CryptoTLS).
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
		rec := captureHello(f, cfg)
		f.Add(rec)
		f.Add(refragment(rec, 64))
		f.Add(refragment(rec, 3))
		f.Add(rec[:len(rec)/2])
		f.Add(rec[:9])
		for _, off := range []int{1, 4, 8, 44, 80, len(rec) - 3} {
			bad := bytes.Clone(rec)
			bad[off] ^= 0x5a
			f.Add(bad)
		}
	}
	f.Add(hello(nil))
	f.Add(hello(cat(sniExt("a.example"), alpnExt("h2"))))
	f.Add(hello(cat(sniExt("a.example"), sniExt("b.example"))))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sni, alpn, err := l4.ParseClientHello(b)
		if err != nil {
			if !errors.Is(err, l4.ErrNeedMore) && !errors.Is(err, l4.ErrNotTLS) && !errors.Is(err, l4.ErrMalformedClientHello) {
				t.Fatalf("undocumented error %v", err)
			}
			if sni != "" || alpn != nil {
				t.Fatalf("error %v with results %q %q", err, sni, alpn)
			}
			return
		}
		if sni != strings.ToLower(sni) || len(sni) > 253 || strings.HasSuffix(sni, ".") {
			t.Fatalf("bad name %q", sni)
		}
		for _, p := range alpn {
			if p == "" {
				t.Fatal("empty alpn protocol")
			}
		}
		ext := append(bytes.Clone(b), 0x16, 3, 3, 0, 5, 1, 2, 3, 4, 5)
		sni2, alpn2, err := l4.ParseClientHello(ext)
		if err != nil || sni2 != sni || strings.Join(alpn2, ",") != strings.Join(alpn, ",") || len(alpn2) != len(alpn) {
			t.Fatalf("not stable when extended: %q %q %v, then %q %q %v", sni, alpn, nil, sni2, alpn2, err)
		}
	})
}
