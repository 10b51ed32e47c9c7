package umbrella

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeps checks what each build of the binary links (tailscale's
// deptest): the default build is pure Go, -tags openssl links the OpenSSL
// backend, GOEXPERIMENT=boringcrypto links BoringCrypto; none links an
// OpenTelemetry package (umbrella/otel does).
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const openssl = "github.com/pingora-go/pingora/tlsbackend/openssl"
	tests := []struct {
		name    string
		env     []string
		tags    string
		want    []string // packages that must be linked
		notWant []string // packages that must not
		cgo     bool     // whether some pingora-go package may use cgo
	}{
		{name: "default", env: []string{"CGO_ENABLED=0"},
			want:    []string{"github.com/pingora-go/pingora/tlsbackend/gotls", "crypto/tls"},
			notWant: []string{openssl, "runtime/cgo"}},
		{name: "default with cgo available", env: []string{"CGO_ENABLED=1"},
			want: []string{"github.com/pingora-go/pingora/tlsbackend/gotls"}, notWant: []string{openssl}},
		{name: "openssl", env: []string{"CGO_ENABLED=1"}, tags: "openssl",
			want: []string{openssl, "runtime/cgo"}, cgo: true},
		{name: "boringcrypto", env: []string{"GOEXPERIMENT=boringcrypto"},
			want: []string{"crypto/internal/boring", "crypto/boring"}, notWant: []string{openssl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"list", "-deps", "-f", "{{.ImportPath}}{{if .CgoFiles}} cgo{{end}}"}
			if tt.tags != "" {
				args = append(args, "-tags", tt.tags)
			}
			cmd := exec.Command("go", append(args, "./cmd/pingora")...)
			cmd.Env = append(os.Environ(), tt.env...)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			deps := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				pkg, cgo, _ := strings.Cut(l, " ")
				deps[pkg] = true
				if cgo == "cgo" && strings.HasPrefix(pkg, "github.com/pingora-go/") && !tt.cgo {
					t.Errorf("%s uses cgo in the %s build", pkg, tt.name)
				}
				// Tracing export lives in umbrella/otel, a module of its own.
				if strings.HasPrefix(pkg, "go.opentelemetry.io/") {
					t.Errorf("the %s build links %s: OpenTelemetry belongs in umbrella/otel only", tt.name, pkg)
				}
			}
			for _, p := range tt.want {
				assert.True(t, deps[p], "%s links %s", tt.name, p)
			}
			for _, p := range tt.notWant {
				assert.False(t, deps[p], "%s must not link %s", tt.name, p)
			}
		})
	}
}
