package pool_test

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/pool"
)

// nopConn is a connection whose Close costs nothing, so the benchmarks
// measure the pool.
type nopConn struct{ id int }

func (*nopConn) Close() error { return nil }

// BenchmarkPool_GetPut is the hit path: every iteration is one Get that
// hits and one Put of the same connection, from GOMAXPROCS goroutines on
// one key. Plain Put, so no watcher goroutine is involved.
func BenchmarkPool_GetPut(b *testing.B) {
	for _, idle := range []time.Duration{0, time.Minute} {
		b.Run(fmt.Sprintf("idle=%v", idle), func(b *testing.B) {
			p, err := pool.New(pool.Options[*nopConn]{Size: 1024})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			for i := range 4 * runtime.GOMAXPROCS(0) {
				_ = p.Put(1, &nopConn{id: i}, idle)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, ok := p.Get(1)
					if !ok {
						c = &nopConn{}
					}
					_ = p.Put(1, c, idle)
				}
			})
		})
	}
	// Baseline: the simplest keyed pool, a mutex over map[key][]conn with
	// no LRU, no bound and no timeout.
	b.Run("baseline=mutex-map", func(b *testing.B) {
		var mu sync.Mutex
		m := map[uint64][]*nopConn{}
		for i := range 4 * runtime.GOMAXPROCS(0) {
			m[1] = append(m[1], &nopConn{id: i})
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				s := m[1]
				var c *nopConn
				if n := len(s); n > 0 {
					c, m[1] = s[n-1], s[:n-1]
				} else {
					c = &nopConn{}
				}
				mu.Unlock()
				mu.Lock()
				m[1] = append(m[1], c)
				mu.Unlock()
			}
		})
	})
}

// BenchmarkPool_GetPutWatched is the HTTP/1 path: PutWatched of a loopback
// TCP connection (starting its watcher) then Get (stopping it and waiting
// for it to end).
func BenchmarkPool_GetPutWatched(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if srv := <-accepted; srv != nil {
		defer srv.Close()
	}
	p, err := pool.New(pool.Options[net.Conn]{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.PutWatched(1, c, time.Minute); err != nil {
			b.Fatal(err)
		}
		var ok bool
		if c, ok = p.Get(1); !ok {
			b.Fatal("miss")
		}
	}
	c.Close()
}

// BenchmarkPool_GetPutWithDone is the idle HTTP/2 path: PutWithDone
// (starting its goroutine) then Get (stopping it without waiting).
func BenchmarkPool_GetPutWithDone(b *testing.B) {
	p, err := pool.New(pool.Options[*nopConn]{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c, done := &nopConn{}, make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		if err := p.PutWithDone(1, c, time.Minute, done); err != nil {
			b.Fatal(err)
		}
		if _, ok := p.Get(1); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkPool_Evict is the eviction path: the pool is full, so every Put
// evicts (and closes) the least recently put connection.
func BenchmarkPool_Evict(b *testing.B) {
	for _, n := range []int{16, 1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			evicted := 0
			p, err := pool.New(pool.Options[*nopConn]{
				Size:    n,
				OnEvict: func(uint64, *nopConn) { evicted++ },
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			conns := make([]*nopConn, 2*n)
			for i := range conns {
				conns[i] = &nopConn{id: i}
			}
			for i := range n {
				_ = p.Put(uint64(i%8), conns[i], 0)
			}
			b.ReportAllocs()
			i := n
			for b.Loop() {
				_ = p.Put(uint64(i%8), conns[i%len(conns)], 0)
				i++
			}
			if evicted == 0 {
				b.Fatal("no eviction")
			}
		})
	}
}
