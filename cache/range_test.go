package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func single(a, b int64) RangeSpec {
	return RangeSpec{Kind: RangeSingle, Ranges: []ByteRange{{a, b}}}
}

func multi(pairs ...int64) RangeSpec {
	s := RangeSpec{Kind: RangeMulti}
	for i := 0; i+1 < len(pairs); i += 2 {
		s.Ranges = append(s.Ranges, ByteRange{pairs[i], pairs[i+1]})
	}
	return s
}

var (
	invalid       = RangeSpec{Kind: RangeInvalid}
	unsatisfiable = RangeSpec{Kind: RangeUnsatisfiable}
	none          = RangeSpec{Kind: RangeNone}
)

// manyRanges returns "bytes=0-0,2-2,…" with n ascending disjoint ranges.
func manyRanges(n int) string {
	var sb strings.Builder
	sb.WriteString("bytes=")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%d-%d", 2*i, 2*i)
	}
	return sb.String()
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		name   string
		h      string
		length int64
		max    int
		want   RangeSpec
	}{
		// RFC 9110 §14.1.2 examples, length 10000.
		{"rfc first 500", "bytes=0-499", 10000, 0, single(0, 499)},
		{"rfc second 500", "bytes=500-999", 10000, 0, single(500, 999)},
		{"rfc final 500 suffix", "bytes=-500", 10000, 0, single(9500, 9999)},
		{"rfc final 500 open", "bytes=9500-", 10000, 0, single(9500, 9999)},
		{"rfc first and last byte", "bytes=0-0,-1", 10000, 0, multi(0, 0, 9999, 9999)},
		{"rfc non-canonical second 500", "bytes=500-600,601-999", 10000, 0, multi(500, 600, 601, 999)},
		{"rfc overlapping second 500 refused", "bytes=500-700,601-999", 10000, 0, invalid},

		{"whole", "bytes=0-9", 10, 0, single(0, 9)},
		{"unit any case", "bYTes=0-1", 10, 0, single(0, 1)},
		{"end clamped", "bytes=0-12", 10, 0, single(0, 9)},
		{"open ended", "bytes=3-", 10, 0, single(3, 9)},
		{"suffix", "bytes=-2", 10, 0, single(8, 9)},
		{"suffix larger than length", "bytes=-12", 10, 0, single(0, 9)},
		{"suffix zero unsatisfiable", "bytes=-0", 10, 0, unsatisfiable},
		{"start at length", "bytes=10-11", 10, 0, unsatisfiable},
		{"start past length", "bytes=10-", 10, 0, unsatisfiable},
		{"last below first", "bytes=2-1", 10, 0, invalid},
		{"last below first among valid", "bytes=0-5, 30-18", 200, 0, invalid},
		{"single byte", "bytes=5-5", 10, 0, single(5, 5)},
		{"multi", "bytes=0-1,4-5", 10, 0, multi(0, 1, 4, 5)},
		{"adjacent", "bytes=0-1,2-3", 10, 0, multi(0, 1, 2, 3)},
		{"unsatisfiable part dropped", "bytEs=0-99,200-299,400-499", 320, 0, multi(0, 99, 200, 299)},
		{"dropped to single", "bytes=0-5,10-", 2, 0, single(0, 1)},
		{"all unsatisfiable", "bytes=20-25,30-", 10, 0, unsatisfiable},
		{"overlap", "bytes=0-3,2-5", 10, 0, invalid},
		{"descending", "bytes=4-5,0-1", 10, 0, invalid},
		{"open then suffix overlap", "bytes=0-,-2", 10, 0, invalid},
		{"descending after drop kept", "bytes=50-60,0-5", 10, 0, single(0, 5)},
		{"clamped ends overlap", "bytes=0-20,5-", 10, 0, invalid},

		{"whitespace around elements", "bytes= 0-1 ,\t4-5 ", 10, 0, multi(0, 1, 4, 5)},
		{"whitespace around value", "  bytes=0-1\t", 10, 0, single(0, 1)},
		{"empty list elements", "bytes=,0-1,,4-5,", 10, 0, multi(0, 1, 4, 5)},
		{"whitespace inside spec", "bytes=0 - 1", 10, 0, invalid},
		{"whitespace before equals", "bytes =0-1", 10, 0, invalid},

		{"empty", "", 10, 0, invalid},
		{"no range set", "bytes=", 10, 0, invalid},
		{"only commas", "bytes= , ,", 10, 0, invalid},
		{"no equals", "bytes 0-1", 10, 0, invalid},
		{"other unit", "items=0-1", 10, 0, invalid},
		{"unit prefix", "bytesx=0-1", 10, 0, invalid},
		{"dash only", "bytes=-", 10, 0, invalid},
		{"no dash", "bytes=5", 10, 0, invalid},
		{"two dashes", "bytes=0-1-2", 10, 0, invalid},
		{"sign", "bytes=+1-2", 10, 0, invalid},
		{"hex", "bytes=0x1-2", 10, 0, invalid},
		{"negative suffix", "bytes=--1", 10, 0, invalid},
		{"malformed part among valid", "bytes=0-1,x", 10, 0, invalid},
		{"non-ascii digit", "bytes=٣-4", 10, 0, invalid},

		{"overflow first", "bytes=99999999999999999999999-", 10, 0, unsatisfiable},
		{"overflow last clamped", "bytes=2-99999999999999999999999", 10, 0, single(2, 9)},
		{"overflow suffix", "bytes=-99999999999999999999999", 10, 0, single(0, 9)},
		{"max int64 first", "bytes=9223372036854775807-", 10, 0, unsatisfiable},
		{"huge length", "bytes=-1", 1 << 62, 0, single(1<<62-1, 1<<62-1)},
		{"overflow both", "bytes=99999999999999999999-99999999999999999999", 10, 0, unsatisfiable},

		{"zero length int range", "bytes=0-", 0, 0, unsatisfiable},
		{"zero length suffix ignored", "bytes=-5", 0, 0, none},
		{"zero length suffix zero", "bytes=-0", 0, 0, unsatisfiable},
		{"negative length", "bytes=0-1", -1, 0, invalid},

		{"max ranges reached", manyRanges(3), 10, 3, multi(0, 0, 2, 2, 4, 4)},
		{"max ranges exceeded", manyRanges(4), 10, 3, invalid},
		{"default max 200", manyRanges(200), 1000, 0, func() RangeSpec {
			s := RangeSpec{Kind: RangeMulti}
			for i := range int64(200) {
				s.Ranges = append(s.Ranges, ByteRange{2 * i, 2 * i})
			}
			return s
		}()},
		{"default max 201", manyRanges(201), 1000, 0, invalid},
		{"unsatisfiable specs count", "bytes=0-0,20-,30-", 10, 2, invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseRange(tc.h, tc.length, tc.max)
			assert.Equal(t, tc.want.Kind, got.Kind)
			assert.Equal(t, tc.want.Ranges, got.Ranges)
		})
	}
}

