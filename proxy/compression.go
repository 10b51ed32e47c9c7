package proxy

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
)

// Compression configures the response compression module (Pingora's
// ResponseCompression, SPEC §1.12), applied to every response after
// ResponseFilter and ResponseBodyFilter. The zero value compresses nothing
// and decompresses nothing.
type Compression struct {
	// Level is the compression level, 1 (fastest) to 9 (smallest); zero
	// switches compression off (Pingora's default). For zstd, 1–3 is the
	// fastest encoder, 4–6 the default, 7–8 better, 9 the best.
	// Session.SetCompressionLevel overrides it per request.
	Level int
	// NoZstd and NoGzip switch an algorithm off. The algorithm is chosen
	// from the request's Accept-Encoding: zstd, then gzip, by the client's
	// q-values (higher first) and this order on ties.
	NoZstd, NoGzip bool
	// Types are the media types to compress: a trailing "/" matches a
	// whole family ("text/"). If nil, DefaultCompressibleTypes.
	Types []string
	// MinLength is the smallest Content-Length worth compressing. If zero,
	// 256 bytes. Bodies of unknown length are always compressed.
	MinLength int64
	// Decompress decodes a gzip or zstd response for a client whose
	// Accept-Encoding does not take it. The encoded body is collected (up
	// to DecompressMaxBytes, else the response fails) and decoded at its
	// end.
	Decompress bool
	// DecompressMaxBytes bounds the encoded body collected for
	// decompression. If zero, 8 MiB.
	DecompressMaxBytes int
}

// DefaultCompressibleTypes are the media types compressed when
// Compression.Types is nil.
var DefaultCompressibleTypes = []string{
	"text/", "application/json", "application/javascript", "application/xml",
	"application/xhtml+xml", "application/rss+xml", "application/atom+xml",
	"application/wasm", "image/svg+xml", "application/manifest+json",
	"application/x-javascript", "application/ld+json", "application/graphql-response+json",
}

const defaultMinLength = 256

// SetCompressionLevel sets the compression level of this request's
// response (0 switches compression off), overriding
// Options.Compression.Level. Call it before the response header is
// written.
func (s *Session) SetCompressionLevel(level int) { s.compLevel = level; s.compSet = true }

// codec identifies a content coding.
type codec uint8

const (
	codecNone codec = iota
	codecGzip
	codecZstd
)

func (c codec) String() string {
	switch c {
	case codecGzip:
		return "gzip"
	case codecZstd:
		return "zstd"
	}
	return "identity"
}

// accepts reads an Accept-Encoding header: the q-value of each coding of
// interest (-1 when not listed).
func accepts(req *httpheader.RequestHeader) (gz, zs, star float64) {
	gz, zs, star = -1, -1, -1
	for v := range req.ValuesBytes("Accept-Encoding") {
		for _, el := range strings.Split(string(v), ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(el), ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gz = q
			case "zstd":
				zs = q
			case "*":
				star = q
			}
		}
	}
	if gz < 0 {
		gz = star
	}
	if zs < 0 {
		zs = star
	}
	return gz, zs, star
}

// compressor is the per-request state of the compression module.
type compressor struct {
	enc   codec // compressing with
	dec   codec // decompressing from
	out   bytes.Buffer
	gzw   *gzip.Writer
	zw    *zstd.Encoder
	level int

	in    chunkReader
	gzr   *gzip.Reader
	zr    *zstd.Decoder
	maxIn int
}

