package pool_test

import (
	"fmt"
	"net"
	"time"

	"github.com/pingora-go/pingora/pool"
)

// conn stands for an upstream connection.
type conn struct{ name string }

func (c *conn) Close() error {
	fmt.Println("close", c.name)
	return nil
}

func Example() {
	p, err := pool.New(pool.Options[*conn]{Size: 2})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	const peer = 0xfeed // the peer's reuse hash
	_ = p.Put(peer, &conn{name: "a"}, 90*time.Second)
	if c, ok := p.Get(peer); ok {
		fmt.Println("reuse", c.name)
	}
	if _, ok := p.Get(peer); !ok {
		fmt.Println("miss: dial a new connection")
	}
	st := p.Stats()
	fmt.Println("hits", st.Hits, "misses", st.Misses)
	// Output:
	// reuse a
	// miss: dial a new connection
	// hits 1 misses 1
}

func ExampleOptions() {
	p, err := pool.New(pool.Options[*conn]{
		Size: 2,
		OnEvict: func(key uint64, c *conn) {
			fmt.Printf("evicted %s of peer %d\n", c.name, key)
		},
	})
	if err != nil {
		panic(err)
	}
	_ = p.Put(1, &conn{name: "a"}, 0)
	_ = p.Put(2, &conn{name: "b"}, 0)
	_ = p.Put(1, &conn{name: "c"}, 0) // the pool is full: "a" goes
	fmt.Println("idle", p.Len())
	p.Close()
	// Output:
	// close a
	// evicted a of peer 1
	// idle 2
	// close b
	// close c
}

// An HTTP/1 upstream connection is put with PutWatched: if the upstream
// sends anything or hangs up while the connection is idle, the pool drops
// it at once instead of handing it to the next request.
func ExamplePool_PutWatched() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		up, err := ln.Accept()
		if err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
		up.Close() // the upstream hangs up on the idle connection
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}

	p, err := pool.New(pool.Options[net.Conn]{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	if err := p.PutWatched(1, c, time.Minute); err != nil {
		panic(err)
	}
	fmt.Println("idle", p.Len())
	for p.Len() > 0 {
		time.Sleep(time.Millisecond)
	}
	_, ok := p.Get(1)
	fmt.Println("reused:", ok, "peer closed:", p.Stats().PeerClosed)
	// Output:
	// idle 1
	// reused: false peer closed: 1
}

// h2Conn stands for a shared HTTP/2 connection.
type h2Conn struct{}

func (*h2Conn) Close() error { return nil }

// An HTTP/2 connection's frames are read by its own driver, so the pool
// must not read it: PutWithDone watches only the idle timeout and the
// driver's signal that the connection ended.
func ExamplePool_PutWithDone() {
	p, err := pool.New(pool.Options[*h2Conn]{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	done := make(chan struct{}) // closed by the h2 driver when the connection dies
	_ = p.PutWithDone(1, &h2Conn{}, time.Minute, done)
	close(done) // GOAWAY, or the socket failed
	for p.Len() > 0 {
		time.Sleep(time.Millisecond)
	}
	_, ok := p.Get(1)
	fmt.Println("reused:", ok)
	// Output:
	// reused: false
}
