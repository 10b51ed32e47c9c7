package umbrella

import (
	"context"
	"crypto/x509"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
	"github.com/pingora-go/pingora/server/metrics"
	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/prometheus/client_golang/prometheus"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultConfig returns the YAML the binary runs when started without -c:
// a load balancer on 127.0.0.1:6188 over two demo origins the same
// process serves on 127.0.0.1:6190 and 127.0.0.1:6191, HTTP health checks
// every second, and metrics on 127.0.0.1:6192.
func DefaultConfig() []byte { return append([]byte(nil), defaultYAML...) }

// Main runs the pingora binary with the process's arguments (args[0] is
// the program name) and returns its exit status; cmd/pingora calls
// os.Exit(Main(os.Args)).
//
//	pingora                 run the embedded default configuration
//	pingora -c FILE         run FILE
//	pingora -t [-c FILE]    validate, print every problem with its line; 0 ok, 1 not
//	pingora -d, -u          daemon, graceful upgrade (see package server)
//
// It returns 0 after a shutdown (SIGTERM, SIGINT) or a passed -t, 1 when
// the configuration is invalid or the server cannot start, 2 for a bad
// command line. SIGHUP reloads FILE (see the package documentation).
func Main(args []string) int {
	return runWith(context.Background(), args, Extensions{}, nil, nil, nil)
}

// Run is MainWith for a program that embeds the binary: it stops
// (gracefully, as on SIGTERM) when ctx is done, and writes what the
// binary prints on stdout and stderr to those writers (os.Stdout and
// os.Stderr if nil). It returns Main's exit status.
func Run(ctx context.Context, args []string, ext Extensions, stdout, stderr io.Writer) int {
	return runWith(ctx, args, ext, stdout, stderr, nil)
}

// run is Main with its environment; started, if not nil, is called once
// the server serves.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, started func(*instance)) int {
	return runWith(ctx, args, Extensions{}, stdout, stderr, started)
}

