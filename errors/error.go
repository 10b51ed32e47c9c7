package perr

import (
	stderrors "errors"
	"strings"
)

// Error is a proxy error: its [ErrorType], its [Source], a retry decision, an
// optional context text and an optional cause (Pingora's Error; BError is
// *Error). Always use it as *Error. Build one with [New], [Explain], [Because]
// or [Create]; the zero Error is an error of the zero ErrorType.
//
// *Error works with the standard library: [Error.Unwrap] returns the cause,
// so [errors.Is] and [errors.As] see the whole chain, and [Error.Is] makes
// errors.Is(err, perr.ReadError) true when any *Error in the chain has that
// type.
//
// Methods that change an Error (SetX, AsX, DecideReuse) return the receiver so
// calls chain; they are not safe to call while another goroutine uses the same
// Error. Reading methods are safe for concurrent use. All methods accept a nil
// receiver: readers answer zero values ("<nil>" for Error) and changers do
// nothing and return nil.
type Error struct {
	cause   error
	context string
	etype   ErrorType
	source  Source
	retry   RetryType
	hasCtx  bool // context was given, even if empty: Pingora prints " context: " then
}

// New returns an error of type t with source [Unset], no context and no cause.
func New(t ErrorType) *Error { return &Error{etype: t} }

// NewUp returns an error of type t with source [Upstream].
func NewUp(t ErrorType) *Error { return &Error{etype: t, source: Upstream} }

// NewDown returns an error of type t with source [Downstream].
func NewDown(t ErrorType) *Error { return &Error{etype: t, source: Downstream} }

// NewIn returns an error of type t with source [Internal].
func NewIn(t ErrorType) *Error { return &Error{etype: t, source: Internal} }

// Explain returns an error of type t with the given context, no cause and
// source [Unset]. The context is printed even if empty, as in Pingora.
func Explain(t ErrorType, context string) *Error {
	return &Error{etype: t, context: context, hasCtx: true}
}

// Because returns an error of type t, with the given context, caused by cause;
// the source is [Unset]. The retry decision is inherited from cause as in
// [Create]. The context is printed even if empty, as in Pingora. A nil cause
// gives an error without a cause.
func Because(t ErrorType, context string, cause error) *Error {
	return create(t, Unset, context, true, cause)
}

// Create returns an error with every field given. Its retry decision is the
// retry decision of the first *Error found in cause (through any wrappers, as
// errors.As finds it), else [RetryNo]. An empty context means no context, and
// a nil cause (or a nil *Error) means no cause.
func Create(t ErrorType, src Source, context string, cause error) *Error {
	return create(t, src, context, context != "", cause)
}

func create(t ErrorType, src Source, context string, hasCtx bool, cause error) *Error {
	cause = normCause(cause)
	e := &Error{etype: t, source: src, context: context, hasCtx: hasCtx, cause: cause}
	if cause != nil {
		if ce, ok := stderrors.AsType[*Error](cause); ok && ce != nil {
			e.retry = ce.retry
		}
	}
	return e
}

// normCause turns a nil *Error stored in an error interface into a nil error.
func normCause(cause error) error {
	if ce, ok := cause.(*Error); ok && ce == nil {
		return nil
	}
	return cause
}

// Type returns the error's type (Pingora's etype).
func (e *Error) Type() ErrorType {
	if e == nil {
		return ErrorType{}
	}
	return e.etype
}

// Source returns where the error comes from (Pingora's esource).
func (e *Error) Source() Source {
	if e == nil {
		return Unset
	}
	return e.source
}

// Reason returns the name of the error's type (Pingora's reason_str).
func (e *Error) Reason() string { return e.Type().String() }

// SourceName returns the name of the error's source, "" if [Unset]
// (Pingora's source_str).
func (e *Error) SourceName() string { return e.Source().String() }

// Context returns the error's context text, "" if none.
func (e *Error) Context() string {
	if e == nil {
		return ""
	}
	return e.context
}

// Cause returns the error's direct cause, nil if none.
func (e *Error) Cause() error {
	if e == nil {
		return nil
	}
	return e.cause
}

// Retry reports whether the request may be retried after this error. It never
// panics: an undecided [RetryReusedOnly] answers false (Pingora panics there);
// resolve it first with [Error.DecideReuse].
func (e *Error) Retry() bool { return e.RetryType().Retry() }

// RetryType returns the error's retry decision, which may be undecided.
func (e *Error) RetryType() RetryType {
	if e == nil {
		return RetryNo
	}
	return e.retry
}

// SetRetry sets the retry decision to [RetryYes] or [RetryNo].
func (e *Error) SetRetry(retry bool) *Error { return e.SetRetryType(RetryDecided(retry)) }

// SetRetryType sets the retry decision.
func (e *Error) SetRetryType(r RetryType) *Error {
	if e != nil {
		e.retry = r
	}
	return e
}

// DecideReuse resolves a [RetryReusedOnly] decision: the error is retryable
// iff the failed connection had been reused. Decided errors are unchanged.
func (e *Error) DecideReuse(reused bool) *Error {
	if e != nil {
		e.retry = e.retry.DecideReuse(reused)
	}
	return e
}

