package perr

// Source says which side of the proxy an error comes from (Pingora's
// ErrorSource). The zero value is [Unset].
type Source uint8

// The error sources.
const (
	Unset      Source = iota // not known or not set yet; prints as ""
	Upstream                 // caused by the remote server
	Downstream               // caused by the remote client
	Internal                 // caused by our own logic
)

// String returns Pingora's name for the source: "Upstream", "Downstream",
// "Internal", or "" for [Unset] (and for any value out of range).
func (s Source) String() string {
	switch s {
	case Upstream:
		return "Upstream"
	case Downstream:
		return "Downstream"
	case Internal:
		return "Internal"
	}
	return ""
}

// RetryType is an error's retry decision (Pingora's RetryType). The zero value
// is [RetryNo].
type RetryType uint8

// The retry decisions.
const (
	// RetryNo: do not retry (Pingora's Decided(false)).
	RetryNo RetryType = iota
	// RetryYes: the request may be retried (Pingora's Decided(true)).
	RetryYes
	// RetryReusedOnly: retry only if the failed upstream connection had been
	// reused from the pool, i.e. it may simply have gone stale (Pingora's
	// ReusedOnly). Resolve it with [RetryType.DecideReuse].
	RetryReusedOnly
)

// RetryDecided returns [RetryYes] if retry is true, else [RetryNo]
// (Pingora's From<bool>).
func RetryDecided(retry bool) RetryType {
	if retry {
		return RetryYes
	}
	return RetryNo
}

// DecideReuse resolves [RetryReusedOnly] into RetryDecided(reused) and returns
// any other decision unchanged.
func (r RetryType) DecideReuse(reused bool) RetryType {
	if r == RetryReusedOnly {
		return RetryDecided(reused)
	}
	return r
}

// Decided reports whether r is [RetryYes] or [RetryNo].
func (r RetryType) Decided() bool { return r == RetryYes || r == RetryNo }

// Retry reports whether r says to retry. Unlike Pingora, which panics on an
// undecided ReusedOnly, it never panics: [RetryReusedOnly] answers false until
// it is resolved with [RetryType.DecideReuse]. Only [RetryYes] answers true.
func (r RetryType) Retry() bool { return r == RetryYes }

// String returns "no", "yes" or "reused-only".
func (r RetryType) String() string {
	switch r {
	case RetryNo:
		return "no"
	case RetryYes:
		return "yes"
	case RetryReusedOnly:
		return "reused-only"
	}
	return "invalid"
}