func runWith(ctx context.Context, args []string, ext Extensions, stdout, stderr io.Writer, started func(*instance)) int {
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	if len(args) == 0 {
		args = []string{"pingora"}
	}
	opt, err := server.ParseOpt(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, "\nWithout -c, runs the embedded demo configuration (a load balancer on 127.0.0.1:6188).\nSIGHUP reloads the configuration file.\n")
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprint(stderr, server.Usage)
		return 2
	}
	name := opt.Conf
	var cfg *Config
	var warns []*server.ConfWarning
	if opt.Conf == "" {
		name = "embedded default configuration"
		cfg, warns, err = ParseConfig(defaultYAML)
	} else {
		cfg, warns, err = LoadConfig(opt.Conf)
	}
	if cfg != nil {
		warns = append(warns, extensionWarnings(cfg, ext)...)
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s: %s\n", name, w)
	}
	if err != nil {
		for _, e := range errList(err) {
			fmt.Fprintf(stderr, "error: %s: %s\n", name, e)
		}
		if opt.Test {
			fmt.Fprintf(stderr, "umbrella: configuration test failed: %s\n", name)
		}
		return 1
	}
	in, err := buildWith(ctx, cfg, opt, ext, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "error: %s: %s\n", name, err)
		return 1
	}
	defer in.close()
	if opt.Test {
		if err := in.srv.Test(); err != nil {
			for _, e := range errList(err) {
				fmt.Fprintf(stderr, "error: %s: %s\n", name, e)
			}
			fmt.Fprintf(stderr, "umbrella: configuration test failed: %s\n", name)
			return 1
		}
		fmt.Fprintf(stderr, "umbrella: configuration test passed: %s\n", name)
		return 0
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-runCtx.Done():
		case <-in.srv.Ready():
			in.banner(stdout)
			if started != nil {
				started(in)
			}
		}
	}()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				in.reloadAndLog()
			}
		}
	}()
	if err := in.srv.Run(runCtx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// serverEnv is what every generation of the configuration shares.
type serverEnv struct {
	log       *slog.Logger
	format    string
	metrics   *metrics.Metrics
	routeReqs *prometheus.CounterVec
	caFile    []*x509.Certificate
	stdout    io.Writer
	stderr    io.Writer

	dryRun bool // -t: open no file

	filesMu sync.Mutex
	files   map[string]*os.File // access log files, kept open
}

// generation is one compiled configuration.
type generation struct {
	cfg       *Config
	upstreams map[string]*upstreamRT
	services  map[string]*compiledService
}

// instance is the running server: the services, their current
// generation, and the background task running the health checks.
type instance struct {
	env   *serverEnv
	srv   *server.Server
	conns *connector.Connector
	// upTLS runs the connector's upstream handshakes on this build's TLS
	// backend; the connector does not own it, so close closes it.
	upTLS *connector.BackendTLS
	apps  map[string]*svcApp
	tcp   map[string]*tcpApp // protocol: tcp services
	certs []*tlsbackend.CertStore
	// tracers are the services' tracers (Extensions.Tracing), shut down
	// by close.
	tracers []Tracer
	path    string

	mu    sync.Mutex
	gen   *generation
	bgCtx context.Context // set while Start runs
}

// buildWith compiles cfg into a server with ext, binding nothing.
func buildWith(ctx context.Context, cfg *Config, opt *server.Opt, ext Extensions, stdout, stderr io.Writer) (*instance, error) {
	o := *opt
	o.Conf = "" // the configuration is given here, not read by the server
	srv, err := server.NewWithConf(&o, cfg.Server)
	if err != nil {
		return nil, err
	}
	env := &serverEnv{stdout: stdout, stderr: stderr, files: make(map[string]*os.File), format: cfg.LogFormat, dryRun: opt.Test}
	logOut := stderr
	if cfg.Server.ErrorLog != "" && !opt.Test {
		f, err := os.OpenFile(cfg.Server.ErrorLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("umbrella: error_log: %w", err)
		}
		env.files[""] = f
		logOut = f
	}
	env.log = slog.New(newHandler(logOut, cfg.LogFormat, cfg.LogLevel))
	if cfg.Server.CAFile != "" {
		if env.caFile, err = loadCAs(cfg.Server.CAFile); err != nil {
			return nil, fmt.Errorf("umbrella: ca_file: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	if env.metrics, err = metrics.New(metrics.Options{Registerer: reg}); err != nil {
		return nil, err
	}
	env.routeReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Name: "route_requests_total",
		Help: "Requests by service, route (the upstream name, respond or none) and status code.",
	}, []string{"service", "route", "code"})
	reg.MustRegister(env.routeReqs)

	in := &instance{env: env, srv: srv, apps: make(map[string]*svcApp), tcp: make(map[string]*tcpApp), path: cfg.Path}
	// One TLS backend per build (backend_*.go) serves both directions:
	// listeners and the connector's upstream handshakes.
	backend, err := newTLSBackend()
	if err != nil {
		return nil, fmt.Errorf("umbrella: tls backend: %w", err)
	}
	if in.upTLS, err = connector.NewBackendTLS(backend); err != nil {
		return nil, err
	}
	if in.conns, err = connector.New(connector.Options{
		PoolSize: cfg.Server.UpstreamKeepalivePoolSize,
		TLS:      in.upTLS,
	}); err != nil {
		in.close()
		return nil, err
	}
	if in.gen, err = env.compile(ctx, cfg, nil); err != nil {
		in.close()
		return nil, err
	}
	for _, sc := range cfg.Services {
		if sc.Protocol == "tcp" {
			ta, err := newTCPApp(sc, in.gen.services[sc.Name], in.conns, env.log.With("service", sc.Name))
			if err != nil {
				in.close()
				return nil, fmt.Errorf("umbrella: service %s: %w", sc.Name, err)
			}
			in.tcp[sc.Name] = ta
			ls := server.NewListeningService(sc.Name, metrics.CountingApp(ta.px, env.metrics, sc.Name))
			if err := in.addListeners(ls, sc, backend); err != nil {
				in.close()
				return nil, err
			}
			srv.AddListening(ls)
			continue
		}
		app := &svcApp{name: sc.Name, metrics: env.metrics.Service(sc.Name), routeReqs: env.routeReqs}
		if ext.Tracing != nil && sc.Tracing.OTLPEndpoint != "" {
			tr, err := ext.Tracing(sc.Name, sc.Tracing)
			if err != nil {
				in.close()
				return nil, fmt.Errorf("umbrella: service %s: tracing: %w", sc.Name, err)
			}
			app.tracer = tr
			in.tracers = append(in.tracers, tr)
		}
		app.cur.Store(in.gen.services[sc.Name])
		px, err := proxy.New(app.hooks(), proxy.Options{
			MaxRetries:      cfg.Server.MaxRetries,
			H2C:             sc.H2C,
			XForwardedFor:   sc.XForwarded,
			XForwardedProto: sc.XForwarded,
			Connector:       in.conns,
			Logger:          env.log.With("service", sc.Name),
		})
		if err != nil {
			in.close()
			return nil, fmt.Errorf("umbrella: service %s: %w", sc.Name, err)
		}
		app.px = px
		in.apps[sc.Name] = app
		ls := server.NewListeningService(sc.Name, metrics.CountingApp(px, env.metrics, sc.Name))
		if err := in.addListeners(ls, sc, backend); err != nil {
			in.close()
			return nil, err
		}
		srv.AddListening(ls)
	}
	if cfg.Metrics.Listen != "" {
		ms := metrics.NewService(env.metrics)
		ms.AddTCP(cfg.Metrics.Listen)
		srv.AddListening(ms)
	}
	srv.AddBackground("upstream health checks", in)
	return in, nil
}

// addListeners adds a service's listen entries to ls: TLS on the build's
// backend, a PROXY protocol preamble where asked.
func (in *instance) addListeners(ls *server.ListeningService, sc *Service, backend tlsbackend.Backend) error {
	env := in.env
	for _, l := range sc.Listen {
		lc := listener.Config{Addr: l.Addr, NotSentLowat: l.NotSentLowat,
			OnError: func(err error) { env.log.Debug("listener", "error", err) }}
		if l.TLS != nil {
			hs, store, err := listenerTLS(backend, l.TLS)
			if err != nil {
				return fmt.Errorf("umbrella: service %s: listen %s: %w", sc.Name, l.Addr, err)
			}
			lc.TLS = hs
			in.certs = append(in.certs, store)
		}
		if l.ProxyProtocol {
			// Read before TLS, off the accept loop, within the
			// listener's handshake timeout.
			pp, err := proxyproto.NewHandshaker(proxyproto.Options{}, nil)
			if err != nil {
				return fmt.Errorf("umbrella: service %s: listen %s: %w", sc.Name, l.Addr, err)
			}
			lc.Preamble = trustedSources(l.ProxyProtocolFrom, pp)
		}
		ls.AddListener(lc)
	}
	return nil
}

// newHandler returns the log handler of a log_format and log_level.
func newHandler(w io.Writer, format, level string) slog.Handler {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(cmpOr(level, "info")))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// compile builds a generation from cfg, keeping the upstreams of prev
// whose configuration did not change (with their health state).
func (e *serverEnv) compile(ctx context.Context, cfg *Config, prev *generation) (*generation, error) {
	g := &generation{cfg: cfg, upstreams: make(map[string]*upstreamRT), services: make(map[string]*compiledService)}
	for _, u := range cfg.Upstreams {
		if prev != nil {
			if old := prev.upstreams[u.Name]; old != nil && old.sameAs(u) {
				g.upstreams[u.Name] = old
				continue
			}
		}
		rt, err := newUpstream(ctx, u, e)
		if err != nil {
			return nil, err
		}
		g.upstreams[u.Name] = rt
	}
	for _, s := range cfg.Services {
		cs := &compiledService{name: s.Name, headers: s.Headers, trace: s.Tracing.Traceparent}
		if s.Compression.Enabled {
			cs.compress = s.Compression.Level
		}
		for _, r := range s.Routes {
			cr := compiledRoute{host: r.Host, sni: r.SNI, prefix: r.PathPrefix, respond: r.Respond, label: "respond"}
			if r.Respond == nil {
				cr.up, cr.label = g.upstreams[r.Upstream], r.Upstream
			}
			cs.routes = append(cs.routes, cr)
		}
		if rl := s.RateLimit; rl != nil {
			var old *rateLimit
			if prev != nil && prev.services[s.Name] != nil {
				old = prev.services[s.Name].limit
			}
			if old != nil && old.conf == *rl {
				cs.limit = old
			} else {
				r, err := newRate()
				if err != nil {
					return nil, err
				}
				cs.limit = &rateLimit{conf: *rl, rate: r}
			}
		}
		w, err := e.accessWriter(s.AccessLog)
		if err != nil {
			return nil, fmt.Errorf("service %s: access_log: %w", s.Name, err)
		}
		if w != nil {
			cs.access = slog.New(newHandler(w, cfg.LogFormat, "info"))
		}
		g.services[s.Name] = cs
	}
	return g, nil
}

// accessWriter returns where an access_log value writes; nil for off.
func (e *serverEnv) accessWriter(dest string) (io.Writer, error) {
	switch dest {
	case "off":
		return nil, nil
	case "stdout", "":
		return e.stdout, nil
	case "stderr":
		return e.stderr, nil
	}
	if e.dryRun {
		return io.Discard, nil
	}
	e.filesMu.Lock()
	defer e.filesMu.Unlock()
	if f := e.files[dest]; f != nil {
		return f, nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	e.files[dest] = f
	return f, nil
}

// Start runs the health checks of the current generation's upstreams
// until ctx ends: the server's background task.
func (in *instance) Start(ctx context.Context) {
	in.mu.Lock()
	in.bgCtx = ctx
	for _, rt := range in.gen.upstreams {
		rt.start(ctx, in.env.log)
	}
	in.mu.Unlock()
	<-ctx.Done()
	in.mu.Lock()
	in.bgCtx = nil
	ups := in.gen.upstreams
	in.mu.Unlock()
	for _, rt := range ups {
		rt.stop()
	}
}

// tracerShutdownTimeout bounds how long close waits for the tracers to
// flush their spans.
const tracerShutdownTimeout = 5 * time.Second

// close releases what build opened, flushing the tracers.
func (in *instance) close() {
	if len(in.tracers) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), tracerShutdownTimeout)
		for _, tr := range in.tracers {
			if err := tr.Shutdown(ctx); err != nil {
				in.env.log.Warn("tracer shutdown", "error", err)
			}
		}
		cancel()
		in.tracers = nil
	}
	for _, ta := range in.tcp {
		_ = ta.px.Close()
	}
	if in.conns != nil {
		_ = in.conns.Close()
	}
	if in.upTLS != nil {
		_ = in.upTLS.Close()
	}
	in.env.filesMu.Lock()
	for _, f := range in.env.files {
		_ = f.Close()
	}
	in.env.files = map[string]*os.File{}
	in.env.filesMu.Unlock()
}

