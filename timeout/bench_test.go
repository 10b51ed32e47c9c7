package timeout_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/pingora-go/pingora/timeout"
)

// The timers under comparison: create one with a deadline far enough not to
// fire during the benchmark, then cancel it (or, for After, drop it).
var impls = []struct {
	name string
	run  func(m *timeout.Manager)
}{
	{"timeout.After", func(m *timeout.Manager) {
		_ = m.After(time.Second)
	}},
	{"timeout.WithTimeout+cancel", func(m *timeout.Manager) {
		_, cancel := m.WithTimeout(context.Background(), time.Second)
		cancel()
	}},
	{"timeout.WithTimeout+Done+cancel", func(m *timeout.Manager) {
		ctx, cancel := m.WithTimeout(context.Background(), time.Second)
		_ = ctx.Done()
		cancel()
	}},
	{"time.AfterFunc+Stop", func(*timeout.Manager) {
		time.AfterFunc(time.Second, noop).Stop()
	}},
	{"time.NewTimer+Stop", func(*timeout.Manager) {
		time.NewTimer(time.Second).Stop()
	}},
	{"context.WithTimeout+cancel", func(*timeout.Manager) {
		_, cancel := context.WithTimeout(context.Background(), time.Second)
		cancel()
	}},
	{"context.WithTimeout+Done+cancel", func(*timeout.Manager) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = ctx.Done()
		cancel()
	}},
}

func noop() {}

func BenchmarkCreateCancel(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			m := timeout.NewManager()
			b.ReportAllocs()
			for b.Loop() {
				impl.run(m)
			}
		})
	}
}

func BenchmarkCreateCancelParallel(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			m := timeout.NewManager()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					impl.run(m)
				}
			})
		})
	}
}

// A call that finishes before its deadline: Pingora's timeout(fut) on ready
// IO, against the usual context.WithTimeout wrapper.
func BenchmarkDo(b *testing.B) {
	work := func(ctx context.Context) error { return nil }
	b.Run("impl=timeout.Do", func(b *testing.B) {
		m := timeout.NewManager()
		b.ReportAllocs()
		for b.Loop() {
			_ = m.Do(context.Background(), time.Second, work)
		}
	})
	b.Run("impl=context.WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = work(ctx)
			cancel()
		}
	})
}

// Memory held by 1,000,000 pending timers, reported as B/timer: the heap
// growth, measured after a GC, over the timers created. The slice that holds
// them is allocated before the first measurement and not counted.
func BenchmarkPending(b *testing.B) {
	const n = 1_000_000
	type pending struct {
		name  string
		make  func(m *timeout.Manager, i int)
		clear func()
	}
	var (
		chans   = make([]<-chan struct{}, n)
		timers  = make([]*time.Timer, n)
		ctxs    = make([]context.Context, n)
		cancels = make([]context.CancelFunc, n)
	)
	cancelAll := func() {
		for i, c := range cancels {
			c()
			cancels[i], ctxs[i] = nil, nil
		}
	}
	cases := []pending{
		{"timeout.After", func(m *timeout.Manager, i int) { chans[i] = m.After(time.Minute) },
			func() { clear(chans) }},
		{"timeout.WithTimeout", func(m *timeout.Manager, i int) {
			ctxs[i], cancels[i] = m.WithTimeout(context.Background(), time.Minute)
		}, cancelAll},
		{"timeout.WithTimeout+Done", func(m *timeout.Manager, i int) {
			ctxs[i], cancels[i] = m.WithTimeout(context.Background(), time.Minute)
			_ = ctxs[i].Done()
		}, cancelAll},
		{"time.AfterFunc", func(_ *timeout.Manager, i int) { timers[i] = time.AfterFunc(time.Minute, noop) },
			func() {
				for i, t := range timers {
					t.Stop()
					timers[i] = nil
				}
			}},
		{"time.NewTimer", func(_ *timeout.Manager, i int) { timers[i] = time.NewTimer(time.Minute) },
			func() {
				for i, t := range timers {
					t.Stop()
					timers[i] = nil
				}
			}},
		{"context.WithTimeout", func(_ *timeout.Manager, i int) {
			ctxs[i], cancels[i] = context.WithTimeout(context.Background(), time.Minute)
		}, cancelAll},
		{"context.WithTimeout+Done", func(_ *timeout.Manager, i int) {
			ctxs[i], cancels[i] = context.WithTimeout(context.Background(), time.Minute)
			_ = ctxs[i].Done()
		}, cancelAll},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("impl=%s/n=%d", c.name, n), func(b *testing.B) {
			var perTimer float64
			for b.Loop() {
				m := timeout.NewManager()
				before := heapAlloc()
				for i := range n {
					c.make(m, i)
				}
				perTimer = float64(heapAlloc()-before) / n
				c.clear()
			}
			b.ReportMetric(perTimer, "B/timer")
			b.ReportMetric(0, "ns/op") // one op is a million timers: not comparable
		})
	}
}

func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
