package cache

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/httpheader"
)

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"", "max-age=60", `no-cache="Set-Cookie, X"`, `private="a\"b"`, `x="unterminated`,
		"MAX-AGE=99999999999999999999, s-maxage=1", "max-stale", ",,=,=\"", "a=b=c, d", "\\\"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := ParseCacheControlString(s)
		for _, d := range []Delta{cc.MaxAge, cc.SMaxAge, cc.StaleWhileRevalidate, cc.StaleIfError, cc.MaxStale, cc.MinFresh} {
			if d.Seconds > MaxDelta || (d.Invalid && d.Seconds != 0) || (!d.Present && d != Delta{}) {
				t.Fatalf("bad delta %+v", d)
			}
		}
		for _, e := range cc.Extensions {
			if e.Name == "" || e.Name != strings.ToLower(e.Name) {
				t.Fatalf("bad extension %+v", e)
			}
		}
		for _, n := range append(slices.Clone(cc.NoCacheFields), cc.PrivateFields...) {
			if !httpheader.ValidName(n) || n != strings.ToLower(n) {
				t.Fatalf("bad field name %q", n)
			}
		}
		// A header line parses like the bare string.
		var h httpheader.Header
		if _, err := h.Add("Cache-Control", s); err == nil && s == strings.Trim(s, " \t") {
			got := ParseCacheControl(&h)
			if !ccEqual(got, cc) {
				t.Fatalf("header %+v != string %+v", got, cc)
			}
		}
	})
}

func ccEqual(a, b CacheControl) bool {
	return a.IsZero() == b.IsZero() && a.MaxAge == b.MaxAge && a.SMaxAge == b.SMaxAge &&
		a.NoStore == b.NoStore && a.NoCache == b.NoCache && a.Private == b.Private &&
		slices.Equal(a.NoCacheFields, b.NoCacheFields) && slices.Equal(a.PrivateFields, b.PrivateFields) &&
		slices.Equal(a.Extensions, b.Extensions)
}

func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{
		"Tue, 01 Dec 2026 08:00:00 GMT", "Tuesday, 01-Dec-26 08:00:00 GMT", "Tue Dec  1 08:00:00 2026",
		"0", "Mon, 13 Feb 0002 12:00:00 GMT", "Fri, 01 Dec 99999 16:00:00 GMT", "Tue, 31 Feb 2026 08:00:00 GMT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := ParseHTTPDate(s)
		if !ok {
			return
		}
		back, ok := ParseHTTPDate(FormatHTTPDate(tm))
		if !ok || !back.Equal(tm) {
			t.Fatalf("%q -> %v does not round-trip", s, tm)
		}
	})
}

func FuzzNotModified(f *testing.F) {
	f.Add(`"v1"`, `"v1"`, "Tue, 01 Dec 2026 08:00:00 GMT", "Tue, 01 Dec 2026 08:00:00 GMT", true)
	f.Add(`W/"a", "b"`, `"b"`, "", "x", false)
	f.Add(`*`, ``, "0", "Tue Dec  1 08:00:00 2026", true)
	f.Add(`W/`, `W/"`, `"`, `,`, false)
	f.Fuzz(func(t *testing.T, inm, etag, ims, lm string, useINM bool) {
		req, _ := httpheader.NewRequest("GET", "/")
		if useINM {
			_, _ = req.Add("If-None-Match", inm)
		}
		_, _ = req.Add("If-Modified-Since", ims)
		resp, _ := httpheader.NewResponse(200)
		_, _ = resp.Add("ETag", etag)
		_, _ = resp.Add("Last-Modified", lm)
		got := NotModified(req, resp)
		if _, ok := parseETag(resp.Get("ETag")); ok && useINM && req.Get("If-None-Match") == resp.Get("ETag") && !got {
			t.Fatalf("If-None-Match %q equal to ETag but not 304", inm)
		}
	})
}

func FuzzVary(f *testing.F) {
	f.Add("Accept-Encoding, User-Agent", "gzip")
	f.Add("*, a", "")
	f.Add(" ,,X", "a,b , c")
	f.Fuzz(func(t *testing.T, vary, value string) {
		resp, _ := httpheader.NewResponse(200)
		_, _ = resp.Add("Vary", vary)
		names, _ := ParseVary(&resp.Header)
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("names %q not sorted and unique", names)
		}
		req, _ := httpheader.NewRequest("GET", "/")
		for _, n := range names {
			if n == "*" || n != strings.ToLower(n) {
				t.Fatalf("bad name %q", n)
			}
			_, _ = req.Add(n, value)
		}
		v := Variance(names, req)
		if (len(names) == 0) != v.IsZero() || v != Variance(names, req.Clone()) {
			t.Fatalf("variance %v for %q", v, names)
		}
	})
}

