package perr_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
)

func TestError_Error(t *testing.T) {
	oops := errors.New("oops")
	tests := []struct {
		name string
		err  error
		want string
	}{
		// The first six are the strings of pingora-error's own unit tests.
		{"chain", perr.New(perr.HTTPStatus(400)).SetCause(perr.New(perr.InternalError)),
			" HTTPStatus cause:  InternalError"},
		{"because", perr.Because(perr.HTTPStatus(400), "test", perr.New(perr.InternalError)),
			" HTTPStatus context: test cause:  InternalError"},
		{"set context", perr.New(perr.InternalError).SetContext("my context"),
			" InternalError context: my context"},
		{"more context", perr.New(perr.InternalError).MoreContext("another"),
			" InternalError context: another cause: "},
		{"or err", perr.OrErr(perr.New(perr.InternalError), perr.HTTPStatus(400), "another"),
			" HTTPStatus context: another cause:  InternalError"},
		{"or fail", perr.OrFail(oops), " InternalError context:  cause: oops"},

		{"new", perr.New(perr.InternalError), " InternalError"},
		{"new up", perr.NewUp(perr.ConnectRefused), "Upstream ConnectRefused"},
		{"new down", perr.NewDown(perr.ReadError), "Downstream ReadError"},
		{"new in", perr.NewIn(perr.InternalError), "Internal InternalError"},
		{"explain", perr.Explain(perr.InternalError, "none is an error!"),
			" InternalError context: none is an error!"},
		{"explain empty context", perr.Explain(perr.InternalError, ""), " InternalError context: "},
		{"set empty context", perr.New(perr.InternalError).SetContext(""), " InternalError context: "},
		{"create empty context", perr.Create(perr.ReadError, perr.Downstream, "", nil), "Downstream ReadError"},
		{"create", perr.Create(perr.ReadError, perr.Downstream, "read body", io.EOF),
			"Downstream ReadError context: read body cause: EOF"},
		{"custom type", perr.Explain(perr.NewType("MyKind"), "x"), " MyKind context: x"},
		{"context with spaces and colons", perr.Explain(perr.H1Error, "cause: fake context: x"),
			" H1Error context: cause: fake context: x"},

		{"three levels mixed sources",
			perr.Because(perr.HTTPStatus(502), "proxy",
				perr.Because(perr.ConnectTimedout, "dial 10.0.0.1:443", errors.New("i/o timeout")).AsUp().
					MoreContext("peer a")).AsIn(),
			"Internal HTTPStatus context: proxy cause: Upstream ConnectTimedout context: peer a" +
				" cause:  context: dial 10.0.0.1:443 cause: i/o timeout"},
		{"same type new source",
			perr.NewDown(perr.ReadError).SetCause(perr.NewUp(perr.ReadError)),
			"Downstream ReadError cause: Upstream"},
		{"back to unset source prints empty",
			perr.NewUp(perr.ReadError).SetCause(perr.New(perr.ReadError)),
			"Upstream ReadError cause: "},
		{"same source new type",
			perr.NewUp(perr.ReadError).SetCause(perr.NewUp(perr.ConnectionClosed)),
			"Upstream ReadError cause:  ConnectionClosed"},
		{"http status codes differ",
			perr.New(perr.HTTPStatus(400)).SetCause(perr.New(perr.HTTPStatus(500))),
			" HTTPStatus cause:  HTTPStatus"},
		{"http status codes equal",
			perr.New(perr.HTTPStatus(400)).SetCause(perr.New(perr.HTTPStatus(400))),
			" HTTPStatus cause: "},
		{"four levels",
			perr.NewIn(perr.InternalError).SetCause(
				perr.NewIn(perr.H1Error).SetContext("a").SetCause(
					perr.NewDown(perr.H1Error).SetContext("b").SetCause(
						perr.NewDown(perr.InvalidChunk).SetCause(io.ErrUnexpectedEOF)))),
			"Internal InternalError cause:  H1Error context: a cause: Downstream context: b" +
				" cause:  InvalidChunk cause: unexpected EOF"},
		{"non-perr wrapper restarts the rules",
			perr.Because(perr.ReadError, "outer", fmt.Errorf("wrap: %w", perr.NewUp(perr.ReadError))),
			" ReadError context: outer cause: wrap: Upstream ReadError"},
		{"bare type as cause",
			perr.Because(perr.ReadError, "x", perr.ConnectionClosed),
			" ReadError context: x cause: ConnectionClosed"},
		{"typed nil cause is no cause",
			perr.Because(perr.ReadError, "x", (*perr.Error)(nil)),
			" ReadError context: x"},
		{"nil receiver", (*perr.Error)(nil), "<nil>"},
		{"zero value", &perr.Error{}, " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.Equal(t, tt.want, fmt.Sprint(tt.err))
		})
	}
}

