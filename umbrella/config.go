package umbrella

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pingora-go/pingora/balancer"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/tlsbackend"
	yaml "go.yaml.in/yaml/v3"
)

// Defaults of the configuration, applied to keys a file leaves out.
const (
	// DefaultAccessLog is where access-log lines go when a service has no
	// access_log key.
	DefaultAccessLog = "stdout"
	// DefaultSelection is an upstream's selection algorithm.
	DefaultSelection = "round_robin"
	// DefaultHashKey is what hash and ketama selection hash.
	DefaultHashKey = "uri"
	// DefaultRetries is how many times a request is retried on another
	// peer after an error the proxy deems safe to retry.
	DefaultRetries = 1
	// DefaultCompressionLevel is the compression level when compression
	// is on.
	DefaultCompressionLevel = 6
	// DefaultRateLimitKey is what a rate limit counts requests by.
	DefaultRateLimitKey = "client_ip"
	// DefaultHealthCheckType is the health check when health_check has no
	// type.
	DefaultHealthCheckType = "tcp"
	// DefaultHealthCheckPath is the request path of an http health check.
	DefaultHealthCheckPath = "/"
	// DefaultConnectTimeout bounds an upstream connect (TCP and TLS).
	DefaultConnectTimeout = 5 * time.Second
	// DefaultReadTimeout bounds each read from an upstream.
	DefaultReadTimeout = 60 * time.Second
	// DefaultWriteTimeout bounds each write to an upstream.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long an idle upstream connection stays
	// pooled.
	DefaultIdleTimeout = 60 * time.Second
	// Version is the only configuration format version there is.
	Version = 1
	// DefaultProtocol is a service's protocol.
	DefaultProtocol = "http"
	// DefaultTCPIdleTimeout closes an idle tcp tunnel (nginx stream's
	// proxy_timeout).
	DefaultTCPIdleTimeout = 10 * time.Minute
)

// Config is a whole configuration file: the server's fields at the top
// level (every key of [server.Conf]), then services, upstreams and
// metrics. Build one with [ParseConfig] or [LoadConfig]; a Config they
// return is valid and has every default filled. Treat it as read-only.
type Config struct {
	// Server holds the top-level keys of server.Conf (threads, pid_file,
	// upgrade_sock, error_log, grace_period_seconds, …), defaults filled.
	Server *server.Conf
	// LogFormat is the error log's format: "text" or "json". If empty,
	// text.
	LogFormat string
	// LogLevel is the lowest level of the error log: "debug", "info",
	// "warn" or "error". If empty, info.
	LogLevel string
	// Services are the proxy services, in file order. At least one.
	Services []*Service
	// Upstreams are the named groups of peers, in file order.
	Upstreams []*Upstream
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics

	// Path is the file the configuration was loaded from; empty for
	// ParseConfig. Relative file names in it were resolved against its
	// directory.
	Path string
}

