package limits_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/limits"
)

func newEstimator(t testing.TB, hashes, slots int) *limits.Estimator {
	t.Helper()
	e, err := limits.NewEstimator(hashes, slots)
	require.NoError(t, err)
	return e
}

func TestNewEstimator_Errors(t *testing.T) {
	tests := []struct {
		name          string
		hashes, slots int
		want          string
	}{
		{"zero hashes", 0, 8, "limits: hashes must be positive"},
		{"negative hashes", -1, 8, "limits: hashes must be positive"},
		{"zero slots", 4, 0, "limits: slots must be positive"},
		{"negative slots", 4, -3, "limits: slots must be positive"},
		{"too large", 1 << 10, 1 << 20, "limits: sketch larger than 2^28 counters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := limits.NewEstimator(tt.hashes, tt.slots)
			require.EqualError(t, err, tt.want)
			assert.Nil(t, e)
		})
	}
}

func TestNewEstimator_Shape(t *testing.T) {
	e := newEstimator(t, 3, 17)
	assert.Equal(t, 3, e.Hashes())
	assert.Equal(t, 17, e.Slots())
}

// The three tests of Pingora's estimator.rs, on its 8×8 sketch.
func TestEstimator_Pingora(t *testing.T) {
	t.Run("incr", func(t *testing.T) {
		e := newEstimator(t, 8, 8)
		assert.Equal(t, int64(1), e.Incr("a", 1))
		assert.Equal(t, int64(1), e.Incr("b", 1))
		assert.Equal(t, int64(3), e.Incr("a", 2))
		assert.Equal(t, int64(3), e.Incr("b", 2))
	})
	t.Run("decr", func(t *testing.T) {
		e := newEstimator(t, 8, 8)
		e.Incr("a", 3)
		e.Incr("b", 3)
		e.Decr("a", 1)
		e.Decr("b", 1)
		assert.Equal(t, int64(2), e.Get("a"))
		assert.Equal(t, int64(2), e.Get("b"))
	})
	t.Run("get", func(t *testing.T) {
		e := newEstimator(t, 8, 8)
		e.Incr("a", 1)
		e.Incr("a", 2)
		e.Incr("b", 1)
		e.Incr("b", 2)
		assert.Equal(t, int64(3), e.Get("a"))
		assert.Equal(t, int64(3), e.Get("b"))
	})
}

func TestEstimator_Ops(t *testing.T) {
	type op struct {
		kind string // incr, incrb, decr, decrb, reset
		key  string
		v    int64
	}
	tests := []struct {
		name string
		ops  []op
		want map[string]int64
	}{
		{"unseen key is zero", nil, map[string]int64{"x": 0, "": 0}},
		{"empty key counts", []op{{"incr", "", 5}}, map[string]int64{"": 5}},
		{"string and bytes are one key", []op{{"incr", "k", 2}, {"incrb", "k", 3}, {"decrb", "k", 1}}, map[string]int64{"k": 4}},
		{"negative increments", []op{{"incr", "k", -2}}, map[string]int64{"k": -2}},
		{"decr below zero", []op{{"decr", "k", 2}}, map[string]int64{"k": -2}},
		{"reset clears all", []op{{"incr", "a", 2}, {"incr", "b", 9}, {"reset", "", 0}, {"incr", "b", 1}}, map[string]int64{"a": 0, "b": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEstimator(t, 4, 1024)
			for _, o := range tt.ops {
				switch o.kind {
				case "incr":
					e.Incr(o.key, o.v)
				case "incrb":
					e.IncrBytes([]byte(o.key), o.v)
				case "decr":
					e.Decr(o.key, o.v)
				case "decrb":
					e.DecrBytes([]byte(o.key), o.v)
				case "reset":
					e.Reset()
				}
			}
			for k, want := range tt.want {
				assert.Equal(t, want, e.Get(k), "Get(%q)", k)
				assert.Equal(t, want, e.GetBytes([]byte(k)), "GetBytes(%q)", k)
			}
		})
	}
}

// A count–min sketch never underestimates, and with enough room it is exact
// for most keys. The shapes cover both ways of indexing rows: bit fields of
// one hash (power-of-two slots, hashes×log2(slots) ≤ 64) and a hash per row
// (slots not a power of two, or rows needing more than 64 bits).
func TestEstimator_NeverUnderestimates(t *testing.T) {
	shapes := []struct{ hashes, slots int }{
		{4, 1024}, // fields of one hash
		{3, 1000}, // not a power of two
		{8, 1024}, // 80 bits of index
		{1, 1},    // a single counter: everything collides
	}
	for _, sh := range shapes {
		for _, n := range []int{100, 10_000} {
			t.Run(fmt.Sprintf("%dx%d/keys=%d", sh.hashes, sh.slots, n), func(t *testing.T) {
				e := newEstimator(t, sh.hashes, sh.slots)
				truth := make(map[string]int64, n)
				total := int64(0)
				r := rand.New(rand.NewPCG(1, 2))
				for range 5 * n {
					k := "key-" + strconv.Itoa(r.IntN(n))
					v := int64(r.IntN(3) + 1)
					truth[k] += v
					total += v
					got := e.Incr(k, v)
					require.GreaterOrEqual(t, got, truth[k], "Incr(%q)", k)
				}
				exact, over := 0, int64(0)
				for k, want := range truth {
					got := e.Get(k)
					require.GreaterOrEqual(t, got, want, "Get(%q)", k)
					over += got - want
					if got == want {
						exact++
					}
				}
				// A row overstates a key by the other keys' counts in its
				// slot, total/slots on average, and Get takes the least row.
				// Twice that bound fails only if the sketch is broken.
				assert.LessOrEqual(t, over/int64(len(truth)), 2*total/int64(sh.slots), "mean overestimate")
				if sh.slots == 1 {
					assert.Equal(t, total, e.Get("any key"), "one counter holds every count")
				}
				if n <= 100 && sh.slots >= 1000 {
					// 100 keys in 1000 slots × 3 rows or more: a key shares
					// all its counters with probability under 0.001.
					assert.GreaterOrEqual(t, exact, 95)
				}
			})
		}
	}
}

