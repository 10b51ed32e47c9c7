// Package benchsrv runs the pingora-go programs of tools/bench: one
// server.App on one listener, under a server.Server that shuts down
// within about a second.
package benchsrv

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
)

// Logger logs at warn to stderr: the benchmarks log nothing per request.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Run serves app on lc until the process is signalled. Once it serves it
// prints "listening on ADDR" on stdout, which run.sh waits for; any
// error ends the process with a message prefixed by name.
func Run(name string, app server.App, lc listener.Config) {
	s, err := server.NewWithConf(nil, &server.Conf{
		GracePeriodSeconds:             1,
		GracefulShutdownTimeoutSeconds: 1,
	})
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	svc := server.NewListeningService(name, app)
	svc.AddListener(lc)
	s.AddListening(svc)

	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case <-s.Ready():
		fmt.Printf("listening on %s\n", s.Addrs()[0])
		os.Stdout.Sync()
	case err := <-done:
		log.Fatalf("%s: %v", name, err)
	}
	if err := <-done; err != nil {
		log.Fatalf("%s: %v", name, err)
	}
}
