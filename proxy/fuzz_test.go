package proxy

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

// FuzzStripHopByHop checks that no hop-by-hop field, nor any field named in
// Connection, survives, whatever the Connection value.
func FuzzStripHopByHop(f *testing.F) {
	f.Add("keep-alive, X-Foo", "X-Foo", "1")
	f.Add("close,,  upgrade ,te", "Upgrade", "websocket")
	f.Add("X-Forwarded-For", "X-Forwarded-For", "10.0.0.1")
	f.Add(",", "A", "")
	f.Fuzz(func(t *testing.T, conn, name, value string) {
		var h httpheader.Header
		if _, err := h.Add("Connection", conn); err != nil {
			return
		}
		_, _ = h.Add(name, value)
		for tok := range strings.SplitSeq(conn, ",") {
			_, _ = h.Add(strings.TrimSpace(tok), "x") // every named field present
		}
		_, _ = h.Add("Keep-Alive", "timeout=5")
		_, _ = h.Add("Transfer-Encoding", "chunked")
		stripHopByHop(&h, false)
		for n := range h.All() {
			if hopByHop([]byte(n)) {
				t.Fatalf("hop-by-hop field %q kept", n)
			}
			for tok := range strings.SplitSeq(conn, ",") {
				tok = strings.TrimSpace(tok)
				if tok != "" && strings.EqualFold(tok, n) {
					t.Fatalf("field %q named in Connection kept", n)
				}
			}
		}
	})
}

// FuzzAcceptEncoding checks the Accept-Encoding reader never panics and
// returns q-values as written or -1.
func FuzzAcceptEncoding(f *testing.F) {
	f.Add("gzip, zstd;q=0.5")
	f.Add("*;q=0, gzip")
	f.Add(";;q=,,zstd;Q=1e400")
	f.Fuzz(func(t *testing.T, ae string) {
		req, _ := httpheader.NewRequest("GET", "/")
		if _, err := req.Add("Accept-Encoding", ae); err != nil {
			return
		}
		gz, zs, _ := accepts(req)
		_ = gz
		_ = zs
	})
}

func TestHopByHop(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{{"Connection", true}, {"keep-alive", true}, {"TE", true}, {"Transfer-Encoding", true},
		{"upgrade", true}, {"Proxy-Connection", true}, {"Trailer", false}, {"Host", false}, {"tE", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hopByHop([]byte(tc.name)); got != tc.want {
				t.Fatalf("hopByHop(%q) = %v", tc.name, got)
			}
		})
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    uint64
		okay bool
	}{
		{"0", 0, true},
		{"5", 5, true},
		{"007", 7, true},
		{"9999999999999999999", 9999999999999999999, true},
		{"18446744073709551616", 0, false}, // 20 digits
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1, 2", 0, false},
		{"1.5", 0, false},
		{"x", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			n, ok := parseDecimal([]byte(tc.in))
			if ok != tc.okay || n != tc.n {
				t.Fatalf("parseDecimal(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.okay)
			}
		})
	}
}

// FuzzParseDecimal checks parseDecimal against strconv: a valid
// value is exactly a decimal integer of at most 19 digits.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "10", "-1", "", "99999999999999999999", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseDecimal([]byte(s))
		want, err := strconv.ParseUint(s, 10, 64)
		valid := err == nil && len(s) <= 19 && !strings.ContainsAny(s, "_+")
		if ok != valid || (ok && n != want) {
			t.Fatalf("parseDecimal(%q) = %d, %v; strconv: %d, %v", s, n, ok, want, err)
		}
	})
}
