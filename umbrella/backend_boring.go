//go:build boringcrypto && !openssl

package umbrella

import (
	"crypto/boring"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
)

// newTLSBackend returns the TLS backend of this build: crypto/tls on
// BoringCrypto.
func newTLSBackend() (tlsbackend.Backend, error) { return gotls.New(), nil }

func init() {
	if !boring.Enabled() {
		panic("umbrella: built with GOEXPERIMENT=boringcrypto but BoringCrypto is not enabled")
	}
}
