package cache

import (
	"crypto/rand"
	"math"
	"strconv"
	"time"

	"github.com/pingora-go/pingora/httpheader"
)

// DefaultMaxRanges is the most range-specs a Range header may hold before
// it is ignored, when the caller passes maxRanges ≤ 0 (Pingora's
// max_multipart_ranges default).
const DefaultMaxRanges = 200

// ifRangeMinAge is how long before the stored Date a Last-Modified must
// be for a cache to treat it as a strong validator (RFC 9110 §8.8.2.2).
const ifRangeMinAge = 60 * time.Second

// RangeKind says how a Range request is answered (Pingora's RangeType).
type RangeKind uint8

// Range kinds. RangeNone and RangeInvalid both mean the full response is
// sent; they differ only for diagnostics.
const (
	// RangeNone: no range applies (no Range header, a method other than
	// GET, a failed If-Range, an ineligible response, or a satisfiable
	// suffix of an empty representation); send the full response.
	RangeNone RangeKind = iota
	// RangeInvalid: the Range header is ignored because it is malformed,
	// not in bytes, has overlapping or descending ranges or too many
	// range-specs (RFC 9110 §14.2 allows ignoring); send the full
	// response.
	RangeInvalid
	// RangeUnsatisfiable: no range-spec is satisfiable; send 416 (RFC
	// 9110 §15.5.17).
	RangeUnsatisfiable
	// RangeSingle: one range; send 206 with Content-Range.
	RangeSingle
	// RangeMulti: two or more ascending disjoint ranges; send 206 with a
	// multipart/byteranges body (RFC 9110 §14.6).
	RangeMulti
)

var rangeKindNames = [...]string{"none", "invalid", "unsatisfiable", "single", "multi"}

// String returns the kind's name in lower case ("single").
func (k RangeKind) String() string {
	if int(k) < len(rangeKindNames) {
		return rangeKindNames[k]
	}
	return "RangeKind(" + strconv.Itoa(int(k)) + ")"
}

// ByteRange is a satisfiable byte range; both ends are inclusive offsets,
// as in Content-Range: 0 ≤ Start ≤ End < the representation length.
type ByteRange struct {
	Start, End int64
}

// Len returns the number of bytes in r.
func (r ByteRange) Len() int64 { return r.End - r.Start + 1 }

// RangeSpec is a parsed Range header, resolved against a representation
// length.
type RangeSpec struct {
	Kind RangeKind
	// Ranges are the satisfiable ranges, ascending and disjoint, ends
	// clamped to the length: one for RangeSingle, at least two for
	// RangeMulti, none otherwise.
	Ranges []ByteRange
}

// ParseRange parses a Range header value h (RFC 9110 §14.1–14.2) for a
// representation of length bytes, allowing at most maxRanges range-specs
// (if ≤ 0, DefaultMaxRanges):
//   - the unit must be "bytes" (any case), directly followed by "=";
//     range-specs are "first-last", "first-" or "-suffix", separated by
//     commas with optional whitespace; empty list elements are skipped
//     (RFC 9110 §5.6.1);
//   - RangeInvalid if the value does not parse, a last-pos is below its
//     first-pos, there is no range-spec or more than maxRanges, or the
//     satisfiable ranges overlap or are not ascending (RFC 9110 §17.15
//     lets servers refuse those);
//   - unsatisfiable range-specs (first-pos ≥ length, suffix of 0) are
//     dropped; RangeUnsatisfiable if none remains;
//   - last-pos is clamped to length−1 and a suffix longer than length
//     selects the whole representation; numbers too large for an int64
//     saturate rather than wrap;
//   - a zero length has no satisfiable int-range, and a non-zero suffix
//     selects nothing that Content-Range could express: RangeNone, the
//     Range is ignored;
//   - RangeSingle for one remaining range, RangeMulti for several.
//
// A negative length returns RangeInvalid.
func ParseRange(h string, length int64, maxRanges int) RangeSpec {
	if maxRanges <= 0 {
		maxRanges = DefaultMaxRanges
	}
	if length < 0 {
		return RangeSpec{Kind: RangeInvalid}
	}
	h = trimOWS(h)
	eq := -1
	for i := 0; i < len(h); i++ {
		if h[i] == '=' {
			eq = i
			break
		}
	}
	if eq < 0 || !equalFold(h[:eq], "bytes") {
		return RangeSpec{Kind: RangeInvalid}
	}
	set := h[eq+1:]
	n, kind := scanRanges(set, length, maxRanges, nil)
	if kind != RangeSingle && kind != RangeMulti {
		return RangeSpec{Kind: kind}
	}
	ranges := make([]ByteRange, 0, n)
	_, _ = scanRanges(set, length, maxRanges, &ranges)
	return RangeSpec{Kind: kind, Ranges: ranges}
}

