package tlsbackend_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
)

// selfSigned makes a throwaway certificate for names (real code loads
// files with LoadCertStore).
func selfSigned(names ...string) *tlsbackend.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	c, err := tlsbackend.NewCertificate([][]byte{der}, key)
	if err != nil {
		panic(err)
	}
	return c
}

func ExampleCertStore_Get() {
	store, _ := tlsbackend.NewCertStore(
		selfSigned("www.example.com"),   // the default
		selfSigned("*.api.example.com"), // one label below api.example.com
	)
	for _, sni := range []string{"www.example.com", "v1.api.example.com", "unknown.example.org", ""} {
		c, matched := store.Get(sni)
		fmt.Printf("%q -> %s (matched %v)\n", sni, c.Leaf().Subject.CommonName, matched)
	}
	// Output:
	// "www.example.com" -> www.example.com (matched true)
	// "v1.api.example.com" -> *.api.example.com (matched true)
	// "unknown.example.org" -> www.example.com (matched false)
	// "" -> www.example.com (matched false)
}

// Example runs a server and a client handshake with the crypto/tls backend
// and prints what they negotiated.
func Example() {
	cert := selfSigned("example.internal")
	store, _ := tlsbackend.NewCertStore(cert)
	var backend tlsbackend.Backend = gotls.New()
	srv, _ := backend.Server(&tlsbackend.ServerConfig{
		Certificates:     store,
		NextProtos:       []string{"h2", "http/1.1"},
		HandshakeTimeout: 10 * time.Second,
	})
	defer srv.Close()
	cli, _ := backend.Client(&tlsbackend.ClientConfig{RootCAs: []*x509.Certificate{cert.Leaf()}})
	defer cli.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		conn, err := srv.Handshake(context.Background(), raw)
		if err != nil {
			return
		}
		st := conn.State()
		fmt.Fprintf(conn, "hello %s over %s\n", st.ServerName, st.NegotiatedProtocol)
		conn.Close()
	}()

	raw, _ := net.Dial("tcp", ln.Addr().String())
	conn, err := cli.Handshake(context.Background(), raw, "example.internal", []string{"http/1.1", "h2"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	var greeting, over, proto string
	var name string
	fmt.Fscan(conn, &greeting, &name, &over, &proto)
	fmt.Println(greeting, name, over, proto)
	fmt.Println(conn.State().VersionName(), conn.State().NegotiatedProtocol)
	// Output:
	// hello example.internal over h2
	// TLS 1.3 h2
}