// reloadAndLog reloads and logs the outcome.
func (in *instance) reloadAndLog() {
	if err := in.reload(context.Background()); err != nil {
		for _, e := range errList(err) {
			in.env.log.Error("configuration reload failed; the running configuration is unchanged", "file", in.path, "error", e)
		}
		return
	}
	in.env.log.Info("configuration reloaded", "file", in.path)
}

// reload re-reads the configuration file and swaps the routes,
// upstreams, limits and headers of every service; requests in flight
// finish with the generation they started with. Listener and server
// changes are logged: they need a graceful upgrade.
func (in *instance) reload(ctx context.Context) error {
	if in.path == "" {
		return errors.New("umbrella: running the embedded default configuration: nothing to reload (start with -c FILE)")
	}
	cfg, warns, err := LoadConfig(in.path)
	for _, w := range warns {
		in.env.log.Warn(w.Error(), "file", in.path)
	}
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	old := in.gen
	gen, err := in.env.compile(ctx, cfg, old)
	if err != nil {
		return err
	}
	if !sameServerConf(old.cfg.Server, cfg.Server) {
		in.env.log.Warn("server settings changed: they take effect with a restart or graceful upgrade (-u, SIGQUIT)")
	}
	if old.cfg.Metrics != cfg.Metrics {
		in.env.log.Warn("metrics.listen changed: it takes effect with a graceful upgrade (-u, SIGQUIT)")
	}
	for _, s := range cfg.Services {
		if prev := old.cfg.Service(s.Name); prev != nil && prev.Protocol != s.Protocol {
			in.env.log.Warn("a protocol change takes effect with a graceful upgrade (-u, SIGQUIT)", "service", s.Name)
		}
		if in.apps[s.Name] == nil && in.tcp[s.Name] == nil {
			in.env.log.Warn("new service ignored until a graceful upgrade (-u, SIGQUIT)", "service", s.Name)
			continue
		}
		if prev := old.cfg.Service(s.Name); prev != nil && (!sameListen(prev.Listen, s.Listen) || prev.H2C != s.H2C || prev.XForwarded != s.XForwarded) {
			in.env.log.Warn("listener, h2c and x_forwarded changes take effect with a graceful upgrade (-u, SIGQUIT)", "service", s.Name)
		}
		if prev := old.cfg.Service(s.Name); prev != nil && !sameExporter(prev.Tracing, s.Tracing) {
			in.env.log.Warn("tracing.otlp_endpoint, service_name and sample_ratio changes take effect with a graceful upgrade (-u, SIGQUIT)", "service", s.Name)
		}
	}
	for name := range in.tcp {
		if cfg.Service(name) == nil {
			in.env.log.Warn("service removed from the file keeps running its last configuration until a graceful upgrade", "service", name)
		}
	}
	for name := range in.apps {
		if cfg.Service(name) == nil {
			in.env.log.Warn("service removed from the file keeps running its last configuration until a graceful upgrade", "service", name)
		}
	}
	// Publish, then start the new upstreams and stop the dropped ones.
	in.gen = gen
	for _, s := range cfg.Services {
		// A service keeps its protocol until an upgrade: a generation
		// compiled for the other one is not published to it.
		if app := in.apps[s.Name]; app != nil && s.Protocol != "tcp" {
			app.cur.Store(gen.services[s.Name])
		}
		if ta := in.tcp[s.Name]; ta != nil && s.Protocol == "tcp" {
			ta.cur.Store(gen.services[s.Name])
		}
	}
	if in.bgCtx != nil {
		for _, rt := range gen.upstreams {
			rt.start(in.bgCtx, in.env.log)
		}
	}
	for name, rt := range old.upstreams {
		if gen.upstreams[name] != rt {
			rt.stop()
			for _, b := range rt.backends {
				in.env.metrics.RemoveBackend(name, b)
			}
			if nrt := gen.upstreams[name]; nrt != nil {
				for _, b := range nrt.backends {
					in.env.metrics.BackendHealth(name, b, true)
				}
			}
		}
	}
	for _, st := range in.certs {
		if err := st.Reload(); err != nil {
			in.env.log.Error("tls certificate reload failed; the old certificate stays", "error", err)
		}
	}
	return nil
}

