package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConf_Fields(t *testing.T) {
	def := DefaultConf()
	with := func(f func(c *Conf)) *Conf {
		c := *def
		f(&c)
		return &c
	}
	tests := []struct {
		name string
		yaml string
		want *Conf
	}{
		{"empty", "", def},
		{"version only", "---\nversion: 1\n", def},
		{"null document", "~\n", def},
		{"null value keeps default", "threads:\n", def},
		{"version", "version: 2", with(func(c *Conf) { c.Version = 2 })},
		{"daemon", "daemon: true", with(func(c *Conf) { c.Daemon = true })},
		{"error_log", "error_log: /var/log/p.log", with(func(c *Conf) { c.ErrorLog = "/var/log/p.log" })},
		{"pid_file", "pid_file: /run/p.pid", with(func(c *Conf) { c.PIDFile = "/run/p.pid" })},
		{"upgrade_sock", "upgrade_sock: /run/u.sock", with(func(c *Conf) { c.UpgradeSock = "/run/u.sock" })},
		{"user", "user: www", with(func(c *Conf) { c.User = "www" })},
		{"group", "group: www", with(func(c *Conf) { c.Group = "www" })},
		{"working_directory", "working_directory: /srv", with(func(c *Conf) { c.WorkingDirectory = "/srv" })},
		{"threads", "threads: 8", with(func(c *Conf) { c.Threads = 8 })},
		{"listener_tasks_per_fd", "listener_tasks_per_fd: 4", with(func(c *Conf) { c.ListenerTasksPerFD = 4 })},
		{"ca_file", "ca_file: /etc/ca.pem", with(func(c *Conf) { c.CAFile = "/etc/ca.pem" })},
		{"grace_period_seconds", "grace_period_seconds: 10", with(func(c *Conf) { c.GracePeriodSeconds = 10 })},
		{"graceful_shutdown_timeout_seconds", "graceful_shutdown_timeout_seconds: 2", with(func(c *Conf) { c.GracefulShutdownTimeoutSeconds = 2 })},
		{"client_bind_to_ipv4", "client_bind_to_ipv4: [10.0.0.1, 10.0.0.2]", with(func(c *Conf) { c.ClientBindToIPv4 = []string{"10.0.0.1", "10.0.0.2"} })},
		{"client_bind_to_ipv6", "client_bind_to_ipv6:\n  - ::1\n", with(func(c *Conf) { c.ClientBindToIPv6 = []string{"::1"} })},
		{"upstream_keepalive_pool_size", "upstream_keepalive_pool_size: 32", with(func(c *Conf) { c.UpstreamKeepalivePoolSize = 32 })},
		{"upstream_debug_ssl_keylog", "upstream_debug_ssl_keylog: true", with(func(c *Conf) { c.UpstreamDebugSSLKeylog = true })},
		{"max_retries", "max_retries: 5", with(func(c *Conf) { c.MaxRetries = 5 })},
		{"upgrade_sock_connect_accept_max_retries", "upgrade_sock_connect_accept_max_retries: 9", with(func(c *Conf) { c.UpgradeSockConnectAcceptMaxRetries = 9 })},
		{"daemon_wait_for_ready", "daemon_wait_for_ready: true", with(func(c *Conf) { c.DaemonWaitForReady = true })},
		{"daemon_ready_timeout_seconds", "daemon_ready_timeout_seconds: 30", with(func(c *Conf) { c.DaemonReadyTimeoutSeconds = 30 })},
		{"daemon_notify_timeout_seconds", "daemon_notify_timeout_seconds: 3", with(func(c *Conf) { c.DaemonNotifyTimeoutSeconds = 3 })},
		{"quick start file", "---\nversion: 1\nthreads: 2\npid_file: /tmp/load_balancer.pid\nerror_log: /tmp/load_balancer_err.log\nupgrade_sock: /tmp/load_balancer.sock\n",
			with(func(c *Conf) {
				c.Threads = 2
				c.PIDFile = "/tmp/load_balancer.pid"
				c.ErrorLog = "/tmp/load_balancer_err.log"
				c.UpgradeSock = "/tmp/load_balancer.sock"
			})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warns, err := ParseConf([]byte(tc.yaml))
			require.NoError(t, err)
			assert.Empty(t, warns)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDefaultConf(t *testing.T) {
	c := DefaultConf()
	assert.Equal(t, 1, c.Version)
	assert.Equal(t, "/tmp/pingora.pid", c.PIDFile)
	assert.Equal(t, "/tmp/pingora_upgrade.sock", c.UpgradeSock)
	assert.Equal(t, 1, c.Threads)
	assert.Equal(t, 1, c.ListenerTasksPerFD)
	assert.Equal(t, 300*time.Second, c.GracePeriod())
	assert.Equal(t, 5*time.Second, c.GracefulShutdownTimeout())
	assert.Equal(t, 128, c.UpstreamKeepalivePoolSize)
	assert.Equal(t, 16, c.MaxRetries)
	assert.Equal(t, 5, c.UpgradeSockConnectAcceptMaxRetries)
	assert.Equal(t, 600, c.DaemonReadyTimeoutSeconds)
	assert.Equal(t, 60, c.DaemonNotifyTimeoutSeconds)
	assert.False(t, c.Daemon)
	assert.Empty(t, c.ErrorLog)
	assert.Empty(t, c.User)
}

func TestParseConf_Warnings(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		key    string
		line   int
		reason string
	}{
		{"unknown key", "version: 1\nmy_app_setting: 3\n", "my_app_setting", 2, "unknown key"},
		{"unknown nested", "version: 1\nthreads: 2\nupstreams:\n  - a: 1\n", "upstreams", 3, "unknown key"},
		{"rust only", "work_stealing: false\n", "work_stealing", 1, "no effect in pingora-go"},
		{"max_blocking_threads", "\n\nmax_blocking_threads: 0\n", "max_blocking_threads", 3, "no effect in pingora-go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warns, err := ParseConf([]byte(tc.yaml))
			require.NoError(t, err)
			require.NotNil(t, c)
			require.Len(t, warns, 1)
			w := warns[0]
			assert.Equal(t, tc.key, w.Key)
			assert.Equal(t, tc.line, w.Line)
			assert.Contains(t, w.Reason, tc.reason)
			assert.Contains(t, w.Error(), tc.key)
			assert.Contains(t, w.Error(), "line ")
		})
	}
}

func TestParseConf_Errors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		field string
		line  int
		msg   string
	}{
		{"string for int", "version: 1\nthreads: two\n", "threads", 2, `want an integer, got "two"`},
		{"float for int", "grace_period_seconds: 1.5", "grace_period_seconds", 1, `want an integer, got "1.5"`},
		{"bool", "\n\ndaemon: maybe\n", "daemon", 3, `want true or false, got "maybe"`},
		{"list for string", "pid_file: [a, b]", "pid_file", 1, "want a string, got a sequence"},
		{"nested list", "client_bind_to_ipv6: [[a]]", "client_bind_to_ipv6", 1, "want a string, got a sequence"},
		{"map for list", "client_bind_to_ipv4: {a: 1}", "client_bind_to_ipv4", 1, "want a list of strings, got a mapping"},
		{"duplicate", "threads: 1\nthreads: 2\n", "threads", 2, "first set on line 1"},
		{"not a mapping", "- a\n- b\n", "", 1, "not a mapping"},
		{"bad yaml", "threads: [1,\n", "", 0, "invalid yaml"},
		{"two documents", "threads: 1\n---\nthreads: 2\n", "", 0, "more than one"},
		{"int overflow", "threads: 99999999999999999999", "threads", 1, "want an integer"},
		{"negative", "threads: -1", "threads", 1, `want an integer of at least 0, got "-1"`},
		{"bad ipv4", "client_bind_to_ipv4: ['::1']", "client_bind_to_ipv4", 1, "::1 is not an IPv4 address"},
		{"bad ipv6", "client_bind_to_ipv6:\n  - ::1\n  - 1.2.3.4\n", "client_bind_to_ipv6", 3, "1.2.3.4 is not an IPv6 address"},
		{"not an ip", "client_bind_to_ipv4: [foo]", "client_bind_to_ipv4", 1, `ParseAddr("foo")`},
		{"key not scalar", "[a]: 1", "", 1, "plain string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := ParseConf([]byte(tc.yaml))
			require.Error(t, err)
			assert.Nil(t, c)
			var ce *ConfError
			require.True(t, errors.As(err, &ce), "%T %v", err, err)
			assert.Equal(t, tc.field, ce.Field)
			if tc.line > 0 {
				assert.Equal(t, tc.line, ce.Line)
			}
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "server: conf"), err.Error())
			if tc.field != "" {
				assert.Contains(t, err.Error(), tc.field)
			}
		})
	}
}

