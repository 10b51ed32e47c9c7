package umbrella

import (
	"encoding/pem"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCerts writes site.crt/site.key and ca.crt into dir.
func writeCerts(t *testing.T, dir string) {
	t.Helper()
	ca := tlstest.NewCA(t, "test ca")
	tlstest.WriteFiles(t, dir, "site", ca.Server(t, tlstest.ECDSAP256, "localhost", "127.0.0.1"))
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.crt"), caPEM, 0o600))
}

func TestLoadConfig_Full(t *testing.T) {
	dir := t.TempDir()
	writeCerts(t, dir)
	data, err := os.ReadFile("testdata/full.yaml")
	require.NoError(t, err)
	path := filepath.Join(dir, "full.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))

	c, warns, err := LoadConfig(path)
	require.NoError(t, err)
	assert.Empty(t, warns, "every key of full.yaml is known")

	assert.Equal(t, 2, c.Server.Threads)
	assert.Equal(t, 4, c.Server.MaxRetries)
	assert.Equal(t, "json", c.LogFormat)
	require.Len(t, c.Services, 3)
	pt := c.Service("passthrough")
	require.NotNil(t, pt)
	assert.Equal(t, "tcp", pt.Protocol)
	assert.Equal(t, 5*time.Minute, pt.IdleTimeout)
	assert.Equal(t, "api.example.com", pt.Routes[0].SNI)
	assert.Equal(t, 2, c.Upstream("api").ProxyProtocol)
	web := c.Service("web")
	require.NotNil(t, web)
	assert.True(t, web.H2C)
	require.Len(t, web.Listen, 2)
	require.NotNil(t, web.Listen[1].TLS)
	assert.False(t, web.Listen[0].ProxyProtocol)
	assert.Equal(t, 16384, web.Listen[0].NotSentLowat)
	assert.True(t, web.Listen[1].ProxyProtocol)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}, web.Listen[1].ProxyProtocolFrom)
	assert.True(t, web.XForwarded)
	assert.Equal(t, filepath.Join(dir, "site.crt"), web.Listen[1].TLS.Cert, "relative to the file's directory")
	assert.Equal(t, filepath.Join(dir, "ca.crt"), web.Listen[1].TLS.ClientCA)
	require.Len(t, web.Routes, 4)
	assert.Equal(t, Route{Host: "api.example.com", PathPrefix: "/v1/", Upstream: "api", line: web.Routes[0].line}, web.Routes[0])
	assert.Equal(t, "/", web.Routes[1].PathPrefix, "path_prefix defaults to /")
	require.NotNil(t, web.Routes[2].Respond)
	assert.Equal(t, "ok\n", web.Routes[2].Respond.Body)
	assert.Equal(t, Compression{Enabled: true, Level: 5}, web.Compression)
	assert.Equal(t, &RateLimit{Key: "client_ip", PerSecond: 100}, web.RateLimit)
	assert.Equal(t, []string{"X-Debug"}, web.Headers.RequestRemove)
	assert.Equal(t, "X-From", web.Headers.RequestSet[0].Name)
	assert.Equal(t, Tracing{Traceparent: true, OTLPEndpoint: "http://127.0.0.1:4318", ServiceName: "edge", SampleRatio: 0.5, line: web.Tracing.line}, web.Tracing)
	assert.Equal(t, "pingora", web.Headers.RequestSet[0].Value)
	admin := c.Service("admin")
	require.NotNil(t, admin)
	assert.Equal(t, "127.0.0.1:16189", admin.Listen[0].Addr)
	assert.Equal(t, "api", admin.Routes[0].Upstream)
	assert.Equal(t, "off", admin.AccessLog)

	be := c.Upstream("backends")
	require.NotNil(t, be)
	assert.Equal(t, 2, be.Peers[1].Weight)
	assert.Equal(t, &UpstreamTLS{SNI: "backend.example.com", Verify: true, CA: filepath.Join(dir, "ca.crt")}, be.TLS)
	assert.Equal(t, &HealthCheck{Type: "http", Path: "/health", Host: "backend.example.com", Status: 204,
		Interval: time.Second, Timeout: time.Second, Rise: 2, Fall: 3}, be.HealthCheck)
	assert.Equal(t, Timeouts{Connect: 2 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second, Idle: time.Minute}, be.Timeouts)
	assert.Equal(t, 2, be.Retries)
	api := c.Upstream("api")
	assert.Equal(t, "ketama", api.Selection)
	assert.Equal(t, "unix:/tmp/api.sock", api.Peers[1].Addr)
	assert.Equal(t, 0, api.Retries, "explicit 0 is kept")
	assert.Equal(t, "127.0.0.1:16192", c.Metrics.Listen)
}

