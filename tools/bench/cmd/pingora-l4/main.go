// Command pingora-l4 is the pingora-go side of the TCP proxy benchmark
// (tools/bench/run.sh --l4): an l4.Proxy, run by a server.Server, that
// tunnels every connection to one upstream, as nginx's stream module does
// with proxy_pass.
//
//	pingora-l4 -addr 127.0.0.1:8006 -upstream 127.0.0.1:8000
//
// The bound address is printed on stdout ("listening on ADDR") once the
// server serves. SIGTERM shuts it down (within about a second).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/tools/bench/internal/benchsrv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8006", "listen address (port 0: any free port)")
	upstream := flag.String("upstream", "127.0.0.1:8000", "origin address")
	flag.Parse()

	origin := peer.New(*upstream, false, "")
	p, err := l4.New(l4.Options{
		Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) { return origin, nil },
		Logger:   benchsrv.Logger(),
	})
	if err != nil {
		log.Fatalf("pingora-l4: %v", err)
	}
	defer p.Close()

	benchsrv.Run("pingora-l4", p, listener.Config{Addr: *addr})
}