// Upstream returns the upstream with the given name, or nil.
func (c *Config) Upstream(name string) *Upstream {
	for _, u := range c.Upstreams {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Service returns the service with the given name, or nil.
func (c *Config) Service(name string) *Service {
	for _, s := range c.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Service is one proxy service: listening sockets and what to do with the
// requests that arrive on them.
type Service struct {
	// Name names the service in logs and metrics. Unique. If empty,
	// "service<N>" with N its position from 1.
	Name string
	// Protocol is what the service proxies: "http" (requests, over
	// HTTP/1 and HTTP/2) or "tcp" (each connection tunnelled as a byte
	// stream to a peer of its route's upstream, as nginx's stream module
	// does: TLS passes through untouched unless the listener terminates
	// it, and routes may match the TLS server name). A tcp service takes
	// listen, routes or upstream (routes match by sni only), idle_timeout
	// and access_log. If empty, DefaultProtocol.
	Protocol string
	// IdleTimeout closes a tcp tunnel in which no byte moved either way
	// for this long. If zero, DefaultTCPIdleTimeout. tcp services only.
	IdleTimeout time.Duration
	// Listen are the sockets the service accepts on. At least one.
	Listen []Listen
	// H2C accepts HTTP/2 over cleartext (prior knowledge) on the plain
	// listeners. If false, plain listeners speak HTTP/1 only.
	H2C bool
	// XForwarded appends the client's address to X-Forwarded-For and sets
	// X-Forwarded-Proto (http or https) on requests sent upstream. The
	// client address is the connection's peer, or the PROXY protocol
	// header's source on a listen entry with proxy_protocol. If false,
	// neither is added (a client's own X-Forwarded-For passes as sent).
	XForwarded bool
	// Routes map requests to upstreams; the first match wins. Set by
	// routes, or by upstream: NAME or respond: {…} (one route matching
	// everything).
	Routes []Route
	// Compression compresses responses.
	Compression Compression
	// RateLimit, if not nil, limits requests per second per key.
	RateLimit *RateLimit
	// Headers adds and removes request and response headers.
	Headers Headers
	// AccessLog is "stdout", "stderr", "off" or a file path (appended to).
	// If empty, DefaultAccessLog.
	AccessLog string
	// Tracing propagates W3C trace context.
	Tracing Tracing

	line int
}

// Tracing configures trace propagation. It needs no tracing library: the
// proxy takes part in a trace as one hop.
type Tracing struct {
	// Traceparent continues the trace of a request's valid traceparent
	// header, or starts a new sampled trace, sends upstream a traceparent
	// naming a new span of this hop (tracestate passes unchanged), and
	// adds trace_id to the access log. If false, traceparent passes
	// through untouched.
	Traceparent bool
	// OTLPEndpoint, if not empty, exports an OpenTelemetry server span
	// per request to this OTLP/HTTP collector base URL (http:// or
	// https://; spans are POSTed to its path + /v1/traces). It needs the
	// binary built from umbrella/otel (see Extensions); the default
	// binary warns and exports nothing. With it the span's context is
	// what goes upstream in traceparent, whatever Traceparent says.
	OTLPEndpoint string
	// ServiceName is the service.name resource attribute of the spans.
	// If empty, DefaultTracingServiceName.
	ServiceName string
	// SampleRatio is the share of new traces (no sampled incoming
	// traceparent) that are recorded, in [0, 1]; an incoming
	// traceparent's sampled flag is followed. If no sample_ratio is
	// set, 1.
	SampleRatio float64

	line int
}

// DefaultTracingServiceName is the service.name of exported spans when
// tracing.service_name is not set.
const DefaultTracingServiceName = "pingora"

// Listen is one listening socket.
type Listen struct {
	// Addr is "host:port" (e.g. "127.0.0.1:6188", "[::]:443", ":80").
	Addr string
	// TLS, if not nil, serves TLS on the socket.
	TLS *ListenTLS
	// ProxyProtocol requires a PROXY protocol header (v1 or v2, HAProxy's)
	// before anything else on every connection, and takes the client
	// address from it: for a listener reachable only from a load balancer
	// that sends one (AWS NLB, HAProxy, …). A connection without a valid
	// header is closed. If false, a header is not expected.
	ProxyProtocol bool
	// ProxyProtocolFrom lists the addresses (CIDR prefixes, or single
	// addresses) the load balancers connect from; with ProxyProtocol set,
	// a connection from anywhere else is closed before its header is read
	// (nginx's set_real_ip_from). If empty, any source may send a header.
	ProxyProtocolFrom []netip.Prefix
	// NotSentLowat sets TCP_NOTSENT_LOWAT on accepted connections: the
	// most response bytes the kernel holds unsent per connection before
	// the proxy's writes wait (Linux). 16384 is the usual choice for
	// edges serving large responses to slow clients: less kernel memory
	// per connection, and data leaves as the proxy writes it. If zero,
	// the system default (net.ipv4.tcp_notsent_lowat).
	NotSentLowat int

	line int
}

// ListenTLS is the TLS of a listener.
type ListenTLS struct {
	// Cert and Key are PEM files: the certificate chain and its key.
	// Required.
	Cert, Key string
	// ClientCA, if set, is a PEM bundle: clients must present a certificate
	// that chains to it (mutual TLS). If empty, no client certificate is
	// asked for.
	ClientCA string
}

// Route sends matching requests to an upstream. Empty Host and
// PathPrefix match every request.
type Route struct {
	// SNI matches, on a tcp service, the server name of the TLS
	// ClientHello a client sends first (TLS passthrough),
	// case-insensitively; "*.example.com" matches any subdomain of
	// example.com. If empty, any connection, TLS or not. tcp services
	// only.
	SNI string
	// Host matches the request's host (without port), case-insensitively;
	// "*.example.com" matches any subdomain of example.com. If empty, any
	// host.
	Host string
	// PathPrefix matches requests whose path starts with it. If empty, "/"
	// (any path).
	PathPrefix string
	// Upstream names the upstream. Exactly one of Upstream and Respond is
	// set; the upstream must exist.
	Upstream string
	// Respond answers matching requests without an upstream (health
	// endpoints, demo origins, fixed redirects).
	Respond *Respond

	line int
}

// Respond is a fixed response.
type Respond struct {
	// Status is the status code. If zero, 200.
	Status int
	// Body is the response body. If empty, none.
	Body string
	// Headers are response header fields, in file order.
	Headers []KV
}

// Compression compresses responses with the proxy's compression module:
// zstd or gzip, as the client's Accept-Encoding prefers, for textual
// types of 256 bytes or more.
type Compression struct {
	// Enabled turns compression on. If false, responses pass unchanged.
	Enabled bool
	// Level is the compression level, 1 (fastest) to 9 (smallest). If
	// zero, DefaultCompressionLevel.
	Level int
}

// RateLimit limits the requests a service accepts per key per second;
// requests over the limit get 429 with X-Rate-Limit-Limit,
// X-Rate-Limit-Remaining and X-Rate-Limit-Reset headers.
type RateLimit struct {
	// Key is what requests are counted by: "client_ip" or "header:NAME"
	// (requests without the header share one budget). If empty,
	// DefaultRateLimitKey.
	Key string
	// PerSecond is the number of requests allowed per key per second.
	// Required, at least 1.
	PerSecond int
}

// Headers changes request headers before they go upstream and response
// headers before they go to the client. Removals run before sets.
type Headers struct {
	// RequestSet sets request headers, replacing any value.
	RequestSet []KV
	// RequestRemove removes request headers.
	RequestRemove []string
	// ResponseSet sets response headers, replacing any value.
	ResponseSet []KV
	// ResponseRemove removes response headers.
	ResponseRemove []string
}

// KV is one header name and value, in file order.
type KV struct {
	Name, Value string

	line int
}

// Upstream is a named group of peers a route sends requests to.
type Upstream struct {
	// Name is the key under upstreams.
	Name string
	// Selection is the load-balancing algorithm: "round_robin", "random",
	// "hash", "ketama" or "least_conn". If empty, DefaultSelection.
	Selection string
	// HashKey is what hash and ketama hash: "uri", "client_ip" or
	// "header:NAME". If empty, DefaultHashKey.
	HashKey string
	// Peers are the servers. At least one.
	Peers []PeerConfig
	// TLS, if not nil, makes connections to the peers use TLS.
	TLS *UpstreamTLS
	// H2 speaks HTTP/2 to the peers (over TLS by ALPN, else by prior
	// knowledge). If false, HTTP/1.1.
	H2 bool
	// HealthCheck, if not nil, checks the peers actively; unhealthy peers
	// get no requests. If nil, peers are always eligible (passive health
	// still skips a peer that just failed).
	HealthCheck *HealthCheck
	// Timeouts bound upstream connections.
	Timeouts Timeouts
	// Retries is how many more peers a failed request is tried on, when
	// the failure makes a retry safe. If absent, DefaultRetries.
	Retries int
	// ProxyProtocol, 1 or 2, starts every connection to a peer with a
	// PROXY protocol header of that version carrying the client's address
	// (health checks send one marked as the proxy's own). Such connections
	// are reused only for the same client. If zero, no header.
	ProxyProtocol int

	line int
}

// PeerConfig is one server of an upstream.
type PeerConfig struct {
	// Addr is "ip:port", "host:port" (resolved when the file is loaded)
	// or "unix:/path".
	Addr string
	// Weight is the peer's share of the requests. If zero, 1.
	Weight int

	line int
}

// UpstreamTLS is the TLS to an upstream's peers.
type UpstreamTLS struct {
	// SNI is the name sent and verified. If empty, the peer's host.
	SNI string
	// Verify checks the peer's certificate. If absent, true.
	Verify bool
	// CA is a PEM bundle the certificates must chain to. If empty, the
	// system roots (or the server's ca_file).
	CA string
}

// HealthCheck is an active health check of an upstream's peers.
type HealthCheck struct {
	// Type is "tcp" (connect, plus TLS when the upstream has it) or "http"
	// (a GET that must answer Status). If empty, DefaultHealthCheckType.
	Type string
	// Path is the http check's request path. If empty, "/".
	Path string
	// Host is the http check's Host header. If empty, the peer's address.
	Host string
	// Status is the status a healthy peer answers. If zero, 200.
	Status int
	// Interval is the time between checks. If zero, 5s.
	Interval time.Duration
	// Timeout bounds one check. If zero, 1s.
	Timeout time.Duration
	// Rise is the consecutive passes that make a peer healthy. If zero, 1.
	Rise int
	// Fall is the consecutive failures that make a peer unhealthy. If
	// zero, 1.
	Fall int
}

// Timeouts bound an upstream's connections.
type Timeouts struct {
	// Connect bounds the connect and TLS handshake. If zero,
	// DefaultConnectTimeout.
	Connect time.Duration
	// Read bounds each read from a peer. If zero, DefaultReadTimeout.
	Read time.Duration
	// Write bounds each write to a peer. If zero, DefaultWriteTimeout.
	Write time.Duration
	// Idle is how long an idle connection stays pooled. If zero,
	// DefaultIdleTimeout.
	Idle time.Duration
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the "host:port" serving the metrics at /metrics. If
	// empty, no endpoint.
	Listen string

	line int
}

// ownKeys are the top-level keys this package reads; the server warns
// about them as unknown, and those warnings are dropped.
var ownKeys = []string{"services", "upstreams", "metrics", "log_format", "log_level"}

// LoadConfig reads and parses the configuration file at path (see
// [ParseConfig]); relative file names in it are resolved against the
// file's directory.
func LoadConfig(path string) (*Config, []*server.ConfWarning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("umbrella: read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("umbrella: read config: %w", err)
	}
	c, warns, err := parse(data, filepath.Dir(abs), true)
	if c != nil {
		c.Path = path
	}
	return c, warns, err
}

// ParseConfig parses a YAML configuration and checks it whole: types and
// ranges of every value, that each route names an upstream that exists,
// that no address is listened on twice, that every file named (TLS
// certificates and keys, CA bundles) loads, and the server's own fields
// as [server.ParseConf] does. Relative file names are resolved against the
// working directory. Keys it does not know are returned as warnings with
// their line. The error joins (errors.Join) one *[server.ConfError] per
// problem, each naming its field and line; the Config is nil then.
func ParseConfig(data []byte) (*Config, []*server.ConfWarning, error) {
	return parse(data, "", true)
}

// parse parses data; dir resolves relative file names; files says whether
// to check the files the configuration names.
func parse(data []byte, dir string, files bool) (*Config, []*server.ConfWarning, error) {
	sc, swarns, err := server.ParseConf(data)
	if ce := (*server.ConfError)(nil); err != nil && (!errors.As(err, &ce) || ce.Field == "") {
		// The document itself is malformed: nothing more can be said.
		return nil, nil, err
	}
	d := &decoder{}
	if err != nil {
		d.errs = append(d.errs, err)
	}
	for _, w := range swarns {
		if !slices.Contains(ownKeys, w.Key) {
			d.warns = append(d.warns, w)
		}
	}
	root, err := rootNode(data)
	if err != nil {
		return nil, nil, err
	}
	c := &Config{Server: sc}
	if root != nil {
		d.config(c, root)
	}
	if len(c.Services) == 0 && len(d.errs) == 0 {
		line := 0
		if root != nil {
			line = root.Line
		}
		d.errs = append(d.errs, &server.ConfError{Field: "services", Line: line, Err: errNoServices})
	}
	c.check(d, dir, files)
	if len(d.errs) > 0 {
		return nil, d.warns, errors.Join(d.errs...)
	}
	return c, d.warns, nil
}

// rootNode returns the top-level mapping of data, or nil for an empty
// document. server.ParseConf has already rejected malformed documents.
func rootNode(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, &server.ConfError{Err: fmt.Errorf("invalid yaml: %w", err)}
	}
	if len(doc.Content) != 1 {
		return nil, nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &server.ConfError{Line: root.Line, Err: errors.New("the document is not a mapping of keys to values")}
	}
	return root, nil
}

// config decodes the keys this package owns from the root mapping; the
// server's keys were decoded by server.ParseConf and are skipped here.
func (d *decoder) config(c *Config, root *yaml.Node) {
	known := map[string]func(v *yaml.Node, field string){
		"services": func(v *yaml.Node, f string) {
			d.list(v, f, func(i int, n *yaml.Node, f string) {
				c.Services = append(c.Services, d.service(i, n, f))
			})
		},
		"upstreams": func(v *yaml.Node, f string) {
			if v.Kind != yaml.MappingNode {
				d.fail(v, f, want("a mapping of upstream names to upstreams", v))
				return
			}
			seen := make(map[string]int)
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, n := v.Content[i], deref(v.Content[i+1])
				if k.Kind != yaml.ScalarNode || k.Value == "" {
					d.failf(k, f, "an upstream name must be a non-empty string")
					continue
				}
				if prev, dup := seen[k.Value]; dup {
					d.failf(k, f+"."+k.Value, "duplicate upstream, first defined on line %d", prev)
					continue
				}
				seen[k.Value] = k.Line
				u := d.upstream(n, f+"."+k.Value)
				u.Name, u.line = k.Value, k.Line
				c.Upstreams = append(c.Upstreams, u)
			}
		},
		"metrics": func(v *yaml.Node, f string) {
			c.Metrics.line = v.Line
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"listen": func(v *yaml.Node, f string) { d.str(v, f, &c.Metrics.Listen) },
			})
		},
		"log_format": func(v *yaml.Node, f string) {
			if d.str(v, f, &c.LogFormat) && c.LogFormat != "text" && c.LogFormat != "json" {
				d.failf(v, f, "%q is not text or json", c.LogFormat)
			}
		},
		"log_level": func(v *yaml.Node, f string) {
			if d.str(v, f, &c.LogLevel) {
				switch c.LogLevel {
				case "debug", "info", "warn", "error":
				default:
					d.failf(v, f, "%q is not debug, info, warn or error", c.LogLevel)
				}
			}
		},
	}
	// Only this package's keys: the server decoded (and warned about) the rest.
	own := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if _, ok := known[root.Content[i].Value]; ok {
			own.Content = append(own.Content, root.Content[i], root.Content[i+1])
		}
		if root.Content[i].Value == "version" && c.Server != nil && c.Server.Version != Version {
			d.failf(root.Content[i+1], "version", "unsupported version %d (want %d)", c.Server.Version, Version)
		}
	}
	d.fields(own, "", known)
}

