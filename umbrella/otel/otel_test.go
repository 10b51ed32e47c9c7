package otel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/umbrella"
	"github.com/pingora-go/pingora/umbrella/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// memExtensions returns extensions whose tracers record into one
// in-memory exporter, and the services they were built for.
func memExtensions(exp sdktrace.SpanExporter, sampler sdktrace.Sampler) (umbrella.Extensions, *[]umbrella.Tracing) {
	var mu sync.Mutex
	var confs []umbrella.Tracing
	return umbrella.Extensions{Tracing: func(svc string, conf umbrella.Tracing) (umbrella.Tracer, error) {
		mu.Lock()
		confs = append(confs, conf)
		mu.Unlock()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sampler))
		return otel.NewTracer(tp, svc), nil
	}}, &confs
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestTracer_Spans runs a proxy with the tracer on loopback: one server
// span per request with the HTTP attributes, the incoming traceparent as
// parent, and the span's own context sent upstream.
func TestTracer_Spans(t *testing.T) {
	up := origin(t)
	exp := tracetest.NewInMemoryExporter()
	ext, confs := memExtensions(exp, sdktrace.AlwaysSample())
	srv := startServer(t, config(up.Listener.Addr().String()), ext)
	require.Len(t, *confs, 1)
	assert.Equal(t, "edge", (*confs)[0].ServiceName)
	assert.Equal(t, 1.0, (*confs)[0].SampleRatio, "sample_ratio defaults to 1")

	const parentTrace, parentSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tests := []struct {
		name        string
		path        string
		traceparent string
		status      int
		wantParent  bool
		wantErr     bool
	}{
		{name: "with traceparent", path: "/a/b?q=1", traceparent: "00-" + parentTrace + "-" + parentSpan + "-01", status: 200, wantParent: true},
		{name: "without traceparent", path: "/", status: 200},
		{name: "invalid traceparent starts a trace", path: "/", traceparent: "00-zz-1", status: 200},
		{name: "5xx is an error", path: "/down", status: 503, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp.Reset()
			var h []string
			if tt.traceparent != "" {
				h = []string{"Traceparent", tt.traceparent}
			}
			resp := get(t, srv.URL+tt.path, append(h, "User-Agent", "otel-test")...)
			require.Equal(t, tt.status, resp.StatusCode)
			require.Eventually(t, func() bool { return len(exp.GetSpans()) == 1 }, 5*time.Second, 5*time.Millisecond, "one span per request")
			s := exp.GetSpans()[0]
			a := attrs(s)

			assert.Equal(t, "GET", s.Name)
			assert.Equal(t, trace.SpanKindServer, s.SpanKind)
			assert.Equal(t, otel.ScopeName, s.InstrumentationScope.Name)
			assert.Equal(t, "GET", a["http.request.method"].AsString())
			assert.Equal(t, strings.Split(tt.path, "?")[0], a["url.path"].AsString())
			assert.Equal(t, "http", a["url.scheme"].AsString())
			assert.Equal(t, "127.0.0.1", a["server.address"].AsString())
			assert.NotZero(t, a["server.port"].AsInt64())
			assert.Equal(t, "127.0.0.1", a["network.peer.address"].AsString())
			assert.NotZero(t, a["network.peer.port"].AsInt64())
			assert.Equal(t, "otel-test", a["user_agent.original"].AsString())
			assert.Equal(t, int64(tt.status), a["http.response.status_code"].AsInt64())
			assert.Equal(t, "web", a[otel.ServiceKey].AsString())

			if tt.wantParent {
				assert.Equal(t, parentTrace, s.SpanContext.TraceID().String(), "the trace continues")
				assert.Equal(t, parentSpan, s.Parent.SpanID().String(), "the incoming span is the parent")
				assert.True(t, s.Parent.IsRemote())
			} else {
				assert.False(t, s.Parent.IsValid(), "a new trace: no parent")
			}
			if tt.wantErr {
				assert.Equal(t, codes.Error, s.Status.Code)
				assert.Equal(t, "503", a["error.type"].AsString())
				assert.Equal(t, "respond", a[otel.RouteKey].AsString())
				assert.False(t, a[otel.UpstreamKey].AsString() != "", "no upstream for a fixed response")
				return
			}
			assert.Equal(t, codes.Unset, s.Status.Code)
			assert.Equal(t, up.Listener.Addr().String(), a[otel.UpstreamKey].AsString())
			assert.Equal(t, "u", a[otel.RouteKey].AsString())
			want := "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
			assert.Equal(t, want, resp.Header.Get("X-Got-Traceparent"), "the upstream request carries the span's context")
		})
	}
}

