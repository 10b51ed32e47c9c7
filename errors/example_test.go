package perr_test

import (
	"errors"
	"fmt"
	"io"

	perr "github.com/pingora-go/pingora/errors"
)

func ExampleBecause() {
	errRefused := errors.New("connection refused") // stands for net.Dial's error
	dial := func(addr string) error {
		err := errRefused
		return perr.Because(perr.ConnectRefused, "dial "+addr, err).AsUp()
	}

	err := dial("10.0.0.1:80")
	err = fmt.Errorf("peer pool a: %w", err)

	fmt.Println(errors.Is(err, perr.ConnectRefused))
	fmt.Println(errors.Is(err, errRefused))
	fmt.Println(errors.Is(err, perr.ConnectTimedout))
	var e *perr.Error
	if errors.As(err, &e) {
		fmt.Println(e.Source(), e.Type(), e.Retry())
	}
	fmt.Println(err)
	// Output:
	// true
	// true
	// false
	// Upstream ConnectRefused false
	// peer pool a: Upstream ConnectRefused context: dial 10.0.0.1:80 cause: connection refused
}

func ExampleStatusCode() {
	for _, err := range []error{
		perr.NewUp(perr.ConnectRefused),
		perr.NewUp(perr.ReadTimedout),
		perr.NewDown(perr.InvalidHTTPHeader),
		perr.NewDown(perr.ConnectionClosed),
		perr.Explain(perr.HTTPStatus(403), "denied by ACL"),
		perr.OrFail(io.EOF),
	} {
		fmt.Printf("%d %v\n", perr.StatusCode(err), err)
	}
	// Output:
	// 502 Upstream ConnectRefused
	// 504 Upstream ReadTimedout
	// 400 Downstream InvalidHTTPHeader
	// 0 Downstream ConnectionClosed
	// 403  HTTPStatus context: denied by ACL
	// 500  InternalError context:  cause: EOF
}

func ExampleError_MoreContext() {
	err := perr.Because(perr.ReadError, "read response header", io.ErrUnexpectedEOF).AsUp()
	err = err.MoreContext("peer 10.0.0.2:443")
	err = perr.Because(perr.HTTPStatus(502), "proxy", err).AsIn()

	fmt.Println(err)
	fmt.Println(err.RootType(), err.RootCause())
	// Output:
	// Internal HTTPStatus context: proxy cause: Upstream ReadError context: peer 10.0.0.2:443 cause:  context: read response header cause: unexpected EOF
	// ReadError unexpected EOF
}

func ExampleError_DecideReuse() {
	// A read error on a pooled upstream connection: retry only if the
	// connection was reused (it may just have gone stale).
	err := perr.NewUp(perr.ConnectionClosed).SetRetryType(perr.RetryReusedOnly)
	fmt.Println(err.RetryType(), err.Retry())

	reused := true
	err.DecideReuse(reused)
	fmt.Println(err.RetryType(), err.Retry())
	// Output:
	// reused-only false
	// yes true
}

func ExampleOrErr() {
	closeConn := func() error { return io.ErrClosedPipe }
	fmt.Println(perr.OrErr(closeConn(), perr.WriteError, "close upstream"))
	fmt.Println(perr.OrErr(nil, perr.WriteError, "close upstream") == nil)
	// Output:
	//  WriteError context: close upstream cause: io: read/write on closed pipe
	// true
}
