package tlsbackend_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

func TestServerParams(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	store, err := tlsbackend.NewCertStore(ca.Server(t, tlstest.ECDSAP256, "a.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	cas := []*x509.Certificate{ca.Cert}
	for _, tc := range []struct {
		name    string
		cfg     *tlsbackend.ServerConfig
		want    tlsbackend.Params
		wantErr string
	}{
		{"defaults", &tlsbackend.ServerConfig{Certificates: store},
			tlsbackend.Params{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13, HandshakeTimeout: 60 * time.Second}, ""},
		{"TLS 1.3 only, 5s", &tlsbackend.ServerConfig{Certificates: store, MinVersion: tls.VersionTLS13, HandshakeTimeout: 5 * time.Second},
			tlsbackend.Params{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13, HandshakeTimeout: 5 * time.Second}, ""},
		{"mTLS", &tlsbackend.ServerConfig{Certificates: store, ClientAuth: tlsbackend.RequireAndVerifyClientCert, ClientCAs: cas},
			tlsbackend.Params{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13, HandshakeTimeout: 60 * time.Second}, ""},
		{"nil", nil, tlsbackend.Params{}, "nil ServerConfig"},
		{"no store", &tlsbackend.ServerConfig{}, tlsbackend.Params{}, "Certificates is required"},
		{"TLS 1.1", &tlsbackend.ServerConfig{Certificates: store, MinVersion: tls.VersionTLS11}, tlsbackend.Params{}, "below 1.2"},
		{"min above max", &tlsbackend.ServerConfig{Certificates: store, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS12}, tlsbackend.Params{}, "above MaxVersion"},
		{"negative timeout", &tlsbackend.ServerConfig{Certificates: store, HandshakeTimeout: -1}, tlsbackend.Params{}, "negative"},
		{"client auth without CAs", &tlsbackend.ServerConfig{Certificates: store, ClientAuth: tlsbackend.VerifyClientCertIfGiven}, tlsbackend.Params{}, "needs ClientCAs"},
		{"unknown client auth", &tlsbackend.ServerConfig{Certificates: store, ClientAuth: 9}, tlsbackend.Params{}, "ClientAuthType(9)"},
		{"empty ALPN", &tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{""}}, tlsbackend.Params{}, "1 to 255 bytes"},
		{"long ALPN", &tlsbackend.ServerConfig{Certificates: store, NextProtos: []string{strings.Repeat("x", 256)}}, tlsbackend.Params{}, "1 to 255 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tlsbackend.ServerParams(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ServerParams = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := tlsbackend.ServerParams(&tlsbackend.ServerConfig{Certificates: store, MaxVersion: tls.VersionTLS11}); !errors.Is(err, tlsbackend.ErrVersion) {
		t.Errorf("TLS 1.1 max: %v, want ErrVersion", err)
	}
}

func TestClientParams(t *testing.T) {
	got, err := tlsbackend.ClientParams(&tlsbackend.ClientConfig{})
	want := tlsbackend.Params{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13, HandshakeTimeout: tlsbackend.DefaultHandshakeTimeout}
	if err != nil || got != want {
		t.Errorf("defaults = %+v, %v; want %+v", got, err, want)
	}
	for _, cfg := range []*tlsbackend.ClientConfig{nil, {MinVersion: tls.VersionTLS10}, {NextProtos: []string{""}}} {
		if _, err := tlsbackend.ClientParams(cfg); err == nil {
			t.Errorf("ClientParams(%+v) accepted", cfg)
		}
	}
}

func TestHandshakeError(t *testing.T) {
	timeout := &tlsbackend.HandshakeError{Backend: "gotls", Side: "server", Peer: "127.0.0.1:1",
		TimedOut: true, Limit: 100 * time.Millisecond, Err: os.ErrDeadlineExceeded}
	if got, want := timeout.Error(), "tlsbackend: gotls server handshake with 127.0.0.1:1 timed out after 100ms: i/o timeout"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(timeout, tlsbackend.ErrHandshakeTimeout) || !errors.Is(timeout, os.ErrDeadlineExceeded) || !timeout.Timeout() {
		t.Error("timeout error does not match ErrHandshakeTimeout, its cause and Timeout()")
	}
	other := &tlsbackend.HandshakeError{Backend: "openssl", Side: "client", Peer: "[::1]:2", Err: context.Canceled}
	if errors.Is(other, tlsbackend.ErrHandshakeTimeout) || other.Timeout() || !errors.Is(other, context.Canceled) {
		t.Error("a cancelled handshake looks like a timeout")
	}
	if got, want := other.Error(), "tlsbackend: openssl client handshake with [::1]:2: context canceled"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestConnState_Names(t *testing.T) {
	st := tlsbackend.ConnState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}
	if st.VersionName() != "TLS 1.3" || st.CipherSuiteName() != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("names %q %q", st.VersionName(), st.CipherSuiteName())
	}
	for a, want := range map[tlsbackend.ClientAuthType]string{
		tlsbackend.NoClientCert: "NoClientCert", tlsbackend.VerifyClientCertIfGiven: "VerifyClientCertIfGiven",
		tlsbackend.RequireAndVerifyClientCert: "RequireAndVerifyClientCert", 7: "ClientAuthType(7)",
	} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), want)
		}
	}
}
