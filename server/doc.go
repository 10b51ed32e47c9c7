// Package server runs a process that hosts network services, with
// Pingora's lifecycle: YAML configuration, command line, listening and
// background services, graceful shutdown and zero-downtime binary upgrade.
//
// It ports the server part of Cloudflare Pingora's pingora-core crate
// (server/mod.rs, server/configuration, services, server/daemon.rs). The
// module's subpackages hold the rest of pingora-core:
//
//   - server/listener: TCP, Unix and TLS listeners, and the table of
//     listening sockets that survive an upgrade;
//   - server/upgrade: hands listening sockets to the new process over a
//     Unix socket (SCM_RIGHTS);
//   - server/protocol/http1 and server/protocol/http2: the HTTP codecs;
//   - server/peer: an upstream peer (address, TLS, ALPN, timeouts) and the
//     key that decides which pooled connections are interchangeable;
//   - server/connector: pooled-or-new upstream connections, TCP and TLS
//     through tlsbackend, HTTP/1 sessions and multiplexed HTTP/2 streams;
//   - server/metrics: the Prometheus metrics service and collectors.
//
// # Usage
//
//	opt, err := server.ParseOpt(os.Args[1:], os.Stderr) // -c -t -d -u
//	s, err := server.New(opt)                             // loads -c, merges -d
//	svc := server.NewListeningService("echo", myApp)     // myApp: a server.App
//	svc.AddTCP("0.0.0.0:6142")
//	s.AddListening(svc)
//	s.RunForever() // serves until a signal, then exits
//
// # Signals
//
// SIGTERM is a graceful shutdown: the server stops accepting, closes the
// shutdown channel every [App] receives (apps finish the request in flight
// and close idle keep-alive connections), cancels background services, and
// exits as soon as all of them have returned. Only what is still running
// after Conf.GracePeriodSeconds is closed by force; unlike Pingora, the
// server never sleeps out the grace period. SIGINT is a fast shutdown:
// everything is closed at once.
//
// SIGQUIT is a graceful upgrade. Start the new binary with -u (it waits on
// Conf.UpgradeSock), then send SIGQUIT to the old one, or the other way
// round within Conf.UpgradeSockConnectAcceptMaxRetries seconds. The old
// process sends every listening socket, keyed by its configured address;
// the new one adopts them, starts serving, and acknowledges; only then does
// the old process stop accepting and drain as on SIGTERM. The sockets are
// never closed, so no connection is refused. If the new process does not
// come, or fails before it acknowledges, the old one logs why and keeps
// serving.
//
// # Daemon
//
// Go cannot fork a running process, so -d (or Conf.Daemon) starts the same
// executable again with the same arguments, detached in a new session with
// umask 007 and its output appended to Conf.ErrorLog; that daemon writes
// Conf.PIDFile (renaming an existing one to .old). With
// Conf.DaemonWaitForReady the first process exits only once the daemon
// serves, with status 0, or 1 if it failed. Once its sockets are bound,
// a server running as root switches to Conf.User and Conf.Group, so
// privileged ports work; otherwise it logs that it keeps its user.
//
// # Defaults
//
// Every Conf field documents its zero value; [DefaultConf] is version 1,
// pid_file /tmp/pingora.pid, upgrade_sock /tmp/pingora_upgrade.sock,
// threads 1, listener_tasks_per_fd 1, grace_period_seconds 300,
// graceful_shutdown_timeout_seconds 5, upstream_keepalive_pool_size 128,
// max_retries 16, upgrade_sock_connect_accept_max_retries 5,
// daemon_ready_timeout_seconds 600, daemon_notify_timeout_seconds 60.
//
// # Concurrency
//
// Configure a Server (AddListening, AddBackground) from one goroutine,
// then call Run or RunForever once. Ready, Addrs, Logger, Conf and Test may
// be called from any goroutine. Apps are called on one goroutine per
// connection and must be safe for concurrent use.
package server