func TestError_IsAs(t *testing.T) {
	root := perr.NewUp(perr.ConnectTimedout)
	mid := perr.Because(perr.ConnectError, "dial", fmt.Errorf("peer 1: %w", root))
	top := fmt.Errorf("request 7: %w", mid.MoreContext("proxy"))

	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"outer type", perr.ConnectError, true},
		{"type below a %w wrapper", perr.ConnectTimedout, true},
		{"absent type", perr.ReadError, false},
		{"same name custom type", perr.NewType("ConnectTimedout"), false},
		{"identity of a level", root, true},
		{"other error value of same type", perr.NewUp(perr.ConnectTimedout), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errors.Is(top, tt.target))
		})
	}

	t.Run("as finds the outermost perr error", func(t *testing.T) {
		var e *perr.Error
		require.True(t, errors.As(top, &e))
		assert.Equal(t, perr.ConnectError, e.Type())
		assert.Equal(t, "proxy", e.Context())
	})
	t.Run("http status", func(t *testing.T) {
		err := fmt.Errorf("x: %w", perr.Explain(perr.HTTPStatus(403), "denied"))
		assert.True(t, errors.Is(err, perr.HTTPStatus(403)))
		assert.False(t, errors.Is(err, perr.HTTPStatus(404)))
	})
	t.Run("is with non-type target", func(t *testing.T) {
		assert.False(t, perr.New(perr.ReadError).Is(io.EOF))
		assert.False(t, (*perr.Error)(nil).Is(perr.ReadError))
	})
	t.Run("unwrap", func(t *testing.T) {
		assert.Same(t, root, errors.Unwrap(errors.Unwrap(mid)))
		assert.Nil(t, errors.Unwrap(root))
		assert.True(t, errors.Is(perr.Because(perr.ReadError, "r", io.EOF), io.EOF))
	})
	t.Run("joined errors", func(t *testing.T) {
		err := perr.Because(perr.InternalError, "both", errors.Join(io.EOF, perr.NewDown(perr.WriteError)))
		assert.True(t, errors.Is(err, perr.WriteError))
		assert.True(t, errors.Is(err, io.EOF))
	})
}

func TestError_Accessors(t *testing.T) {
	cause := io.EOF
	e := perr.Create(perr.ReadError, perr.Downstream, "read body", cause)
	assert.Equal(t, perr.ReadError, e.Type())
	assert.Equal(t, perr.Downstream, e.Source())
	assert.Equal(t, "ReadError", e.Reason())
	assert.Equal(t, "Downstream", e.SourceName())
	assert.Equal(t, "read body", e.Context())
	assert.Equal(t, cause, e.Cause())
	assert.Equal(t, cause, e.Unwrap())
	assert.False(t, e.Retry())
	assert.Equal(t, perr.RetryNo, e.RetryType())

	assert.Same(t, e, e.AsUp())
	assert.Equal(t, perr.Upstream, e.Source())
	assert.Same(t, e, e.AsIn())
	assert.Equal(t, perr.Internal, e.Source())
	assert.Equal(t, "Internal", e.SourceName())
	assert.Same(t, e, e.AsDown())
	assert.Equal(t, perr.Downstream, e.Source())

	assert.Same(t, e, e.SetContext("other"))
	assert.Equal(t, "other", e.Context())
	assert.Same(t, e, e.SetCause(nil))
	assert.Nil(t, e.Cause())
	assert.Equal(t, "Downstream ReadError context: other", e.Error())
	assert.Same(t, e, e.SetCause((*perr.Error)(nil)))
	assert.True(t, e.Cause() == nil, "a nil *Error cause must be stored as a nil error")

	assert.Equal(t, "", perr.New(perr.ReadError).SourceName())
}

