// Command pingora runs a proxy server from one YAML file; without -c it
// runs a demo load balancer on 127.0.0.1:6188. See package umbrella.
package main

import (
	"os"

	"github.com/pingora-go/pingora/umbrella"
)

func main() { os.Exit(umbrella.Main(os.Args)) }
