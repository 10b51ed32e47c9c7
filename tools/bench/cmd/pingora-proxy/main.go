// Command pingora-proxy is the pingora-go side of the proxy benchmark: the
// smallest useful proxy.Hooks program, run by a server.Server, forwarding
// every request to one upstream. It serves HTTP/1 and, on the same port,
// cleartext HTTP/2 with prior knowledge (h2c), so that h2load can drive it.
//
//	pingora-proxy -addr 127.0.0.1:8001 -upstream 127.0.0.1:8000
//
// The bound address is printed on stdout ("listening on ADDR") once the
// server serves. SIGTERM shuts it down gracefully (within about a second),
// SIGINT at once.
package main

import (
	"flag"
	"log"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/tools/bench/internal/benchsrv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "listen address (port 0: any free port)")
	upstream := flag.String("upstream", "127.0.0.1:8000", "origin address")
	bodyBuf := flag.Int("body-buffer", 0, "body buffer size in bytes (0: the proxy's default)")
	lowat := flag.Int("notsent-lowat", 0, "TCP_NOTSENT_LOWAT of accepted connections in bytes (0: the system's)")
	flag.Parse()

	origin := peer.New(*upstream, false, "")
	p, err := proxy.New(proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return origin, nil },
	}, proxy.Options{
		H2C:            true,
		BodyBufferSize: *bodyBuf,
		// As many idle upstream connections as nginx's "keepalive 256" in
		// run.sh: the HTTP/2 runs have 160 streams in flight, and the
		// default pool (128, Pingora's) would close and redial the rest.
		ConnectorOptions: connector.Options{PoolSize: 256},
		Logger:           benchsrv.Logger(),
	})
	if err != nil {
		log.Fatalf("pingora-proxy: %v", err)
	}
	defer p.Cleanup()

	benchsrv.Run("pingora-proxy", p, listener.Config{Addr: *addr, NotSentLowat: *lowat})
}
