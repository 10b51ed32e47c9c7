package umbrella

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkParseConfig(b *testing.B) {
	for _, name := range []string{"default.yaml", "testdata/full.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(name[strings.LastIndexByte(name, '/')+1:], ".yaml"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := parse(data, "", false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoute_Match measures finding the route of a request that
// matches the last of n routes (the worst case of first-match routing).
func BenchmarkRoute_Match(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		routes := make([]compiledRoute, n)
		for i := range routes {
			routes[i] = compiledRoute{host: fmt.Sprintf("h%d.example.com", i), prefix: fmt.Sprintf("/p%d/", i)}
		}
		host, path := fmt.Sprintf("h%d.example.com", n-1), fmt.Sprintf("/p%d/x", n-1)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i := range routes {
					if routes[i].matches(host, path) {
						break
					}
				}
			}
		})
	}
}

// BenchmarkProxy measures one request through a running service (HTTP/1.1
// keep-alive over loopback, client in the same process): a respond route,
// and a route to an upstream.
func BenchmarkProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello\n"))
	}))
	defer up.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	listen := l.Addr().String()
	l.Close()
	dir := b.TempDir()
	cfg := "upgrade_sock: " + dir + "/u.sock\nservices:\n  - listen: [\"" + listen + "\"]\n    access_log: \"off\"\n    routes:\n" +
		"      - {path_prefix: /respond, respond: {body: \"hello\\n\"}}\n      - {upstream: u}\n" +
		"upstreams:\n  u: {peers: [\"" + up.Listener.Addr().String() + "\"]}\n"
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"pingora", "-c", path}, io.Discard, io.Discard, func(*instance) { close(started) })
	}()
	select {
	case <-started:
	case code := <-done:
		b.Fatalf("run returned %d", code)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for _, p := range []string{"/respond", "/upstream"} {
		b.Run(strings.TrimPrefix(p, "/"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get("http://" + listen + p)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
		})
	}
	c.CloseIdleConnections()
	cancel()
	<-done
}