// TestTracer_NotSampled checks that an unsampled request still
// propagates: the upstream gets a traceparent with the incoming trace and
// the sampled flag off, and nothing is exported.
func TestTracer_NotSampled(t *testing.T) {
	up := origin(t)
	exp := tracetest.NewInMemoryExporter()
	ext, _ := memExtensions(exp, sdktrace.ParentBased(sdktrace.NeverSample()))
	srv := startServer(t, config(up.Listener.Addr().String()), ext)
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	resp := get(t, srv.URL+"/", "Traceparent", "00-"+trace+"-00f067aa0ba902b7-00")
	require.Equal(t, 200, resp.StatusCode)
	got := resp.Header.Get("X-Got-Traceparent")
	require.Len(t, got, 55)
	assert.Equal(t, "00-"+trace+"-", got[:36])
	assert.NotEqual(t, "00f067aa0ba902b7", got[36:52], "a new span id")
	assert.Equal(t, "-00", got[52:])
	srv.stop()
	assert.Empty(t, exp.GetSpans())
}

// TestNewOTLPTracer exports through the OTLP/HTTP exporter to a fake
// collector on loopback: the spans queued by the batcher arrive when the
// server stops, at the endpoint's path + /v1/traces, with the
// service_name resource.
func TestNewOTLPTracer(t *testing.T) {
	type post struct {
		path, contentType string
		req               *collpb.ExportTraceServiceRequest
	}
	posts := make(chan post, 16)
	coll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		req := &collpb.ExportTraceServiceRequest{}
		if err == nil {
			err = proto.Unmarshal(body, req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		posts <- post{r.URL.Path, r.Header.Get("Content-Type"), req}
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&collpb.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	defer coll.Close()
	up := origin(t)
	cfg := strings.Replace(config(up.Listener.Addr().String()), "http://127.0.0.1:1", coll.URL+"/otlp/", 1)
	srv := startServer(t, cfg, otel.Extensions())
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	for range 3 {
		require.Equal(t, 200, get(t, srv.URL+"/x", "Traceparent", "00-"+trace+"-00f067aa0ba902b7-01").StatusCode)
	}
	srv.stop() // flushes the batch

	var spans int
	for spans < 3 {
		select {
		case p := <-posts:
			assert.Equal(t, "/otlp/v1/traces", p.path)
			assert.Equal(t, "application/x-protobuf", p.contentType)
			for _, rs := range p.req.ResourceSpans {
				var svc string
				for _, kv := range rs.Resource.Attributes {
					if kv.Key == "service.name" {
						svc = kv.Value.GetStringValue()
					}
				}
				assert.Equal(t, "edge", svc)
				for _, ss := range rs.ScopeSpans {
					for _, sp := range ss.Spans {
						spans++
						assert.Equal(t, "GET", sp.Name)
						assert.Equal(t, trace, trace16(sp.TraceId))
					}
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the collector got %d spans, want 3", spans)
		}
	}
	assert.Equal(t, 3, spans)
}

func trace16(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

func TestNewOTLPTracer_BadEndpoint(t *testing.T) {
	for _, ep := range []string{"", "127.0.0.1:4318", "ftp://c/", "http://"} {
		t.Run(ep, func(t *testing.T) {
			_, err := otel.NewOTLPTracer("web", umbrella.Tracing{OTLPEndpoint: ep, SampleRatio: 1})
			assert.ErrorContains(t, err, "otel: otlp_endpoint")
		})
	}
}

// TestTracer_Shutdown checks Shutdown reaches the provider.
func TestTracer_Shutdown(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := otel.NewTracer(tp, "web")
	require.NoError(t, tr.Shutdown(context.Background()))
	_, sp := tp.Tracer("x").Start(context.Background(), "after")
	assert.False(t, sp.IsRecording(), "the provider is shut down")
	assert.NoError(t, otel.NewTracer(trace.NewNoopTracerProvider(), "web").Shutdown(context.Background()), "a provider without Shutdown")
}