// scanRanges parses a range-set, appending the satisfiable ranges to out
// if out is not nil, and returns their number and the resulting kind.
func scanRanges(set string, length int64, maxRanges int, out *[]ByteRange) (int, RangeKind) {
	specs, n := 0, 0
	emptySuffix := false // a satisfiable suffix of an empty representation
	var prevEnd int64 = -1
	for set != "" {
		var elem string
		elem, set = cutComma(set)
		elem = trimOWS(elem)
		if elem == "" {
			continue // empty list element (RFC 9110 §5.6.1.2)
		}
		if specs++; specs > maxRanges {
			return 0, RangeInvalid
		}
		var r ByteRange
		if elem[0] == '-' {
			suffix, ok := parseRangeNumber(elem[1:])
			if !ok {
				return 0, RangeInvalid
			}
			switch {
			case suffix == 0:
				continue // unsatisfiable
			case length == 0:
				emptySuffix = true
				continue
			}
			r = ByteRange{Start: length - min(suffix, length), End: length - 1}
		} else {
			i := 0
			for i < len(elem) && elem[i] != '-' {
				i++
			}
			if i == len(elem) {
				return 0, RangeInvalid
			}
			first, ok := parseRangeNumber(elem[:i])
			if !ok {
				return 0, RangeInvalid
			}
			last := int64(math.MaxInt64)
			if i+1 < len(elem) {
				if last, ok = parseRangeNumber(elem[i+1:]); !ok || last < first {
					return 0, RangeInvalid
				}
			}
			if first >= length {
				continue // unsatisfiable
			}
			r = ByteRange{Start: first, End: min(last, length-1)}
		}
		if r.Start <= prevEnd {
			return 0, RangeInvalid // overlapping or descending
		}
		prevEnd = r.End
		if out != nil {
			*out = append(*out, r)
		}
		n++
	}
	switch {
	case specs == 0:
		return 0, RangeInvalid
	case n == 0 && emptySuffix:
		return 0, RangeNone
	case n == 0:
		return 0, RangeUnsatisfiable
	case n == 1:
		return 1, RangeSingle
	}
	return n, RangeMulti
}

