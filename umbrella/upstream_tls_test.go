package umbrella

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun_UpstreamTLS: upstream handshakes run on this build's TLS
// backend, with the certificate verified against the configured CA and
// SNI; a name the certificate does not carry fails the request (502)
// rather than being sent unverified.
func TestRun_UpstreamTLS(t *testing.T) {
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "tls origin")
	}))
	t.Cleanup(origin.Close)
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caPath,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: origin.Certificate().Raw}), 0o600))

	good, bad := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`services:
  - name: good
    listen: [%s]
    upstream: verified
  - name: bad
    listen: [%s]
    upstream: wrongname
upstreams:
  verified:
    peers: [%s]
    tls: {sni: example.com, verify: true, ca: %s}
  wrongname:
    peers: [%s]
    tls: {sni: not-in-the-cert.test, verify: true, ca: %s}
    retries: 0
`, good, bad, origin.Listener.Addr(), caPath, origin.Listener.Addr(), caPath)
	in := runInProcess(t, cfg)

	want, err := newTLSBackend()
	require.NoError(t, err)
	assert.Equal(t, want.Name(), in.upTLS.Backend().Name(), "upstream TLS runs on the build's backend")

	resp, body := get(t, "http://"+good+"/")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "tls origin", body)

	resp, _ = get(t, "http://"+bad+"/")
	assert.Equal(t, 502, resp.StatusCode)
}
