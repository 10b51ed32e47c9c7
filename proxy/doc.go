// Package proxy is the programmable HTTP proxy: a Hooks[C] struct with a
// func field for every phase of a proxied request, run by a Proxy that
// serves downstream connections (HTTP/1 and HTTP/2) and forwards each
// request to an upstream peer (HTTP/1 or HTTP/2, chosen by the peer's ALPN).
//
// It ports pingora-proxy from Cloudflare's Pingora (ProxyHttp, HttpProxy,
// Session; SPEC §2). The hooks are Pingora's ProxyHttp methods as nil-able
// func fields, in Pingora's call order; C is Pingora's per-request CTX.
//
// # Usage
//
//	p, err := proxy.New(proxy.Hooks[struct{}]{
//		UpstreamPeer: func(s *proxy.Session, _ *struct{}) (*peer.Peer, error) {
//			return peer.New("127.0.0.1:8080", false, ""), nil
//		},
//	}, proxy.Options{Via: "pingora"})
//	svc := server.NewListeningService("proxy", p) // *Proxy is a server.App
//
// # Phases
//
// For every request (SPEC §2.2): an unparsable request is answered 400 (or
// the parser's status) and a CONNECT 405 unless Options.AllowConnect,
// before any hook. Then NewCtx, OnConnectionReuse, EarlyRequestFilter,
// RequestFilter, ProxyUpstreamFilter, the Max-Forwards check (an OPTIONS
// or TRACE request with Max-Forwards: 0 is answered here, see below), and
// the proxy loop: UpstreamPeer,
// connect (FailToConnect on failure), ConnectedToUpstream,
// UpstreamRequestFilter, RequestBodyFilter per chunk (on a second
// goroutine, concurrently with the response), UpstreamResponseFilter,
// ResponseFilter, UpstreamResponseBodyFilter and ResponseBodyFilter per
// chunk, UpstreamResponseTrailerFilter and ResponseTrailerFilter; an error
// after connecting goes through ErrorWhileProxy, whose retry decision
// starts another attempt (at most Options.MaxRetries in all). A request
// that failed for good goes to FailToProxy; Logging is always last, then
// PersistConnectionContext when the connection is kept alive.
//
// # What the proxy does to messages
//
//   - Hop-by-hop fields (Connection and every field it names, Keep-Alive,
//     Proxy-Connection, TE, Transfer-Encoding, Upgrade) are removed from
//     the request before UpstreamRequestFilter and from the response
//     before UpstreamResponseFilter, so fields the hooks or the forwarding
//     options add are never removed (CVE-2021-33197). An upgrade request
//     keeps Upgrade and is sent with Connection: upgrade.
//   - Host: an absolute-form target gives the Host and is sent in origin
//     form (RFC 9112 §3.2.2); a request without Host (HTTP/1.0) gets the
//     peer's address.
//   - Max-Forwards (RFC 9110 §7.6.2), for OPTIONS and TRACE only: a value
//     of 0 is answered by the proxy itself after ProxyUpstreamFilter and
//     before UpstreamPeer, never forwarded: OPTIONS with 200, an Allow
//     field and no content, TRACE with 405 (requests are not reflected:
//     that would echo credentials); a value n > 0 is forwarded as n−1. A
//     value that is not a decimal integer (or exceeds 19 digits) is treated
//     as absent and forwarded unchanged. Other methods are not affected.
//   - Expect is not forwarded: the downstream session answers 100 Continue
//     itself when the body is first read, so no pooled upstream connection
//     waits for a body that never comes (CVE-2024-24791).
//   - Upstream requests are HTTP/1.1 (or HTTP/2); a body without a
//     Content-Length (HTTP/2 downstream, or announced as modified by
//     Session.SetRequestBodyModified) is sent chunked.
//   - Responses to HTTP/1 clients are re-framed: chunked when the length is
//     unknown (close-delimited for HTTP/1.0 clients), Connection: close
//     when the connection will close, version HTTP/1.1.
//   - Options.Via, XForwardedFor, XForwardedProto and Forwarded add the
//     forwarding fields (all off by default).
//   - 1xx responses (103 Early Hints) are forwarded before the final one;
//     a 101 to an upgrade request switches both connections to a tunnel
//     that ends when either side closes (tunnel only after the 101:
//     CVE-2026-2833).
//
// # HTTP/2
//
// Downstream HTTP/2 comes from TLS ALPN "h2" or, with Options.H2C, from
// the client preface on a cleartext port shared with HTTP/1. Upstream
// HTTP/2 is chosen by the peer's ALPN: peer.ALPNH2 (h2 only; h2c with
// prior knowledge on cleartext) or peer.ALPNH2H1 over TLS (the server
// picks). Trailers pass both ways, so gRPC works end to end (tested with
// grpc-go: unary, status, bidirectional streaming). Two limits of
// x/net/http2, which hides END_STREAM: a downstream HTTP/2 request without
// Content-Length is taken to have a body unless its method is GET, HEAD,
// DELETE, OPTIONS or TRACE; an upstream HTTP/2 response header carrying
// grpc-status is taken to be a trailers-only response and ends the stream.
//
// # Compression
//
// Options.Compression (off by default) compresses responses with zstd or
// gzip (github.com/klauspost/compress) when the client's Accept-Encoding
// takes them and the media type is compressible, dropping Content-Length,
// weakening a strong ETag and adding Vary: Accept-Encoding; it can decode
// gzip or zstd responses for clients that do not accept them.
// Session.SetCompressionLevel changes it per request.
//
// # Failures and retries
//
// Errors map to statuses with perr.StatusCode (SPEC §2.5): 502 for a broken
// upstream, 504 for an upstream timeout, 400 for a bad request, 500 for
// internal errors; a client that went away gets nothing and is logged with
// status 499, at level Debug (other failures at Error). A request is
// retried only when it is safe: a connect failure
// (nothing was sent) when FailToConnect keeps it retryable, which by
// default it is; or a failure on a pooled connection before any response
// byte, when nothing was written or the method is idempotent and the whole
// body is in the retry buffer (DefaultErrorWhileProxy). Hooks may decide
// otherwise. Nothing is retried once a response started downstream.
//
// # Connections
//
// An upstream HTTP/1 connection goes back to the pool only when both
// bodies completed cleanly; HTTP/2 upstream connections are multiplexed.
// A plaintext HTTP/1 upstream connection (Linux) first stays parked with
// the downstream HTTP/1 connection it served, for that connection's next
// request to the same peer: a client sending requests back to back keeps
// one upstream connection without a trip through the pool. Before reuse a
// parked connection is checked without blocking, and one whose peer closed
// it or sent anything is closed, as the pool's watcher would. It moves to
// the pool after 100 ms without a next request (or the peer's shorter
// IdleTimeout), when the next request goes to another peer, or when the
// downstream connection ends. The streams of a downstream HTTP/2
// connection share such a slot of up to 32 parked connections. A small
// response whose body came with its header from the upstream is sent
// downstream in one write.
//
// Upstream reads and writes are bounded, over HTTP/1 and HTTP/2 alike: the
// response head within Options.Upstream.HeaderTimeout (30 s), each body
// read within BodyTimeout (60 s), each write within WriteTimeout (30 s);
// a peer's ReadTimeout and WriteTimeout override them. HTTP/1 timeouts
// are kept coarsely: one fires between its value and 9/8 of it.
// A downstream HTTP/1 connection waits for its next request under the
// keep-alive idle timeout (Options.Downstream.KeepAliveTimeout, 60 s).
//
// # Defaults
//
//	Options.MaxRetries        16 attempts
//	Options.RetryBufferSize   64 KiB
//	Options.BodyBufferSize    64 KiB per direction, pooled
//	Options.Downstream        http1 defaults (30 s header, 60 s body, 30 s write, 60 s keep-alive)
//	Options.DownstreamH2      http2 defaults (100 streams, 64 KiB header list, ...)
//	Options.H2C               off (cleartext is HTTP/1 only)
//	Options.AllowConnect      off (CONNECT gets 405)
//	Options.Via/X-Forwarded-* off
//	Options.Connector         a connector.New(ConnectorOptions): 128 idle conns, 60 s idle
//
// # Concurrency
//
// A Proxy is safe for concurrent use. Each downstream connection is served
// on the goroutine that calls ServeConn; each HTTP/2 stream on a goroutine
// of its own. The hooks of one request run on one goroutine, except
// RequestBodyFilter, which runs on the goroutine sending the request body
// while the response is being read: it must touch only its arguments and
// what it synchronises itself.
//
// Not ported: the HTTP cache phases (SPEC §2.7–2.8), subrequests (§2.9),
// custom protocols, a general HTTP module chain (compression is built in),
// and WebSocket over HTTP/2 (RFC 8441).
package proxy