// cutComma splits s at its first comma.
func cutComma(s string) (elem, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// parseRangeNumber parses 1*DIGIT, saturating at math.MaxInt64.
func parseRangeNumber(s string) (int64, bool) {
	n, _, ok := parseDigits(s, math.MaxInt64)
	return int64(n), ok
}

// parseLength parses a Content-Length value: 1*DIGIT that fits an int64.
func parseLength(s string) (int64, bool) {
	n, capped, ok := parseDigits(s, math.MaxInt64)
	if !ok || capped {
		return 0, false
	}
	return int64(n), true
}

// trimOWS trims spaces and horizontal tabs.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// RangeEligible reports whether resp, the full response to req, may be
// sent in ranges and returns its length: req is GET or HEAD and resp is a
// 200 with exactly one valid Content-Length (Pingora requires it too;
// RFC 9110 does not). Eligible responses advertise Accept-Ranges: bytes
// when sent whole. Only GET requests have their Range evaluated (RFC 9110
// §14.2); HEAD is eligible so that its header matches GET's.
func RangeEligible(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader) (length int64, ok bool) {
	if m := req.Method(); (m != "GET" && m != "HEAD") || resp.Status() != 200 {
		return 0, false
	}
	if resp.Count("Content-Length") != 1 {
		return 0, false
	}
	return parseLength(trimOWS(resp.Get("Content-Length")))
}

// IfRangeMatches evaluates req's If-Range against the full response stored
// (RFC 9110 §13.1.5) and reports whether the Range may be honoured. It is
// true when req has no If-Range. Otherwise, with exactly one If-Range
// line:
//   - an entity-tag (a DQUOTE among the first three characters) matches
//     only by strong comparison: both it and the stored ETag are strong
//     and their opaque tags are equal;
//   - an HTTP-date matches only if it equals the stored Last-Modified
//     and that is a strong validator: the stored Date is at least 60
//     seconds later (RFC 9110 §8.8.2.2, rules for an intermediate cache).
//
// Anything else, including a malformed value, does not match: the full
// response is sent, which is always correct.
func IfRangeMatches(req *httpheader.RequestHeader, stored *httpheader.ResponseHeader) bool {
	switch req.Count("If-Range") {
	case 0:
		return true
	case 1:
	default:
		return false
	}
	v := trimOWS(req.Get("If-Range"))
	if isETagForm(v) {
		want, ok := parseETag(v)
		if !ok || want.weak || stored.Count("ETag") != 1 {
			return false
		}
		have, ok := parseETag(trimOWS(stored.Get("ETag")))
		return ok && !have.weak && have.opaque == want.opaque
	}
	want, ok := ParseHTTPDate(v)
	if !ok || stored.Count("Last-Modified") != 1 {
		return false
	}
	lm, ok := ParseHTTPDate(stored.Get("Last-Modified"))
	if !ok || !lm.Equal(want) {
		return false
	}
	date, ok := ParseHTTPDate(stored.Get("Date"))
	return ok && date.Sub(lm) >= ifRangeMinAge
}

// isETagForm reports whether an If-Range value is an entity-tag rather
// than an HTTP-date: a DQUOTE among its first three characters (RFC 9110
// §13.1.5).
func isETagForm(v string) bool {
	for i := 0; i < len(v) && i < 3; i++ {
		if v[i] == '"' {
			return true
		}
	}
	return false
}

// RequestRange returns the range that req asks of resp, the full (200)
// response (Pingora's request_range_type), and resp's length (0 if not
// RangeEligible): RangeNone
// unless RangeEligible, the method is GET, there is exactly one Range line
// and IfRangeMatches; otherwise ParseRange of the Range header. Several
// Range lines are RangeInvalid.
func RequestRange(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader, maxRanges int) (RangeSpec, int64) {
	length, ok := RangeEligible(req, resp)
	if !ok || req.Method() != "GET" {
		return RangeSpec{}, length
	}
	switch req.Count("Range") {
	case 0:
		return RangeSpec{}, length
	case 1:
	default:
		return RangeSpec{Kind: RangeInvalid}, length
	}
	if !IfRangeMatches(req, resp) {
		return RangeSpec{}, length
	}
	return ParseRange(req.Get("Range"), length, maxRanges), length
}

// RangeHeaderFilter answers req's Range from resp, the header of the full
// response, by rewriting resp in place (Pingora's range_header_filter),
// and returns how to send the body (see RangeResponse.Body). maxRanges is
// as for ParseRange.
//   - Not RangeEligible: resp is unchanged, RangeNone.
//   - RangeNone or RangeInvalid: the full response, with Accept-Ranges:
//     bytes.
//   - RangeSingle: 206, Content-Range: bytes first-last/length and the
//     range's Content-Length.
//   - RangeMulti: 206, Content-Type: multipart/byteranges with a random
//     boundary and the exact Content-Length of the multipart body; each
//     part carries the original Content-Type (omitted if there was none,
//     RFC 9110 §14.6) and its Content-Range.
//   - RangeUnsatisfiable: 416, Content-Range: bytes */length,
//     Content-Length: 0; Content-Type and Content-Encoding are removed.
//
// 206 and 416 responses lose Accept-Ranges and Transfer-Encoding, and get
// the canonical reason phrase.
func RangeHeaderFilter(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader, maxRanges int) RangeResponse {
	if _, ok := RangeEligible(req, resp); !ok {
		return RangeResponse{}
	}
	spec, length := RequestRange(req, resp, maxRanges)
	rr := RangeResponse{Kind: spec.Kind, Ranges: spec.Ranges, Length: length}
	var buf [64]byte // "bytes a-b/len" fits: 6 + 3*19 + 2
	switch spec.Kind {
	case RangeNone, RangeInvalid:
		_ = resp.Set("Accept-Ranges", "bytes")
		return rr
	case RangeSingle:
		_ = resp.SetBytes("Content-Range", appendContentRange(buf[:0], spec.Ranges[0], length))
	case RangeMulti:
		rr.Boundary = rand.Text()
		rr.ContentType = trimOWS(resp.Get("Content-Type"))
		resp.Del("Content-Range")
		_ = resp.Set("Content-Type", "multipart/byteranges; boundary="+rr.Boundary)
	case RangeUnsatisfiable:
		resp.Del("Content-Type")
		resp.Del("Content-Encoding")
		_ = resp.SetBytes("Content-Range", strconv.AppendInt(append(buf[:0], "bytes */"...), length, 10))
	}
	status := 206
	if spec.Kind == RangeUnsatisfiable {
		status = 416
	}
	_ = resp.SetStatus(status)
	resp.ClearReason()
	resp.Del("Accept-Ranges")
	resp.Del("Transfer-Encoding")
	_ = resp.SetContentLength(rr.BodySize())
	return rr
}

// appendContentRange appends "bytes first-last/length".
func appendContentRange(dst []byte, r ByteRange, length int64) []byte {
	dst = append(dst, "bytes "...)
	dst = strconv.AppendInt(dst, r.Start, 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, r.End, 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, length, 10)
}
