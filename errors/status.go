package perr

import stderrors "errors"

// StatusCode returns the HTTP status a proxy answers the client with when a
// request fails with err: the default of Pingora's fail_to_proxy (SPEC §2.5),
// with one deliberate difference marked below. The outermost *Error in err's
// chain (found as errors.As does) decides:
//
//   - an [HTTPStatus] or [NewTypeCode] type: its code;
//   - source [Upstream]: 504 for the timeouts [ConnectTimedout],
//     [TLSHandshakeTimedout], [ReadTimedout], [WriteTimedout] and
//     [PingTimedout], else 502. Pingora answers 502 for upstream timeouts
//     too; pingora-go tells a slow upstream (504 Gateway Timeout) from a
//     broken one (502 Bad Gateway), as nginx does;
//   - source [Downstream]: 0, meaning send no response, for [ReadError],
//     [WriteError] and [ConnectionClosed] (the client is gone), else 400;
//   - source [Internal] or [Unset]: 500.
//
// With no *Error in the chain, a bare [ErrorType] in it counts as an error of
// that type with source [Unset] (so perr.HTTPStatus(404) works as an error);
// any other error gives 500. A nil err gives 0.
func StatusCode(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := stderrors.AsType[*Error](err); ok && e != nil {
		return statusOf(e.etype, e.source)
	}
	if t, ok := stderrors.AsType[ErrorType](err); ok {
		return statusOf(t, Unset)
	}
	return 500
}

func statusOf(t ErrorType, src Source) int {
	if t.d != nil && (t.d.kind == kindHTTPStatus || t.d.kind == kindCustomCode) {
		return int(t.d.code)
	}
	switch src {
	case Upstream:
		switch t {
		case ConnectTimedout, TLSHandshakeTimedout, ReadTimedout, WriteTimedout, PingTimedout:
			return 504
		}
		return 502
	case Downstream:
		switch t {
		case ReadError, WriteError, ConnectionClosed:
			return 0
		}
		return 400
	}
	return 500
}