func TestRangeKind_String(t *testing.T) {
	assert.Equal(t, "single", RangeSingle.String())
	assert.Equal(t, "unsatisfiable", RangeUnsatisfiable.String())
	assert.Equal(t, "RangeKind(9)", RangeKind(9).String())
}

const (
	lastModified = "Fri, 07 Jul 2023 22:03:29 GMT"
	storedDate   = "Fri, 07 Jul 2023 22:04:29 GMT" // 60 s later
)

func TestIfRangeMatches(t *testing.T) {
	full := []string{"ETag", `"1234"`, "Last-Modified", lastModified, "Date", storedDate}
	tests := []struct {
		name    string
		ifRange []string // If-Range lines
		stored  []string
		want    bool
	}{
		{"absent", nil, full, true},
		{"strong etag match", []string{`"1234"`}, full, true},
		{"etag mismatch", []string{`"4567"`}, full, false},
		{"weak if-range", []string{`W/"1234"`}, full, false},
		{"weak stored etag", []string{`"1234"`}, []string{"ETag", `W/"1234"`}, false},
		{"no stored etag", []string{`"1234"`}, []string{"Last-Modified", lastModified}, false},
		{"unquoted etag", []string{`1234`}, full, false},
		{"malformed etag", []string{`"12`}, full, false},
		{"etag with trailing junk", []string{`"1234"x`}, full, false},
		{"date match", []string{lastModified}, full, true},
		{"date mismatch", []string{"Fri, 07 Jul 2023 22:03:25 GMT"}, full, false},
		{"date other format same instant", []string{"Friday, 07-Jul-23 22:03:29 GMT"}, full, true},
		{"date weak: no Date", []string{lastModified}, []string{"Last-Modified", lastModified}, false},
		{"date weak: Date too close", []string{lastModified}, []string{"Last-Modified", lastModified, "Date", "Fri, 07 Jul 2023 22:04:28 GMT"}, false},
		{"date without Last-Modified", []string{lastModified}, []string{"Date", storedDate}, false},
		{"invalid date", []string{"yesterday"}, full, false},
		{"two If-Range lines", []string{`"1234"`, `"1234"`}, full, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var kv []string
			for _, v := range tc.ifRange {
				kv = append(kv, "If-Range", v)
			}
			req := request(t, "GET", kv...)
			stored := response(t, 200, tc.stored...)
			assert.Equal(t, tc.want, IfRangeMatches(req, stored))
		})
	}
}

