package server_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
)

func ExampleParseConf() {
	conf, warnings, err := server.ParseConf([]byte(`---
version: 1
threads: 2
pid_file: /tmp/load_balancer.pid
error_log: /tmp/load_balancer_err.log
upgrade_sock: /tmp/load_balancer.sock
my_app_backends: [10.0.0.1, 10.0.0.2]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(conf.Threads, conf.PIDFile, conf.GracePeriod(), conf.MaxRetries)
	for _, w := range warnings {
		fmt.Println(w)
	}
	// Output:
	// 2 /tmp/load_balancer.pid 5m0s 16
	// server: conf line 7: key "my_app_backends" ignored: unknown key
}

func ExampleParseConf_error() {
	_, _, err := server.ParseConf([]byte("version: 1\ngrace_period_seconds: soon\n"))
	fmt.Println(err)
	// Output:
	// server: conf line 2: grace_period_seconds: want an integer, got "soon"
}

func ExampleParseOpt() {
	opt, err := server.ParseOpt(strings.Fields("-u -d --conf /etc/pingora.yaml"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", *opt)
	// Output:
	// {Upgrade:true Daemon:true Test:false Conf:/etc/pingora.yaml}
}

// An echo server: one listening service on a TCP port. main would call
// s.RunForever() instead of Test.
func ExampleServer() {
	opt, _ := server.ParseOpt(nil, nil)
	s, err := server.New(opt)
	if err != nil {
		fmt.Println(err)
		return
	}
	echo := server.AppFunc(func(ctx context.Context, c *listener.Conn, shutdown <-chan struct{}) {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(buf[:n])
		}
	})
	svc := server.NewListeningService("echo", echo)
	svc.AddTCP("127.0.0.1:6142")
	s.AddListening(svc)
	s.AddBackground("heartbeat", server.BackgroundTaskFunc(func(ctx context.Context) {
		<-ctx.Done() // work until shutdown
	}))
	fmt.Println(s.Test())
	// Output:
	// <nil>
}

var _ net.Conn = (*listener.Conn)(nil)
