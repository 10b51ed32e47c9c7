package perr_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	perr "github.com/pingora-go/pingora/errors"
)

func TestStatusCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", io.EOF, 500},
		{"http status", perr.New(perr.HTTPStatus(404)), 404},
		{"http status any source", perr.NewUp(perr.HTTPStatus(418)), 418},
		{"http status zero means no response", perr.NewIn(perr.HTTPStatus(0)), 0},
		{"custom code", perr.NewDown(perr.NewTypeCode("TooMany", 429)), 429},
		{"custom without code uses source", perr.NewDown(perr.NewType("Odd")), 400},
		{"upstream", perr.NewUp(perr.ConnectRefused), 502},
		{"upstream h1", perr.NewUp(perr.InvalidHTTPHeader), 502},
		{"upstream connect timeout", perr.NewUp(perr.ConnectTimedout), 504},
		{"upstream tls timeout", perr.NewUp(perr.TLSHandshakeTimedout), 504},
		{"upstream read timeout", perr.NewUp(perr.ReadTimedout), 504},
		{"upstream write timeout", perr.NewUp(perr.WriteTimedout), 504},
		{"upstream ping timeout", perr.NewUp(perr.PingTimedout), 504},
		{"downstream read error", perr.NewDown(perr.ReadError), 0},
		{"downstream write error", perr.NewDown(perr.WriteError), 0},
		{"downstream closed", perr.NewDown(perr.ConnectionClosed), 0},
		{"downstream bad header", perr.NewDown(perr.InvalidHTTPHeader), 400},
		{"downstream read timeout", perr.NewDown(perr.ReadTimedout), 400},
		{"internal", perr.NewIn(perr.ReadError), 500},
		{"unset", perr.New(perr.ConnectRefused), 500},
		{"unset timeout", perr.New(perr.ReadTimedout), 500},
		{"outermost perr error decides", perr.Because(perr.InternalError, "x", perr.NewUp(perr.ReadError)).AsIn(), 500},
		{"through %w", fmt.Errorf("w: %w", perr.NewUp(perr.ConnectRefused)), 502},
		{"bare http status", perr.HTTPStatus(403), 403},
		{"bare http status wrapped", fmt.Errorf("auth: %w", perr.HTTPStatus(401)), 401},
		{"bare other type", perr.ReadError, 500},
		{"joined", errors.Join(io.EOF, perr.NewUp(perr.ReadTimedout)), 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, perr.StatusCode(tt.err))
		})
	}
}
