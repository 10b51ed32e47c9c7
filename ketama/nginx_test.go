package ketama_test

import (
	"bufio"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/ketama"
)

var update = flag.Bool("update", false, "regenerate testdata/nginx/uris.txt and trace.csv with a live nginx")

const nginxDir = "testdata/nginx"

// traceRow is one line of a trace: the request URI and the server nginx
// picked for it.
type traceRow struct {
	line int
	uri  string
	addr netip.AddrPort
}

// readUpstream parses an upstream.txt: "address weight" per line, # comments.
func readUpstream(t *testing.T, path string) []ketama.Bucket {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var buckets []ketama.Bucket
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		require.Len(t, fields, 2, "%s:%d", path, n)
		addr, err := netip.ParseAddrPort(fields[0])
		require.NoError(t, err, "%s:%d", path, n)
		w, err := strconv.ParseUint(fields[1], 10, 32)
		require.NoError(t, err, "%s:%d", path, n)
		buckets = append(buckets, ketama.Bucket{Addr: addr, Weight: uint32(w)})
	}
	require.NoError(t, sc.Err())
	return buckets
}

// readTrace parses a trace.csv written by run.sh. URIs may hold commas, so
// each line splits at its last one.
func readTrace(t *testing.T, path string) []traceRow {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows []traceRow
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		i := strings.LastIndexByte(line, ',')
		require.Positive(t, i, "%s:%d: no comma", path, n+1)
		addr, err := netip.ParseAddrPort(line[i+1:])
		require.NoError(t, err, "%s:%d: one upstream attempt expected", path, n+1)
		rows = append(rows, traceRow{line: n + 1, uri: line[:i], addr: addr})
	}
	return rows
}

// mismatches returns the rows of trace where c disagrees with nginx.
func mismatches(c *ketama.Continuum, rows []traceRow) []string {
	var bad []string
	for _, r := range rows {
		got, ok := c.Node([]byte(r.uri))
		if !ok || got != r.addr {
			bad = append(bad, fmt.Sprintf("line %d: %q: nginx %v, ketama %v", r.line, r.uri, r.addr, got))
		}
	}
	return bad
}

// checkTrace asserts that every row of dir/trace.csv is what New picks
// for the servers of upstream and returns the rows.
func checkTrace(t *testing.T, upstream, trace string) []traceRow {
	t.Helper()
	buckets := readUpstream(t, upstream)
	rows := readTrace(t, trace)
	c, err := ketama.New(buckets)
	require.NoError(t, err)
	bad := mismatches(c, rows)
	require.Empty(t, bad, "%d of %d rows differ from nginx", len(bad), len(rows))
	return rows
}

// TestContinuum_NginxTrace checks every row of the committed trace, which
// Debian's nginx wrote for the servers of testdata/nginx/upstream.txt.
func TestContinuum_NginxTrace(t *testing.T) {
	buckets := readUpstream(t, filepath.Join(nginxDir, "upstream.txt"))
	rows := checkTrace(t, filepath.Join(nginxDir, "upstream.txt"), filepath.Join(nginxDir, "trace.csv"))
	t.Logf("%d nginx trace rows match", len(rows))

	// The trace must be strong enough to catch the mistakes that matter.
	require.GreaterOrEqual(t, len(rows), 1000)
	require.GreaterOrEqual(t, len(buckets), 9)
	seen := map[netip.AddrPort]int{}
	for _, r := range rows {
		seen[r.addr]++
	}
	for _, b := range buckets {
		require.Positive(t, seen[b.Addr], "no request went to %v", b.Addr)
	}
	c, err := ketama.New(buckets)
	require.NoError(t, err)
	var hashes []uint32
	for h := range c.All() {
		hashes = append(hashes, h)
	}
	hit := func(want uint32) bool {
		for _, r := range rows {
			if crc32.ChecksumIEEE([]byte(r.uri)) == want {
				return true
			}
		}
		return false
	}
	require.True(t, hit(hashes[0]), "no URI hashes exactly onto the first point")
	require.True(t, hit(hashes[len(hashes)-1]+1), "no URI hashes just past the last point (wrap)")
	isPoint := map[uint32]bool{}
	for _, h := range hashes {
		isPoint[h] = true
	}
	exact, past := 0, 0
	for _, r := range rows {
		h := crc32.ChecksumIEEE([]byte(r.uri))
		if isPoint[h] {
			exact++
		}
		if isPoint[h-1] && !isPoint[h] {
			past++
		}
	}
	require.GreaterOrEqual(t, exact, 50, "URIs hashing exactly onto a point")
	require.GreaterOrEqual(t, past, 50, "URIs hashing one past a point")
	ties := ketama.Collisions(buckets)
	require.NotEmpty(t, ties, "upstream.txt has no tie between servers")
	for _, tie := range ties {
		require.True(t, hit(tie.Hash), "no URI hashes onto the tied point %#x", tie.Hash)
		got, _ := c.Node(forgeKey(t, "/tie/", tie.Hash))
		require.Equal(t, buckets[tie.First].Addr, got, "tie %#x goes to the server listed first", tie.Hash)
	}
}

