package balancer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"
)

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name, conf, want string
		ok               bool
	}{
		{"first valid", "# c\nsearch x.test\nnameserver bogus\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n", "10.0.0.53:53", true},
		{"ipv6", "nameserver 2001:db8::53", "[2001:db8::53]:53", true},
		{"none", "search x.test\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseResolvConf(strings.NewReader(tt.conf))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestSmoothSequence_Counts checks both ways of building the round-robin
// cycle: each backend appears exactly weight times (after dividing by the
// common divisor), and no backend runs twice in a row more than its share
// demands.
func TestSmoothSequence_Counts(t *testing.T) {
	for _, n := range []int{3, 5000} { // 5000×total is past maxNginxWork: stride path
		ws := make([]uint64, n)
		for i := range ws {
			ws[i] = uint64(i%7 + 1)
		}
		want := make([]int, n)
		for i, w := range ws {
			want[i] = int(w)
		}
		seq := smoothSequence(ws)
		got := make([]int, n)
		for _, i := range seq {
			got[i]++
		}
		require.Equal(t, want, got, "n=%d", n)
	}
}

// FuzzParseResponse feeds arbitrary bytes to the DNS answer parser: it
// must return an answer or an error, never panic.
func FuzzParseResponse(f *testing.F) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("a.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	ok := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 7, Response: true},
		Questions: []dnsmessage.Question{q},
		Answers: []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 30},
			Body:   &dnsmessage.AResource{A: [4]byte{10, 0, 0, 1}},
		}},
	}
	good, err := ok.Pack()
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{0, 7, 0x80, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		a, ttl, err := parseResponse(msg, 7, q)
		if err != nil {
			return
		}
		if ttl < 0 || len(a.srv) != 0 {
			t.Fatalf("bad answer %+v ttl %v", a, ttl)
		}
	})
}