func TestRequestRange(t *testing.T) {
	tests := []struct {
		name   string
		method string
		req    []string
		status int
		resp   []string
		want   RangeSpec
		length int64
	}{
		{"get", "GET", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "10"}, single(0, 1), 10},
		{"no range", "GET", nil, 200, []string{"Content-Length", "10"}, none, 10},
		{"head ignores range", "HEAD", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "10"}, none, 10},
		{"post", "POST", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "10"}, none, 0},
		{"not 200", "GET", []string{"Range", "bytes=0-1"}, 404, []string{"Content-Length", "10"}, none, 0},
		{"no content-length", "GET", []string{"Range", "bytes=0-1"}, 200, nil, none, 0},
		{"bad content-length", "GET", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "1x"}, none, 0},
		{"two content-lengths", "GET", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "10", "Content-Length", "10"}, none, 0},
		{"content-length overflow", "GET", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Length", "99999999999999999999"}, none, 0},
		{"two range lines", "GET", []string{"Range", "bytes=0-1", "Range", "bytes=2-3"}, 200, []string{"Content-Length", "10"}, invalid, 10},
		{"if-range matches", "GET", []string{"Range", "bytes=0-1", "If-Range", `"a"`}, 200, []string{"Content-Length", "10", "ETag", `"a"`}, single(0, 1), 10},
		{"if-range fails", "GET", []string{"Range", "bytes=0-1", "If-Range", `"b"`}, 200, []string{"Content-Length", "10", "ETag", `"a"`}, none, 10},
		{"if-range without range", "GET", []string{"If-Range", `"b"`}, 200, []string{"Content-Length", "10", "ETag", `"a"`}, none, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, length := RequestRange(request(t, tc.method, tc.req...), response(t, tc.status, tc.resp...), 0)
			assert.Equal(t, tc.want, spec)
			assert.Equal(t, tc.length, length)
		})
	}
}

