// Package hardening is the attack suite of pingora-go: tests that drive a
// proxy built from the proxy module over loopback, as an untrusted client
// or an untrusted upstream would, and check the rules of shared
// HARDENING.md (RFC 9110, 9112, 9113 and the advisories every proxy must
// have a test for). It has no library code; run it with
//
//	GOWORK=off go test -race ./proxy/hardening
//
// # Harness
//
// Every case builds a fresh proxy (proxy.New over a listener.Listen
// socket, h2c enabled, short timeouts: 400 ms whole-header deadline,
// 500 ms body idle, 600 ms upstream response header) in front of a
// recording origin that logs the raw bytes of every connection and
// answers from a per-case script (delays, resets, truncated bodies,
// invalid framing, early responses). Attacks come from raw sockets
// (HTTP/1) and an x/net/http2 Framer (HTTP/2). During every case a benign
// probe sends normal requests through the same proxy (to a second origin)
// and must see only successes.
//
// After each case the harness waits until goroutines, open file
// descriptors (/proc/self/fd) and the heap are back to their baseline:
// within 5 s, goroutines at most 2 above the count taken before the case,
// descriptors at most 4 above, live heap at most 32 MiB above (after
// runtime.GC); the slack covers runtime and testing goroutines and lazily
// allocated pools.
//
// # Cases
//
// Each test is named after what it attacks, and the advisories of
// HARDENING.md after their identifier (TestCVE_2023_44487_RapidReset,
// ...). A test skipped with "BUG:" documents a defect found by the suite;
// set HARDENING_RUN_BUGS=1 to run those cases anyway (to reproduce the
// defect or check its fix).
package hardening
