package perr_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
)

func TestErrorType_String(t *testing.T) {
	// SPEC §5: the full list of predeclared types with Pingora's exact names.
	tests := []struct {
		typ  perr.ErrorType
		want string
	}{
		{perr.ConnectTimedout, "ConnectTimedout"},
		{perr.ConnectRefused, "ConnectRefused"},
		{perr.ConnectNoRoute, "ConnectNoRoute"},
		{perr.TLSWantX509Lookup, "TLSWantX509Lookup"},
		{perr.TLSHandshakeFailure, "TLSHandshakeFailure"},
		{perr.TLSHandshakeTimedout, "TLSHandshakeTimedout"},
		{perr.InvalidCert, "InvalidCert"},
		{perr.HandshakeError, "HandshakeError"},
		{perr.ConnectError, "ConnectError"},
		{perr.BindError, "BindError"},
		{perr.AcceptError, "AcceptError"},
		{perr.SocketError, "SocketError"},
		{perr.ConnectProxyFailure, "ConnectProxyFailure"},
		{perr.InvalidHTTPHeader, "InvalidHTTPHeader"},
		{perr.H1Error, "H1Error"},
		{perr.H2Error, "H2Error"},
		{perr.H2Downgrade, "H2Downgrade"},
		{perr.InvalidH2, "InvalidH2"},
		{perr.ReadError, "ReadError"},
		{perr.WriteError, "WriteError"},
		{perr.ReadTimedout, "ReadTimedout"},
		{perr.WriteTimedout, "WriteTimedout"},
		{perr.ConnectionClosed, "ConnectionClosed"},
		{perr.FileOpenError, "FileOpenError"},
		{perr.FileCreateError, "FileCreateError"},
		{perr.FileReadError, "FileReadError"},
		{perr.FileWriteError, "FileWriteError"},
		{perr.InternalError, "InternalError"},
		{perr.UnknownError, "UnknownError"},
		{perr.HTTPStatus(404), "HTTPStatus"},
		{perr.HTTPStatus(0), "HTTPStatus"},
		{perr.NewType("MyKind"), "MyKind"},
		{perr.NewTypeCode("MyCoded", 429), "MyCoded"},
		{perr.InvalidChunk, "InvalidChunk"},
		{perr.InvalidTrailerEnd, "InvalidTrailerEnd"},
		{perr.PrematureBodyEnd, "PrematureBodyEnd"},
		{perr.PingTimedout, "PingTimedout"},
		{perr.TLSConfigError, "TLSConfigError"},
		{perr.ErrorType{}, ""},
	}
	seen := map[perr.ErrorType]bool{}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.typ.String())
			assert.Equal(t, tt.want, tt.typ.Error())
		})
		seen[tt.typ] = true
	}
	// Every entry is a distinct type (HTTPStatus(404) != HTTPStatus(0), ...).
	assert.Len(t, seen, len(tests))
}

func TestErrorType_Equality(t *testing.T) {
	tests := []struct {
		name string
		a, b perr.ErrorType
		want bool
	}{
		{"same builtin", perr.ReadError, perr.ReadError, true},
		{"different builtin", perr.ReadError, perr.WriteError, false},
		{"http status same code", perr.HTTPStatus(404), perr.HTTPStatus(404), true},
		{"http status different code", perr.HTTPStatus(404), perr.HTTPStatus(500), false},
		{"http status large code", perr.HTTPStatus(5000), perr.HTTPStatus(5000), true},
		{"http status large codes differ", perr.HTTPStatus(5000), perr.HTTPStatus(5001), false},
		{"http status clamped", perr.HTTPStatus(1 << 20), perr.HTTPStatus(65535), true},
		{"custom same name", perr.NewType("X"), perr.NewType("X"), true},
		{"custom different name", perr.NewType("X"), perr.NewType("Y"), false},
		{"custom named like builtin", perr.NewType("ReadError"), perr.ReadError, false},
		{"custom code same", perr.NewTypeCode("X", 1), perr.NewTypeCode("X", 1), true},
		{"custom code different code", perr.NewTypeCode("X", 1), perr.NewTypeCode("X", 2), false},
		{"custom vs custom code", perr.NewType("X"), perr.NewTypeCode("X", 0), false},
		{"custom code named HTTPStatus", perr.NewTypeCode("HTTPStatus", 404), perr.HTTPStatus(404), false},
		{"predeclared custom", perr.InvalidChunk, perr.NewType("InvalidChunk"), true},
		{"zero vs unknown", perr.ErrorType{}, perr.UnknownError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a == tt.b)
			assert.Equal(t, tt.want, errors.Is(tt.a, tt.b), "errors.Is on bare types")
		})
	}
}