func sameServerConf(a, b *server.Conf) bool {
	x, y := *a, *b
	x.Daemon, y.Daemon = false, false
	return reflect.DeepEqual(x, y)
}

// sameExporter reports whether two tracing sections export alike.
func sameExporter(a, b Tracing) bool {
	if a.OTLPEndpoint == "" && b.OTLPEndpoint == "" {
		return true
	}
	return a.OTLPEndpoint == b.OTLPEndpoint && a.ServiceName == b.ServiceName && a.SampleRatio == b.SampleRatio
}

// extensionWarnings are the keys cfg sets that need an extension ext
// lacks.
func extensionWarnings(cfg *Config, ext Extensions) []*server.ConfWarning {
	if ext.Tracing != nil {
		return nil
	}
	var out []*server.ConfWarning
	for _, s := range cfg.Services {
		if s.Tracing.OTLPEndpoint != "" {
			out = append(out, &server.ConfWarning{Key: "services." + s.Name + ".tracing.otlp_endpoint", Line: s.Tracing.line,
				Reason: "needs the pingora binary built from umbrella/otel (go install github.com/pingora-go/pingora/umbrella/otel/cmd/pingora@latest); spans are not exported"})
		}
	}
	return out
}

// trustedSources runs next only for connections from one of from (all
// when from is empty); any other is refused before a byte is read.
func trustedSources(from []netip.Prefix, next listener.Handshaker) listener.Handshaker {
	if len(from) == 0 {
		return next
	}
	return listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		var ip netip.Addr
		if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
			ip, _ = netip.AddrFromSlice(ta.IP)
			ip = ip.Unmap()
		}
		for _, p := range from {
			if p.Contains(ip) {
				return next.Handshake(ctx, raw)
			}
		}
		return nil, fmt.Errorf("umbrella: %v may not send a PROXY protocol header (proxy_protocol_from)", raw.RemoteAddr())
	})
}

