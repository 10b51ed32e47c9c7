//go:build !cgo || !openssl

package openssl_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/openssl"
)

func TestNew_Unavailable(t *testing.T) {
	b, err := openssl.New()
	if b != nil || !errors.Is(err, openssl.ErrUnavailable) {
		t.Fatalf("New() = %v, %v; want nil, ErrUnavailable", b, err)
	}
	for _, want := range []string{"cgo", "-tags openssl"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	var zero openssl.Backend
	if _, err := zero.Server(&tlsbackend.ServerConfig{}); !errors.Is(err, openssl.ErrUnavailable) {
		t.Errorf("Server: %v", err)
	}
	if _, err := zero.Client(&tlsbackend.ClientConfig{}); !errors.Is(err, openssl.ErrUnavailable) {
		t.Errorf("Client: %v", err)
	}
}
