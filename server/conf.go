package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Defaults of [Conf] fields, applied by [ParseConf], [LoadConf] and
// [DefaultConf] to zero fields.
const (
	DefaultPIDFile                   = "/tmp/pingora.pid"
	DefaultUpgradeSock               = "/tmp/pingora_upgrade.sock"
	DefaultThreads                   = 1
	DefaultListenerTasksPerFD        = 1
	DefaultGracePeriodSeconds        = 300
	DefaultGracefulShutdownTimeout   = 5
	DefaultUpstreamKeepalivePoolSize = 128
	DefaultMaxRetries                = 16
	DefaultUpgradeSockMaxRetries     = 5
	DefaultDaemonReadyTimeoutSeconds = 600
	DefaultDaemonNotifyTimeout       = 60
)

// Conf is the server configuration, read from YAML with the key names of
// Pingora's ServerConf. Every field is optional; zero fields take the
// defaults stated on each (fill them with [Conf.SetDefaults]). Keys this
// port does not know are ignored with a [ConfWarning], so a file may carry
// the application's own settings; keys of Pingora that mean nothing in Go
// (work_stealing, max_blocking_threads, …) are accepted with a warning
// saying so.
type Conf struct {
	// Version is the configuration format version; 1 in every file Pingora
	// documents. If zero, 1.
	Version int `yaml:"version"`
	// Daemon runs the server in the background (see [Server.Run]). The -d
	// flag forces it on. If false, the server stays in the foreground.
	Daemon bool `yaml:"daemon"`
	// ErrorLog is a file the server's log (log/slog, text format) is
	// appended to; when daemonized, the daemon's stdout and stderr go there
	// too. If empty, the log goes to stderr.
	ErrorLog string `yaml:"error_log"`
	// PIDFile is where the daemon writes its process id; an existing file
	// is renamed to PIDFile+".old" first. Only written in daemon mode. If
	// empty, DefaultPIDFile (/tmp/pingora.pid).
	PIDFile string `yaml:"pid_file"`
	// UpgradeSock is the Unix socket path over which a graceful upgrade
	// hands the listening sockets to the new process. If empty,
	// DefaultUpgradeSock (/tmp/pingora_upgrade.sock).
	UpgradeSock string `yaml:"upgrade_sock"`
	// User is the user the process switches to once its sockets are bound,
	// when it runs as root (supplementary groups are set to the user's
	// primary group). If empty, the user is not changed.
	User string `yaml:"user"`
	// Group is the group the process switches to, as User. If empty and
	// User is set, User's primary group.
	Group string `yaml:"group"`
	// WorkingDirectory is the daemon's working directory. If empty, the
	// daemon keeps the directory it was started in.
	WorkingDirectory string `yaml:"working_directory"`
	// Threads is the worker count a service should use when it has no
	// preference of its own (Pingora's per-service thread count); Go
	// schedules goroutines itself, so the server only passes it on. If
	// zero, 1.
	Threads int `yaml:"threads"`
	// ListenerTasksPerFD is the number of goroutines accepting on each
	// listening socket. If zero, 1.
	ListenerTasksPerFD int `yaml:"listener_tasks_per_fd"`
	// CAFile is a PEM bundle of CAs trusted for upstream TLS. If empty, the
	// system trust store.
	CAFile string `yaml:"ca_file"`
	// GracePeriodSeconds bounds a graceful shutdown: in-flight requests
	// and background services get this long to finish before connections
	// are closed. The server exits as soon as everything is done, without
	// waiting out the period. If zero, 300.
	GracePeriodSeconds int `yaml:"grace_period_seconds"`
	// GracefulShutdownTimeoutSeconds is how long the server waits, once the
	// grace period is over (or at once on a fast shutdown), for connections
	// and services it has told to stop to return. If zero, 5.
	GracefulShutdownTimeoutSeconds int `yaml:"graceful_shutdown_timeout_seconds"`
	// ClientBindToIPv4 are source addresses for upstream IPv4 connections,
	// one picked at random per connect. If empty, the system chooses.
	ClientBindToIPv4 []string `yaml:"client_bind_to_ipv4"`
	// ClientBindToIPv6 are source addresses for upstream IPv6 connections.
	// If empty, the system chooses.
	ClientBindToIPv6 []string `yaml:"client_bind_to_ipv6"`
	// UpstreamKeepalivePoolSize is the size of the upstream connection
	// pool. If zero, 128.
	UpstreamKeepalivePoolSize int `yaml:"upstream_keepalive_pool_size"`
	// UpstreamDebugSSLKeylog writes upstream TLS keys to the file named by
	// the SSLKEYLOGFILE environment variable. If false, keys are not logged.
	UpstreamDebugSSLKeylog bool `yaml:"upstream_debug_ssl_keylog"`
	// MaxRetries caps the proxy's attempts at a request whose errors are
	// retryable. If zero, 16.
	MaxRetries int `yaml:"max_retries"`
	// UpgradeSockConnectAcceptMaxRetries bounds the upgrade handshake: the
	// old process tries to connect to UpgradeSock, and the new one waits
	// for it, for about this many seconds plus one. If zero, 5.
	UpgradeSockConnectAcceptMaxRetries int `yaml:"upgrade_sock_connect_accept_max_retries"`
	// DaemonWaitForReady makes the process started with -d wait until the
	// daemon has bound its sockets (and received them, in an upgrade)
	// before it exits, with status 0 if the daemon is ready and 1 if it
	// died or timed out. If false, it exits as soon as the daemon starts.
	DaemonWaitForReady bool `yaml:"daemon_wait_for_ready"`
	// DaemonReadyTimeoutSeconds bounds that wait. If zero, 600.
	DaemonReadyTimeoutSeconds int `yaml:"daemon_ready_timeout_seconds"`
	// DaemonNotifyTimeoutSeconds is accepted for Pingora compatibility: the
	// daemon reports readiness over a pipe, which cannot fail the way
	// Pingora's SIGUSR1 can, so there is nothing to retry. If zero, 60.
	DaemonNotifyTimeoutSeconds int `yaml:"daemon_notify_timeout_seconds"`
}

