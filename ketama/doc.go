// Package ketama is Ketama consistent hashing that picks the same server as
// nginx's "hash $key consistent" for the same upstream and key.
//
// It ports pingora-ketama from Cloudflare's Pingora (SPEC §6). A Continuum
// is a ring of points; each server (Bucket) owns Weight×160 of them, and a
// key goes to the owner of the first point at or after CRC-32(key). Adding
// or removing a server moves only the keys of that server's points.
//
//	ring, err := ketama.New([]ketama.Bucket{
//		{Addr: netip.MustParseAddrPort("10.0.0.1:443"), Weight: 1},
//		{Addr: netip.MustParseAddrPort("[2001:db8::2]:443"), Weight: 2},
//	})
//	if err != nil { … }
//	addr, _ := ring.Node([]byte(r.URL.RequestURI())) // same choice as nginx
//	for addr := range ring.DistinctNodes(key) { … }  // failover order, each server once
//
// # The algorithm
//
// For each bucket in order, the server's name is hashed as nginx hashes the
// text of a "server" line: host, one NUL byte, decimal port. Point i of the
// server is CRC-32/IEEE(name ‖ hash of point i-1 as 4 little-endian bytes),
// with zero bytes for point 0. All points are sorted by hash; of points with
// equal hashes only the first is kept. A lookup binary-searches the first
// point whose hash is >= CRC-32(key) and wraps to point 0 past the end.
//
// # nginx compatibility, and where it differs from Pingora
//
// testdata/nginx/run.sh runs a real nginx (Debian's 1.22) with an upstream
// of 10 servers (11 lines: one is listed twice) of mixed weights, IPv4 and
// IPv6, and records "$request_uri,$upstream_addr" for 1215 URIs, many
// forged to hash exactly onto ring boundaries; the tests check every row of
// that committed trace, and of a fresh one when nginx is installed. nginx
// and Pingora's description (SPEC §6) differ in two places, and this
// package follows nginx:
//
//   - IPv6 servers are hashed with their brackets, "[::1]\x00443", because
//     nginx hashes the server text as written up to the last colon.
//     Pingora hashes the bare address, "::1\x00443", so for IPv6 servers
//     Pingora's ring differs from nginx's; on the trace, Pingora's spelling
//     misroutes a third of the requests. IPv4 rings are the same in both.
//   - When points of two servers have the same hash, the server listed
//     first keeps it. nginx sorts with the C library's qsort, which on
//     glibc is a stable merge sort, and the trace confirms it on a
//     deliberately colliding pair; Pingora's unstable sort leaves the
//     winner unspecified.
//
// nginx hashes the text of the config, not the parsed address, so the ring
// matches only when the upstream writes each server the way
// netip.AddrPort.String does: an explicit port ("10.0.0.1:80", not
// "10.0.0.1", which nginx hashes with an empty port), IPv6 in RFC 5952
// form in brackets ("[2001:db8::1]:80", not "[2001:DB8:0::1]:80"), no
// host names. nginx's own failover skips servers marked down or failed;
// DistinctNodes gives the order it tries them in when all are up.
//
// # Limits and defaults
//
// Each unit of weight is PointsPerWeight (160) points, as in nginx. New
// refuses an empty list (ErrNoBuckets), a zero weight (ErrZeroWeight), an
// invalid address (ErrInvalidAddr) and weights adding up to more than
// MaxPoints/PointsPerWeight (ErrTooManyPoints); it never panics. A server
// listed twice counts once, with the larger weight, as in nginx.
//
// # Concurrency
//
// A Continuum is immutable once New returns: any number of goroutines may
// call its methods at once without locking. To change the servers, build a
// new Continuum and swap it in (for example with atomic.Pointer). Lookups
// and iteration allocate nothing; New takes time linear in the number of
// points (a radix sort); a ring holds about 10 bytes per point.
package ketama
