package cache_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pingora-go/pingora/cache"
	"github.com/pingora-go/pingora/httpheader"
)

func ExampleParseCacheControl() {
	resp, _ := httpheader.NewResponse(200)
	_, _ = resp.Add("Cache-Control", `public, max-age=600`)
	_, _ = resp.Add("Cache-Control", `no-cache="Set-Cookie", stale-if-error=99999999999`)
	cc := cache.ParseCacheControl(&resp.Header)
	fmt.Println(cc.Public, cc.MaxAge.Seconds, cc.NoCache, cc.NoCacheFields, cc.StaleIfError.Seconds)
	// Output: true 600 false [set-cookie] 2147483647
}

func ExampleResponseCacheable() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	req, _ := httpheader.NewRequest("GET", "/logo.png")
	resp, _ := httpheader.NewResponse(200)
	_, _ = resp.Add("Cache-Control", "max-age=60, stale-while-revalidate=30")
	_, _ = resp.Add("Age", "10")

	meta, reason := cache.ResponseCacheable(req, resp, now, cache.Defaults{})
	fmt.Println(reason, meta.FreshUntil().Sub(now), meta.Age(now))
	later := now.Add(time.Minute)
	fmt.Println(meta.IsFresh(later), meta.CanServeStaleWhileRevalidate(later))

	_, _ = resp.Add("Cache-Control", "private")
	_, reason = cache.ResponseCacheable(req, resp, now, cache.Defaults{})
	fmt.Println(reason)
	// Output:
	// OK 50s 10s
	// false true
	// Private
}

func ExampleMeta_Revalidated() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	req, _ := httpheader.NewRequest("GET", "/")
	resp, _ := httpheader.NewResponse(200)
	_, _ = resp.Add("Cache-Control", "max-age=0")
	_, _ = resp.Add("ETag", `"v1"`)
	meta, _ := cache.ResponseCacheable(req, resp, now, cache.Defaults{})

	// Revalidate: the origin answers the conditional request with 304.
	up := req.Clone()
	cache.UpstreamRequest(up, meta)
	fmt.Println(up.Get("If-None-Match"))
	notModified, _ := httpheader.NewResponse(304)
	_, _ = notModified.Add("Cache-Control", "max-age=300")
	meta, reason := meta.Revalidated(notModified, now, cache.Defaults{})
	fmt.Println(reason, meta.IsFresh(now), meta.Header().Get("Cache-Control"))
	// Output:
	// "v1"
	// OK true max-age=300
}

func ExampleNotModified() {
	stored, _ := httpheader.NewResponse(200)
	_, _ = stored.Add("ETag", `"v1"`)
	req, _ := httpheader.NewRequest("GET", "/")
	_, _ = req.Add("If-None-Match", `W/"v0", W/"v1"`)
	fmt.Println(cache.NotModified(req, stored))
	// Output: true
}

func ExampleMemoryStorage() {
	now := time.Now()
	storage := cache.NewMemoryStorage(cache.MemoryOptions{MaxSize: 16 << 20})
	req, _ := httpheader.NewRequest("GET", "/hello")
	resp, _ := httpheader.NewResponse(200)
	_, _ = resp.Add("Cache-Control", "max-age=60")
	key := cache.Key{Namespace: []byte("example.com"), Primary: []byte("/hello")}

	meta, reason := cache.ResponseCacheable(req, resp, now, cache.Defaults{})
	if reason != cache.OK {
		return
	}
	key.Variance = meta.Variance()
	w, _ := storage.Miss(key, meta)
	_, _ = w.Write([]byte("hello, "))
	_, _ = w.Write([]byte("world"))
	_ = w.Finish()

	meta, hit, found, _ := storage.Lookup(key)
	body, _ := io.ReadAll(hit)
	hit.Close()
	fmt.Println(found, meta.IsFresh(now), string(body), hit.Size())
	// Output: true true hello, world 12
}

func ExampleLock() {
	lock := cache.NewLock(cache.LockOptions{WaitTimeout: time.Second})
	key := cache.Key{Primary: []byte("/popular")}

	writer, _ := lock.Acquire(key.Hash()) // first miss: fetch from the origin
	_, reader := lock.Acquire(key.Hash()) // concurrent miss: wait
	done := make(chan cache.LockStatus)
	go func() { done <- reader.Wait(context.Background()) }()

	// ... the writer stores the response, then:
	writer.Release(cache.LockDone)
	fmt.Println(<-done) // the reader looks the key up again
	// Output: Done
}

func ExampleKey() {
	k := cache.Key{Namespace: []byte("tenant"), Primary: []byte("https://example.com/")}
	fmt.Println(len(k.String()), k.Hash() == k.PrimaryHash())
	// Output: 32 true
}

func ExampleRequestKey() {
	req, _ := httpheader.NewRequest("GET", "/img/a.png?w=100")
	_, _ = req.Add("Host", "Example.COM:443")
	key, err := cache.RequestKey([]byte("tenant-1"), "https", req)
	fmt.Println(string(key.Primary), err)
	// Output: https://example.com/img/a.png?w=100 <nil>
}

func ExampleParseRange() {
	for _, h := range []string{"bytes=0-499", "bytes=-500", "bytes=0-0,-1", "bytes=20000-", "bytes=500-700,601-999", "items=0-1"} {
		r := cache.ParseRange(h, 10000, 0)
		fmt.Println(h, r.Kind, r.Ranges)
	}
	// Output:
	// bytes=0-499 single [{0 499}]
	// bytes=-500 single [{9500 9999}]
	// bytes=0-0,-1 multi [{0 0} {9999 9999}]
	// bytes=20000- unsatisfiable []
	// bytes=500-700,601-999 invalid []
	// items=0-1 invalid []
}

func ExampleRangeHeaderFilter() {
	// A cache hit: the stored response header and body.
	stored, _ := httpheader.NewResponse(200)
	_, _ = stored.Add("Content-Type", "text/plain")
	_, _ = stored.Add("Content-Length", "26")
	body := strings.NewReader("abcdefghijklmnopqrstuvwxyz") // an io.ReaderAt, like MemoryStorage's hit

	req, _ := httpheader.NewRequest("GET", "/letters")
	_, _ = req.Add("Range", "bytes=0-2, -3")
	resp := stored.Clone()
	rr := cache.RangeHeaderFilter(req, resp, 0)
	out, _ := io.ReadAll(rr.Body(body))

	fmt.Println(resp.Status(), rr.Kind, resp.Get("Content-Length") == fmt.Sprint(len(out)))
	// The boundary is random: show the body with a fixed one, and lines
	// ending in "\n" where the body has "\r\n".
	shown := strings.NewReplacer(rr.Boundary, "BOUNDARY", "\r\n", "\n").Replace(string(out))
	fmt.Print(shown)
	// Output:
	// 206 multi true
	// --BOUNDARY
	// Content-Type: text/plain
	// Content-Range: bytes 0-2/26
	//
	// abc
	// --BOUNDARY
	// Content-Type: text/plain
	// Content-Range: bytes 23-25/26
	//
	// xyz
	// --BOUNDARY--
}