func TestRangeHeaderFilter(t *testing.T) {
	base := []string{"Content-Length", "10", "Content-Type", "text/plain", "ETag", `"v1"`}
	tests := []struct {
		name     string
		method   string
		req      []string
		status   int
		resp     []string
		kind     RangeKind
		wantCode int
		want     map[string]string // "" = absent
	}{
		{"no range", "GET", nil, 200, base, RangeNone, 200,
			map[string]string{"Accept-Ranges": "bytes", "Content-Length": "10", "Content-Range": ""}},
		{"head", "HEAD", []string{"Range", "bytes=0-1"}, 200, base, RangeNone, 200,
			map[string]string{"Accept-Ranges": "bytes", "Content-Length": "10"}},
		{"invalid range", "GET", []string{"Range", "bytes=0-3,2-5"}, 200, base, RangeInvalid, 200,
			map[string]string{"Accept-Ranges": "bytes", "Content-Length": "10", "Content-Type": "text/plain"}},
		{"if-range mismatch", "GET", []string{"Range", "bytes=0-1", "If-Range", `"v0"`}, 200, base, RangeNone, 200,
			map[string]string{"Accept-Ranges": "bytes", "Content-Length": "10"}},
		{"not eligible", "GET", []string{"Range", "bytes=0-1"}, 200, []string{"Content-Type", "text/plain"}, RangeNone, 200,
			map[string]string{"Accept-Ranges": "", "Content-Range": ""}},
		{"not eligible status", "GET", []string{"Range", "bytes=0-1"}, 404, base, RangeNone, 404,
			map[string]string{"Accept-Ranges": ""}},
		{"single", "GET", []string{"Range", "bytes=0-1"}, 200, append([]string{"Accept-Ranges", "bytes"}, base...), RangeSingle, 206,
			map[string]string{"Content-Length": "2", "Content-Range": "bytes 0-1/10", "Accept-Ranges": "", "Content-Type": "text/plain", "ETag": `"v1"`}},
		{"single suffix", "GET", []string{"Range", "bytes=-3"}, 200, base, RangeSingle, 206,
			map[string]string{"Content-Length": "3", "Content-Range": "bytes 7-9/10"}},
		{"unsatisfiable", "GET", []string{"Range", "bytes=10-"}, 200,
			append([]string{"Content-Encoding", "gzip", "Transfer-Encoding", "chunked", "Accept-Ranges", "bytes"}, base...), RangeUnsatisfiable, 416,
			map[string]string{"Content-Length": "0", "Content-Range": "bytes */10", "Content-Type": "", "Content-Encoding": "",
				"Transfer-Encoding": "", "Accept-Ranges": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := response(t, tc.status, tc.resp...)
			rr := RangeHeaderFilter(request(t, tc.method, tc.req...), resp, 0)
			assert.Equal(t, tc.kind, rr.Kind)
			assert.Equal(t, tc.wantCode, resp.Status())
			for name, v := range tc.want {
				assert.Equal(t, v, resp.Get(name), name)
				if v != "" {
					assert.Equal(t, 1, resp.Count(name), name)
				}
			}
		})
	}
}

func TestRangeHeaderFilter_ReasonPhrase(t *testing.T) {
	resp := response(t, 200, "Content-Length", "10")
	require.NoError(t, resp.SetReason("Fine"))
	RangeHeaderFilter(request(t, "GET", "Range", "bytes=0-0"), resp, 0)
	assert.Equal(t, 206, resp.Status())
	assert.Equal(t, "Partial Content", resp.Reason())
}

func TestRangeHeaderFilter_Multi(t *testing.T) {
	resp := response(t, 200, "Content-Length", "10", "Content-Type", "text/plain", "Content-Range", "bytes 0-9/10", "Accept-Ranges", "bytes")
	rr := RangeHeaderFilter(request(t, "GET", "Range", "bytes=0-1,3-4,6-7"), resp, 0)
	require.Equal(t, RangeMulti, rr.Kind)
	assert.Equal(t, []ByteRange{{0, 1}, {3, 4}, {6, 7}}, rr.Ranges)
	assert.Equal(t, int64(10), rr.Length)
	assert.Equal(t, "text/plain", rr.ContentType)
	assert.Len(t, rr.Boundary, 26)
	assert.Equal(t, 206, resp.Status())
	assert.Equal(t, "multipart/byteranges; boundary="+rr.Boundary, resp.Get("Content-Type"))
	assert.Empty(t, resp.Get("Content-Range"))
	assert.Empty(t, resp.Get("Accept-Ranges"))

	body, err := io.ReadAll(rr.Body(strings.NewReader("0123456789")))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(len(body)), resp.Get("Content-Length"))
	assert.Equal(t, int64(len(body)), rr.BodySize())

	// Each response gets its own boundary.
	other := RangeHeaderFilter(request(t, "GET", "Range", "bytes=0-1,3-4"), response(t, 200, "Content-Length", "10"), 0)
	assert.NotEqual(t, rr.Boundary, other.Boundary)
	assert.Empty(t, other.ContentType)
}