func (d *decoder) service(i int, n *yaml.Node, path string) *Service {
	s := &Service{line: n.Line}
	var single string
	var singleNode *yaml.Node
	var respond *Respond
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, f string) {
			if d.str(v, f, &s.Name) && s.Name == "" {
				d.failf(v, f, "empty name")
			}
		},
		"listen": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, n *yaml.Node, f string) {
				l := Listen{line: n.Line}
				if n.Kind == yaml.ScalarNode { // "- 127.0.0.1:6188"
					d.str(n, f, &l.Addr)
				} else {
					d.fields(n, f, map[string]func(*yaml.Node, string){
						"addr":           func(v *yaml.Node, f string) { d.str(v, f, &l.Addr) },
						"proxy_protocol": func(v *yaml.Node, f string) { d.boolean(v, f, &l.ProxyProtocol) },
						"notsent_lowat":  func(v *yaml.Node, f string) { d.integer(v, f, 1, math.MaxInt32, &l.NotSentLowat) },
						"proxy_protocol_from": func(v *yaml.Node, f string) {
							d.list(v, f, func(_ int, e *yaml.Node, f string) {
								var s string
								if !d.str(e, f, &s) {
									return
								}
								p, err := parsePrefix(s)
								if err != nil {
									d.fail(e, f, err)
									return
								}
								l.ProxyProtocolFrom = append(l.ProxyProtocolFrom, p)
							})
						},
						"tls": func(v *yaml.Node, f string) {
							l.TLS = &ListenTLS{}
							d.fields(v, f, map[string]func(*yaml.Node, string){
								"cert":      func(v *yaml.Node, f string) { d.str(v, f, &l.TLS.Cert) },
								"key":       func(v *yaml.Node, f string) { d.str(v, f, &l.TLS.Key) },
								"client_ca": func(v *yaml.Node, f string) { d.str(v, f, &l.TLS.ClientCA) },
							})
							if l.TLS.Cert == "" || l.TLS.Key == "" {
								d.failf(v, f, "tls needs both cert and key")
							}
						},
					})
				}
				if len(l.ProxyProtocolFrom) > 0 && !l.ProxyProtocol {
					d.failf(n, f+".proxy_protocol_from", "needs proxy_protocol: true")
				}
				if l.Addr == "" {
					d.failf(n, f+".addr", "missing listen address")
				} else if err := checkHostPort(l.Addr); err != nil {
					d.fail(n, f+".addr", err)
				}
				s.Listen = append(s.Listen, l)
			})
		},
		"protocol": func(v *yaml.Node, f string) {
			if d.str(v, f, &s.Protocol) && s.Protocol != "http" && s.Protocol != "tcp" {
				d.failf(v, f, "%q is not http or tcp", s.Protocol)
			}
		},
		"idle_timeout": func(v *yaml.Node, f string) { d.duration(v, f, &s.IdleTimeout) },
		"h2c":          func(v *yaml.Node, f string) { d.boolean(v, f, &s.H2C) },
		"x_forwarded":  func(v *yaml.Node, f string) { d.boolean(v, f, &s.XForwarded) },
		"upstream": func(v *yaml.Node, f string) {
			if d.str(v, f, &single) {
				singleNode = v
			}
		},
		"respond": func(v *yaml.Node, f string) {
			respond = d.respond(v, f)
			if singleNode == nil {
				singleNode = v
			}
		},
		"routes": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, n *yaml.Node, f string) {
				r := Route{line: n.Line}
				d.fields(n, f, map[string]func(*yaml.Node, string){
					"sni": func(v *yaml.Node, f string) {
						if d.str(v, f, &r.SNI) {
							r.SNI = strings.ToLower(r.SNI)
							if r.SNI == "" {
								d.failf(v, f, "empty: remove it to match every connection")
							}
						}
					},
					"host": func(v *yaml.Node, f string) {
						if d.str(v, f, &r.Host) {
							r.Host = strings.ToLower(r.Host)
						}
					},
					"path_prefix": func(v *yaml.Node, f string) {
						if d.str(v, f, &r.PathPrefix) && !strings.HasPrefix(r.PathPrefix, "/") {
							d.failf(v, f, "%q does not start with /", r.PathPrefix)
						}
					},
					"upstream": func(v *yaml.Node, f string) { d.str(v, f, &r.Upstream) },
					"respond":  func(v *yaml.Node, f string) { r.Respond = d.respond(v, f) },
				})
				switch {
				case r.Upstream == "" && r.Respond == nil:
					d.failf(n, f+".upstream", "missing: a route needs an upstream (or respond)")
				case r.Upstream != "" && r.Respond != nil:
					d.failf(n, f+".respond", "set either upstream or respond, not both")
				}
				if r.PathPrefix == "" {
					r.PathPrefix = "/"
				}
				s.Routes = append(s.Routes, r)
			})
		},
		"compression": func(v *yaml.Node, f string) {
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"enabled": func(v *yaml.Node, f string) { d.boolean(v, f, &s.Compression.Enabled) },
				"level":   func(v *yaml.Node, f string) { d.integer(v, f, 1, 9, &s.Compression.Level) },
			})
		},
		"rate_limit": func(v *yaml.Node, f string) {
			rl := &RateLimit{}
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"key": func(v *yaml.Node, f string) {
					if d.str(v, f, &rl.Key) {
						if err := checkKey(rl.Key, false); err != nil {
							d.fail(v, f, err)
						}
					}
				},
				"per_second": func(v *yaml.Node, f string) { d.integer(v, f, 1, math.MaxInt32, &rl.PerSecond) },
			})
			if rl.PerSecond == 0 {
				d.failf(v, f+".per_second", "missing: a rate limit needs per_second of at least 1")
			}
			if rl.Key == "" {
				rl.Key = DefaultRateLimitKey
			}
			s.RateLimit = rl
		},
		"headers": func(v *yaml.Node, f string) {
			h := &s.Headers
			names := func(v *yaml.Node, f string) []string {
				out := d.strings(v, f)
				for i, n := range out {
					if !validHeaderName(n) {
						d.failf(v.Content[i], f, "%q is not a valid header name", n)
					}
				}
				return out
			}
			kvs := func(v *yaml.Node, f string) []KV {
				out := d.stringMap(v, f)
				for _, kv := range out {
					if !validHeaderName(kv.Name) {
						d.failf(v, f+"."+kv.Name, "%q is not a valid header name", kv.Name)
					} else if !validHeaderValue(kv.Value) {
						d.failf(v, f+"."+kv.Name, "the value has a control character")
					}
				}
				return out
			}
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"request_set":     func(v *yaml.Node, f string) { h.RequestSet = kvs(v, f) },
				"request_remove":  func(v *yaml.Node, f string) { h.RequestRemove = names(v, f) },
				"response_set":    func(v *yaml.Node, f string) { h.ResponseSet = kvs(v, f) },
				"response_remove": func(v *yaml.Node, f string) { h.ResponseRemove = names(v, f) },
			})
		},
		"tracing": func(v *yaml.Node, f string) {
			t := &s.Tracing
			t.line = v.Line
			ratio := false
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"traceparent": func(v *yaml.Node, f string) { d.boolean(v, f, &t.Traceparent) },
				"otlp_endpoint": func(v *yaml.Node, f string) {
					if !d.str(v, f, &t.OTLPEndpoint) {
						return
					}
					u, err := url.Parse(t.OTLPEndpoint)
					if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
						d.failf(v, f, "%q is not an http:// or https:// URL such as http://127.0.0.1:4318", t.OTLPEndpoint)
					}
				},
				"service_name": func(v *yaml.Node, f string) {
					if d.str(v, f, &t.ServiceName) && t.ServiceName == "" {
						d.failf(v, f, "empty: remove it for the default %q", DefaultTracingServiceName)
					}
				},
				"sample_ratio": func(v *yaml.Node, f string) {
					ratio = d.ratio(v, f, &t.SampleRatio)
				},
			})
			if !ratio {
				t.SampleRatio = 1
			}
			if t.ServiceName == "" {
				t.ServiceName = DefaultTracingServiceName
			}
		},
		"access_log": func(v *yaml.Node, f string) {
			if d.str(v, f, &s.AccessLog) && s.AccessLog == "" {
				d.failf(v, f, "empty: want stdout, stderr, off or a file path")
			}
		},
	})
	if s.Name == "" {
		s.Name = "service" + strconv.Itoa(i+1)
	}
	if len(s.Listen) == 0 {
		d.failf(n, path+".listen", "missing: a service needs at least one listen address")
	}
	switch {
	case (single != "" || respond != nil) && len(s.Routes) > 0, single != "" && respond != nil:
		d.failf(singleNode, path, "set one of routes, upstream and respond")
	case single != "":
		s.Routes = []Route{{PathPrefix: "/", Upstream: single, line: singleNode.Line}}
	case respond != nil:
		s.Routes = []Route{{PathPrefix: "/", Respond: respond, line: singleNode.Line}}
	case len(s.Routes) == 0:
		d.failf(n, path+".routes", "missing: a service needs routes, an upstream or respond")
	}
	if s.Compression.Enabled && s.Compression.Level == 0 {
		s.Compression.Level = DefaultCompressionLevel
	}
	if s.AccessLog == "" {
		s.AccessLog = DefaultAccessLog
	}
	if s.Protocol == "" {
		s.Protocol = DefaultProtocol
	}
	d.checkProtocol(s, n, path)
	return s
}

