package listener

import (
	"context"
	"net"
	"time"
)

// ListenEnv is Listen with the OS replaced: nil funcs keep the real ones.
func ListenEnv(ctx context.Context, cfg Config, accept func(net.Listener) (net.Conn, error), sleep func(time.Duration, <-chan struct{}) bool) (*Listener, error) {
	return listen(ctx, cfg, testEnv(accept, sleep))
}

func testEnv(accept func(net.Listener) (net.Conn, error), sleep func(time.Duration, <-chan struct{}) bool) *sysEnv {
	e := *osEnv
	if accept != nil {
		e.accept = accept
	}
	if sleep != nil {
		e.sleep = sleep
	}
	return &e
}

// NextDelay exposes the accept back-off step.
var NextDelay = nextDelay