// ignoredKeys are Pingora ServerConf keys with no meaning in Go: accepted,
// with a warning.
var ignoredKeys = map[string]string{
	"work_stealing":                            "Go schedules goroutines itself",
	"s2n_config_cache_size":                    "there is no s2n backend",
	"max_blocking_threads":                     "Go has no blocking thread pool to cap",
	"blocking_threads_ttl_seconds":             "Go has no blocking thread pool",
	"upstream_connect_offload_threadpools":     "Go connects without offload pools",
	"upstream_connect_offload_thread_per_pool": "Go connects without offload pools",
}

// DefaultConf returns the configuration used when no file is given:
// version 1 and every other field at its default.
func DefaultConf() *Conf {
	c := &Conf{}
	c.SetDefaults()
	return c
}

// SetDefaults replaces every zero field that has a default with it.
func (c *Conf) SetDefaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Version, 1)
	def(&c.Threads, DefaultThreads)
	def(&c.ListenerTasksPerFD, DefaultListenerTasksPerFD)
	def(&c.GracePeriodSeconds, DefaultGracePeriodSeconds)
	def(&c.GracefulShutdownTimeoutSeconds, DefaultGracefulShutdownTimeout)
	def(&c.UpstreamKeepalivePoolSize, DefaultUpstreamKeepalivePoolSize)
	def(&c.MaxRetries, DefaultMaxRetries)
	def(&c.UpgradeSockConnectAcceptMaxRetries, DefaultUpgradeSockMaxRetries)
	def(&c.DaemonReadyTimeoutSeconds, DefaultDaemonReadyTimeoutSeconds)
	def(&c.DaemonNotifyTimeoutSeconds, DefaultDaemonNotifyTimeout)
	if c.PIDFile == "" {
		c.PIDFile = DefaultPIDFile
	}
	if c.UpgradeSock == "" {
		c.UpgradeSock = DefaultUpgradeSock
	}
}

