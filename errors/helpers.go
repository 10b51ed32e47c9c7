package perr

// The helpers below are Go forms of Pingora's Result extension traits
// (OrErr, Context). Each takes the error a call returned: nil gives nil, so
//
//	return perr.OrErr(conn.Close(), perr.WriteError, "close upstream")
//
// returns nil on success. They return error rather than *Error so that a nil
// result is a true nil interface, never a nil *Error inside a non-nil error.

// OrErr wraps a non-nil err as the cause of a new error of type t with the
// given context (Pingora's or_err and or_err_with). Nil err gives nil.
func OrErr(err error, t ErrorType, context string) error {
	if err == nil {
		return nil
	}
	return Because(t, context, err)
}

// OrFail wraps a non-nil err as the cause of an [InternalError] with empty
// context (Pingora's or_fail). Nil err gives nil. Prefer [OrErr]: its context
// makes the error readable.
func OrFail(err error) error {
	if err == nil {
		return nil
	}
	return Because(InternalError, "", err)
}

// ExplainErr replaces a non-nil err with a new error of type t whose context
// is explain(err), without a cause (Pingora's explain_err): use it when err
// must not be kept. A nil explain uses err.Error() as the context. Nil err
// gives nil.
func ExplainErr(err error, t ErrorType, explain func(error) string) error {
	if err == nil {
		return nil
	}
	if explain == nil {
		return Explain(t, err.Error())
	}
	return Explain(t, explain(err))
}

// WithContext adds context to a non-nil err (Pingora's err_context): if err is
// an *Error it returns err.MoreContext(context), which keeps the type, source
// and retry decision; any other error is wrapped by
// Because(InternalError, context, err). Nil err gives nil.
func WithContext(err error, context string) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		if e == nil {
			return nil
		}
		return e.MoreContext(context)
	}
	return Because(InternalError, context, err)
}
