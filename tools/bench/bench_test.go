package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildPrograms builds cmd/... into a temporary directory.
func buildPrograms(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs programs")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "build", "-o", dir+string(os.PathSeparator), "./cmd/origin", "./cmd/pingora-proxy", "./cmd/httputil-proxy")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// start runs a benchmark program and returns the address it listens on,
// read from its first line of output. The process is stopped with SIGTERM
// (SIGKILL after 5 s) when the test ends, and must have exited by then.
func start(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit on SIGTERM", filepath.Base(bin))
		}
	})
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			t.Fatalf("%s: first line %q, want \"listening on ADDR\"", filepath.Base(bin), line)
		}
		return addr
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start: %s", filepath.Base(bin), stderr.String())
	}
	return ""
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return resp, body
}

// TestPrograms_Proxy sends requests through both Go proxies to the origin,
// as run.sh does: small and large bodies over HTTP/1.1 keep-alive, a
// request with a body, and HTTP/2 with prior knowledge.
func TestPrograms_Proxy(t *testing.T) {
	bin := buildPrograms(t)
	origin := start(t, filepath.Join(bin, "origin"), "-addr", "127.0.0.1:0")
	proxies := map[string]string{
		"pingora":  start(t, filepath.Join(bin, "pingora-proxy"), "-addr", "127.0.0.1:0", "-upstream", origin),
		"httputil": start(t, filepath.Join(bin, "httputil-proxy"), "-addr", "127.0.0.1:0", "-upstream", origin),
		"direct":   origin,
	}
	h1 := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer h1.CloseIdleConnections()
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: &protos, DisableCompression: true}}
	defer h2.CloseIdleConnections()

	for name, addr := range proxies {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name   string
				client *http.Client
				path   string
				want   int
				proto  int
			}{
				{"h1/small", h1, "/100", 100, 1},
				{"h1/small-again", h1, "/100", 100, 1},
				{"h1/64KiB", h1, "/65536", 64 << 10, 1},
				{"h1/1MiB", h1, "/1048576", 1 << 20, 1},
				{"h1/empty", h1, "/0", 0, 1},
				{"h1/default-size", h1, "/index.html", 100, 1},
				{"h2c/small", h2, "/100", 100, 2},
				{"h2c/1MiB", h2, "/1048576", 1 << 20, 2},
			}
			for _, tt := range tests {
				if name == "direct" && tt.proto == 2 {
					continue // the origin speaks HTTP/1.1 only
				}
				t.Run(tt.name, func(t *testing.T) {
					resp, body := get(t, tt.client, "http://"+addr+tt.path)
					if resp.StatusCode != http.StatusOK || resp.ProtoMajor != tt.proto {
						t.Fatalf("got %s %s, want HTTP/%d 200", resp.Proto, resp.Status, tt.proto)
					}
					if len(body) != tt.want || strings.Trim(string(body), "x") != "" {
						t.Fatalf("body: %d bytes (want %d of 'x')", len(body), tt.want)
					}
				})
			}
			t.Run("h1/post", func(t *testing.T) {
				payload := strings.Repeat("p", 100<<10)
				resp, err := h1.Post("http://"+addr+"/10", "text/plain", strings.NewReader(payload))
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || string(body) != "xxxxxxxxxx" {
					t.Fatalf("got %d %q %v, want 200 and 10 bytes", resp.StatusCode, body, err)
				}
				// The connection stays usable after a request body.
				if resp, body := get(t, h1, "http://"+addr+"/5"); resp.StatusCode != 200 || string(body) != "xxxxx" {
					t.Fatalf("after POST: %d %q", resp.StatusCode, body)
				}
			})
		})
	}
}
