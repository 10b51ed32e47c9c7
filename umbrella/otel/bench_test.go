package otel_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/pingora-go/pingora/umbrella"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkProxy measures a request through the proxy on loopback to an
// upstream, without a tracer (the default binary's path) and with one
// recording every span (a discarding exporter).
func BenchmarkProxy(b *testing.B) {
	up := origin(b)
	cases := []struct {
		name string
		ext  umbrella.Extensions
	}{
		{"tracer=none", umbrella.Extensions{}},
		{"tracer=otel", func() umbrella.Extensions {
			ext, _ := memExtensions(tracetest.NewNoopExporter(), sdktrace.AlwaysSample())
			return ext
		}()},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			srv := startServer(b, config(up.Listener.Addr().String()), bc.ext)
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(srv.URL + "/")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
			b.StopTimer()
			c.CloseIdleConnections()
			srv.stop()
		})
	}
}
