package proxy_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// BenchmarkProxy_H2SmallGET is one proxied small GET from an HTTP/2
// (h2c) client to an HTTP/1 origin: the path tools/bench's h2load run
// measures. The client is a bare framer (it allocates nothing per
// request), so allocs/op are the proxy's and its HTTP/2 server's.
func BenchmarkProxy_H2SmallGET(b *testing.B) {
	origin := benchOrigin(b)
	pr := peer.New(origin, false, "")
	p, err := proxy.New(proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
	}, proxy.Options{H2C: true})
	if err != nil {
		b.Fatal(err)
	}
	hs := serve(b, p, nil)
	hs.cleanup = p.Cleanup

	c, err := net.Dial("tcp", hs.Addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		b.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		b.Fatal(err)
	}
	// A large connection window, so that the proxy never waits for one.
	if err := fr.WriteWindowUpdate(0, 1<<30); err != nil {
		b.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "bench"}, {":path", "/small"}, {"user-agent", "bench"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	block := hb.Bytes()
	id := uint32(1)
	b.ReportAllocs()
	for b.Loop() {
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
			b.Fatal(err)
		}
		for done := false; !done; {
			f, err := fr.ReadFrame()
			if err != nil {
				b.Fatal(err)
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					_ = fr.WriteSettingsAck()
				}
			case *http2.PingFrame:
				if !f.IsAck() {
					_ = fr.WritePing(true, f.Data)
				}
			case *http2.DataFrame:
				done = f.StreamID == id && f.StreamEnded()
			case *http2.HeadersFrame:
				done = f.StreamID == id && f.StreamEnded()
			case *http2.GoAwayFrame:
				b.Fatalf("GOAWAY %v", f.ErrCode)
			case *http2.RSTStreamFrame:
				b.Fatalf("RST_STREAM %v", f.ErrCode)
			}
		}
		id += 2
	}
}