// Keys of every length up to 40 bytes, including the short keys that Incr
// and Get hash inline and the ones they hand to the general hash, in
// sketches indexed either way: every API that hashes a key must agree on it.
// Inflight.Incr and Guard.Get hash through the general path, Inflight.Get and
// Estimator.Get through the inline one; Rate.ObserveAt and Rate.RateAt
// likewise.
func TestEstimator_KeyLengths(t *testing.T) {
	for _, opts := range []limits.Options{{Hashes: 4, Slots: 1024}, {Hashes: 4, Slots: 1000}} {
		t.Run(fmt.Sprintf("%dx%d", opts.Hashes, opts.Slots), func(t *testing.T) {
			e := newEstimator(t, opts.Hashes, opts.Slots)
			in, err := limits.NewInflight(opts)
			require.NoError(t, err)
			rt, err := limits.NewRate(time.Second, opts)
			require.NoError(t, err)
			t0 := limits.StartOf(rt)
			long := strings.Repeat("0123456789abcdef", 3)
			for n := range 41 {
				key, v := long[:n], int64(n+1)
				assert.Equal(t, v, e.Incr(key, v), "Incr len %d", n)
				assert.Equal(t, 2*v, e.IncrBytes([]byte(key), v), "IncrBytes len %d", n)
				assert.Equal(t, 2*v, e.GetBytes([]byte(key)), "GetBytes len %d", n)
				e.DecrBytes([]byte(key), 1)
				e.Decr(key, 1)
				assert.Equal(t, 2*v-2, e.Get(key), "Get len %d", n)

				g, got := in.Incr(key, v)
				assert.Equal(t, v, got, "Inflight.Incr len %d", n)
				assert.Equal(t, v, in.Get(key), "Inflight.Get len %d", n)
				assert.Equal(t, v, g.Get(), "Guard.Get len %d", n)
				g.Release()
				assert.Zero(t, in.Get(key), "Inflight.Get after Release len %d", n)

				assert.Equal(t, v, rt.ObserveAt(key, v, t0), "Rate.ObserveAt len %d", n)
			}
			for n := range 41 {
				assert.Equal(t, float64(n+1), rt.RateAt(long[:n], t0.Add(time.Second)), "Rate.RateAt len %d", n)
			}
		})
	}
}

func TestEstimator_IncrBytesDoesNotAllocate(t *testing.T) {
	e := newEstimator(t, 4, 1024)
	key := []byte("appid-1234")
	allocs := testing.AllocsPerRun(100, func() {
		e.IncrBytes(key, 1)
		e.Incr("appid-1234", 1)
		e.GetBytes(key)
	})
	assert.Zero(t, allocs)
}

func TestEstimator_ConcurrentSafe(t *testing.T) {
	e := newEstimator(t, 4, 4096)
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				k := "k" + strconv.Itoa(i%16)
				e.Incr(k, 2)
				if w%2 == 0 {
					e.DecrBytes([]byte(k), 1)
				} else {
					e.Decr(k, 1)
				}
				e.Get(k)
			}
		})
	}
	wg.Wait()
	// Each of 16 keys got workers×per/16 net increments of 1.
	for i := range 16 {
		assert.GreaterOrEqual(t, e.Get("k"+strconv.Itoa(i)), int64(workers*per/16))
	}
}

// FuzzEstimator checks the sketch's guarantee on arbitrary keys: after
// positive increments, no key is underestimated, and the estimate returned by
// Incr equals a following Get when nothing else runs.
func FuzzEstimator(f *testing.F) {
	f.Add([]byte("a"), []byte("b"), uint8(1), uint8(2))
	f.Add([]byte(""), []byte("\x00"), uint8(7), uint8(0))
	f.Add([]byte("appid-1"), []byte("appid-1"), uint8(255), uint8(255))
	f.Fuzz(func(t *testing.T, k1, k2 []byte, v1, v2 uint8) {
		e := newEstimator(t, 2, 4) // small, so collisions happen
		got1 := e.IncrBytes(k1, int64(v1))
		require.Equal(t, got1, e.GetBytes(k1))
		e.Incr(string(k2), int64(v2))
		want1, want2 := int64(v1), int64(v2)
		if string(k1) == string(k2) {
			want1 += int64(v2)
			want2 = want1
		}
		require.GreaterOrEqual(t, e.Get(string(k1)), want1)
		require.GreaterOrEqual(t, e.GetBytes(k2), want2)
		e.Reset()
		require.Zero(t, e.GetBytes(k1))
	})
}
