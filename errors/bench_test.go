package perr_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	perr "github.com/pingora-go/pingora/errors"
)

var (
	sinkErr    *perr.Error
	sinkString string
	sinkBool   bool
	sinkInt    int
)

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = perr.NewUp(perr.ConnectTimedout)
	}
}

func BenchmarkBecause(b *testing.B) {
	b.Run("cause=plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = perr.Because(perr.ReadError, "read body", io.EOF)
		}
	})
	b.Run("cause=perr", func(b *testing.B) {
		cause := perr.NewUp(perr.ConnectionClosed).SetRetry(true)
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = perr.Because(perr.ReadError, "read body", cause)
		}
	})
	b.Run("cause=wrapped-perr", func(b *testing.B) {
		cause := fmt.Errorf("w: %w", perr.NewUp(perr.ConnectionClosed).SetRetry(true))
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = perr.Because(perr.ReadError, "read body", cause)
		}
	})
	// Baseline: the standard library's way of adding context to an error.
	b.Run("baseline=fmt.Errorf", func(b *testing.B) {
		b.ReportAllocs()
		var err error
		for b.Loop() {
			err = fmt.Errorf("read body: %w", io.EOF)
		}
		sinkBool = err != nil
	})
}

func BenchmarkHTTPStatus(b *testing.B) {
	b.Run("code=404", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = perr.New(perr.HTTPStatus(404))
		}
	})
	b.Run("code=4040", func(b *testing.B) { // interned: takes a lock
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = perr.New(perr.HTTPStatus(4040))
		}
	})
}

func BenchmarkError_MoreContext(b *testing.B) {
	e := perr.Because(perr.ReadError, "read body", io.EOF).AsUp()
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = e.MoreContext("peer 10.0.0.1:443")
	}
}

func threeLevels() *perr.Error {
	return perr.Because(perr.HTTPStatus(502), "proxy",
		perr.Because(perr.ConnectTimedout, "dial 10.0.0.1:443", io.ErrUnexpectedEOF).AsUp().
			MoreContext("peer a")).AsIn()
}

func BenchmarkError_Error(b *testing.B) {
	b.Run("levels=1", func(b *testing.B) {
		e := perr.Because(perr.ConnectTimedout, "dial 10.0.0.1:443", io.ErrUnexpectedEOF).AsUp()
		b.ReportAllocs()
		for b.Loop() {
			sinkString = e.Error()
		}
	})
	b.Run("levels=3", func(b *testing.B) {
		e := threeLevels()
		b.ReportAllocs()
		for b.Loop() {
			sinkString = e.Error()
		}
	})
}

func BenchmarkErrorsIs(b *testing.B) {
	b.Run("levels=3/innermost", func(b *testing.B) {
		e := threeLevels()
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = errors.Is(e, perr.ConnectTimedout)
		}
	})
	b.Run("levels=3/absent", func(b *testing.B) {
		e := threeLevels()
		b.ReportAllocs()
		for b.Loop() {
			sinkBool = errors.Is(e, perr.ReadError)
		}
	})
}

func BenchmarkStatusCode(b *testing.B) {
	e := fmt.Errorf("w: %w", threeLevels())
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = perr.StatusCode(e)
	}
}
