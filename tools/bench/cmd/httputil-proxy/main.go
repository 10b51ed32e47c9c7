// Command httputil-proxy is the standard-library side of the proxy
// benchmark: net/http/httputil.ReverseProxy forwarding every request to
// one upstream, with the Transport tuned the way a production deployment
// would (enough idle upstream connections for the benchmark's client
// count, no compression negotiation, no proxy from the environment). It
// serves HTTP/1 and, on the same port, cleartext HTTP/2 with prior
// knowledge (h2c).
//
//	httputil-proxy -addr 127.0.0.1:8002 -upstream 127.0.0.1:8000
//
// The bound address is printed on stdout ("listening on ADDR") once the
// socket listens. SIGTERM and SIGINT close it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8002", "listen address (port 0: any free port)")
	upstream := flag.String("upstream", "127.0.0.1:8000", "origin address")
	flag.Parse()

	target := &url.URL{Scheme: "http", Host: *upstream}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     60 * time.Second,
			DisableCompression:  true,
			WriteBufferSize:     32 << 10,
			ReadBufferSize:      32 << 10,
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           rp,
		Protocols:         &protos,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("httputil-proxy: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("httputil-proxy: %v", err)
	}
}