// Validate reports every value that cannot be used, without touching the
// file system: negative counts and source addresses that are not IP
// addresses of their family. The errors are joined with [errors.Join].
func (c *Conf) Validate() error {
	var errs []error
	ints := []struct {
		name string
		v    int
	}{
		{"version", c.Version}, {"threads", c.Threads},
		{"listener_tasks_per_fd", c.ListenerTasksPerFD},
		{"grace_period_seconds", c.GracePeriodSeconds},
		{"graceful_shutdown_timeout_seconds", c.GracefulShutdownTimeoutSeconds},
		{"upstream_keepalive_pool_size", c.UpstreamKeepalivePoolSize},
		{"max_retries", c.MaxRetries},
		{"upgrade_sock_connect_accept_max_retries", c.UpgradeSockConnectAcceptMaxRetries},
		{"daemon_ready_timeout_seconds", c.DaemonReadyTimeoutSeconds},
		{"daemon_notify_timeout_seconds", c.DaemonNotifyTimeoutSeconds},
	}
	for _, f := range ints {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("server: conf %s: negative value %d", f.name, f.v))
		}
	}
	for _, b := range []struct {
		name string
		ips  []string
	}{{"client_bind_to_ipv4", c.ClientBindToIPv4}, {"client_bind_to_ipv6", c.ClientBindToIPv6}} {
		for _, s := range b.ips {
			if err := checkIP(s, ipFields[b.name]); err != nil {
				errs = append(errs, fmt.Errorf("server: conf %s: %w", b.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ipFields are the keys holding source addresses: true for IPv4.
var ipFields = map[string]bool{"client_bind_to_ipv4": true, "client_bind_to_ipv6": false}

// checkIP reports whether s is an IP address of the family.
func checkIP(s string, v4 bool) error {
	ip, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return err
	case v4 && !ip.Is4():
		return fmt.Errorf("%s is not an IPv4 address", s)
	case !v4 && (!ip.Is6() || ip.Is4In6()):
		return fmt.Errorf("%s is not an IPv6 address", s)
	}
	return nil
}

// GracePeriod returns GracePeriodSeconds as a duration, its default filled.
func (c *Conf) GracePeriod() time.Duration {
	return seconds(c.GracePeriodSeconds, DefaultGracePeriodSeconds)
}

// GracefulShutdownTimeout returns GracefulShutdownTimeoutSeconds as a
// duration, its default filled.
func (c *Conf) GracefulShutdownTimeout() time.Duration {
	return seconds(c.GracefulShutdownTimeoutSeconds, DefaultGracefulShutdownTimeout)
}

func seconds(n, def int) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

// ConfWarning is a key of the configuration file the server does not use.
type ConfWarning struct {
	// Key is the key as written.
	Key string
	// Line is its line in the file, counting from 1.
	Line int
	// Reason says why the key is ignored.
	Reason string
}

// Error returns e.g. `server: conf line 3: key "foo" ignored: unknown key`.
func (w *ConfWarning) Error() string {
	return fmt.Sprintf("server: conf line %d: key %q ignored: %s", w.Line, w.Key, w.Reason)
}

// ConfError is a value of the configuration file that cannot be used.
type ConfError struct {
	// Field is the key of the bad value; empty when the document itself is
	// malformed.
	Field string
	// Line is the line of the value, counting from 1; zero if unknown.
	Line int
	// Err is the cause.
	Err error
}

// Error returns e.g. "server: conf line 4: threads: cannot use "two" as an integer".
func (e *ConfError) Error() string {
	var b strings.Builder
	b.WriteString("server: conf")
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Err.
func (e *ConfError) Unwrap() error { return e.Err }

// confField maps a YAML key to the index of its Conf field.
var confField = func() map[string]int {
	m := make(map[string]int)
	t := reflect.TypeFor[Conf]()
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("yaml")] = i
	}
	return m
}()

// ParseConf parses a YAML configuration and fills the defaults. An empty
// document is the default configuration. Unknown keys do not fail the
// parse: each is returned as a warning with its line. A value that does
// not fit its field, a duplicate key, a document that is not a mapping, or
// a value [Conf.Validate] rejects is a *[ConfError] naming the field and
// its line.
func ParseConf(data []byte) (*Conf, []*ConfWarning, error) {
	c := &Conf{}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, &ConfError{Err: fmt.Errorf("invalid yaml: %w", err)}
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, nil, &ConfError{Line: more.Line, Err: errors.New("more than one yaml document")}
	}
	var warns []*ConfWarning
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			root = nil
		}
		if root != nil && root.Kind != yaml.MappingNode {
			return nil, nil, &ConfError{Line: root.Line, Err: errors.New("the document is not a mapping of keys to values")}
		}
		if root != nil {
			var err error
			if warns, err = decodeConf(c, root); err != nil {
				return nil, nil, err
			}
		}
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, nil, &ConfError{Err: err}
	}
	return c, warns, nil
}

