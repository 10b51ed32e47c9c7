package balancer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/pingora-go/pingora/balancer"
)

// Example balances round robin over two static backends, as Pingora's
// quick start does (the proxy around it lives in the proxy module).
func Example() {
	backends, err := balancer.ParseBackends("127.0.0.1:8001", "127.0.0.1:8002")
	if err != nil {
		panic(err)
	}
	lb, err := balancer.New(balancer.NewStatic(backends...), balancer.Options{})
	if err != nil {
		panic(err)
	}
	if err := lb.Update(context.Background()); err != nil { // Run does this in a server
		panic(err)
	}
	for range 4 {
		b, _ := lb.Select(nil)
		fmt.Println(b)
	}
	// Output:
	// 127.0.0.1:8001
	// 127.0.0.1:8002
	// 127.0.0.1:8001
	// 127.0.0.1:8002
}

// ExampleKetama sends each key to the same backend, and keeps most keys
// where they were when a backend leaves.
func ExampleKetama() {
	backends, _ := balancer.ParseBackends("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80")
	static := balancer.NewStatic(backends...)
	lb, _ := balancer.New(static, balancer.Options{Algorithm: balancer.Ketama})
	_ = lb.Update(context.Background())
	keys := []string{"/users/0", "/users/1", "/users/2", "/users/3", "/users/4"}
	for _, k := range keys {
		b, _ := lb.Select([]byte(k))
		fmt.Println(k, "→", b)
	}

	static.Remove(backends[2])
	_ = lb.Update(context.Background())
	fmt.Println("without 10.0.0.3:80:")
	for _, k := range keys {
		b, _ := lb.Select([]byte(k))
		fmt.Println(k, "→", b)
	}
	// Output:
	// /users/0 → 10.0.0.2:80
	// /users/1 → 10.0.0.1:80
	// /users/2 → 10.0.0.1:80
	// /users/3 → 10.0.0.3:80
	// /users/4 → 10.0.0.3:80
	// without 10.0.0.3:80:
	// /users/0 → 10.0.0.2:80
	// /users/1 → 10.0.0.1:80
	// /users/2 → 10.0.0.1:80
	// /users/3 → 10.0.0.1:80
	// /users/4 → 10.0.0.2:80
}

// ExampleLoadBalancer_Candidates retries a request on other backends, each
// once, skipping one that failed before.
func ExampleLoadBalancer_Candidates() {
	backends, _ := balancer.ParseBackends("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80")
	lb, _ := balancer.New(balancer.NewStatic(backends...), balancer.Options{Algorithm: balancer.FNVHash})
	_ = lb.Update(context.Background())

	first, _ := lb.Select([]byte("session-42"))
	fmt.Println("first", first)
	lb.ReportFailure(first) // the proxy could not connect: held down for 10s
	for b := range lb.Candidates([]byte("session-42")) {
		fmt.Println("then", b)
	}
	// Output:
	// first 10.0.0.3:80
	// then 10.0.0.2:80
	// then 10.0.0.1:80
}

// ExampleLoadBalancer_Acquire balances on requests in flight.
func ExampleLoadBalancer_Acquire() {
	backends, _ := balancer.ParseBackends("10.0.0.1:80", "10.0.0.2:80")
	lb, _ := balancer.New(balancer.NewStatic(backends...), balancer.Options{Algorithm: balancer.LeastConnections})
	_ = lb.Update(context.Background())

	a, _ := lb.Acquire(nil) // a long request to one backend…
	b, _ := lb.Acquire(nil) // …sends the next to the other
	fmt.Println(a.String() != b.String())
	lb.Release(b)
	c, _ := lb.Acquire(nil) // b is idle again, a is still busy
	fmt.Println(c.String() == b.String())
	lb.Release(a)
	lb.Release(c)
	// Output:
	// true
	// true
}

// ExampleTCPCheck is the robustness part of Pingora's quick start on
// loopback: of two origins one is down, and after one round of TCP health
// checks round robin sends every request to the other.
func ExampleTCPCheck() {
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more

	backends, _ := balancer.ParseBackends(up.Listener.Addr().String(), down.Listener.Addr().String())
	lb, _ := balancer.New(balancer.NewStatic(backends...), balancer.Options{HealthCheck: &balancer.TCPCheck{}})
	ctx := context.Background()
	_ = lb.Update(ctx)
	lb.CheckHealth(ctx) // Run does this every HealthCheckInterval
	for range 3 {
		b, _ := lb.Select(nil)
		fmt.Println(b.String() == up.Listener.Addr().String())
	}
	h, _ := lb.Health(backends[1])
	fmt.Println("down origin healthy:", h.Healthy)
	// Output:
	// true
	// true
	// true
	// down origin healthy: false
}