// SetCause replaces the error's cause; nil removes it. The cause chain must not
// lead back to e: a cycle makes Error and errors.Is loop forever.
func (e *Error) SetCause(cause error) *Error {
	if e != nil {
		e.cause = normCause(cause)
	}
	return e
}

// SetContext replaces the error's context text. It is printed even if empty.
func (e *Error) SetContext(context string) *Error {
	if e != nil {
		e.context, e.hasCtx = context, true
	}
	return e
}

// AsUp sets the source to [Upstream] (Pingora's as_up and into_up).
func (e *Error) AsUp() *Error { return e.setSource(Upstream) }

// AsDown sets the source to [Downstream] (Pingora's as_down and into_down).
func (e *Error) AsDown() *Error { return e.setSource(Downstream) }

// AsIn sets the source to [Internal] (Pingora's as_in and into_in).
func (e *Error) AsIn() *Error { return e.setSource(Internal) }

func (e *Error) setSource(s Source) *Error {
	if e != nil {
		e.source = s
	}
	return e
}

// MoreContext returns a new error with e's type, source and retry decision,
// the given context, and e as its cause. A nil e gives nil; to add context to
// any error value, use [WithContext].
func (e *Error) MoreContext(context string) *Error {
	if e == nil {
		return nil
	}
	return &Error{etype: e.etype, source: e.source, retry: e.retry, context: context, hasCtx: true, cause: e}
}

// RootType returns the type of the innermost *Error in the chain: it follows
// causes, looking through non-perr wrappers such as fmt.Errorf("%w") the way
// errors.As does, and stops when no further *Error is found (Pingora's
// root_etype).
func (e *Error) RootType() ErrorType { return e.root().Type() }

// RootCause returns the innermost error of the chain: the cause of the
// innermost *Error (found as in [Error.RootType]), or that *Error itself if it
// has no cause (Pingora's root_cause). It does not unwrap the non-perr error it
// returns; use errors.Is and errors.As for that.
func (e *Error) RootCause() error {
	r := e.root()
	if r == nil {
		return nil
	}
	if r.cause != nil {
		return r.cause
	}
	return r
}

func (e *Error) root() *Error {
	for e != nil && e.cause != nil {
		next, ok := stderrors.AsType[*Error](e.cause)
		if !ok || next == nil {
			break
		}
		e = next
	}
	return e
}

// Unwrap returns the error's cause, nil if none.
func (e *Error) Unwrap() error { return e.Cause() }

// Is reports whether target is an [ErrorType] equal to e's type. With
// [errors.Is], which calls it at every level of the chain, this finds a type
// anywhere in the chain.
func (e *Error) Is(target error) bool {
	t, ok := target.(ErrorType)
	return ok && e != nil && e.etype == t
}

// Error prints the chain the way Pingora's Display does. For each *Error in
// the chain (following direct *Error causes): its source name if it differs
// from the previous error's (always for the first; [Unset] prints nothing),
// then " " and the type name if the type differs from the previous error's,
// then " context: " and the context if one was given, then " cause: " and the
// cause: the next *Error by these rules, or any other error's own Error text.
// For example: `Upstream ConnectRefused context: dial 10.0.0.1:80 cause: connection refused`.
// The string is built on each call; nothing is stored.
func (e *Error) Error() string {
	if e == nil {
		return "<nil>"
	}
	// Pass 1: exact length, and the text of the terminal non-perr cause (its
	// Error method is called once), so pass 2 allocates exactly once.
	var tail string
	n := 0
	for cur, prev := e, (*Error)(nil); cur != nil; prev, cur = cur, nextDisplayed(cur) {
		if prev == nil || prev.source != cur.source {
			n += len(cur.source.String())
		}
		if prev == nil || prev.etype != cur.etype {
			n += 1 + len(cur.etype.String())
		}
		if cur.hasCtx {
			n += len(" context: ") + len(cur.context)
		}
		if cur.cause != nil {
			n += len(" cause: ")
			if nextDisplayed(cur) == nil {
				tail = cur.cause.Error()
				n += len(tail)
			}
		}
	}
	var b strings.Builder
	b.Grow(n)
	for cur, prev := e, (*Error)(nil); cur != nil; prev, cur = cur, nextDisplayed(cur) {
		if prev == nil || prev.source != cur.source {
			b.WriteString(cur.source.String())
		}
		if prev == nil || prev.etype != cur.etype {
			b.WriteByte(' ')
			b.WriteString(cur.etype.String())
		}
		if cur.hasCtx {
			b.WriteString(" context: ")
			b.WriteString(cur.context)
		}
		if cur.cause != nil {
			b.WriteString(" cause: ")
			if nextDisplayed(cur) == nil {
				b.WriteString(tail)
			}
		}
	}
	return b.String()
}

// nextDisplayed returns e's cause if it is an *Error printed by the chain
// rules (a direct cause, as Pingora's downcast), else nil.
func nextDisplayed(e *Error) *Error {
	ce, _ := e.cause.(*Error)
	return ce
}
