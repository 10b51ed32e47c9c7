package server

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseConf parses a configuration with every field set, with n
// extra application keys (each ignored with a warning).
func BenchmarkParseConf(b *testing.B) {
	full := `---
version: 1
daemon: true
error_log: /var/log/pingora/error.log
pid_file: /run/pingora.pid
upgrade_sock: /run/pingora_upgrade.sock
user: www-data
group: www-data
working_directory: /srv
threads: 8
listener_tasks_per_fd: 2
ca_file: /etc/ssl/certs/ca-certificates.crt
grace_period_seconds: 60
graceful_shutdown_timeout_seconds: 5
client_bind_to_ipv4: [10.0.0.1, 10.0.0.2]
client_bind_to_ipv6: ["2001:db8::1"]
upstream_keepalive_pool_size: 256
upstream_debug_ssl_keylog: false
max_retries: 5
upgrade_sock_connect_accept_max_retries: 5
daemon_wait_for_ready: true
daemon_ready_timeout_seconds: 60
daemon_notify_timeout_seconds: 10
`
	for _, extra := range []int{0, 100} {
		var sb strings.Builder
		sb.WriteString(full)
		for i := range extra {
			fmt.Fprintf(&sb, "app_key_%d: value %d\n", i, i)
		}
		data := []byte(sb.String())
		b.Run(fmt.Sprintf("extra=%d", extra), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := ParseConf(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
