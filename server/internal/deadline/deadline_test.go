package deadline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type recorder struct{ sets []time.Time }

func (r *recorder) set(t time.Time) error {
	r.sets = append(r.sets, t)
	return nil
}

func TestCoarse(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // timeouts asked for, one after the other
		sets  int             // how many reached the connection
	}{
		{"first sets", []time.Duration{time.Minute}, 1},
		{"same timeout kept", []time.Duration{time.Minute, time.Minute, time.Minute}, 1},
		{"shorter timeout sets", []time.Duration{time.Minute, time.Second}, 2},
		{"longer timeout sets", []time.Duration{time.Second, time.Minute}, 2},
		{"slightly longer kept", []time.Duration{time.Minute, 62 * time.Second}, 1},
		{"slightly shorter sets", []time.Duration{time.Minute, 58 * time.Second}, 2},
		{"no deadline sets once", []time.Duration{0, 0, -1}, 1},
		{"deadline after none sets", []time.Duration{0, time.Minute}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Coarse
			var r recorder
			for _, d := range tt.steps {
				before := time.Now()
				require.NoError(t, c.Set(r.set, d))
				if d > 0 {
					// never earlier than asked, at most d/8 later
					got := r.sets[len(r.sets)-1]
					require.False(t, got.Before(before.Add(d)), "deadline %v earlier than now+%v", got, d)
					require.False(t, got.After(time.Now().Add(d+d/8)), "deadline %v later than now+9/8·%v", got, d)
				}
			}
			require.Len(t, r.sets, tt.sets)
		})
	}
}

func TestCoarseReSetsWhenSlackUsedUp(t *testing.T) {
	var c Coarse
	var r recorder
	d := 80 * time.Millisecond
	require.NoError(t, c.Set(r.set, d))
	time.Sleep(d/8 + 5*time.Millisecond) // the kept deadline is now too close
	require.NoError(t, c.Set(r.set, d))
	require.Len(t, r.sets, 2)
}

func TestCoarseForget(t *testing.T) {
	var c Coarse
	var r recorder
	require.NoError(t, c.Set(r.set, time.Minute))
	c.Forget()
	require.NoError(t, c.Set(r.set, time.Minute))
	require.Len(t, r.sets, 2)
}

func BenchmarkCoarseSet(b *testing.B) {
	b.ReportAllocs()
	var c Coarse
	set := func(time.Time) error { return nil }
	for b.Loop() {
		_ = c.Set(set, time.Minute)
	}
}

func BenchmarkTimeNowAdd(b *testing.B) {
	b.ReportAllocs()
	var sink time.Time
	for b.Loop() {
		sink = time.Now().Add(time.Minute)
	}
	_ = sink
}