func TestParseConfig_Defaults(t *testing.T) {
	c, warns, err := ParseConfig([]byte(`
services:
  - listen: [127.0.0.1:8080]
    upstream: u
upstreams:
  u:
    peers: [127.0.0.1:9000]
    health_check: {}
`))
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, server.DefaultConf(), c.Server)
	s := c.Services[0]
	assert.Equal(t, "service1", s.Name)
	assert.Equal(t, DefaultAccessLog, s.AccessLog)
	assert.False(t, s.H2C)
	assert.Nil(t, s.RateLimit)
	assert.Equal(t, []Route{{PathPrefix: "/", Upstream: "u", line: 4}}, s.Routes)
	u := c.Upstreams[0]
	assert.Equal(t, DefaultSelection, u.Selection)
	assert.Equal(t, DefaultHashKey, u.HashKey)
	assert.Equal(t, DefaultRetries, u.Retries)
	assert.Equal(t, 1, u.Peers[0].Weight)
	assert.Nil(t, u.TLS)
	assert.Equal(t, Timeouts{DefaultConnectTimeout, DefaultReadTimeout, DefaultWriteTimeout, DefaultIdleTimeout}, u.Timeouts)
	assert.Equal(t, &HealthCheck{Type: "tcp", Interval: 5 * time.Second, Timeout: time.Second, Rise: 1, Fall: 1}, u.HealthCheck)
	assert.Empty(t, c.Metrics.Listen)
}

func TestParseConfig_DefaultConfig(t *testing.T) {
	c, warns, err := ParseConfig(DefaultConfig())
	require.NoError(t, err)
	assert.Empty(t, warns)
	assert.Equal(t, "127.0.0.1:6188", c.Services[0].Listen[0].Addr)
	assert.Equal(t, "127.0.0.1:6192", c.Metrics.Listen)
	require.Len(t, c.Upstream("demo").Peers, 2)
}

func TestParseConfig_Warnings(t *testing.T) {
	_, warns, err := ParseConfig([]byte(`version: 1
my_setting: 3
work_stealing: true
services:
  - listen: [127.0.0.1:8080]
    upstream: u
    colour: blue
upstreams:
  u: {peers: [127.0.0.1:9000]}
  unused: {peers: [127.0.0.1:9001]}
`))
	require.NoError(t, err)
	var got []string
	for _, w := range warns {
		got = append(got, w.Error())
	}
	assert.Equal(t, []string{
		`server: conf line 2: key "my_setting" ignored: unknown key`,
		`server: conf line 3: key "work_stealing" ignored: no effect in pingora-go: Go schedules goroutines itself`,
		`server: conf line 7: key "services[0].colour" ignored: unknown key`,
		`server: conf line 10: key "upstreams.unused" ignored: no route uses this upstream`,
	}, got)
}