const multipartBody = "--B0UND\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Range: bytes 0-4/26\r\n" +
	"\r\n" +
	"abcde\r\n" +
	"--B0UND\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Range: bytes 10-12/26\r\n" +
	"\r\n" +
	"klm\r\n" +
	"--B0UND\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Range: bytes 25-25/26\r\n" +
	"\r\n" +
	"z\r\n" +
	"--B0UND--\r\n"

const alphabet = "abcdefghijklmnopqrstuvwxyz"

func multipartResponse() *RangeResponse {
	return &RangeResponse{
		Kind: RangeMulti, Ranges: []ByteRange{{0, 4}, {10, 12}, {25, 25}},
		Length: 26, Boundary: "B0UND", ContentType: "text/plain",
	}
}

// sources returns the alphabet as readers of each kind Body handles.
func sources() map[string]func() io.Reader {
	return map[string]func() io.Reader{
		"ReaderAt":   func() io.Reader { return strings.NewReader(alphabet) },
		"Seeker":     func() io.Reader { return struct{ io.ReadSeeker }{strings.NewReader(alphabet)} },
		"sequential": func() io.Reader { return struct{ io.Reader }{strings.NewReader(alphabet)} },
		"one byte":   func() io.Reader { return iotest.OneByteReader(strings.NewReader(alphabet)) },
	}
}

func TestRangeResponse_BodyMultipart(t *testing.T) {
	rr := multipartResponse()
	assert.Equal(t, int64(len(multipartBody)), rr.BodySize())
	for name, src := range sources() {
		t.Run(name, func(t *testing.T) {
			got, err := io.ReadAll(rr.Body(src()))
			require.NoError(t, err)
			assert.Equal(t, multipartBody, string(got))
		})
	}
	t.Run("TestReader", func(t *testing.T) {
		require.NoError(t, iotest.TestReader(rr.Body(strings.NewReader(alphabet)), []byte(multipartBody)))
	})
	t.Run("no content type", func(t *testing.T) {
		rr := multipartResponse()
		rr.ContentType = ""
		got, err := io.ReadAll(rr.Body(strings.NewReader(alphabet)))
		require.NoError(t, err)
		want := strings.ReplaceAll(multipartBody, "Content-Type: text/plain\r\n", "")
		assert.Equal(t, want, string(got))
		assert.Equal(t, int64(len(want)), rr.BodySize())
	})
}

func TestRangeResponse_BodyParsesAsMultipart(t *testing.T) {
	rr := multipartResponse()
	rr.Boundary = "3d6b6a416f9b5bd4c27b0ff1a0f3d3f6"
	_, params, err := mime.ParseMediaType("multipart/byteranges; boundary=" + rr.Boundary)
	require.NoError(t, err)
	mr := multipart.NewReader(rr.Body(strings.NewReader(alphabet)), params["boundary"])
	var got []string
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(p)
		require.NoError(t, err)
		assert.Equal(t, "text/plain", p.Header.Get("Content-Type"))
		got = append(got, p.Header.Get("Content-Range")+" "+string(data))
	}
	assert.Equal(t, []string{"bytes 0-4/26 abcde", "bytes 10-12/26 klm", "bytes 25-25/26 z"}, got)
}

func TestRangeResponse_BodySingle(t *testing.T) {
	rr := &RangeResponse{Kind: RangeSingle, Ranges: []ByteRange{{3, 7}}, Length: 26}
	assert.Equal(t, int64(5), rr.BodySize())
	for name, src := range sources() {
		t.Run(name, func(t *testing.T) {
			got, err := io.ReadAll(rr.Body(src()))
			require.NoError(t, err)
			assert.Equal(t, "defgh", string(got))
		})
	}
}

func TestRangeResponse_BodyOther(t *testing.T) {
	src := strings.NewReader(alphabet)
	for _, k := range []RangeKind{RangeNone, RangeInvalid} {
		rr := &RangeResponse{Kind: k}
		assert.Equal(t, int64(-1), rr.BodySize())
		assert.Same(t, src, rr.Body(src))
	}
	rr := &RangeResponse{Kind: RangeUnsatisfiable, Length: 26}
	assert.Equal(t, int64(0), rr.BodySize())
	got, err := io.ReadAll(rr.Body(src))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestRangeResponse_BodyShortSource(t *testing.T) {
	rr := multipartResponse() // the last range is byte 25
	for name, src := range map[string]io.Reader{
		"ReaderAt":   strings.NewReader(alphabet[:20]),
		"Seeker":     struct{ io.ReadSeeker }{strings.NewReader(alphabet[:20])},
		"sequential": struct{ io.Reader }{strings.NewReader(alphabet[:20])},
		"mid range":  struct{ io.Reader }{strings.NewReader(alphabet[:12])},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := io.ReadAll(rr.Body(src))
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := io.ReadAll(rr.Body(iotest.ErrReader(boom)))
		assert.ErrorIs(t, err, boom)
	})
}

