package peer_test

import (
	"fmt"
	"time"

	"github.com/pingora-go/pingora/server/peer"
)

func ExamplePeer() {
	p := peer.New("10.0.0.1:443", true, "api.example.com")
	p.ALPN = peer.ALPNH2H1
	p.ConnectionTimeout = 2 * time.Second
	fmt.Println(p)
	fmt.Println(p.ALPN.Protos(), p.Validate())
	// Output:
	// addr: 10.0.0.1:443, scheme: HTTPS, sni: api.example.com
	// [h2 http/1.1] <nil>
}

func ExamplePeer_ReuseHash() {
	a := peer.New("10.0.0.1:443", true, "a.example")
	b := peer.New("10.0.0.1:443", true, "b.example")
	a2 := peer.New("10.0.0.1:443", true, "a.example")
	a2.ReadTimeout = time.Second // tuning, not identity
	fmt.Println(a.ReuseHash() == b.ReuseHash(), a.ReuseHash() == a2.ReuseHash())
	// Output: false true
}

func ExamplePeer_ServerName() {
	// An empty SNI verifies the certificate against the host of the address.
	fmt.Println(peer.New("origin.example:443", true, "").ServerName())
	fmt.Println(peer.NewUnix("/run/app.sock", true, "").Validate())
	// Output:
	// origin.example
	// peer: no name to verify the certificate against: set SNI or SkipVerifyHostname
}
