package umbrella

import (
	"encoding/hex"
	"math/rand/v2"

	"github.com/pingora-go/pingora/httpheader"
)

// traceContext is a request's W3C trace context (traceparent): the trace
// it belongs to and the span this proxy hop opens in it.
type traceContext struct {
	traceID string // 32 lower-case hex digits
	spanID  string // 16 lower-case hex digits
	flags   string // 2 hex digits
}

// newTraceContext continues the trace of a valid incoming traceparent, or
// starts a sampled one, and opens a new span for the upstream hop.
func newTraceContext(req *httpheader.RequestHeader) traceContext {
	var tc traceContext
	if trace, flags, ok := parseTraceparent(req.Get("traceparent")); ok {
		tc.traceID, tc.flags = trace, flags
	} else {
		var b [16]byte
		putRandom(b[:])
		tc.traceID, tc.flags = hex.EncodeToString(b[:]), "01"
	}
	var s [8]byte
	putRandom(s[:])
	tc.spanID = hex.EncodeToString(s[:])
	return tc
}

// header returns the traceparent sent upstream.
func (tc traceContext) header() string {
	return "00-" + tc.traceID + "-" + tc.spanID + "-" + tc.flags
}

func putRandom(b []byte) {
	for {
		for i := 0; i < len(b); i += 8 {
			v := rand.Uint64()
			for j := 0; j < 8 && i+j < len(b); j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
		for _, c := range b {
			if c != 0 {
				return // all-zero ids are invalid
			}
		}
	}
}

// parseTraceparent validates a traceparent value (W3C Trace Context
// §3.2): version-traceid-parentid-flags, lower-case hex, ids not all
// zero, version not ff. A version above 00 may carry more fields after
// the flags.
func parseTraceparent(v string) (traceID, flags string, ok bool) {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", "", false
	}
	version := v[:2]
	if !isHex(version) || version == "ff" || version == "00" && len(v) != 55 || len(v) > 55 && v[55] != '-' {
		return "", "", false
	}
	traceID, parent, flags := v[3:35], v[36:52], v[53:55]
	if !isHex(traceID) || !isHex(parent) || !isHex(flags) || allZero(traceID) || allZero(parent) {
		return "", "", false
	}
	return traceID, flags, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
