package proxy_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProxy_Compression(t *testing.T) {
	page := strings.Repeat("<p>hello compression</p>\n", 2000)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(page))
	_ = zw.Close()
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"v1"`)
			_, _ = io.WriteString(w, page)
		case "/small":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "tiny")
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = io.WriteString(w, page)
		case "/gz":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz.Bytes())
		}
	})
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](hostOf(srv)),
		RequestFilter: func(s *proxy.Session, _ *struct{}) (bool, error) {
			if s.Request().Get("X-No-Compress") != "" {
				s.SetCompressionLevel(0)
			}
			return false, nil
		},
	}
	hs, _ := newProxy(t, h, proxy.Options{Compression: proxy.Compression{Level: 6, Decompress: true}})
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path, ae string, extra ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", "http://"+hs.Addr+path, nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			req.Header.Set(extra[i], extra[i+1])
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return resp, b
	}
	t.Run("gzip", func(t *testing.T) {
		resp, b := get("/html", "gzip, deflate")
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		assert.Equal(t, `W/"v1"`, resp.Header.Get("ETag"))
		assert.EqualValues(t, -1, resp.ContentLength)
		assert.Less(t, len(b), len(page)/10)
		r, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		plain, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, page, string(plain))
	})
	t.Run("zstd preferred", func(t *testing.T) {
		resp, b := get("/html", "gzip;q=0.5, zstd")
		assert.Equal(t, "zstd", resp.Header.Get("Content-Encoding"))
		d, err := zstd.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		defer d.Close()
		plain, err := io.ReadAll(d)
		require.NoError(t, err)
		assert.Equal(t, page, string(plain))
	})
	t.Run("gzip preferred by q", func(t *testing.T) {
		resp, _ := get("/html", "gzip, zstd;q=0.1")
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	})
	for _, tc := range []struct{ name, path, ae string }{
		{"not accepted", "/html", "br"},
		{"refused", "/html", "gzip;q=0"},
		{"too small", "/small", "gzip"},
		{"not compressible", "/png", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := get(tc.path, tc.ae)
			assert.Empty(t, resp.Header.Get("Content-Encoding"))
			assert.Empty(t, resp.Header.Get("Vary"))
			if tc.path != "/small" {
				assert.Equal(t, page, string(b))
			}
		})
	}
	t.Run("per request off", func(t *testing.T) {
		resp, b := get("/html", "gzip", "X-No-Compress", "1")
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Equal(t, page, string(b))
	})
	t.Run("decompress for identity clients", func(t *testing.T) {
		resp, b := get("/gz", "identity")
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Equal(t, page, string(b))
		resp, b = get("/gz", "gzip")
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Equal(t, gz.Bytes(), b)
	})
}
