package balancer_test

import (
	"net/netip"
	"testing"

	"github.com/pingora-go/pingora/balancer"
	perr "github.com/pingora-go/pingora/errors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in      string
		want    balancer.Backend
		network string
		wantErr bool
	}{
		{"127.0.0.1:80", balancer.Backend{Addr: netip.MustParseAddrPort("127.0.0.1:80"), Weight: 1}, "tcp", false},
		{"[::1]:443", balancer.Backend{Addr: netip.MustParseAddrPort("[::1]:443"), Weight: 1}, "tcp", false},
		{"unix:/run/app.sock", balancer.Backend{Unix: "/run/app.sock", Weight: 1}, "unix", false},
		{"unix:", balancer.Backend{}, "", true},
		{"localhost:80", balancer.Backend{}, "", true},
		{"10.0.0.1", balancer.Backend{}, "", true},
		{"", balancer.Backend{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, err := balancer.ParseBackend(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, perr.InternalError)
				require.ErrorContains(t, err, "balancer: invalid backend address")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, b)
			assert.Equal(t, tt.in, b.String())
			assert.Equal(t, tt.network, b.Network())
			assert.True(t, b.Ready())
			assert.Zero(t, b.InFlight())
		})
	}
	_, err := balancer.ParseBackends("10.0.0.1:1", "nope")
	require.Error(t, err)
}

func TestStatic(t *testing.T) {
	bs := addrs(3)
	s := balancer.NewStatic(bs[0])
	s.Add(bs[1], bs[2])
	assert.Equal(t, bs, s.Backends())
	assert.Equal(t, 1, s.Remove(balancer.Backend{Addr: bs[1].Addr})) // zero weight matches 1
	assert.Equal(t, 0, s.Remove(balancer.Backend{Addr: bs[1].Addr}))
	assert.Equal(t, 0, s.Remove(balancer.Backend{Addr: bs[2].Addr, Weight: 2}))
	s.Set(bs[2])
	got, err := s.Discover(t.Context())
	require.NoError(t, err)
	assert.Equal(t, bs[2:], got)
}

// FuzzParseBackend checks that ParseBackend never panics and that what it
// accepts prints back to an equal Backend.
func FuzzParseBackend(f *testing.F) {
	for _, s := range []string{"127.0.0.1:80", "[::1]:443", "[fe80::1%eth0]:80", "unix:/a", "unix:", ":80", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := balancer.ParseBackend(s)
		if err != nil {
			return
		}
		b2, err := balancer.ParseBackend(b.String())
		require.NoError(t, err)
		require.Equal(t, b, b2)
	})
}
