//go:build openssl && cgo

package umbrella

import (
	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/openssl"
)

// newTLSBackend returns the TLS backend of this build: OpenSSL.
func newTLSBackend() (tlsbackend.Backend, error) { return openssl.New() }