// TestRangeHeaderFilter_MemoryStorage stores a body and serves single and
// multiple ranges from the hit handler, as a cache hit does.
func TestRangeHeaderFilter_MemoryStorage(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{})
	body := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes
	stored := response(t, 200, "Content-Length", "10000", "Content-Type", "application/octet-stream",
		"ETag", `"e1"`, "Cache-Control", "max-age=60")
	key := Key{Primary: []byte("/blob")}
	w, err := s.Miss(key, NewMeta(stored, t0, t0.Add(60e9), 0, 0))
	require.NoError(t, err)
	_, err = w.Write(body)
	require.NoError(t, err)
	require.NoError(t, w.Finish())

	serve := func(t *testing.T, rangeHeader string) (*httpheader.ResponseHeader, []byte) {
		meta, hit, found, err := s.Lookup(key)
		require.NoError(t, err)
		require.True(t, found)
		defer hit.Close()
		_, ok := hit.(io.ReaderAt)
		require.True(t, ok, "MemoryStorage's HitHandler implements io.ReaderAt")
		resp := meta.Header().Clone()
		rr := RangeHeaderFilter(request(t, "GET", "Range", rangeHeader, "If-Range", `"e1"`), resp, 0)
		got, err := io.ReadAll(rr.Body(hit))
		require.NoError(t, err)
		if n := rr.BodySize(); n >= 0 {
			assert.Equal(t, strconv.FormatInt(n, 10), resp.Get("Content-Length"))
			assert.Len(t, got, int(n))
		}
		return resp, got
	}

	t.Run("single", func(t *testing.T) {
		resp, got := serve(t, "bytes=9995-")
		assert.Equal(t, 206, resp.Status())
		assert.Equal(t, "bytes 9995-9999/10000", resp.Get("Content-Range"))
		assert.Equal(t, "56789", string(got))
	})
	t.Run("multi", func(t *testing.T) {
		resp, got := serve(t, "bytes=0-2, 5000-5001, -1")
		assert.Equal(t, 206, resp.Status())
		_, params, err := mime.ParseMediaType(resp.Get("Content-Type"))
		require.NoError(t, err)
		mr := multipart.NewReader(bytes.NewReader(got), params["boundary"])
		var parts []string
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			data, err := io.ReadAll(p)
			require.NoError(t, err)
			assert.Equal(t, "application/octet-stream", p.Header.Get("Content-Type"))
			parts = append(parts, p.Header.Get("Content-Range")+" "+string(data))
		}
		assert.Equal(t, []string{"bytes 0-2/10000 012", "bytes 5000-5001/10000 01", "bytes 9999-9999/10000 9"}, parts)
	})
	t.Run("unsatisfiable", func(t *testing.T) {
		resp, got := serve(t, "bytes=10000-")
		assert.Equal(t, 416, resp.Status())
		assert.Equal(t, "bytes */10000", resp.Get("Content-Range"))
		assert.Empty(t, got)
	})
	t.Run("invalid: full body", func(t *testing.T) {
		resp, got := serve(t, "bytes=5-1")
		assert.Equal(t, 200, resp.Status())
		assert.Equal(t, "bytes", resp.Get("Accept-Ranges"))
		assert.Equal(t, body, got)
	})
	// The stored header is not modified by serving ranges.
	meta, hit, _, err := s.Lookup(key)
	require.NoError(t, err)
	require.NoError(t, hit.Close())
	assert.Equal(t, 200, meta.Header().Status())
	assert.Empty(t, meta.Header().Get("Accept-Ranges"))
}
