package metrics_test

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/metrics"
)

// Record a few events and read them back as a scraper would.
func ExampleNew() {
	m, err := metrics.New(metrics.Options{}) // a fresh registry, never the global one
	if err != nil {
		fmt.Println(err)
		return
	}
	proxy := m.Service("proxy") // resolve the labels once, off the hot path
	proxy.ConnAccepted()
	proxy.Request(200, 12*time.Millisecond)
	proxy.Request(502, 3*time.Second)
	m.Error("ConnectTimedout") // perr.ConnectTimedout.String()
	m.Upstream("origin").PoolHit()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pingora_") && !strings.Contains(line, "_seconds") {
			fmt.Println(line)
		}
	}
	// Output:
	// pingora_connections_accepted_total{service="proxy"} 1
	// pingora_connections_active{service="proxy"} 1
	// pingora_errors_total{kind="ConnectTimedout"} 1
	// pingora_requests_total{code="200",service="proxy"} 1
	// pingora_requests_total{code="502",service="proxy"} 1
	// pingora_upstream_pool_hits_total{upstream="origin"} 1
	// pingora_upstream_pool_misses_total{upstream="origin"} 0
}

// A server with an application whose connections are counted and the
// metrics service on a port of its own. main would call s.RunForever().
func ExampleNewService() {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := server.New(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	app := metrics.CountingApp(echoApp{}, m, "echo")
	echo := server.NewListeningService("echo", app)
	echo.AddTCP("0.0.0.0:6142")
	prom := metrics.NewService(m)
	prom.AddTCP("127.0.0.1:6150")
	s.AddListening(echo)
	s.AddListening(prom)
	for _, svc := range []*server.ListeningService{echo, prom} {
		fmt.Println(svc.Name(), svc.Endpoints()[0].Listener.Addr)
	}
	// Output:
	// echo 0.0.0.0:6142
	// Prometheus metric HTTP 127.0.0.1:6150
}