// checkProtocol rejects what a service's protocol cannot do: HTTP
// features on a tcp service, tcp ones on an http service.
func (d *decoder) checkProtocol(s *Service, n *yaml.Node, path string) {
	if s.Protocol != "tcp" {
		if s.IdleTimeout != 0 {
			d.failf(n, path+".idle_timeout", "only for protocol: tcp (HTTP timeouts are the server's)")
		}
		for j, r := range s.Routes {
			if r.SNI != "" {
				d.failLine(r.line, path+".routes["+strconv.Itoa(j)+"].sni", errors.New("only for protocol: tcp (HTTP routes match host)"))
			}
		}
		return
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = DefaultTCPIdleTimeout
	}
	for _, k := range []struct {
		key string
		set bool
	}{
		{"h2c", s.H2C},
		{"x_forwarded", s.XForwarded},
		{"compression", s.Compression.Enabled},
		{"rate_limit", s.RateLimit != nil},
		{"headers", len(s.Headers.RequestSet)+len(s.Headers.RequestRemove)+
			len(s.Headers.ResponseSet)+len(s.Headers.ResponseRemove) > 0},
		{"tracing", s.Tracing.Traceparent || s.Tracing.OTLPEndpoint != ""},
	} {
		if k.set {
			d.failf(n, path+"."+k.key, "not for protocol: tcp (a byte stream has no requests)")
		}
	}
	sni := false
	for j, r := range s.Routes {
		f := path + ".routes[" + strconv.Itoa(j) + "]"
		switch {
		case r.Respond != nil:
			d.failLine(r.line, f+".respond", errors.New("not for protocol: tcp: a route needs an upstream"))
		case r.Host != "" || r.PathPrefix != "/":
			d.failLine(r.line, f, errors.New("protocol: tcp routes match sni only, not host or path_prefix"))
		}
		sni = sni || r.SNI != ""
	}
	if sni {
		for j, l := range s.Listen {
			if l.TLS != nil {
				d.failLine(l.line, path+".listen["+strconv.Itoa(j)+"].tls",
					errors.New("sni routes pass TLS through: a listener that terminates TLS cannot route by sni"))
			}
		}
	}
}

