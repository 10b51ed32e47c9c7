//go:build !cgo || !openssl

package openssl

import (
	"errors"

	"github.com/pingora-go/pingora/tlsbackend"
)

// Available reports whether this build contains the OpenSSL backend.
const Available = false

// ErrUnavailable is returned by New in a build without the backend.
var ErrUnavailable = errors.New("tlsbackend/openssl: built without cgo or without -tags openssl; " +
	"rebuild with CGO_ENABLED=1 -tags openssl (needs libssl-dev, OpenSSL 3)")

// Backend is the OpenSSL backend; in this build it cannot be made.
type Backend struct{}

// New returns ErrUnavailable: this binary was built without cgo or
// without -tags openssl.
func New() (*Backend, error) { return nil, ErrUnavailable }

var _ tlsbackend.Backend = (*Backend)(nil)

// Name returns "openssl".
func (b *Backend) Name() string { return "openssl" }

// Server returns ErrUnavailable.
func (b *Backend) Server(*tlsbackend.ServerConfig) (tlsbackend.ServerTLS, error) {
	return nil, ErrUnavailable
}

// Client returns ErrUnavailable.
func (b *Backend) Client(*tlsbackend.ClientConfig) (tlsbackend.ClientTLS, error) {
	return nil, ErrUnavailable
}

// FIPS returns false.
func (b *Backend) FIPS() bool { return false }

// Version returns "" in a build without the backend.
func Version() string { return "" }
