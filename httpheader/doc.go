// Package httpheader holds HTTP request and response heads that keep every
// header line as received: the original case of each name, the order of the
// lines, duplicate lines, and the raw request target bytes.
//
// It ports pingora-http from Cloudflare's Pingora (RequestHeader,
// ResponseHeader and their case-preserving header map). Unlike Pingora there
// is no separate "case map" and no no-case mode: names are always stored
// exactly as given and written back exactly as stored.
//
// # Usage
//
//	req, err := httpheader.NewRequest("GET", "/index.html?lang=en")
//	if err != nil { ... }
//	req.Add("Host", "example.com")
//	req.Add("X-Request-ID", "42")         // kept as "X-Request-ID", not "X-Request-Id"
//	id := req.Get("x-request-id")         // case-insensitive, no allocation
//	wire := req.AppendWire(nil)           // "GET /index.html?lang=en HTTP/1.1\r\nHost: ..."
//
// # Storage and allocation
//
// All lines of a header live in one byte buffer in wire form plus a compact
// index, so after Reset a header is refilled (AppendBytes, Add, Set)
// without allocating, lookups fold ASCII case on the stored bytes without
// allocating, and AppendWire is a copy. Get and the other string accessors
// return strings that share the buffer's memory; they stay valid forever,
// and the price is that after such a string was handed out, the next Reset
// moves the header to a new buffer (one allocation). The []byte accessors
// (GetBytes, ValuesBytes, AllBytes, Field, RawTarget) never cause that, and
// their results are valid until the header is next modified.
//
// # Validation
//
// Names must be RFC 9110 tokens (§5.1, §5.6.2). Values may hold visible
// ASCII, obs-text (bytes 0x80–0xFF), SP and HTAB, never CR, LF, NUL or
// another control byte (§5.5). The checked setters (Add, Set, SetBytes,
// AppendBytes) trim leading and trailing SP and HTAB from values, as
// net/http does and as RFC 9110 §5.5 defines a field value; they return an
// error wrapping ErrInvalidName or ErrInvalidValue, changing nothing, for
// anything else. AppendBytesUnchecked is for a parser that has already
// validated. No function panics on bad input.
//
// # Defaults
//
// The zero RequestHeader is "GET / HTTP/1.1" with no fields; the zero
// ResponseHeader is "HTTP/1.1 200 OK" with no fields; the zero Header has no
// fields. Reset releases buffers over 64 KiB or 1024 lines instead of keeping
// them. A header compacts its buffer (into a fresh one) once at least 1 KiB
// and half of it is dead after Set and Del.
//
// # Interop with net/http
//
// FromHTTPHeader, FromHTTPRequest and FromHTTPResponse convert from
// net/http, and ToHTTPHeader, ToHTTPRequest and ToHTTPResponse convert to
// it. Both directions lose information: net/http canonicalises names
// ("x-request-id" becomes "X-Request-Id"), keeps no order between lines of
// different names, and keeps Host in Request.Host and the framing fields in
// Request.ContentLength and TransferEncoding.
//
// # Concurrency
//
// Methods that only read may be called from several goroutines at once;
// a method that modifies a header needs exclusive access. Headers must not be
// copied after first use; use Clone.
package httpheader