func (d *decoder) respond(n *yaml.Node, path string) *Respond {
	r := &Respond{}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"status": func(v *yaml.Node, f string) { d.integer(v, f, 200, 599, &r.Status) },
		"body":   func(v *yaml.Node, f string) { d.str(v, f, &r.Body) },
		"headers": func(v *yaml.Node, f string) {
			r.Headers = d.stringMap(v, f)
			for _, kv := range r.Headers {
				if !validHeaderName(kv.Name) || !validHeaderValue(kv.Value) {
					d.failf(v, f+"."+kv.Name, "not a valid header field")
				}
			}
		},
	})
	if r.Status == 0 {
		r.Status = 200
	}
	return r
}

func (d *decoder) upstream(n *yaml.Node, path string) *Upstream {
	u := &Upstream{Retries: DefaultRetries}
	d.fields(n, path, map[string]func(*yaml.Node, string){
		"selection": func(v *yaml.Node, f string) {
			if d.str(v, f, &u.Selection) {
				if _, ok := algorithms[u.Selection]; !ok {
					d.failf(v, f, "%q is not round_robin, random, hash, ketama or least_conn", u.Selection)
				}
			}
		},
		"hash_key": func(v *yaml.Node, f string) {
			if d.str(v, f, &u.HashKey) {
				if err := checkKey(u.HashKey, true); err != nil {
					d.fail(v, f, err)
				}
			}
		},
		"peers": func(v *yaml.Node, f string) {
			d.list(v, f, func(_ int, n *yaml.Node, f string) {
				p := PeerConfig{line: n.Line}
				if n.Kind == yaml.ScalarNode { // "- 127.0.0.1:8001"
					d.str(n, f, &p.Addr)
				} else {
					d.fields(n, f, map[string]func(*yaml.Node, string){
						"addr":   func(v *yaml.Node, f string) { d.str(v, f, &p.Addr) },
						"weight": func(v *yaml.Node, f string) { d.integer(v, f, 1, math.MaxUint16, &p.Weight) },
					})
				}
				if p.Addr == "" {
					d.failf(n, f+".addr", "missing peer address")
				} else if err := checkPeerAddr(p.Addr); err != nil {
					d.fail(n, f+".addr", err)
				}
				if p.Weight == 0 {
					p.Weight = 1
				}
				u.Peers = append(u.Peers, p)
			})
		},
		"tls": func(v *yaml.Node, f string) {
			u.TLS = &UpstreamTLS{Verify: true}
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"sni":    func(v *yaml.Node, f string) { d.str(v, f, &u.TLS.SNI) },
				"verify": func(v *yaml.Node, f string) { d.boolean(v, f, &u.TLS.Verify) },
				"ca":     func(v *yaml.Node, f string) { d.str(v, f, &u.TLS.CA) },
			})
		},
		"h2": func(v *yaml.Node, f string) { d.boolean(v, f, &u.H2) },
		"health_check": func(v *yaml.Node, f string) {
			hc := &HealthCheck{}
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"type": func(v *yaml.Node, f string) {
					if d.str(v, f, &hc.Type) && hc.Type != "tcp" && hc.Type != "http" {
						d.failf(v, f, "%q is not tcp or http", hc.Type)
					}
				},
				"path": func(v *yaml.Node, f string) {
					if d.str(v, f, &hc.Path) && !strings.HasPrefix(hc.Path, "/") {
						d.failf(v, f, "%q does not start with /", hc.Path)
					}
				},
				"host":     func(v *yaml.Node, f string) { d.str(v, f, &hc.Host) },
				"status":   func(v *yaml.Node, f string) { d.integer(v, f, 100, 599, &hc.Status) },
				"interval": func(v *yaml.Node, f string) { d.duration(v, f, &hc.Interval) },
				"timeout":  func(v *yaml.Node, f string) { d.duration(v, f, &hc.Timeout) },
				"rise":     func(v *yaml.Node, f string) { d.integer(v, f, 1, 1000, &hc.Rise) },
				"fall":     func(v *yaml.Node, f string) { d.integer(v, f, 1, 1000, &hc.Fall) },
			})
			hc.setDefaults()
			u.HealthCheck = hc
		},
		"timeouts": func(v *yaml.Node, f string) {
			t := &u.Timeouts
			d.fields(v, f, map[string]func(*yaml.Node, string){
				"connect": func(v *yaml.Node, f string) { d.duration(v, f, &t.Connect) },
				"read":    func(v *yaml.Node, f string) { d.duration(v, f, &t.Read) },
				"write":   func(v *yaml.Node, f string) { d.duration(v, f, &t.Write) },
				"idle":    func(v *yaml.Node, f string) { d.duration(v, f, &t.Idle) },
			})
		},
		"retries":        func(v *yaml.Node, f string) { d.integer(v, f, 0, 16, &u.Retries) },
		"proxy_protocol": func(v *yaml.Node, f string) { d.integer(v, f, 1, 2, &u.ProxyProtocol) },
	})
	if u.Selection == "" {
		u.Selection = DefaultSelection
	}
	if u.HashKey == "" {
		u.HashKey = DefaultHashKey
	}
	if len(u.Peers) == 0 {
		d.failf(n, path+".peers", "missing: an upstream needs at least one peer")
	}
	u.Timeouts.setDefaults()
	return u
}

