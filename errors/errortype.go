package perr

import "sync"

// ErrorType is the kind of an [Error]: what went wrong, independent of where.
//
// ErrorType is a small comparable value. The predeclared types below carry
// Pingora's exact names; [NewType] and [NewTypeCode] make custom ones and
// [HTTPStatus] makes one that asks for a given HTTP response status. Two
// ErrorTypes are equal (==) iff they are the same predeclared type, or custom
// types with the same name (and code), or HTTPStatus types with the same code.
//
// ErrorType implements error, so a type can be the target of [errors.Is]:
//
//	if errors.Is(err, perr.ConnectTimedout) { … }
//
// matches when any [*Error] in err's chain has that type (see [Error.Is]).
// A bare ErrorType may also be returned as an error; it then behaves like an
// error of that type with source [Unset].
//
// The zero ErrorType has an empty name and equals no predeclared type; use
// [UnknownError] for an unknown kind.
//
// ErrorType is one pointer wide, so comparing two types is a pointer compare
// and passing one as an error (to errors.Is) does not allocate. Equal types
// share one interned descriptor: [NewType] and [NewTypeCode] look the name up
// in a process-wide table, so make custom types once, as package-level vars,
// from a fixed set of names; every distinct name stays in memory for good.
type ErrorType struct {
	d *typeDesc
}

type typeDesc struct {
	name string
	code uint16
	kind typeKind
}

type typeKind uint8

const (
	kindBuiltin typeKind = iota
	kindHTTPStatus
	kindCustom
	kindCustomCode
)

func builtin(name string) ErrorType { return ErrorType{&typeDesc{name: name}} }

// Connect errors.
var (
	ConnectTimedout      = builtin("ConnectTimedout")
	ConnectRefused       = builtin("ConnectRefused")
	ConnectNoRoute       = builtin("ConnectNoRoute")
	TLSWantX509Lookup    = builtin("TLSWantX509Lookup")
	TLSHandshakeFailure  = builtin("TLSHandshakeFailure")
	TLSHandshakeTimedout = builtin("TLSHandshakeTimedout")
	InvalidCert          = builtin("InvalidCert")
	HandshakeError       = builtin("HandshakeError") // any other handshake failure
	ConnectError         = builtin("ConnectError")   // catch-all for connecting
	BindError            = builtin("BindError")
	AcceptError          = builtin("AcceptError")
	SocketError          = builtin("SocketError")
	ConnectProxyFailure  = builtin("ConnectProxyFailure")
)

// Protocol errors.
var (
	InvalidHTTPHeader = builtin("InvalidHTTPHeader")
	H1Error           = builtin("H1Error")     // catch-all for HTTP/1
	H2Error           = builtin("H2Error")     // catch-all for HTTP/2
	H2Downgrade       = builtin("H2Downgrade") // the peer asks to downgrade from h2 to h1
	InvalidH2         = builtin("InvalidH2")   // the peer sent invalid h2 frames
)

// I/O errors on established connections.
var (
	ReadError        = builtin("ReadError")
	WriteError       = builtin("WriteError")
	ReadTimedout     = builtin("ReadTimedout")
	WriteTimedout    = builtin("WriteTimedout")
	ConnectionClosed = builtin("ConnectionClosed")
)

// File errors.
var (
	FileOpenError   = builtin("FileOpenError")
	FileCreateError = builtin("FileCreateError")
	FileReadError   = builtin("FileReadError")
	FileWriteError  = builtin("FileWriteError")
)

// Other errors.
var (
	InternalError = builtin("InternalError")
	UnknownError  = builtin("UnknownError") // catch-all
)

