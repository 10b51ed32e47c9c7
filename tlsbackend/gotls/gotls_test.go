package gotls_test

import (
	"crypto/fips140"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

func TestBackend_Conformance(t *testing.T) {
	tlstest.CheckGoroutines(t)
	tlstest.Run(t, gotls.New())
}

func TestBackend_Name(t *testing.T) {
	b := gotls.New()
	want := "gotls"
	if gotls.BoringCrypto {
		want = "boringcrypto"
	}
	if got := b.Name(); got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if gotls.BoringCrypto && !tlsbackend.FIPS(b) {
		t.Error("boringcrypto build does not report FIPS mode")
	}
	if want := gotls.BoringCrypto || fips140.Enabled(); tlsbackend.FIPS(b) != want {
		t.Errorf("FIPS = %v, want %v", tlsbackend.FIPS(b), want)
	}
}