func (hc *HealthCheck) setDefaults() {
	if hc.Type == "" {
		hc.Type = DefaultHealthCheckType
	}
	if hc.Type == "http" && hc.Path == "" {
		hc.Path = DefaultHealthCheckPath
	}
	if hc.Type == "http" && hc.Status == 0 {
		hc.Status = 200
	}
	if hc.Interval == 0 {
		hc.Interval = balancer.DefaultHealthCheckInterval
	}
	if hc.Timeout == 0 {
		hc.Timeout = balancer.DefaultHealthCheckTimeout
	}
	if hc.Rise == 0 {
		hc.Rise = 1
	}
	if hc.Fall == 0 {
		hc.Fall = 1
	}
}

func (t *Timeouts) setDefaults() {
	for _, f := range []struct {
		p   *time.Duration
		def time.Duration
	}{{&t.Connect, DefaultConnectTimeout}, {&t.Read, DefaultReadTimeout}, {&t.Write, DefaultWriteTimeout}, {&t.Idle, DefaultIdleTimeout}} {
		if *f.p == 0 {
			*f.p = f.def
		}
	}
}

// algorithms maps selection names to balancer algorithms.
var algorithms = map[string]balancer.Algorithm{
	"round_robin": balancer.RoundRobin,
	"random":      balancer.Random,
	"hash":        balancer.FNVHash,
	"ketama":      balancer.Ketama,
	"least_conn":  balancer.LeastConnections,
}

