package cache

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKey_Hash(t *testing.T) {
	k := Key{Namespace: []byte("ns"), Primary: []byte("/a")}
	// The documented construction, computed independently.
	sum := sha256.Sum256(append([]byte{0, 0, 0, 0, 0, 0, 0, 2}, "ns/a"...))
	assert.Equal(t, Hash(sum[:16]), k.PrimaryHash())
	assert.Equal(t, k.PrimaryHash(), k.Hash(), "no variance: combined is primary")
	assert.Len(t, k.String(), 32)
	assert.Equal(t, k.Hash().String(), k.String())

	t.Run("no concatenation collision", func(t *testing.T) {
		a := Key{Namespace: []byte("ab"), Primary: []byte("c")}
		b := Key{Namespace: []byte("a"), Primary: []byte("bc")}
		assert.NotEqual(t, a.Hash(), b.Hash())
	})
	t.Run("variance", func(t *testing.T) {
		v := k
		v.Variance = Hash{7}
		assert.NotEqual(t, k.Hash(), v.Hash())
		assert.Equal(t, k.PrimaryHash(), v.PrimaryHash())
		w := k
		w.Variance = Hash{8}
		assert.NotEqual(t, v.Hash(), w.Hash())
	})
}

func TestParseVary(t *testing.T) {
	tests := []struct {
		lines []string
		names []string
		star  bool
	}{
		{nil, nil, false},
		{[]string{"Accept-Encoding"}, []string{"accept-encoding"}, false},
		{[]string{"User-Agent, accept-encoding", "ACCEPT-ENCODING"}, []string{"accept-encoding", "user-agent"}, false},
		{[]string{"Accept, *"}, []string{"accept"}, true},
		{[]string{"*"}, nil, true},
		{[]string{" , bad name, ok"}, []string{"ok"}, false},
	}
	for _, tt := range tests {
		t.Run(join(tt.lines), func(t *testing.T) {
			var kv []string
			for _, l := range tt.lines {
				kv = append(kv, "Vary", l)
			}
			names, star := ParseVary(&response(t, 200, kv...).Header)
			assert.Equal(t, tt.names, names)
			assert.Equal(t, tt.star, star)
		})
	}
}

func TestVariance(t *testing.T) {
	names := []string{"accept", "accept-encoding"}
	v := func(kv ...string) Hash { return Variance(names, request(t, "GET", kv...)) }
	base := v("Accept", "text/html", "Accept-Encoding", "gzip, br")
	assert.False(t, base.IsZero())
	// RFC 9111 §4.1: whitespace and line splitting do not matter.
	assert.Equal(t, base, v("accept", " text/html ", "Accept-Encoding", "gzip", "Accept-Encoding", "br"))
	assert.Equal(t, base, v("Accept-Encoding", "gzip,br", "Accept", "text/html"))
	// Order of values does.
	assert.NotEqual(t, base, v("Accept", "text/html", "Accept-Encoding", "br, gzip"))
	// Absent and empty differ; values cannot slide between names.
	assert.NotEqual(t, v(), v("Accept", ""))
	assert.NotEqual(t, v("Accept", "a"), v("Accept-Encoding", "a"))
	assert.True(t, Variance(nil, request(t, "GET")).IsZero())
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x + "|"
	}
	return out
}
