// Package http1 is the HTTP/1.x codec under the proxy: a strict,
// allocation-free, case-preserving parser for request and response heads,
// body framing rules, a chunked decoder, and the two connection sessions:
// ServerSession (downstream: read requests, write responses) and
// ClientSession (upstream: write requests, read responses).
//
// It ports the HTTP/1 part of pingora-core from Cloudflare's Pingora
// (protocols/http/v1: server.rs, client.rs, common.rs, body.rs), with
// stricter parsing and a whole-header deadline that bounds slow clients.
//
// # Usage
//
//	s := http1.NewServerSession(conn, nil)
//	for {
//		ok, err := s.ReadRequest()
//		if err != nil { s.RespondError(perr.StatusCode(err)); s.Close(); return }
//		if !ok { s.Close(); return }
//		resp, _ := httpheader.NewResponse(200)
//		resp.SetContentLength(2)
//		s.WriteResponseHeader(resp)
//		s.Write([]byte("ok"))
//		s.FinishResponse(nil)
//		if !s.Finish() { return } // Finish drains the request body or closes
//	}
//
// The parsers can be used alone: ParseRequest and ParseResponse fill an
// httpheader.RequestHeader or ResponseHeader from a byte slice and return
// ErrIncomplete until the whole head is there; RequestBody and ResponseBody
// decide the body framing; ChunkedDecoder decodes chunked bodies in place.
//
// # Rules enforced
//
// Every rule is on by default and none can be relaxed. For requests the
// error carries the status to answer (perr.StatusCode); responses from
// upstream that break a rule are InvalidHTTPHeader errors from Upstream
// (502).
//
//   - RFC 9112 §2.2: lines end in CRLF; a bare LF or bare CR anywhere in a
//     head or chunk line is 400 (so is a NUL or other control byte in a
//     value, RFC 9110 §5.5). Empty lines before a request line are skipped.
//   - §2.2 and §5.2: a line starting with whitespace after the start line
//     (obs-fold) is 400.
//   - §3: method SP target SP HTTP/1.x, single spaces, no autocorrection:
//     400; a version other than 1.x is 505; a request line over the limit
//     is 414.
//   - §3.2: an HTTP/1.1 request needs exactly one Host, and every Host must
//     be a valid uri-host[:port]: 400. The target form must suit the method
//     (authority-form only for CONNECT, "*" only for OPTIONS).
//   - §5.1: whitespace between a field name and its colon is 400
//     (CVE-2019-16276).
//   - §6.1, §6.3: Transfer-Encoding with Content-Length, in HTTP/1.0
//     (CVE-2026-2835), not ending in chunked, or with chunked twice is 400;
//     another coding before chunked is 501; invalid or differing
//     Content-Length is 400 (identical duplicates are collapsed). A request
//     without either has no body.
//   - §7.1: chunk sizes are at most 15 hex digits (no overflow), chunk
//     lines end in CRLF (bare LF: CVE-2025-22871), chunk extensions are
//     bounded per line, data is followed by CRLF; trailers obey the header
//     rules and their own size limit.
//   - RFC 9110 §5.4 / RFC 6585: too many or too large header fields: 431.
//   - RFC 9110 §7.8: a request is an upgrade only with HTTP/1.1, Upgrade and
//     Connection: upgrade; the connection switches only after a 101, so
//     bytes after a refused upgrade are parsed as the next request
//     (CVE-2026-2833).
//   - RFC 9110 §10.1.1: Expect: 100-continue is answered with 100 only
//     when the body is first read, ignored from HTTP/1.0; a final response
//     sent without reading the body closes the connection.
//   - Keep-alive: HTTP/1.1 unless Connection: close, HTTP/1.0 only with
//     Connection: keep-alive; and only when both bodies were completely
//     read and written. An unread request body is drained up to a bound,
//     else the connection closes (CVE-2025-4366). A ClientSession whose
//     request body was not completely sent is never reused
//     (CVE-2024-24791).
//
// Responses are checked the same way, with these differences: no Host rule;
// a missing reason phrase is accepted ("HTTP/1.1 200"); a Transfer-Encoding
// other than exactly chunked is an error (the codec decodes no other coding
// and must not pass one on); bodies with neither Content-Length nor
// Transfer-Encoding are read until the connection closes.
//
// Heads are stored exactly as received: names keep their case, lines their
// order, duplicates stay; values are stored without the optional whitespace
// around them. Writers emit heads exactly as stored and add nothing
// (RespondError excepted); setting hop-by-hop fields such as Connection is
// the proxy's job (KeepAlive tells what the session will do).
//
// # Defaults
//
// Zero fields of Limits and Options mean these values:
//
//	Setting                   Default   On breach
//	Limits.MaxRequestLine     8 KiB     414, close
//	Limits.MaxHeaderBytes     64 KiB    431, close (response: 502)
//	Limits.MaxHeaderCount     100       431, close
//	Limits.MaxChunkExtension  4 KiB     400 (InvalidChunk), close
//	Limits.MaxTrailerBytes    16 KiB    400 (InvalidChunk), close
//	Options.HeaderTimeout     30 s      408 and close if bytes came, else silent close
//	Options.BodyTimeout       60 s      ReadTimedout per body read, close
//	Options.WriteTimeout      30 s      WriteTimedout per write, close
//	Options.KeepAliveTimeout  60 s      silent close of an idle connection
//	Options.MaxDrainBytes     256 KiB   close instead of draining more
//	Options.MaxRequestBody    none      413, close
//
// Timeouts are kept coarsely, to spare a small exchange the cost of a new
// deadline on every read and write: a timeout d fires between d and 9/8·d
// after the read or write began, never before d. A ServerSession keeps its
// connection's deadlines itself (interrupt its reads with InterruptRead,
// not by setting a deadline); a ClientSession does so only through a
// connection that implements TimeoutSetter, as server/connector's does,
// and sets exact deadlines on any other.
//
// Read buffers come from pools: 16 KiB per connection, moved to a 68 KiB
// buffer only while a head (or chunk/trailer line) needs more, and given
// back while a kept-alive connection is idle.
//
// # Allocation
//
// ParseRequest and ParseResponse do not allocate once the header's storage
// has grown, except for a method outside the nine standard ones or a reason
// phrase other than the canonical one. ChunkedDecoder returns sub-slices of
// its input. Session body reads copy once, from the connection buffer or the
// socket into the caller's slice.
//
// # Concurrency
//
// The parse functions are safe for concurrent use on distinct headers. A
// ChunkedDecoder must be used by one goroutine at a time. A ServerSession
// or ClientSession may be driven by two goroutines, one reading the
// incoming body and one writing the outgoing message (full-duplex
// proxying); every other method needs exclusive use (see each type).
package http1
