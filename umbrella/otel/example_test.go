package otel_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/pingora-go/pingora/umbrella"
	"github.com/pingora-go/pingora/umbrella/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// NewTracer sends the spans to any tracer provider; here an in-memory
// exporter records one request's span.
func ExampleNewTracer() {
	exp := tracetest.NewInMemoryExporter()
	ext := umbrella.Extensions{Tracing: func(service string, _ umbrella.Tracing) (umbrella.Tracer, error) {
		return otel.NewTracer(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)), service), nil
	}}
	dir, _ := os.MkdirTemp("", "otel-example")
	defer os.RemoveAll(dir)
	cfg := "upgrade_sock: " + dir + "/u.sock\npid_file: " + dir + "/p.pid\nservices:\n" +
		"  - {name: web, listen: [127.0.0.1:0], access_log: \"off\", respond: {status: 204}, tracing: {otlp_endpoint: \"http://127.0.0.1:4318\"}}\n"
	path := filepath.Join(dir, "pingora.yaml")
	_ = os.WriteFile(path, []byte(cfg), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout syncBuffer
	done := make(chan int, 1)
	go func() { done <- umbrella.Run(ctx, []string{"pingora", "-c", path}, ext, &stdout, &syncBuffer{}) }()
	var url string
	for url == "" {
		time.Sleep(10 * time.Millisecond)
		if m := regexp.MustCompile(`listening on (\S+)/`).FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
	}
	req, _ := http.NewRequest("GET", url+"/hello", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	for len(exp.GetSpans()) == 0 {
		time.Sleep(5 * time.Millisecond) // the span ends after the response
	}
	s := exp.GetSpans()[0]
	fmt.Println(s.Name, s.SpanContext.TraceID(), "child of", s.Parent.SpanID())
	for _, kv := range s.Attributes {
		if kv.Key == "http.response.status_code" || kv.Key == "url.path" {
			fmt.Println(kv.Key, kv.Value.Emit())
		}
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	fmt.Println("exit", <-done)
	// Output:
	// GET 4bf92f3577b34da6a3ce929d0e0e4736 child of 00f067aa0ba902b7
	// url.path /hello
	// http.response.status_code 204
	// exit 0
}

// Extensions is what the otel build of the pingora binary passes to
// umbrella.MainWith.
func ExampleExtensions() {
	ext := otel.Extensions()
	fmt.Println(ext.Tracing != nil)
	// Output: true
}