func TestError_Retry(t *testing.T) {
	yes := perr.NewUp(perr.ReadError).SetRetry(true)
	reused := perr.NewUp(perr.ConnectionClosed).SetRetryType(perr.RetryReusedOnly)

	tests := []struct {
		name string
		err  *perr.Error
		want perr.RetryType
	}{
		{"new is no", perr.New(perr.ReadError), perr.RetryNo},
		{"explain is no", perr.Explain(perr.ReadError, "x"), perr.RetryNo},
		{"non-perr cause gives no", perr.Because(perr.ReadError, "x", io.EOF), perr.RetryNo},
		{"inherit yes", perr.Because(perr.InternalError, "x", yes), perr.RetryYes},
		{"inherit through %w", perr.Because(perr.InternalError, "x", fmt.Errorf("w: %w", yes)), perr.RetryYes},
		{"inherit reused only", perr.Create(perr.H1Error, perr.Upstream, "x", reused), perr.RetryReusedOnly},
		{"more context keeps", yes.MoreContext("again"), perr.RetryYes},
		{"more context keeps reused only", reused.MoreContext("again"), perr.RetryReusedOnly},
		{"set cause does not inherit", perr.New(perr.ReadError).SetCause(yes), perr.RetryNo},
		{"inherit from the nearest perr error",
			perr.Because(perr.InternalError, "x", perr.Because(perr.ReadError, "y", yes).SetRetry(false)),
			perr.RetryNo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.RetryType())
			assert.Equal(t, tt.want == perr.RetryYes, tt.err.Retry())
		})
	}

	t.Run("decide reuse", func(t *testing.T) {
		mk := func() *perr.Error { return perr.NewUp(perr.ReadError).SetRetryType(perr.RetryReusedOnly) }
		e := mk()
		assert.False(t, e.Retry(), "undecided answers false and does not panic")
		assert.Same(t, e, e.DecideReuse(true))
		assert.Equal(t, perr.RetryYes, e.RetryType())
		assert.True(t, e.Retry())
		assert.Equal(t, perr.RetryNo, mk().DecideReuse(false).RetryType())
		// Decided errors are unchanged.
		assert.Equal(t, perr.RetryNo, perr.New(perr.ReadError).DecideReuse(true).RetryType())
		assert.Equal(t, perr.RetryYes, perr.New(perr.ReadError).SetRetry(true).DecideReuse(false).RetryType())
	})
}

func TestError_MoreContext(t *testing.T) {
	e := perr.Because(perr.ConnectRefused, "dial", io.EOF).AsUp().SetRetry(true)
	m := e.MoreContext("peer b")
	assert.Equal(t, perr.ConnectRefused, m.Type())
	assert.Equal(t, perr.Upstream, m.Source())
	assert.True(t, m.Retry())
	assert.Equal(t, "peer b", m.Context())
	assert.Same(t, e, m.Cause())
	assert.Nil(t, (*perr.Error)(nil).MoreContext("x"))
}

func TestError_Root(t *testing.T) {
	inner := perr.Because(perr.ConnectTimedout, "dial", io.ErrUnexpectedEOF)
	bare := perr.NewUp(perr.ReadError)
	tests := []struct {
		name      string
		err       *perr.Error
		wantType  perr.ErrorType
		wantCause error
	}{
		{"single without cause", bare, perr.ReadError, bare},
		{"single with cause", inner, perr.ConnectTimedout, io.ErrUnexpectedEOF},
		{"perr chain", perr.Because(perr.HTTPStatus(502), "x", inner.MoreContext("y")),
			perr.ConnectTimedout, io.ErrUnexpectedEOF},
		{"through %w", perr.Because(perr.InternalError, "x", fmt.Errorf("w: %w", inner)),
			perr.ConnectTimedout, io.ErrUnexpectedEOF},
		{"chain ending in perr", perr.Because(perr.InternalError, "x", bare), perr.ReadError, bare},
		{"non-perr cause is not unwrapped",
			perr.Because(perr.InternalError, "x", fmt.Errorf("w: %w", io.EOF)),
			perr.InternalError, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantType, tt.err.RootType())
			if tt.wantCause == nil {
				assert.Equal(t, "w: EOF", tt.err.RootCause().Error())
				return
			}
			assert.Equal(t, tt.wantCause, tt.err.RootCause())
		})
	}
}