// prepare decides, from the final response header about to be sent,
// whether to compress or decompress, and adjusts the header: Content-
// Encoding, Content-Length (dropped), ETag (weakened) and Vary.
func (cm *compressor) prepare(o *Compression, s *Session, resp *httpheader.ResponseHeader) {
	cm.enc, cm.dec = codecNone, codecNone
	level := o.Level
	if s.compSet {
		level = s.compLevel
	}
	st := resp.Status()
	if st < 200 || st == 204 || st == 304 || s.req.Method() == "HEAD" {
		return
	}
	if level <= 0 && !o.Decompress {
		return
	}
	if cc := resp.GetBytes("Cache-Control"); cc != nil && bytes.Contains(bytes.ToLower(cc), []byte("no-transform")) {
		return
	}
	if resp.Has("Content-Range") {
		return
	}
	gz, zs, _ := accepts(s.req)
	ce := strings.ToLower(strings.TrimSpace(resp.Get("Content-Encoding")))
	switch {
	case ce == "" || ce == "identity":
		if level <= 0 || !compressible(o.Types, resp.Get("Content-Type")) {
			return
		}
		min := o.MinLength
		if min == 0 {
			min = defaultMinLength
		}
		if cl := resp.GetBytes("Content-Length"); cl != nil {
			if n := parseLength(cl); n >= 0 && n < min {
				return
			}
		}
		switch {
		case !o.NoZstd && zs > 0 && (o.NoGzip || zs >= gz):
			cm.enc = codecZstd
		case !o.NoGzip && gz > 0:
			cm.enc = codecGzip
		default:
			return
		}
		cm.level = level
		_ = resp.Set("Content-Encoding", cm.enc.String())
	case o.Decompress && (ce == "gzip" || ce == "x-gzip") && gz <= 0 && cm.setMax(o):
		cm.dec = codecGzip
		resp.Del("Content-Encoding")
	case o.Decompress && ce == "zstd" && zs <= 0 && cm.setMax(o):
		cm.dec = codecZstd
		resp.Del("Content-Encoding")
	default:
		return
	}
	resp.Del("Content-Length")
	s.respModified = true
	if et := resp.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		_ = resp.Set("ETag", "W/"+et)
	}
	if cm.enc != codecNone {
		addVary(resp)
	}
}

func addVary(resp *httpheader.ResponseHeader) {
	for v := range resp.Values("Vary") {
		for _, el := range strings.Split(v, ",") {
			el = strings.TrimSpace(el)
			if el == "*" || strings.EqualFold(el, "Accept-Encoding") {
				return
			}
		}
	}
	_, _ = resp.Add("Vary", "Accept-Encoding")
}

func compressible(types []string, ct string) bool {
	if types == nil {
		types = DefaultCompressibleTypes
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return false
	}
	for _, t := range types {
		if strings.HasSuffix(t, "/") && strings.HasPrefix(mt, t) || mt == t {
			return true
		}
	}
	return false
}

var (
	gzWriters [gzip.BestCompression + 1]sync.Pool // *gzip.Writer by level
	zEncoders sync.Map                            // level → *sync.Pool of *zstd.Encoder
)

func zstdLevel(level int) zstd.EncoderLevel {
	switch {
	case level <= 3:
		return zstd.SpeedFastest
	case level <= 6:
		return zstd.SpeedDefault
	case level <= 8:
		return zstd.SpeedBetterCompression
	}
	return zstd.SpeedBestCompression
}

// active reports whether the module transforms this response.
func (cm *compressor) active() bool { return cm.enc != codecNone || cm.dec != codecNone }