// Custom types that Pingora defines outside pingora-error, predeclared here so
// every module shares one value. They are made with [NewType] and behave
// exactly like user custom types.
var (
	InvalidChunk      = NewType("InvalidChunk")      // HTTP/1 chunked body framing is invalid
	InvalidTrailerEnd = NewType("InvalidTrailerEnd") // HTTP/1 chunked trailers end badly
	PrematureBodyEnd  = NewType("PrematureBodyEnd")  // the body ended before its declared length
	PingTimedout      = NewType("PingTimedout")      // an HTTP/2 PING got no answer in time
	TLSConfigError    = NewType("TLSConfigError")    // TLS settings (certificates, keys) are unusable
)

// NewType returns a custom ErrorType named name (Pingora's ErrorType::new,
// the Custom variant). Custom types with the same name are equal, so pick a
// unique name. Runtime details belong in an error's context, not in the name:
// names are interned for the life of the process (see [ErrorType]).
func NewType(name string) ErrorType { return intern(typeDesc{name: name, kind: kindCustom}) }

// NewTypeCode returns a custom ErrorType named name that carries a code
// (Pingora's ErrorType::new_code, the CustomCode variant). [StatusCode] and
// [ErrorType.StatusCode] treat the code as an HTTP status. Like Pingora's u16,
// status is clamped to 0..65535. Types are equal iff both name and code are.
func NewTypeCode(name string, status int) ErrorType {
	return intern(typeDesc{name: name, code: clampCode(status), kind: kindCustomCode})
}

// HTTPStatus returns the ErrorType asking for an HTTP response with status
// code (Pingora's ErrorType::HTTPStatus). Its name is "HTTPStatus" whatever the
// code; two HTTPStatus types are equal iff their codes are. Like Pingora's u16,
// code is clamped to 0..65535. HTTPStatus(0) asks for no response at all.
// Codes below 1000 cost nothing; others are interned like [NewType].
func HTTPStatus(code int) ErrorType {
	c := clampCode(code)
	if int(c) < len(httpStatusDescs) {
		return ErrorType{&httpStatusDescs[c]}
	}
	return intern(typeDesc{name: "HTTPStatus", code: c, kind: kindHTTPStatus})
}

// httpStatusDescs holds the descriptors of HTTPStatus(0) to HTTPStatus(999),
// so the usual codes need neither a lock nor an allocation.
var httpStatusDescs = func() *[1000]typeDesc {
	var a [1000]typeDesc
	for i := range a {
		a[i] = typeDesc{name: "HTTPStatus", code: uint16(i), kind: kindHTTPStatus}
	}
	return &a
}()

var (
	internMu sync.Mutex
	interned = map[typeDesc]*typeDesc{}
)

// intern returns the ErrorType whose descriptor equals d, creating it once.
func intern(d typeDesc) ErrorType {
	internMu.Lock()
	defer internMu.Unlock()
	if p, ok := interned[d]; ok {
		return ErrorType{p}
	}
	p := new(typeDesc)
	*p = d
	interned[d] = p
	return ErrorType{p}
}

func clampCode(c int) uint16 {
	switch {
	case c < 0:
		return 0
	case c > 0xffff:
		return 0xffff
	}
	return uint16(c)
}

// String returns the type's name: Pingora's as_str, e.g. "ConnectTimedout",
// "HTTPStatus" for every HTTPStatus type, a custom type's own name, "" for
// the zero ErrorType.
func (t ErrorType) String() string {
	if t.d == nil {
		return ""
	}
	return t.d.name
}

// Error returns t.String(), making ErrorType usable as an [errors.Is] target.
func (t ErrorType) Error() string { return t.String() }

// StatusCode returns the HTTP status the type implies: the code of an
// [HTTPStatus] or [NewTypeCode] type, else 0.
func (t ErrorType) StatusCode() int {
	if t.d != nil && (t.d.kind == kindHTTPStatus || t.d.kind == kindCustomCode) {
		return int(t.d.code)
	}
	return 0
}

// IsCustom reports whether t was made by [NewType] or [NewTypeCode] (this
// includes the predeclared custom types such as [InvalidChunk]).
func (t ErrorType) IsCustom() bool {
	return t.d != nil && (t.d.kind == kindCustom || t.d.kind == kindCustomCode)
}
