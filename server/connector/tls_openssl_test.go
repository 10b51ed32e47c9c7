//go:build openssl && cgo

package connector_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/tlsbackend/openssl"
)

func init() {
	tlsBackends = append(tlsBackends, struct {
		name   string
		client func(t *testing.T) connector.TLSClient
	}{"openssl", func(t *testing.T) connector.TLSClient {
		b, err := openssl.New()
		require.NoError(t, err)
		tc, err := connector.NewBackendTLS(b)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tc.Close() })
		return tc
	}})
}
