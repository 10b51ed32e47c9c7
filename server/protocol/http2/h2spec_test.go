package http2_test

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// h2specHandler reads the request body and answers with a small body.
var h2specHandler = h2.HandlerFunc(func(s *h2.Session) {
	_, _ = io.Copy(io.Discard, s.Body())
	if err := s.WriteResponseHeader(mustResponse(200, "content-type", "text/plain"), false); err != nil {
		return
	}
	_ = s.WriteBody([]byte("hello h2spec"), true)
})

var h2specSummary = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// TestServer_H2Spec runs the h2spec conformance suite
// (github.com/summerwind/h2spec) against a Server, over h2c and over TLS.
// Install it with
//
//	go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
func TestServer_H2Spec(t *testing.T) {
	bin, err := exec.LookPath("h2spec")
	if err != nil {
		t.Skip("h2spec not on PATH; install: go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
	}
	if testing.Short() {
		t.Skip("h2spec takes several seconds; skipped with -short")
	}
	for _, mode := range []string{"h2c", "tls"} {
		t.Run(mode, func(t *testing.T) {
			var ts *testServer
			args := []string{"--timeout", "2", "--strict"}
			if mode == "tls" {
				ts = startServerTLS(t, h2.ServerOptions{}, h2specHandler, testTLSConfig(t))
				args = append(args, "--tls", "--insecure")
			} else {
				ts = startServer(t, h2.ServerOptions{}, h2specHandler)
			}
			host, port, _ := strings.Cut(ts.addr, ":")
			args = append(args, "--host", host, "--port", port)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Stdout, cmd.Stderr = &out, &out
			runErr := cmd.Run()
			m := h2specSummary.FindStringSubmatch(out.String())
			require.NotNil(t, m, "no h2spec summary (err %v):\n%s", runErr, out.String())
			t.Logf("h2spec %s: %s", mode, m[0])
			failed, _ := strconv.Atoi(m[4])
			skipped, _ := strconv.Atoi(m[3])
			if failed > 0 || skipped > 0 {
				t.Errorf("h2spec %s: every case must pass:\n%s", mode, failures(out.String()))
			}
		})
	}
}

// failures keeps the failure section of h2spec's report.
func failures(report string) string {
	if i := strings.Index(report, "Failures:"); i >= 0 {
		return report[i:]
	}
	return report
}