func TestErrorType_StatusCode(t *testing.T) {
	tests := []struct {
		name string
		typ  perr.ErrorType
		want int
	}{
		{"http status", perr.HTTPStatus(404), 404},
		{"http status zero", perr.HTTPStatus(0), 0},
		{"http status negative clamps", perr.HTTPStatus(-1), 0},
		{"http status huge clamps", perr.HTTPStatus(1 << 20), 65535},
		{"custom code", perr.NewTypeCode("TooMany", 429), 429},
		{"custom", perr.NewType("X"), 0},
		{"builtin", perr.ReadError, 0},
		{"zero", perr.ErrorType{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.typ.StatusCode())
		})
	}
	assert.Equal(t, perr.HTTPStatus(0), perr.HTTPStatus(-5))
}

func TestErrorType_IsCustom(t *testing.T) {
	assert.True(t, perr.NewType("X").IsCustom())
	assert.True(t, perr.NewTypeCode("X", 1).IsCustom())
	assert.True(t, perr.PingTimedout.IsCustom())
	assert.False(t, perr.ReadError.IsCustom())
	assert.False(t, perr.HTTPStatus(500).IsCustom())
}

func TestSource_String(t *testing.T) {
	tests := []struct {
		src  perr.Source
		want string
	}{
		{perr.Unset, ""},
		{perr.Upstream, "Upstream"},
		{perr.Downstream, "Downstream"},
		{perr.Internal, "Internal"},
		{perr.Source(200), ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.src.String())
		})
	}
	var zero perr.Source
	require.Equal(t, perr.Unset, zero)
}

func TestRetryType(t *testing.T) {
	tests := []struct {
		name                 string
		r                    perr.RetryType
		retry, decided       bool
		str                  string
		reusedTrue, reusedNo perr.RetryType
	}{
		{"no", perr.RetryNo, false, true, "no", perr.RetryNo, perr.RetryNo},
		{"yes", perr.RetryYes, true, true, "yes", perr.RetryYes, perr.RetryYes},
		{"reused only", perr.RetryReusedOnly, false, false, "reused-only", perr.RetryYes, perr.RetryNo},
		{"out of range", perr.RetryType(9), false, false, "invalid", perr.RetryType(9), perr.RetryType(9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.retry, tt.r.Retry())
			assert.Equal(t, tt.decided, tt.r.Decided())
			assert.Equal(t, tt.str, tt.r.String())
			assert.Equal(t, tt.reusedTrue, tt.r.DecideReuse(true))
			assert.Equal(t, tt.reusedNo, tt.r.DecideReuse(false))
		})
	}
	assert.Equal(t, perr.RetryYes, perr.RetryDecided(true))
	assert.Equal(t, perr.RetryNo, perr.RetryDecided(false))
	var zero perr.RetryType
	assert.Equal(t, perr.RetryNo, zero)
}

func TestErrorType_InternConcurrentSafe(t *testing.T) {
	const n = 8
	got := make([][3]perr.ErrorType, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i] = [3]perr.ErrorType{
				perr.NewType("ConcurrentKind"),
				perr.NewTypeCode("ConcurrentKind", 7),
				perr.HTTPStatus(40000),
			}
		})
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, got[0], got[i])
	}
	assert.NotEqual(t, got[0][0], got[0][1])
	assert.Equal(t, 7, got[0][1].StatusCode())
	assert.Equal(t, 40000, got[0][2].StatusCode())
}
