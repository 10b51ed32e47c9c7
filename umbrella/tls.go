package umbrella

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/tlsbackend"
)

// listenerTLS builds the handshaker of a TLS listener with the build's
// backend, and returns its certificate store so SIGHUP can reload it.
func listenerTLS(b tlsbackend.Backend, lt *ListenTLS) (listener.Handshaker, *tlsbackend.CertStore, error) {
	store, err := tlsbackend.LoadCertStore(tlsbackend.CertFile{CertFile: lt.Cert, KeyFile: lt.Key})
	if err != nil {
		return nil, nil, err
	}
	cfg := &tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{"h2", "http/1.1"}}
	if lt.ClientCA != "" {
		cas, err := loadCAs(lt.ClientCA)
		if err != nil {
			return nil, nil, err
		}
		cfg.ClientAuth = tlsbackend.RequireAndVerifyClientCert
		cfg.ClientCAs = cas
	}
	srv, err := b.Server(cfg)
	if err != nil {
		return nil, nil, err
	}
	return listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		c, err := srv.Handshake(ctx, raw)
		if err != nil {
			return nil, err
		}
		if _, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
			return c, nil
		}
		return stateConn{c}, nil
	}), store, nil
}

// stateConn gives a tlsbackend connection the ConnectionState method the
// proxy reads ALPN and client certificates from (the OpenSSL backend has
// only State).
type stateConn struct{ tlsbackend.Conn }

func (c stateConn) ConnectionState() tls.ConnectionState {
	st := c.State()
	return tls.ConnectionState{
		Version:            st.Version,
		HandshakeComplete:  true,
		DidResume:          st.DidResume,
		CipherSuite:        st.CipherSuite,
		NegotiatedProtocol: st.NegotiatedProtocol,
		ServerName:         st.ServerName,
		PeerCertificates:   st.PeerCertificates,
	}
}

// certPool turns a CA list into a pool; nil means the system roots.
func certPool(cas []*x509.Certificate) *x509.CertPool {
	if cas == nil {
		return nil
	}
	p := x509.NewCertPool()
	for _, c := range cas {
		p.AddCert(c)
	}
	return p
}
