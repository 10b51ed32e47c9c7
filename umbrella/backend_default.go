//go:build !openssl && !boringcrypto

package umbrella

import (
	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
)

// newTLSBackend returns the TLS backend of this build: crypto/tls.
func newTLSBackend() (tlsbackend.Backend, error) { return gotls.New(), nil }