// decodeConf sets c's fields from the keys of m, one at a time, so that an
// error names its key and line.
func decodeConf(c *Conf, m *yaml.Node) ([]*ConfWarning, error) {
	var warns []*ConfWarning
	seen := make(map[string]int)
	v := reflect.ValueOf(c).Elem()
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, val := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &ConfError{Line: k.Line, Err: errors.New("a key must be a plain string")}
		}
		key := k.Value
		if prev, dup := seen[key]; dup {
			return nil, &ConfError{Field: key, Line: k.Line, Err: fmt.Errorf("duplicate key, first set on line %d", prev)}
		}
		seen[key] = k.Line
		idx, ok := confField[key]
		if !ok {
			reason := "unknown key"
			if r, ign := ignoredKeys[key]; ign {
				reason = "no effect in pingora-go: " + r
			}
			warns = append(warns, &ConfWarning{Key: key, Line: k.Line, Reason: reason})
			continue
		}
		if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
			continue // "key:" or "key: ~" keeps the default
		}
		if err := decodeValue(v.Field(idx), val); err != nil {
			return nil, &ConfError{Field: key, Line: val.Line, Err: err}
		}
		if v4, isIP := ipFields[key]; isIP {
			for _, e := range val.Content {
				if err := checkIP(e.Value, v4); err != nil {
					return nil, &ConfError{Field: key, Line: e.Line, Err: err}
				}
			}
		}
	}
	return warns, nil
}

// decodeValue sets f from n, strictly: an integer field takes only a YAML
// integer (not 1.5, not "3"), a bool only true or false, a string any
// scalar, a list of strings a sequence of scalars.
func decodeValue(f reflect.Value, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch f.Kind() {
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return want("an integer", n)
		}
		var i int
		if err := n.Decode(&i); err != nil {
			return want("an integer", n)
		}
		if i < 0 {
			return want("an integer of at least 0", n)
		}
		f.SetInt(int64(i))
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return want("true or false", n)
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return want("true or false", n)
		}
		f.SetBool(b)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return want("a string", n)
		}
		f.SetString(n.Value)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return want("a list of strings", n)
		}
		list := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			if e.Kind == yaml.AliasNode && e.Alias != nil {
				e = e.Alias
			}
			if e.Kind != yaml.ScalarNode {
				return want("a string", e)
			}
			list = append(list, e.Value)
		}
		f.Set(reflect.ValueOf(list))
	default:
		panic("server: conf field of unexpected kind " + f.Kind().String())
	}
	return nil
}

// want describes a value of the wrong type.
func want(what string, n *yaml.Node) error {
	var got string
	switch n.Kind {
	case yaml.ScalarNode:
		got = strconv.Quote(n.Value)
	case yaml.SequenceNode:
		got = "a sequence"
	case yaml.MappingNode:
		got = "a mapping"
	case yaml.AliasNode:
		got = "an alias"
	default:
		got = "a document"
	}
	return fmt.Errorf("want %s, got %s", what, got)
}

// LoadConf reads and parses the configuration file at path (see
// [ParseConf]).
func LoadConf(path string) (*Conf, []*ConfWarning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("server: read conf: %w", err)
	}
	c, w, err := ParseConf(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, w, nil
}
