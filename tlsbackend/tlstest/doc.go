// Package tlstest is the conformance suite and test kit for tlsbackend
// backends.
//
// Run checks each backend alone (version floor, timeouts against a silent
// peer, configuration errors) and every ordered client/server pair of the
// given backends (ALPN, SNI selection, unknown SNI, mTLS in both directions,
// certificate reload, bulk transfer, concurrent handshakes). A backend's
// tests call it, with gotls.New() alongside to test interoperation:
//
//	func TestBackend_Conformance(t *testing.T) {
//		tlstest.CheckGoroutines(t)
//		tlstest.Run(t, mybackend.New(), gotls.New())
//	}
//
// It also generates certificates at run time (NewCA, CA.Server, CA.Client:
// no private keys are committed), makes loopback connection pairs, and
// holds the shared benchmarks (BenchmarkHandshake, BenchmarkThroughput).
// Everything here is for tests: failures are reported through testing.TB.
// Helpers are safe to call from parallel tests.
package tlstest