// TestContinuum_NginxTraceIPv6Brackets shows why the ring hashes IPv6
// servers with brackets: Pingora's bare-address spelling builds the same
// ring for IPv4 but disagrees with nginx on IPv6 servers.
func TestContinuum_NginxTraceIPv6Brackets(t *testing.T) {
	buckets := readUpstream(t, filepath.Join(nginxDir, "upstream.txt"))
	rows := readTrace(t, filepath.Join(nginxDir, "trace.csv"))
	c, err := ketama.NewPingora(buckets)
	require.NoError(t, err)
	bad := mismatches(c, rows)
	require.NotEmpty(t, bad, "Pingora's spelling should disagree with nginx")
	t.Logf("Pingora's IPv6 spelling misroutes %d of %d rows", len(bad), len(rows))

	var v4 []ketama.Bucket
	for _, b := range buckets {
		if b.Addr.Addr().Is4() {
			v4 = append(v4, b)
		}
	}
	a, err := ketama.New(v4)
	require.NoError(t, err)
	p, err := ketama.NewPingora(v4)
	require.NoError(t, err)
	for i := range 2000 {
		key := []byte("/v4/" + strconv.Itoa(i))
		x, _ := a.Node(key)
		y, _ := p.Node(key)
		require.Equal(t, x, y, "IPv4 rings must be identical")
	}
}

// TestContinuum_NginxLive runs nginx now (testdata/nginx/run.sh) and checks
// the fresh trace. With -update it first regenerates uris.txt and writes the
// trace into testdata/nginx for committing.
func TestContinuum_NginxLive(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping live nginx run in -short mode")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: cannot drive nginx (install Debian's curl)")
	}
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx = "/usr/sbin/nginx"
		if _, err := os.Stat(nginx); err != nil {
			t.Skip("nginx is not installed (apt-get install nginx): live compatibility check skipped; the committed trace is still checked")
		}
	}
	upstream := filepath.Join(nginxDir, "upstream.txt")
	uris := filepath.Join(nginxDir, "uris.txt")
	out := t.TempDir()
	if *update {
		writeURIs(t, uris, readUpstream(t, upstream))
		out = nginxDir
	}
	cmd := exec.Command("bash", filepath.Join(nginxDir, "run.sh"), out, upstream, uris)
	cmd.Env = append(os.Environ(), "NGINX_BIN="+nginx)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "run.sh: %s", msg)
	t.Logf("%s", strings.TrimSpace(string(msg)))

	rows := checkTrace(t, upstream, filepath.Join(out, "trace.csv"))
	want := 0
	data, err := os.ReadFile(uris)
	require.NoError(t, err)
	for l := range strings.SplitSeq(string(data), "\n") {
		if l != "" {
			want++
		}
	}
	require.Len(t, rows, want)
	t.Logf("%d live nginx rows match", len(rows))
}

// writeURIs writes the request URIs run.sh sends: random ones shaped like
// Pingora's own trace ("/" + 40 hex digits), assorted real-looking paths
// and queries, and URIs forged to hash exactly onto the ring's boundaries:
// the first and last points, points and their neighbours, the tied points.
func writeURIs(t *testing.T, path string, buckets []ketama.Bucket) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var uris []string
	for range 600 {
		var b [20]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		uris = append(uris, fmt.Sprintf("/%x", b))
	}
	words := []string{"api", "v1", "v2", "users", "img", "static", "cache", "a", "B", "%7Euser",
		"%E2%9C%93", "index.html", "x-y_z", "search", "2024", "~tilde", "c%2Fd", "%20"}
	queries := []string{"", "?q=1", "?q=hello+world", "?a=1&b=2", "?", "?x=%41%42", "?id=", "?sort=desc&page=3"}
	uris = append(uris, "/", "//", "/?", "/a,b", "/semi;colon", "/at@sign", "/plus+sign", "/'quote'")
	for len(uris) < 900 {
		var sb strings.Builder
		for range 1 + rng.IntN(6) {
			sb.WriteString("/" + words[rng.IntN(len(words))])
		}
		sb.WriteString(queries[rng.IntN(len(queries))])
		uris = append(uris, sb.String())
	}

	c, err := ketama.New(buckets)
	require.NoError(t, err)
	var hashes []uint32
	for h := range c.All() {
		hashes = append(hashes, h)
	}
	targets := []uint32{0, 1, 0xffffffff, hashes[0], hashes[0] - 1, hashes[0] + 1,
		hashes[len(hashes)-1], hashes[len(hashes)-1] + 1, hashes[len(hashes)-1] - 1}
	for i := 0; i < len(hashes); i += len(hashes) / 100 {
		targets = append(targets, hashes[i]-1, hashes[i], hashes[i]+1)
	}
	for _, tie := range ketama.Collisions(buckets) {
		targets = append(targets, tie.Hash-1, tie.Hash, tie.Hash+1)
	}
	for i, h := range targets {
		uris = append(uris, string(forgeKey(t, fmt.Sprintf("/edge/%d/", i), h)))
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(uris, "\n")+"\n"), 0o644))
}
