package tlstest

import (
	"context"
	"crypto/x509"
	"sync/atomic"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
)

// BenchmarkHandshake measures one full handshake (both ends, TLS 1.3, over
// a fresh loopback TCP connection) between srv and cli with a kt server
// certificate.
func BenchmarkHandshake(b *testing.B, srv, cli tlsbackend.Backend, kt KeyType) {
	ca := NewCA(b, "bench root")
	store, err := tlsbackend.NewCertStore(ca.Server(b, kt, "bench.example.com"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := srv.Server(&tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := cli.Client(&tlsbackend.ClientConfig{RootCAs: ca.roots()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ln := NewListener(b)
	alpn := []string{"h2"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		craw, sraw := ln.Pair(b)
		done := make(chan error, 1)
		go func() {
			sc, err := s.Handshake(ctx, sraw)
			if err == nil {
				sc.Close()
			}
			done <- err
		}()
		cc, err := c.Handshake(ctx, craw, "bench.example.com", alpn)
		if err != nil {
			craw.Close()
			<-done
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		cc.Close()
	}
}

// BenchmarkThroughput measures sending size bytes per operation from cli to
// srv over one established connection; b.SetBytes makes it report MB/s.
func BenchmarkThroughput(b *testing.B, srv, cli tlsbackend.Backend, size int) {
	ca := NewCA(b, "bench root")
	store, err := tlsbackend.NewCertStore(ca.Server(b, ECDSAP256, "bench.example.com"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := srv.Server(&tlsbackend.ServerConfig{Certificates: store})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := cli.Client(&tlsbackend.ClientConfig{RootCAs: ca.roots()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cr, sr := Handshake(b, s, c, "bench.example.com", nil)
	if cr.Err != nil || sr.Err != nil {
		b.Fatalf("handshake: client %v, server %v", cr.Err, sr.Err)
	}
	// The reader counts what arrives; once the writer is done it learns the
	// total and the benchmark waits for the last byte before closing (a
	// close with unread data, such as session tickets, may reset the
	// connection and drop data in flight).
	var got, want atomic.Int64
	want.Store(-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := sr.Conn.Read(buf)
			if got.Add(int64(n)) == want.Load() || err != nil {
				return
			}
		}
	}()
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var sent int64
	for b.Loop() {
		if _, err := cr.Conn.Write(buf); err != nil {
			b.Fatal(err)
		}
		sent += int64(size)
	}
	want.Store(sent)
	if got.Load() == sent {
		sr.Conn.Close() // the reader may be blocked in Read with everything read
	}
	<-done
	if got.Load() != sent {
		b.Fatalf("server read %d bytes, client sent %d", got.Load(), sent)
	}
}

func (ca *CA) roots() []*x509.Certificate { return []*x509.Certificate{ca.Cert} }