func FuzzResponseCacheable(f *testing.F) {
	f.Add("max-age=60", "", "", "", 200)
	f.Add("no-cache, s-maxage=5", "Tue, 01 Dec 2026 08:00:00 GMT", "Tue, 01 Dec 2026 10:00:00 GMT", "5", 404)
	f.Add(`private="x", stale-if-error=99999999999`, "0", "bad", "-1", 500)
	f.Fuzz(func(t *testing.T, cc, date, expires, age string, status int) {
		resp, err := httpheader.NewResponse(status)
		if err != nil {
			return
		}
		for _, kv := range [][2]string{{"Cache-Control", cc}, {"Date", date}, {"Expires", expires}, {"Age", age}} {
			if kv[1] != "" {
				_, _ = resp.Add(kv[0], kv[1])
			}
		}
		req, _ := httpheader.NewRequest("GET", "/")
		meta, reason := ResponseCacheable(req, resp, t0, tenSeconds)
		if (meta == nil) == (reason == OK) {
			t.Fatalf("meta %v with reason %v", meta, reason)
		}
		if meta == nil {
			return
		}
		if meta.FreshUntil().After(t0.Add(MaxDelta*time.Second)) || meta.Age(t0) < 0 {
			t.Fatalf("fresh until %v, age %v", meta.FreshUntil(), meta.Age(t0))
		}
		if n, _ := meta.Revalidated(resp, t0.Add(time.Second), tenSeconds); n != nil && n.Created() != t0 {
			t.Fatal("revalidation changed Created")
		}
	})
}

func FuzzRequestKey(f *testing.F) {
	f.Add("/a?b#c", "example.com:443", "https")
	f.Add("http://u@H:80", "", "http")
	f.Add("http:///", "x", "")
	f.Add("*", "[::1]", "https")
	f.Fuzz(func(t *testing.T, target, host, scheme string) {
		req, err := httpheader.NewRequest("GET", target)
		if err != nil {
			return
		}
		if host != "" {
			if _, err := req.Add("Host", host); err != nil {
				return
			}
		}
		k, err := RequestKey(nil, scheme, req)
		if err != nil {
			return
		}
		p := string(k.Primary)
		i := strings.Index(p, "://")
		if i < 0 || strings.ContainsAny(p[i+3:strings.IndexByte(p[i+3:]+"/", '/')+i+3], "@#?") || strings.Contains(p, "#") {
			t.Fatalf("bad primary %q", p)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"bytes=0-499", "bytes=-500", "bytes=9500-", "bytes=0-0,-1", "bytes=500-600,601-999", "bytes=500-700,601-999",
		"BYTES= 0-1 ,, 4-5", "bytes=", "bytes=-0", "items=0-1", "bytes=99999999999999999999-", "bytes=-99999999999999999999",
		"bytes=0-1,2-3,4-5,6-7,8-9", "bytes=0 - 1", "bytes=5-1",
	} {
		f.Add(s, int64(10000), 0)
		f.Add(s, int64(0), 2)
	}
	f.Fuzz(func(t *testing.T, h string, length int64, maxRanges int) {
		got := ParseRange(h, length, maxRanges)
		limit := maxRanges
		if limit <= 0 {
			limit = DefaultMaxRanges
		}
		switch got.Kind {
		case RangeSingle, RangeMulti:
			if (got.Kind == RangeSingle) != (len(got.Ranges) == 1) || len(got.Ranges) > limit {
				t.Fatalf("%v with %d ranges", got.Kind, len(got.Ranges))
			}
			prev := int64(-1)
			for _, r := range got.Ranges {
				if r.Start <= prev || r.Start > r.End || r.End >= length || r.Len() <= 0 {
					t.Fatalf("range %+v after %d, length %d", r, prev, length)
				}
				prev = r.End
			}
		case RangeNone:
			if length != 0 || got.Ranges != nil {
				t.Fatalf("none %+v for length %d", got, length)
			}
		case RangeInvalid, RangeUnsatisfiable:
			if got.Ranges != nil {
				t.Fatalf("%v with ranges %+v", got.Kind, got.Ranges)
			}
		default:
			t.Fatalf("kind %v", got.Kind)
		}
		// The multipart body of a valid result has exactly BodySize bytes.
		if got.Kind == RangeMulti && length <= 1<<16 {
			rr := RangeResponse{Kind: got.Kind, Ranges: got.Ranges, Length: length, Boundary: "b", ContentType: "x/y"}
			n, err := io.Copy(io.Discard, rr.Body(bytes.NewReader(make([]byte, length))))
			if err != nil || n != rr.BodySize() {
				t.Fatalf("body %d bytes, %v; BodySize %d", n, err, rr.BodySize())
			}
		}
	})
}
