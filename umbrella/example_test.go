package umbrella_test

import (
	"fmt"

	"github.com/pingora-go/pingora/umbrella"
)

func ExampleParseConfig() {
	cfg, warnings, err := umbrella.ParseConfig([]byte(`
version: 1
services:
  - name: web
    listen: [127.0.0.1:8080]
    routes:
      - {path_prefix: /api/, upstream: api}
      - {path_prefix: /, upstream: web}
upstreams:
  api: {selection: least_conn, peers: [127.0.0.1:9001, 127.0.0.1:9002]}
  web: {peers: [{addr: 127.0.0.1:9003, weight: 3}]}
  spare: {peers: [127.0.0.1:9004]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	for _, r := range cfg.Service("web").Routes {
		u := cfg.Upstream(r.Upstream)
		fmt.Println(r.PathPrefix, "->", u.Name, u.Selection, len(u.Peers), "peers, retries", u.Retries)
	}
	// Output:
	// warning: server: conf line 12: key "upstreams.spare" ignored: no route uses this upstream
	// /api/ -> api least_conn 2 peers, retries 1
	// / -> web round_robin 1 peers, retries 1
}

func ExampleParseConfig_errors() {
	_, _, err := umbrella.ParseConfig([]byte(`services:
  - listen: [127.0.0.1:8080]
    routes:
      - {path_prefix: /, upstream: web}
upstreams:
  api: {peers: [127.0.0.1:9001], timeouts: {connect: 5}}
`))
	fmt.Println(err)
	// Output:
	// server: conf line 6: upstreams.api.timeouts.connect: want a duration such as "1s" or "250ms", got "5"
	// server: conf line 4: services[0].routes[0].upstream: unknown upstream "web" (defined: api)
}