// checkKey validates a hash_key (uri allowed) or a rate_limit key.
func checkKey(k string, hash bool) error {
	switch {
	case k == "client_ip", hash && k == "uri":
		return nil
	case strings.HasPrefix(k, "header:"):
		if name := strings.TrimPrefix(k, "header:"); !validHeaderName(name) {
			return fmt.Errorf("%q is not a valid header name", name)
		}
		return nil
	case hash:
		return fmt.Errorf("%q is not uri, client_ip or header:NAME", k)
	default:
		return fmt.Errorf("%q is not client_ip or header:NAME", k)
	}
}

// checkHostPort validates a listen address without resolving it.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || n > math.MaxUint16 {
		return fmt.Errorf("%q: bad port %q", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%q: bad host %q", addr, host)
	}
	return nil
}

// checkPeerAddr validates a peer address without resolving it.
func checkPeerAddr(addr string) error {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		if p == "" {
			return errors.New("empty unix socket path")
		}
		return nil
	}
	if err := checkHostPort(addr); err != nil {
		return err
	}
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		return fmt.Errorf("%q: port 0", addr)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validHeaderValue reports whether s has no control characters but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// check runs the cross-field and file-system checks.
func (c *Config) check(d *decoder, dir string, files bool) {
	resolve := func(p *string) {
		if *p != "" && dir != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	names := make(map[string]int)
	addrs := make(map[string]string)
	used := make(map[string]bool)
	for i, s := range c.Services {
		path := "services[" + strconv.Itoa(i) + "]"
		if prev, dup := names[s.Name]; dup {
			d.failLine(s.line, path+".name", fmt.Errorf("duplicate service name %q, first used on line %d", s.Name, prev))
		}
		names[s.Name] = s.line
		for j := range s.Listen {
			l := &s.Listen[j]
			f := path + ".listen[" + strconv.Itoa(j) + "]"
			key := normAddr(l.Addr)
			if other, dup := addrs[key]; dup {
				d.failLine(l.line, f+".addr", fmt.Errorf("%s is already listened on by %s", l.Addr, other))
			}
			addrs[key] = "service " + strconv.Quote(s.Name)
			if l.TLS == nil {
				continue
			}
			resolve(&l.TLS.Cert)
			resolve(&l.TLS.Key)
			resolve(&l.TLS.ClientCA)
			if files && l.TLS.Cert != "" && l.TLS.Key != "" {
				if _, err := tlsbackend.LoadCertificate(l.TLS.Cert, l.TLS.Key); err != nil {
					d.failLine(l.line, f+".tls", err)
				}
			}
			if files && l.TLS.ClientCA != "" {
				if _, err := loadCAs(l.TLS.ClientCA); err != nil {
					d.failLine(l.line, f+".tls.client_ca", err)
				}
			}
		}
		for j, r := range s.Routes {
			used[r.Upstream] = true
			if r.Respond == nil && c.Upstream(r.Upstream) == nil {
				d.failLine(r.line, path+".routes["+strconv.Itoa(j)+"].upstream",
					fmt.Errorf("unknown upstream %q (defined: %s)", r.Upstream, c.upstreamNames()))
			}
		}
		if a := s.AccessLog; a != "stdout" && a != "stderr" && a != "off" {
			resolve(&s.AccessLog)
			if files {
				if err := checkParentDir(s.AccessLog); err != nil {
					d.failLine(s.line, path+".access_log", err)
				}
			}
		}
	}
	for _, u := range c.Upstreams {
		f := "upstreams." + u.Name
		if !used[u.Name] {
			d.warns = append(d.warns, &server.ConfWarning{Key: f, Line: u.line, Reason: "no route uses this upstream"})
		}
		if u.TLS != nil {
			resolve(&u.TLS.CA)
			if files && u.TLS.CA != "" {
				if _, err := loadCAs(u.TLS.CA); err != nil {
					d.failLine(u.line, f+".tls.ca", err)
				}
			}
			if u.TLS.Verify && u.TLS.SNI == "" {
				for _, p := range u.Peers {
					if strings.HasPrefix(p.Addr, "unix:") {
						d.failLine(p.line, f+".tls.sni", fmt.Errorf("a unix socket peer needs sni (or verify: false) to verify its certificate"))
						break
					}
				}
			}
		}
		if u.HealthCheck != nil && u.HealthCheck.Timeout > u.HealthCheck.Interval {
			d.warns = append(d.warns, &server.ConfWarning{Key: f + ".health_check.timeout", Line: u.line,
				Reason: "longer than the interval: checks will overlap their interval"})
		}
	}
	if c.Metrics.Listen != "" {
		if err := checkHostPort(c.Metrics.Listen); err != nil {
			d.failLine(c.Metrics.line, "metrics.listen", err)
		} else if other, dup := addrs[normAddr(c.Metrics.Listen)]; dup {
			d.failLine(c.Metrics.line, "metrics.listen", fmt.Errorf("%s is already listened on by %s", c.Metrics.Listen, other))
		}
	}
}

func (c *Config) upstreamNames() string {
	if len(c.Upstreams) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, u := range c.Upstreams {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(u.Name)
	}
	return b.String()
}

// normAddr gives equal keys to equal listen addresses ("localhost:80"
// and "127.0.0.1:80" are not unified: that needs resolving).
func normAddr(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return strings.ToLower(net.JoinHostPort(host, port))
}

// loadCAs reads a PEM bundle of certificates.
func loadCAs(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, cert)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return out, nil
}

// checkParentDir reports whether the directory of path exists.
func checkParentDir(path string) error {
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", filepath.Dir(path))
	}
	return nil
}

// parsePrefix parses a CIDR prefix or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