func TestParseConfig_Errors(t *testing.T) {
	const ups = "upstreams:\n  u: {peers: [127.0.0.1:9000]}\n"
	const svc = "services:\n  - listen: [127.0.0.1:8080]\n    upstream: u\n"
	tests := []struct {
		name string
		yaml string
		want []string // each an error of its own, in order
	}{
		{"not yaml", "a: [", []string{"invalid yaml"}},
		{"not a mapping", "- 1\n", []string{"line 1: the document is not a mapping"}},
		{"no services", ups, []string{"services: at least one service is required"}},
		{"server field", "threads: two\n" + svc + ups, []string{`line 1: threads: want an integer, got "two"`}},
		{"version", "version: 2\n" + svc + ups, []string{"line 1: version: unsupported version 2 (want 1)"}},
		{"unknown upstream", "services:\n  - listen: [127.0.0.1:8080]\n    routes:\n      - {path_prefix: /, upstream: nope}\n" + ups,
			[]string{`line 4: services[0].routes[0].upstream: unknown upstream "nope" (defined: u)`}},
		{"duplicate listen", "services:\n  - listen: [127.0.0.1:8080]\n    upstream: u\n  - name: b\n    listen: [127.0.0.1:8080]\n    upstream: u\n" + ups,
			[]string{`line 5: services[1].listen[0].addr: 127.0.0.1:8080 is already listened on by service "service1"`}},
		{"duplicate service name", "services:\n  - {name: a, listen: [127.0.0.1:1], upstream: u}\n  - {name: a, listen: [127.0.0.1:2], upstream: u}\n" + ups,
			[]string{`line 3: services[1].name: duplicate service name "a", first used on line 2`}},
		{"metrics on a service address", svc + ups + "metrics: {listen: 127.0.0.1:8080}\n",
			[]string{`line 6: metrics.listen: 127.0.0.1:8080 is already listened on by service "service1"`}},
		{"missing cert", "services:\n  - listen:\n      - {addr: 127.0.0.1:8443, tls: {cert: /nonexistent/c.pem, key: /nonexistent/k.pem}}\n    upstream: u\n" + ups,
			[]string{"line 3: services[0].listen[0].tls: ", "no such file"}},
		{"tls without key", "services:\n  - listen:\n      - {addr: 127.0.0.1:8443, tls: {cert: c.pem}}\n    upstream: u\n" + ups,
			[]string{"line 3: services[0].listen[0].tls: tls needs both cert and key"}},
		{"proxy_protocol_from without proxy_protocol", "services:\n  - listen:\n      - {addr: 127.0.0.1:8443, proxy_protocol_from: [10.0.0.0/8]}\n    upstream: u\n" + ups,
			[]string{"line 3: services[0].listen[0].proxy_protocol_from: needs proxy_protocol: true"}},
		{"proxy_protocol_from not a prefix", "services:\n  - listen:\n      - {addr: 127.0.0.1:8443, proxy_protocol: true, proxy_protocol_from: [10.0.0.0/33]}\n    upstream: u\n" + ups,
			[]string{`line 3: services[0].listen[0].proxy_protocol_from[0]: "10.0.0.0/33" is not an address or a CIDR prefix`}},
		{"upstream proxy_protocol 3", svc + "upstreams:\n  u: {peers: [127.0.0.1:9000], proxy_protocol: 3}\n",
			[]string{"line 5: upstreams.u.proxy_protocol: 3 is out of range [1, 2]"}},
		{"otlp endpoint not a URL", svc + "    tracing: {otlp_endpoint: 127.0.0.1:4318}\n" + ups,
			[]string{`line 4: services[0].tracing.otlp_endpoint: "127.0.0.1:4318" is not an http:// or https:// URL`}},
		{"sample ratio out of range", svc + "    tracing: {otlp_endpoint: http://c:4318, sample_ratio: 1.5}\n" + ups,
			[]string{"line 4: services[0].tracing.sample_ratio: 1.5 is not a number from 0 to 1"}},
		{"sample ratio not a number", svc + "    tracing: {sample_ratio: all}\n" + ups,
			[]string{`line 4: services[0].tracing.sample_ratio: want a number from 0 to 1`}},
		{"empty service name", svc + "    tracing: {service_name: \"\"}\n" + ups,
			[]string{"line 4: services[0].tracing.service_name: empty"}},
		{"bad listen", "services:\n  - listen: [localhost]\n    upstream: u\n" + ups,
			[]string{`line 2: services[0].listen[0].addr: "localhost" is not host:port`}},
		{"no listen", "services:\n  - upstream: u\n" + ups,
			[]string{"line 2: services[0].listen: missing"}},
		{"routes and upstream", "services:\n  - listen: [127.0.0.1:1]\n    upstream: u\n    routes: [{upstream: u}]\n" + ups,
			[]string{"line 3: services[0]: set one of routes, upstream and respond"}},
		{"no routes", "services:\n  - listen: [127.0.0.1:1]\n" + ups,
			[]string{"line 2: services[0].routes: missing"}},
		{"bad selection", svc + "upstreams:\n  u: {selection: fastest, peers: [127.0.0.1:9000]}\n",
			[]string{`line 5: upstreams.u.selection: "fastest" is not round_robin, random, hash, ketama or least_conn`}},
		{"bad hash key", svc + "upstreams:\n  u: {hash_key: cookie, peers: [127.0.0.1:9000]}\n",
			[]string{`line 5: upstreams.u.hash_key: "cookie" is not uri, client_ip or header:NAME`}},
		{"no peers", svc + "upstreams:\n  u: {peers: []}\n",
			[]string{"line 5: upstreams.u.peers: missing"}},
		{"bad peer", svc + "upstreams:\n  u: {peers: [nonsense]}\n",
			[]string{`line 5: upstreams.u.peers[0].addr: "nonsense" is not host:port`}},
		{"bad weight", svc + "upstreams:\n  u: {peers: [{addr: 127.0.0.1:1, weight: 0}]}\n",
			[]string{"line 5: upstreams.u.peers[0].weight: 0 is out of range [1, 65535]"}},
		{"bad duration", svc + "upstreams:\n  u: {peers: [127.0.0.1:1], timeouts: {connect: 5}}\n",
			[]string{`line 5: upstreams.u.timeouts.connect: want a duration such as "1s" or "250ms", got "5"`}},
		{"bad health type", svc + "upstreams:\n  u: {peers: [127.0.0.1:1], health_check: {type: udp}}\n",
			[]string{`line 5: upstreams.u.health_check.type: "udp" is not tcp or http`}},
		{"bad rate limit", "services:\n  - listen: [127.0.0.1:1]\n    upstream: u\n    rate_limit: {key: cookie}\n" + ups,
			[]string{`line 4: services[0].rate_limit.key: "cookie" is not client_ip or header:NAME`, "line 4: services[0].rate_limit.per_second: missing"}},
		{"bad header name", "services:\n  - listen: [127.0.0.1:1]\n    upstream: u\n    headers: {request_remove: [\"bad name\"]}\n" + ups,
			[]string{`line 4: services[0].headers.request_remove: "bad name" is not a valid header name`}},
		{"bad compression level", "services:\n  - listen: [127.0.0.1:1]\n    upstream: u\n    compression: {enabled: true, level: 11}\n" + ups,
			[]string{"line 4: services[0].compression.level: 11 is out of range [1, 9]"}},
		{"duplicate key", "services:\n  - listen: [127.0.0.1:1]\n    upstream: u\n    upstream: u\n" + ups,
			[]string{"line 4: services[0].upstream: duplicate key, first set on line 3"}},
		{"duplicate upstream", svc + "upstreams:\n  u: {peers: [127.0.0.1:1]}\n  u: {peers: [127.0.0.1:2]}\n",
			[]string{"line 6: upstreams.u: duplicate upstream, first defined on line 5"}},
		{"unix peer tls needs sni", svc + "upstreams:\n  u:\n    peers: [\"unix:/tmp/x.sock\"]\n    tls: {}\n",
			[]string{"line 6: upstreams.u.tls.sni: a unix socket peer needs sni"}},
		{"several errors at once", "threads: -1\nservices:\n  - listen: [127.0.0.1:1]\n    upstream: nope\nupstreams:\n  u: {selection: x, peers: [127.0.0.1:1]}\n",
			[]string{"line 1: threads:", `line 6: upstreams.u.selection: "x"`, `line 4: services[0].routes[0].upstream: unknown upstream "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := ParseConfig([]byte(tt.yaml))
			require.Error(t, err)
			assert.Nil(t, c)
			errs := errList(err)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
				var ce *server.ConfError
				assert.True(t, errors.As(e, &ce), "%v is a *server.ConfError", e)
			}
			all := strings.Join(msgs, "\n")
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
			if tt.name != "missing cert" && tt.name != "rate limit" {
				assert.LessOrEqual(t, len(errs), len(tt.want), "errors: %s", all)
			}
		})
	}
}

func TestLoadConfig_MissingFile(t *testing.T) {
	_, _, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "umbrella: read config")
}

func FuzzParseConfig(f *testing.F) {
	// Small seeds: the fuzzer minimizes every interesting input, which is
	// slow for whole files.
	f.Add([]byte("services: [{listen: [{addr: ':1', tls: {cert: c, key: k, client_ca: a}}], h2c: true, upstream: u, access_log: off}]\nupstreams: {u: {peers: [{addr: 1.2.3.4:6, weight: 2}], tls: {sni: s, verify: false, ca: c}}}"))
	f.Add([]byte("services: [{listen: [1.2.3.4:5], routes: [{host: h, path_prefix: /a, upstream: u}], rate_limit: {key: 'header:K', per_second: 3}}]\nupstreams: {u: {selection: hash, hash_key: client_ip, peers: ['unix:/s'], health_check: {type: http, path: /h, interval: 1s, rise: 2}, timeouts: {connect: 1s}, retries: 0}}"))
	f.Add([]byte("services: [{listen: [1.2.3.4:5], compression: {enabled: true, level: 3}, headers: {request_set: {A: b}, request_remove: [C], response_set: {D: e}, response_remove: [F]}, respond: {status: 201, body: x, headers: {G: h}}}]\nmetrics: {listen: 1.2.3.4:7}\nthreads: 2\nlog_format: json"))
	f.Add([]byte("services: [{listen: [1.2.3.4:5], upstream: u}]\nupstreams: {u: {peers: [1.2.3.4:6]}}"))
	f.Add([]byte("a: &x [1]\nservices: *x\n"))
	f.Add([]byte("services:\n  - listen: [{addr: ':1', tls: {cert: a, key: b}}]\n    routes: [{host: '*.a', respond: {status: 201}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, warns, err := parse(data, "", false) // no file-system checks
		if err != nil {
			require.Nil(t, c)
			for _, e := range errList(err) {
				require.NotEmpty(t, e.Error())
			}
			return
		}
		require.NotEmpty(t, c.Services)
		for _, w := range warns {
			require.NotEmpty(t, w.Key)
		}
		for _, s := range c.Services {
			require.NotEmpty(t, s.Listen)
			require.NotEmpty(t, s.Routes)
			for _, r := range s.Routes {
				if r.Respond == nil {
					require.NotNil(t, c.Upstream(r.Upstream))
				}
			}
		}
	})
}