func sameListen(a, b []Listen) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Addr != b[i].Addr || a[i].ProxyProtocol != b[i].ProxyProtocol || !slices.Equal(a[i].ProxyProtocolFrom, b[i].ProxyProtocolFrom) ||
			(a[i].TLS == nil) != (b[i].TLS == nil) || a[i].TLS != nil && *a[i].TLS != *b[i].TLS {
			return false
		}
	}
	return true
}

// banner prints where the server listens, and for the embedded default
// what to try.
func (in *instance) banner(w io.Writer) {
	addrs := in.srv.Addrs()
	i := 0
	in.mu.Lock()
	cfg := in.gen.cfg
	in.mu.Unlock()
	for _, s := range cfg.Services {
		for _, l := range s.Listen {
			scheme := "http"
			if l.TLS != nil {
				scheme = "https"
			}
			a := l.Addr
			if i < len(addrs) {
				a = addrs[i].String()
			}
			i++
			fmt.Fprintf(w, "pingora: service %s listening on %s://%s/\n", s.Name, scheme, a)
		}
	}
	if cfg.Metrics.Listen != "" {
		a := cfg.Metrics.Listen
		if i < len(addrs) {
			a = addrs[i].String()
		}
		fmt.Fprintf(w, "pingora: metrics on http://%s/metrics\n", a)
	}
	if in.path == "" {
		fmt.Fprintf(w, "pingora: running the built-in demo; try:\n  curl -i http://%s/\n(repeat: requests alternate between the two demo origins; Ctrl-C stops)\n",
			strings.TrimSuffix(firstAddr(addrs), "/"))
	}
}

func firstAddr(addrs []net.Addr) string {
	if len(addrs) == 0 {
		return "127.0.0.1:6188"
	}
	return addrs[0].String()
}
