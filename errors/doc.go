// Package perr is the shared error type of pingora-go: an error's kind, its
// source (upstream, downstream, internal), a retry decision, a context text
// and a cause chain.
//
// It ports pingora-error from Cloudflare's Pingora 0.8. Import it with the
// alias perr everywhere (CI rejects other imports):
//
//	import perr "github.com/pingora-go/pingora/errors"
//
//	conn, err := d.DialContext(ctx, "tcp", addr)
//	if err != nil {
//		return perr.Because(perr.ConnectRefused, "dial "+addr, err).AsUp()
//	}
//	…
//	if errors.Is(err, perr.ConnectRefused) { … }  // any level of the chain
//	status := perr.StatusCode(err)                // 502 here
//
// # Pieces
//
// [ErrorType] is the kind: the predeclared types carry Pingora's names
// ([ConnectTimedout], [ReadError], …); [NewType] and [NewTypeCode] make custom
// kinds and [HTTPStatus] asks for a given response status. [Source] says which
// side failed. [RetryType] says whether the proxy may retry: no, yes, or only
// if the failed upstream connection had been reused. [*Error] holds all of it
// plus the context and the cause; construct it with [New], [NewUp], [NewDown],
// [NewIn], [Explain], [Because] or [Create]. A new error inherits the retry
// decision of the *Error that caused it, else it is [RetryNo].
//
// [OrErr], [OrFail], [ExplainErr] and [WithContext] are Go forms of Pingora's
// Result helpers; they take the error a call returned and give nil for nil.
// [StatusCode] maps an error to the HTTP status a proxy answers with.
//
// # Standard library
//
// *Error implements Unwrap, so [errors.Is], [errors.As] and [errors.Unwrap]
// walk the chain, including through fmt.Errorf("%w") wrappers. ErrorType
// implements error and (*Error).Is matches it, so errors.Is(err, perr.ReadError)
// is true if any *Error in the chain has type ReadError.
//
// # Printing
//
// Error prints the chain exactly as Pingora's Display does: each level's
// source and type name only where they differ from the level above, then
// " context: …" and " cause: …". For example,
// perr.Because(perr.ReadError, "read body", io.EOF).AsDown().Error() is
// "Downstream ReadError context: read body cause: EOF". The string is built
// when Error is called, so creating an error costs one allocation.
//
// # Defaults
//
// The zero [Source] is [Unset], the zero [RetryType] is [RetryNo]. New errors
// have source Unset unless the constructor names one, no context and no cause
// unless given. [StatusCode] gives 0 for nil, 500 for errors that are not
// *Error.
//
// # Concurrency
//
// ErrorType, Source and RetryType are immutable values. An *Error may be read
// (Error, Is, Type, …) by many goroutines at once; its changing methods
// (SetX, AsX, DecideReuse) must not run concurrently with any other use of
// the same *Error. Build an error, then share it.
//
// # Differences from Pingora
//
//   - Retry never panics: an undecided [RetryReusedOnly] answers false.
//   - [StatusCode] answers 504 rather than 502 for upstream timeouts, and uses
//     the code of a [NewTypeCode] type as well as of [HTTPStatus].
//   - Custom type names need not be constants, but [NewType] interns them for
//     the life of the process (Pingora requires &'static str), so define
//     custom types once, as package-level vars.
//   - [Create] treats an empty context as none (Go has no Option); [Explain],
//     [Because] and the helpers keep an empty context, so printing matches
//     Pingora, e.g. OrFail gives " InternalError context:  cause: …".
package perr
