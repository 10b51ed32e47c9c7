package ketama_test

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/pingora-go/pingora/ketama"
)

// Example reproduces pingora-ketama's documentation example.
func Example() {
	ring, err := ketama.New([]ketama.Bucket{
		{Addr: netip.MustParseAddrPort("127.0.0.1:12345"), Weight: 1},
		{Addr: netip.MustParseAddrPort("127.0.0.2:12345"), Weight: 2},
		{Addr: netip.MustParseAddrPort("127.0.0.3:12345"), Weight: 3},
	})
	if err != nil {
		panic(err)
	}
	for _, key := range []string{"some_key", "another_key", "last_key"} {
		addr, _ := ring.Node([]byte(key))
		fmt.Printf("%s: %v\n", key, addr)
	}
	// Output:
	// some_key: 127.0.0.3:12345
	// another_key: 127.0.0.3:12345
	// last_key: 127.0.0.2:12345
}

// ExampleNew shows the errors New reports instead of panicking.
func ExampleNew() {
	_, err := ketama.New(nil)
	fmt.Println(err)

	_, err = ketama.New([]ketama.Bucket{
		{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 1},
		{Addr: netip.MustParseAddrPort("[2001:db8::1]:80"), Weight: 0},
	})
	fmt.Println(err, errors.Is(err, ketama.ErrZeroWeight))
	// Output:
	// ketama: no buckets
	// ketama: bucket 1 ([2001:db8::1]:80): zero weight true
}

// ExampleContinuum_NodeIter walks the ring from a key's point: servers
// repeat, often back to back.
func ExampleContinuum_NodeIter() {
	ring, _ := ketama.New([]ketama.Bucket{
		{Addr: netip.MustParseAddrPort("127.0.0.1:7777"), Weight: 1},
		{Addr: netip.MustParseAddrPort("127.0.0.1:7778"), Weight: 1},
		{Addr: netip.MustParseAddrPort("127.0.0.1:7779"), Weight: 1},
	})
	n := 0
	for addr := range ring.NodeIter([]byte("doghash")) {
		fmt.Println(addr)
		if n++; n == 5 {
			break // the walk never ends on its own
		}
	}
	// Output:
	// 127.0.0.1:7778
	// 127.0.0.1:7779
	// 127.0.0.1:7779
	// 127.0.0.1:7777
	// 127.0.0.1:7777
}

// ExampleContinuum_DistinctNodes picks a key's server and, should it be
// down, the next ones in nginx's failover order.
func ExampleContinuum_DistinctNodes() {
	ring, _ := ketama.New([]ketama.Bucket{
		{Addr: netip.MustParseAddrPort("127.0.0.1:7777"), Weight: 1},
		{Addr: netip.MustParseAddrPort("127.0.0.1:7778"), Weight: 1},
		{Addr: netip.MustParseAddrPort("[::1]:7779"), Weight: 1},
	})
	down := map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.1:7778"): true}
	for addr := range ring.DistinctNodes([]byte("doghash")) {
		if down[addr] {
			fmt.Println("skip", addr)
			continue
		}
		fmt.Println("use", addr)
		break
	}
	// Output:
	// skip 127.0.0.1:7778
	// use 127.0.0.1:7777
}