// transform passes a body chunk through the module; eos flushes the end of
// the stream. The result is valid until the next call.
func (cm *compressor) transform(chunk []byte, eos bool) ([]byte, error) {
	cm.out.Reset()
	switch {
	case cm.enc == codecGzip:
		if cm.gzw == nil {
			cm.level = min(cm.level, gzip.BestCompression)
			if w, ok := gzWriters[cm.level].Get().(*gzip.Writer); ok {
				w.Reset(&cm.out)
				cm.gzw = w
			} else {
				w, err := gzip.NewWriterLevel(&cm.out, cm.level)
				if err != nil {
					return nil, perr.Because(perr.InternalError, "proxy: gzip", err).AsIn()
				}
				cm.gzw = w
			}
		}
		if _, err := cm.gzw.Write(chunk); err != nil {
			return nil, perr.Because(perr.InternalError, "proxy: gzip", err).AsIn()
		}
		var err error
		if eos {
			err = cm.gzw.Close()
		} else if len(chunk) > 0 {
			err = cm.gzw.Flush()
		}
		if err != nil {
			return nil, perr.Because(perr.InternalError, "proxy: gzip", err).AsIn()
		}
	case cm.enc == codecZstd:
		if cm.zw == nil {
			lv := zstdLevel(cm.level)
			pl, _ := zEncoders.LoadOrStore(lv, &sync.Pool{})
			if e, ok := pl.(*sync.Pool).Get().(*zstd.Encoder); ok {
				e.Reset(&cm.out)
				cm.zw = e
			} else {
				e, err := zstd.NewWriter(&cm.out, zstd.WithEncoderLevel(lv), zstd.WithEncoderConcurrency(1))
				if err != nil {
					return nil, perr.Because(perr.InternalError, "proxy: zstd", err).AsIn()
				}
				cm.zw = e
			}
		}
		if _, err := cm.zw.Write(chunk); err != nil {
			return nil, perr.Because(perr.InternalError, "proxy: zstd", err).AsIn()
		}
		var err error
		if eos {
			err = cm.zw.Close()
		} else if len(chunk) > 0 {
			err = cm.zw.Flush()
		}
		if err != nil {
			return nil, perr.Because(perr.InternalError, "proxy: zstd", err).AsIn()
		}
	case cm.dec != codecNone:
		if err := cm.decode(chunk, eos); err != nil {
			return nil, err
		}
	default:
		return chunk, nil
	}
	return cm.out.Bytes(), nil
}

// decode decompresses what it can of the data seen so far. The decoders
// read from cm.in, which hands out the pending input and reports
// io.ErrNoProgress (for more) until eos.
func (cm *compressor) decode(chunk []byte, eos bool) error {
	if len(cm.in.buf)+len(chunk) > cm.maxIn {
		return perr.Explain(perr.InternalError, "proxy: upstream body too large to decompress").AsIn()
	}
	cm.in.buf = append(cm.in.buf, chunk...)
	cm.in.eos = eos
	if !eos {
		return nil // decoders in klauspost/compress read ahead; decode at the end
	}
	var r io.Reader
	switch cm.dec {
	case codecGzip:
		zr, err := gzip.NewReader(&cm.in)
		if err != nil {
			return perr.Because(perr.InvalidHTTPHeader, "proxy: gunzip upstream body", err).AsUp()
		}
		cm.gzr, r = zr, zr
	case codecZstd:
		zr, err := zstd.NewReader(&cm.in, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return perr.Because(perr.InvalidHTTPHeader, "proxy: zstd upstream body", err).AsUp()
		}
		defer zr.Close()
		r = zr
	}
	if _, err := cm.out.ReadFrom(r); err != nil {
		return perr.Because(perr.InvalidHTTPHeader, "proxy: decode upstream body", err).AsUp()
	}
	return nil
}

// chunkReader is an io.Reader over collected body bytes.
type chunkReader struct {
	buf []byte
	eos bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// done returns the encoders to their pools.
func (cm *compressor) done() {
	if cm.gzw != nil {
		gzWriters[cm.level].Put(cm.gzw)
		cm.gzw = nil
	}
	if cm.zw != nil {
		if pl, ok := zEncoders.Load(zstdLevel(cm.level)); ok {
			pl.(*sync.Pool).Put(cm.zw)
		}
		cm.zw = nil
	}
	cm.gzr = nil
	cm.in = chunkReader{}
	cm.enc, cm.dec = codecNone, codecNone
	if cm.out.Cap() > 256<<10 {
		cm.out = bytes.Buffer{}
	}
}

func (cm *compressor) setMax(o *Compression) bool {
	cm.maxIn = o.DecompressMaxBytes
	if cm.maxIn <= 0 {
		cm.maxIn = 8 << 20
	}
	return true
}
