package server

import (
	"io"
	"os"
	"os/signal"
	"time"
)

// sysEnv is the operating system as the server sees it; tests replace it
// to send signals, start fake daemons and catch exits (tableflip's env).
type sysEnv struct {
	// notify relays the signals to c (signal.Notify); stop undoes it.
	notify func(c chan<- os.Signal, sig ...os.Signal)
	stop   func(c chan<- os.Signal)
	// after returns a channel that receives once d has passed, and a stop
	// function.
	after func(d time.Duration) (<-chan time.Time, func() bool)
	// exit ends the process.
	exit func(code int)
	// getenv reads the environment (the daemon child's marker).
	getenv func(key string) string
	// getpid and geteuid are the process's ids.
	getpid  func() int
	geteuid func() int
	// startDaemon starts the daemon child (see daemon_unix.go).
	startDaemon func(s *Server) error
	// stderr receives what RunForever prints.
	stderr io.Writer
}

var osEnv = &sysEnv{
	notify: signal.Notify,
	stop:   signal.Stop,
	after: func(d time.Duration) (<-chan time.Time, func() bool) {
		t := time.NewTimer(d)
		return t.C, t.Stop
	},
	exit:        os.Exit,
	getenv:      os.Getenv,
	getpid:      os.Getpid,
	geteuid:     os.Geteuid,
	startDaemon: startDaemon,
	stderr:      os.Stderr,
}