// A nil *Error must never sneak into a non-nil error interface.
func TestError_NilHandling(t *testing.T) {
	var nilErr *perr.Error
	tests := []struct {
		name string
		err  error
	}{
		{"OrErr nil", perr.OrErr(nil, perr.ReadError, "x")},
		{"OrFail nil", perr.OrFail(nil)},
		{"ExplainErr nil", perr.ExplainErr(nil, perr.ReadError, func(error) string { return "x" })},
		{"WithContext nil", perr.WithContext(nil, "x")},
		{"WithContext nil *Error", perr.WithContext(nilErr, "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.err == nil, "got %#v", tt.err)
		})
	}

	t.Run("nil receivers", func(t *testing.T) {
		assert.Equal(t, perr.ErrorType{}, nilErr.Type())
		assert.Equal(t, perr.Unset, nilErr.Source())
		assert.Equal(t, "", nilErr.Reason())
		assert.Equal(t, "", nilErr.SourceName())
		assert.Equal(t, "", nilErr.Context())
		assert.True(t, nilErr.Cause() == nil)
		assert.True(t, nilErr.Unwrap() == nil)
		assert.True(t, nilErr.RootCause() == nil)
		assert.Equal(t, perr.ErrorType{}, nilErr.RootType())
		assert.False(t, nilErr.Retry())
		assert.Equal(t, perr.RetryNo, nilErr.RetryType())
		assert.Nil(t, nilErr.SetRetry(true))
		assert.Nil(t, nilErr.SetRetryType(perr.RetryYes))
		assert.Nil(t, nilErr.DecideReuse(true))
		assert.Nil(t, nilErr.SetCause(io.EOF))
		assert.Nil(t, nilErr.SetContext("x"))
		assert.Nil(t, nilErr.AsUp())
		assert.Nil(t, nilErr.AsDown())
		assert.Nil(t, nilErr.AsIn())
	})
	t.Run("nil causes", func(t *testing.T) {
		for _, e := range []*perr.Error{
			perr.Because(perr.ReadError, "x", nil),
			perr.Because(perr.ReadError, "x", nilErr),
			perr.Create(perr.ReadError, perr.Upstream, "x", nilErr),
		} {
			assert.True(t, e.Cause() == nil)
			assert.True(t, errors.Unwrap(e) == nil)
			assert.Same(t, e, e.RootCause())
		}
	})
}

func TestError_ReadConcurrentSafe(t *testing.T) {
	e := perr.Because(perr.HTTPStatus(502), "proxy",
		perr.Because(perr.ConnectRefused, "dial", io.EOF).AsUp().MoreContext("peer"))
	want := e.Error()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if e.Error() != want || !errors.Is(e, perr.ConnectRefused) || perr.StatusCode(e) != 502 {
					t.Error("inconsistent concurrent read")
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzError_Error builds chains from arbitrary context strings and shapes and
// checks that printing never panics and keeps every context.
func FuzzError_Error(f *testing.F) {
	f.Add("dial 10.0.0.1:443", "peer a", "i/o timeout", uint8(0), uint8(3))
	f.Add("", "", "", uint8(255), uint8(0))
	f.Add(" context: ", " cause: ", "\x00\xff", uint8(7), uint8(9))
	types := []perr.ErrorType{
		perr.ReadError, perr.ConnectTimedout, perr.HTTPStatus(404), perr.HTTPStatus(500),
		perr.NewType("C"), perr.NewTypeCode("C", 1), perr.InvalidChunk, {},
	}
	f.Fuzz(func(t *testing.T, c1, c2, c3 string, shape, depth uint8) {
		var err error = errors.New(c3)
		ctxs := []string{c1, c2}
		for i := range int(depth % 6) {
			ty := types[(int(shape)+i)%len(types)]
			src := perr.Source((int(shape) >> 2) + i)
			ctx := ctxs[i%2]
			switch (int(shape) + i) % 4 {
			case 0:
				err = perr.Create(ty, src, ctx, err)
			case 1:
				err = perr.Because(ty, ctx, err).SetRetryType(perr.RetryType(shape))
			case 2:
				err = perr.WithContext(err, ctx)
			case 3:
				err = fmt.Errorf("w %s: %w", ctx, err)
			}
		}
		s := err.Error()
		if depth%6 > 0 && !strings.Contains(s, c3) {
			t.Fatalf("%q lost the root cause %q", s, c3)
		}
		if e, ok := errors.AsType[*perr.Error](err); ok {
			_ = e.RootType()
			_ = e.RootCause()
			_ = e.Retry()
		}
		_ = perr.StatusCode(err)
	})
}
