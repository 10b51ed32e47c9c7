package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
)

func BenchmarkParseCacheControl(b *testing.B) {
	for _, tc := range []struct{ name, v string }{
		{"simple", "max-age=3600"},
		{"typical", "public, max-age=600, s-maxage=3600, stale-while-revalidate=30, stale-if-error=86400"},
		{"fields", `private="Set-Cookie, X-User", no-cache="X-Debug", max-age=60, foo="bar"`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := response(b, 200, "Cache-Control", tc.v)
			b.ReportAllocs()
			for b.Loop() {
				_ = ParseCacheControl(&h.Header)
			}
		})
	}
}

func BenchmarkResponseCacheable(b *testing.B) {
	for _, tc := range []struct {
		name string
		resp []string
	}{
		{"max-age", []string{"Cache-Control", "public, max-age=600", "Content-Type", "text/html", "ETag", `"abc"`, "Content-Length", "1234"}},
		{"vary", []string{"Cache-Control", "max-age=600", "Vary", "Accept-Encoding", "Content-Length", "1234"}},
		{"no-store", []string{"Cache-Control", "no-store"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := request(b, "GET", "Accept-Encoding", "gzip, br", "User-Agent", "bench")
			resp := response(b, 200, tc.resp...)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ResponseCacheable(req, resp, t0, tenSeconds)
			}
		})
	}
}

func BenchmarkKey_Hash(b *testing.B) {
	k := Key{Namespace: []byte("tenant-1"), Primary: []byte("https://example.com/static/app.js?v=123")}
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Hash()
	}
}

func BenchmarkMemoryStorage_LookupHit(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) {
			s := NewMemoryStorage(MemoryOptions{})
			key := Key{Primary: []byte("/hit")}
			put(b, s, key, storedMeta(b), bytes.Repeat([]byte("x"), size))
			buf := make([]byte, 32<<10)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				_, hit, ok, _ := s.Lookup(key)
				if !ok {
					b.Fatal("miss")
				}
				for {
					if _, err := hit.Read(buf); err == io.EOF {
						break
					}
				}
				hit.Close()
			}
		})
	}
}

// BenchmarkMemoryStorage_LookupHitParallel sets the lock-free lookup
// against a sync.Map baseline holding the same objects.
func BenchmarkMemoryStorage_LookupHitParallel(b *testing.B) {
	const n = 1000
	keys := make([]Key, n)
	s := NewMemoryStorage(MemoryOptions{})
	var base sync.Map
	meta := storedMeta(b)
	for i := range keys {
		keys[i] = Key{Primary: fmt.Appendf(nil, "/%d", i)}
		put(b, s, keys[i], meta, []byte("body"))
		base.Store(keys[i].Hash(), &object{meta: meta, body: []byte("body")})
	}
	hashes := make([]Hash, n)
	for i := range keys {
		hashes[i] = keys[i].Hash()
	}
	b.Run("tinyufo", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = s.objects.Get(hashes[i%n])
				i++
			}
		})
	})
	b.Run("sync.Map", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = base.Load(hashes[i%n])
				i++
			}
		})
	})
}

func BenchmarkMemoryStorage_Miss(b *testing.B) {
	s := NewMemoryStorage(MemoryOptions{})
	meta := storedMeta(b, "Content-Length", "4096")
	body := make([]byte, 4096)
	keys := make([]Key, 1024)
	for i := range keys {
		keys[i] = Key{Primary: fmt.Appendf(nil, "/%d", i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w, _ := s.Miss(keys[i%len(keys)], meta)
		_, _ = w.Write(body)
		_ = w.Finish()
		i++
	}
}

func BenchmarkLock_Uncontended(b *testing.B) {
	l := NewLock(LockOptions{})
	key := Hash{1}
	b.ReportAllocs()
	for b.Loop() {
		w, _ := l.Acquire(key)
		w.Release(LockDone)
	}
}

func BenchmarkLock_ReaderWait(b *testing.B) {
	l := NewLock(LockOptions{})
	key := Hash{1}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w, _ := l.Acquire(key)
		_, r := l.Acquire(key)
		w.Release(LockDone)
		_ = r.Wait(ctx)
	}
}

func BenchmarkNotModified(b *testing.B) {
	req := request(b, "GET", "If-None-Match", `"a", "b", W/"v1"`)
	stored := response(b, 200, "ETag", `"v1"`)
	b.ReportAllocs()
	for b.Loop() {
		_ = NotModified(req, stored)
	}
}

func BenchmarkParseRange(b *testing.B) {
	for _, tc := range []struct{ name, h string }{
		{"single", "bytes=1000-1999"},
		{"suffix", "bytes=-500"},
		{"multi=3", "bytes=0-99, 1000-1999, -500"},
		{"multi=50", manyRanges(50)},
		{"invalid", "bytes=0-3,2-5"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = ParseRange(tc.h, 1<<20, 0)
			}
		})
	}
}

func BenchmarkRangeHeaderFilter(b *testing.B) {
	for _, tc := range []struct{ name, h string }{
		{"clone-only", ""}, // baseline: the header Clone every case pays
		{"single", "bytes=1000-1999"},
		{"multi=3", "bytes=0-99, 1000-1999, -500"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := request(b, "GET", "Range", tc.h)
			stored := response(b, 200, "Content-Length", "1048576", "Content-Type", "video/mp4", "ETag", `"abc"`)
			b.ReportAllocs()
			for b.Loop() {
				resp := stored.Clone() // as a hit does: the stored header is shared
				if tc.h != "" {
					_ = RangeHeaderFilter(req, resp, 0)
				}
			}
		})
	}
}

func BenchmarkRangeResponse_Body(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1<<20)
	for _, n := range []int{1, 3, 50} {
		b.Run(fmt.Sprintf("ranges=%d", n), func(b *testing.B) {
			rr := RangeResponse{Kind: RangeMulti, Length: int64(len(body)), Boundary: "0123456789abcdefghijklmnop", ContentType: "video/mp4"}
			if n == 1 {
				rr.Kind = RangeSingle
			}
			for i := range n {
				start := int64(i) * 16 << 10
				rr.Ranges = append(rr.Ranges, ByteRange{start, start + 4<<10 - 1})
			}
			buf := make([]byte, 32<<10)
			b.SetBytes(rr.BodySize())
			b.ReportAllocs()
			for b.Loop() {
				_, _ = io.CopyBuffer(io.Discard, struct{ io.Reader }{rr.Body(bytes.NewReader(body))}, buf)
			}
		})
	}
}
