package metrics

import (
	"context"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
)

// CountingApp wraps app so that every connection it serves is counted in
// m under service svc: connections_accepted_total goes up when ServeConn
// starts and connections_active follows the connections in ServeConn. The
// wrapper forwards Cleanup and Check to app when app has them
// ([server.Cleaner], [server.Checker]). With a nil m it counts nothing.
func CountingApp(app server.App, m *Metrics, svc string) server.App {
	return &countingApp{app: app, svc: m.Service(svc)}
}

type countingApp struct {
	app server.App
	svc *Service
}

var (
	_ server.Cleaner = (*countingApp)(nil)
	_ server.Checker = (*countingApp)(nil)
)

func (a *countingApp) ServeConn(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{}) {
	a.svc.ConnAccepted()
	defer a.svc.ConnClosed()
	a.app.ServeConn(ctx, conn, shutdown)
}

// Cleanup calls app's Cleanup, if it has one.
func (a *countingApp) Cleanup() {
	if c, ok := a.app.(server.Cleaner); ok {
		c.Cleanup()
	}
}

// Check calls app's Check, if it has one.
func (a *countingApp) Check() error {
	if c, ok := a.app.(server.Checker); ok {
		return c.Check()
	}
	return nil
}
