package proxyproto_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

// A server behind a load balancer reads the header, then serves the
// client with its real address.
func ExampleRead() {
	lb, server := net.Pipe()
	go func() {
		// What the load balancer sends: a v2 header, then the client's bytes.
		h := &proxyproto.Header{
			Command:     proxyproto.Proxy,
			Source:      &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 56324},
			Destination: &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 443},
			TLVs:        []proxyproto.TLV{{Type: proxyproto.TypeAuthority, Value: []byte("example.com")}},
		}
		b, _ := h.AppendV2(nil)
		lb.Write(append(b, "hello"...))
		lb.Close()
	}()

	c, err := proxyproto.Read(server, proxyproto.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	body, _ := io.ReadAll(c)
	fmt.Println(c.RemoteAddr(), c.LocalAddr(), c.Header().Authority(), string(body))
	// Output: 192.0.2.1:56324 198.51.100.1:443 example.com hello
}

// A proxy tells its upstream who the client is by writing a header first.
func ExampleHeader_AppendV1() {
	downstreamRemote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 56324}
	downstreamLocal := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 443}
	h := proxyproto.Header{Command: proxyproto.Proxy, Source: downstreamRemote, Destination: downstreamLocal}
	b, err := h.AppendV1(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", b) // upstream.Write(b) before the first request
	// Output: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"
}

// The v2 form is binary; a CRC32C TLV asks for a checksum.
func ExampleHeader_AppendV2() {
	h := proxyproto.Header{
		Command:     proxyproto.Proxy,
		Source:      &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1000},
		Destination: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 80},
		TLVs:        []proxyproto.TLV{{Type: proxyproto.TypeCRC32C}},
	}
	b, err := h.AppendV2(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", b[12:])
	// Output: 21 11 00 13 0a 00 00 01 0a 00 00 02 03 e8 00 50 03 00 04 5c 5b cd 65
}

// Behind a listener, NewHandshaker reads headers off the accept loop; pass
// the TLS Handshaker as next for a TLS listener.
func ExampleNewHandshaker() {
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{}, nil) // next: TLS, or nil
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0", TLS: hs})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	go func() { // a load balancer
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\nping"))
		io.Copy(io.Discard, c)
	}()

	c, err := l.AcceptConn()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	buf := make([]byte, 4)
	io.ReadFull(c, buf)
	fmt.Println(c.RemoteAddr(), string(buf))
	// Output: 192.0.2.1:56324 ping
}
