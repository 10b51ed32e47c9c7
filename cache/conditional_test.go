package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestNotModified(t *testing.T) {
	lm := FormatHTTPDate(t0)
	before, after := FormatHTTPDate(t0.Add(-time.Second)), FormatHTTPDate(t0.Add(time.Second))
	stored := []string{"ETag", `"v1"`, "Last-Modified", lm}
	tests := []struct {
		name   string
		method string
		req    []string
		status int
		stored []string
		want   bool
	}{
		{name: "unconditional", stored: stored},
		// RFC 9110 §13.1.2: weak comparison.
		{name: "inm match", req: []string{"If-None-Match", `"v1"`}, stored: stored, want: true},
		{name: "inm weak matches strong", req: []string{"If-None-Match", `W/"v1"`}, stored: stored, want: true},
		{name: "inm strong matches weak", req: []string{"If-None-Match", `"v1"`}, stored: []string{"ETag", `W/"v1"`}, want: true},
		{name: "inm list", req: []string{"If-None-Match", `"a", "v1"`}, stored: stored, want: true},
		{name: "inm second line", req: []string{"If-None-Match", `"a"`, "If-None-Match", `"v1"`}, stored: stored, want: true},
		{name: "inm no match", req: []string{"If-None-Match", `"v2"`}, stored: stored},
		{name: "inm star", req: []string{"If-None-Match", "*"}, stored: nil, want: true},
		{name: "inm unquoted garbage", req: []string{"If-None-Match", `v1`}, stored: stored},
		{name: "inm garbage then match", req: []string{"If-None-Match", `junk, "v1"`}, stored: stored, want: true},
		{name: "inm comma inside tag", req: []string{"If-None-Match", `"a,b"`}, stored: []string{"ETag", `"a,b"`}, want: true},
		{name: "stored etag unquoted", req: []string{"If-None-Match", `"v1"`}, stored: []string{"ETag", `v1`}},
		{name: "no stored etag", req: []string{"If-None-Match", `"v1"`}, stored: []string{"Last-Modified", lm}},
		// §13.1.3: If-Modified-Since ignored when If-None-Match present.
		{name: "inm mismatch ims ignored", req: []string{"If-None-Match", `"v2"`, "If-Modified-Since", after}, stored: stored},
		{name: "ims equal", req: []string{"If-Modified-Since", lm}, stored: stored, want: true},
		{name: "ims later", req: []string{"If-Modified-Since", after}, stored: stored, want: true},
		{name: "ims earlier", req: []string{"If-Modified-Since", before}, stored: stored},
		{name: "ims invalid", req: []string{"If-Modified-Since", "yesterday"}, stored: stored},
		{name: "ims twice", req: []string{"If-Modified-Since", lm, "If-Modified-Since", lm}, stored: stored},
		{name: "ims falls back to date", req: []string{"If-Modified-Since", lm}, stored: []string{"Date", before}, want: true},
		{name: "ims no dates", req: []string{"If-Modified-Since", lm}},
		// §13.1.3: only GET and HEAD.
		{name: "head", method: "HEAD", req: []string{"If-None-Match", `"v1"`}, stored: stored, want: true},
		{name: "post", method: "POST", req: []string{"If-None-Match", `"v1"`}, stored: stored},
		// §13.2.1: only when the response would be 2xx.
		{name: "stored 404", status: 404, req: []string{"If-None-Match", `"v1"`}, stored: stored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			status := tt.status
			if status == 0 {
				status = 200
			}
			assert.Equal(t, tt.want, NotModified(request(t, method, tt.req...), response(t, status, tt.stored...)))
		})
	}
}
