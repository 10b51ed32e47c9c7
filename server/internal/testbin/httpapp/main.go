// Command httpapp is a test-only program: a server.Server with one HTTP
// service, used by the server package's integration tests to exercise
// signals, graceful shutdown and upgrades in real processes. Until the
// project's HTTP/1 codec lands, connections are served by net/http through
// a listener adapter. It is not an example of how to write a server.
//
// Environment:
//
//	HTTPAPP_ADDR        TCP address to listen on (required)
//	HTTPAPP_FAIL=exit   exit with status 3 at once (a broken new binary)
//	HTTPAPP_EXTRA_UNIX  an extra Unix socket endpoint (a bad path makes
//	                    startup fail after an upgrade's sockets arrived)
//
// Routes: "/" answers "pid=N"; "/slow?ms=D" sleeps D ms, then answers the
// same.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
)

func main() {
	if os.Getenv("HTTPAPP_FAIL") == "exit" {
		fmt.Fprintln(os.Stderr, "httpapp: failing on purpose")
		os.Exit(3)
	}
	opt, err := server.ParseOpt(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := server.New(opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	svc := server.NewListeningService("http", newApp())
	svc.AddTCP(os.Getenv("HTTPAPP_ADDR"))
	if p := os.Getenv("HTTPAPP_EXTRA_UNIX"); p != "" {
		svc.AddUnix(p, 0)
	}
	s.AddListening(svc)
	s.RunForever()
}

func handler(w http.ResponseWriter, r *http.Request) {
	if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && r.URL.Path == "/slow" {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	fmt.Fprintf(w, "pid=%d", os.Getpid())
}

// app hands each connection to one http.Server through chanListener and
// waits until net/http has closed it.
type app struct {
	srv  *http.Server
	ln   *chanListener
	once sync.Once
}

type trackedConn struct {
	net.Conn
	done chan struct{}
	once sync.Once
}

func newApp() *app {
	a := &app{ln: &chanListener{conns: make(chan net.Conn), closed: make(chan struct{})}}
	a.srv = &http.Server{
		Handler: http.HandlerFunc(handler),
		ConnState: func(c net.Conn, st http.ConnState) {
			if tc, ok := c.(*trackedConn); ok && (st == http.StateClosed || st == http.StateHijacked) {
				tc.once.Do(func() { close(tc.done) })
			}
		},
	}
	go a.srv.Serve(a.ln)
	return a
}

func (a *app) ServeConn(ctx context.Context, c *listener.Conn, shutdown <-chan struct{}) {
	tc := &trackedConn{Conn: c.Conn, done: make(chan struct{})}
	select {
	case a.ln.conns <- tc:
	case <-a.ln.closed:
		c.Close()
		return
	case <-ctx.Done():
		c.Close()
		return
	}
	for {
		select {
		case <-tc.done:
			return
		case <-shutdown:
			// Close idle keep-alive conns; every other conn, including
			// one accepted just now, gets one answer with
			// "Connection: close". (http.Server.Shutdown would close the
			// listener and drop conns the server accepted but had not
			// handed over yet.)
			a.once.Do(func() { a.srv.SetKeepAlivesEnabled(false) })
			shutdown = nil
		case <-ctx.Done():
			c.Close()
			return
		}
	}
}

type chanListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }
