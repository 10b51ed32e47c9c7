package cache

import (
	"testing"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/stretchr/testify/require"
)

// t0 is the fixed "now" of the table tests.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// request builds a request; kv alternates names and values.
func request(t testing.TB, method string, kv ...string) *httpheader.RequestHeader {
	t.Helper()
	r, err := httpheader.NewRequest(method, "/x")
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		_, err := r.Add(kv[i], kv[i+1])
		require.NoError(t, err)
	}
	return r
}

// response builds a response; kv alternates names and values.
func response(t testing.TB, status int, kv ...string) *httpheader.ResponseHeader {
	t.Helper()
	r, err := httpheader.NewResponse(status)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		_, err := r.Add(kv[i], kv[i+1])
		require.NoError(t, err)
	}
	return r
}
