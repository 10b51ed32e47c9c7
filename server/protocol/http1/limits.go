package http1

import "time"

// Default limits and timeouts, used where a Limits or Options field is zero.
// The table in the package documentation lists them.
const (
	DefaultMaxRequestLine    = 8 << 10  // 8 KiB, longer → 414
	DefaultMaxHeaderBytes    = 64 << 10 // 64 KiB, larger → 431
	DefaultMaxHeaderCount    = 100      // more → 431
	DefaultMaxChunkExtension = 4 << 10  // 4 KiB per chunk line, larger → 400
	DefaultMaxTrailerBytes   = 16 << 10 // 16 KiB, larger → 400

	DefaultHeaderTimeout    = 30 * time.Second
	DefaultBodyTimeout      = 60 * time.Second
	DefaultWriteTimeout     = 30 * time.Second
	DefaultKeepAliveTimeout = 60 * time.Second
	DefaultMaxDrainBytes    = 256 << 10 // 256 KiB
)

// Buffer sizes: connections start with a pooled buffer of minBuffer bytes and
// move to a pooled buffer of maxBuffer bytes only when a head needs it.
const (
	minBuffer = 16 << 10
	maxBuffer = 64 << 10
)

// Limits bounds what the parser accepts. A nil *Limits and zero fields mean
// the defaults. Limits are never larger than 64 KiB (the biggest pooled
// buffer); larger values are clamped.
type Limits struct {
	// MaxRequestLine is the longest request line accepted, in bytes,
	// without its CRLF. A longer one is answered 414. If zero, 8 KiB.
	MaxRequestLine int
	// MaxHeaderBytes bounds the whole head: start line, field lines and the
	// blank line. A larger request head is answered 431; a larger response
	// head is an upstream error. If zero, 64 KiB.
	MaxHeaderBytes int
	// MaxHeaderCount is the most field lines a head may have. More is
	// answered 431. If zero, 100.
	MaxHeaderCount int
	// MaxChunkExtension bounds the bytes of chunk extensions on one chunk
	// line (RFC 9112 §7.1.1). More is an InvalidChunk error (400 for a
	// request). If zero, 4 KiB.
	MaxChunkExtension int
	// MaxTrailerBytes bounds the trailer section of a chunked body, and
	// MaxHeaderCount its field lines. If zero, 16 KiB.
	MaxTrailerBytes int
}

func pick(v, def int) int {
	switch {
	case v <= 0:
		return def
	case v > maxBuffer:
		return maxBuffer
	}
	return v
}

func (l *Limits) requestLine() int {
	if l == nil {
		return DefaultMaxRequestLine
	}
	return pick(l.MaxRequestLine, DefaultMaxRequestLine)
}

func (l *Limits) headerBytes() int {
	if l == nil {
		return DefaultMaxHeaderBytes
	}
	return pick(l.MaxHeaderBytes, DefaultMaxHeaderBytes)
}

func (l *Limits) headerCount() int {
	if l == nil || l.MaxHeaderCount <= 0 {
		return DefaultMaxHeaderCount
	}
	return l.MaxHeaderCount
}

func (l *Limits) chunkExtension() int {
	if l == nil {
		return DefaultMaxChunkExtension
	}
	return pick(l.MaxChunkExtension, DefaultMaxChunkExtension)
}

func (l *Limits) trailerBytes() int {
	if l == nil {
		return DefaultMaxTrailerBytes
	}
	return pick(l.MaxTrailerBytes, DefaultMaxTrailerBytes)
}

// Options configures a ServerSession or ClientSession. The zero value is
// ready to use; a nil *Options means the zero value.
type Options struct {
	// Limits bounds the heads and chunked bodies read. The zero value means
	// the defaults.
	Limits Limits
	// HeaderTimeout is the time allowed to receive a whole request head
	// (ServerSession) or response head (ClientSession), counted from the
	// first byte of a request on a kept-alive connection and from the call
	// to ReadRequest otherwise. Bytes trickling in do not extend it. On
	// expiry after some bytes a ServerSession reports 408. If zero, 30s.
	HeaderTimeout time.Duration
	// BodyTimeout is the longest wait for the next body bytes (an idle
	// timeout per read). If zero, 60s.
	BodyTimeout time.Duration
	// WriteTimeout bounds each write to the connection. If zero, 30s.
	WriteTimeout time.Duration
	// KeepAliveTimeout is how long a ServerSession waits for the first byte
	// of the next request on a kept-alive connection; on expiry ReadRequest
	// reports that no request came. If zero, 60s.
	KeepAliveTimeout time.Duration
	// MaxRequestBody bounds a request body read by a ServerSession: a
	// larger Content-Length fails ReadRequest with 413, and a chunked body
	// growing past it fails Read with 413. If zero, bodies are not bounded
	// here (a proxy streams them).
	MaxRequestBody int64
	// MaxDrainBytes is how much of an unread request body (or response
	// body, for a ClientSession) is read and discarded so the connection can
	// be reused. A longer rest closes the connection instead. If zero,
	// 256 KiB; if negative, bodies are never drained.
	MaxDrainBytes int64
}

func (o *Options) headerTimeout() time.Duration { return dur(o.HeaderTimeout, DefaultHeaderTimeout) }
func (o *Options) bodyTimeout() time.Duration   { return dur(o.BodyTimeout, DefaultBodyTimeout) }
func (o *Options) writeTimeout() time.Duration  { return dur(o.WriteTimeout, DefaultWriteTimeout) }
func (o *Options) keepAliveTimeout() time.Duration {
	return dur(o.KeepAliveTimeout, DefaultKeepAliveTimeout)
}

func (o *Options) maxDrain() int64 {
	switch {
	case o.MaxDrainBytes < 0:
		return 0
	case o.MaxDrainBytes == 0:
		return DefaultMaxDrainBytes
	}
	return o.MaxDrainBytes
}

func dur(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}