func TestLoadConf(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("version: 1\nthreads: 3\nextra: x\n"), 0o644))
	c, warns, err := LoadConf(good)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Threads)
	require.Len(t, warns, 1)

	_, _, err = LoadConf(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("threads: x\n"), 0o644))
	_, _, err = LoadConf(bad)
	var ce *ConfError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), bad)
}

func TestNew_Conf(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte("threads: 4\nunknown_thing: 1\n"), 0o644))
	s, err := New(&Opt{Conf: p, Daemon: true})
	require.NoError(t, err)
	assert.Equal(t, 4, s.Conf().Threads)
	assert.True(t, s.Conf().Daemon)
	assert.Len(t, s.Warnings(), 1)

	s, err = New(nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultConf(), s.Conf())

	_, err = New(&Opt{Conf: filepath.Join(dir, "none.yaml")})
	assert.Error(t, err)

	s, err = NewWithConf(&Opt{Conf: p}, &Conf{Threads: 9})
	require.NoError(t, err)
	assert.Equal(t, 9, s.Conf().Threads)
	assert.Equal(t, 16, s.Conf().MaxRetries)
	assert.Len(t, s.Warnings(), 1, "the ignored -c is reported")

	_, err = NewWithConf(nil, &Conf{MaxRetries: -1})
	assert.Error(t, err)
}

func FuzzParseConf(f *testing.F) {
	for _, s := range []string{
		"", "version: 1\n", "threads: two", "- a", "a: [1, 2", "client_bind_to_ipv4: [1.2.3.4]",
		"---\nversion: 1\nthreads: 2\npid_file: /tmp/x.pid\nerror_log: /tmp/e.log\nupgrade_sock: /tmp/u.sock\n",
		"threads: 1\nthreads: 2", "&a x: *a", "? [a]\n: 1", "grace_period_seconds: 99999999999999999999",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, warns, err := ParseConf(data)
		if err != nil {
			if c != nil || warns != nil {
				t.Fatalf("error %v with a result", err)
			}
			var ce *ConfError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *ConfError: %v", err, err)
			}
			return
		}
		if c.Validate() != nil || c.PIDFile == "" || c.Threads == 0 {
			t.Fatalf("accepted conf without defaults or invalid: %+v", c)
		}
	})
}
