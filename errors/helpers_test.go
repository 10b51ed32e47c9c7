package perr_test

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
)

func TestOrErr(t *testing.T) {
	err := perr.OrErr(io.EOF, perr.ReadError, "read header")
	var e *perr.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, perr.ReadError, e.Type())
	assert.Equal(t, perr.Unset, e.Source())
	assert.Equal(t, "read header", e.Context())
	assert.Equal(t, io.EOF, e.Cause())
	assert.Equal(t, " ReadError context: read header cause: EOF", err.Error())
}

func TestOrFail(t *testing.T) {
	err := perr.OrFail(io.EOF)
	var e *perr.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, perr.InternalError, e.Type())
	assert.Equal(t, io.EOF, e.Cause())
	assert.True(t, errors.Is(err, io.EOF))
	assert.Equal(t, 500, perr.StatusCode(err))
}

func TestExplainErr(t *testing.T) {
	tests := []struct {
		name    string
		explain func(error) string
		want    string
	}{
		{"explain func", func(err error) string { return "bad header: " + err.Error() }, " InvalidHTTPHeader context: bad header: EOF"},
		{"nil func uses the error text", nil, " InvalidHTTPHeader context: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := perr.ExplainErr(io.EOF, perr.InvalidHTTPHeader, tt.explain)
			assert.Equal(t, tt.want, err.Error())
			assert.False(t, errors.Is(err, io.EOF), "the original error is replaced, not kept")
			assert.True(t, errors.Is(err, perr.InvalidHTTPHeader))
		})
	}
}

func TestWithContext(t *testing.T) {
	t.Run("perr error gets more context", func(t *testing.T) {
		orig := perr.NewUp(perr.ConnectRefused).SetRetry(true)
		err := perr.WithContext(orig, "peer 2")
		var e *perr.Error
		require.True(t, errors.As(err, &e))
		assert.Equal(t, perr.ConnectRefused, e.Type())
		assert.Equal(t, perr.Upstream, e.Source())
		assert.True(t, e.Retry())
		assert.Same(t, orig, e.Cause())
		assert.Equal(t, "Upstream ConnectRefused context: peer 2 cause: ", err.Error())
	})
	t.Run("other error becomes internal", func(t *testing.T) {
		err := perr.WithContext(io.EOF, "load config")
		assert.Equal(t, " InternalError context: load config cause: EOF", err.Error())
		assert.True(t, errors.Is(err, io.EOF))
	})
}
