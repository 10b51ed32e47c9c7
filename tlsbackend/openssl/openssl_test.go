//go:build openssl && cgo

package openssl_test

import (
	"testing"

	"github.com/pingora-go/pingora/tlsbackend/gotls"
	"github.com/pingora-go/pingora/tlsbackend/openssl"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

func TestBackend_Conformance(t *testing.T) {
	tlstest.CheckGoroutines(t)
	b, err := openssl.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linked %s", openssl.Version())
	tlstest.Run(t, b, gotls.New())
}
