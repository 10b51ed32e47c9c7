// Package tlsbackend will be one small TLS interface for server and client connections, with crypto/tls as the default backend, OpenSSL through cgo under the build tag openssl, and BoringCrypto through GOEXPERIMENT=boringcrypto.
//
// It stands for the TLS back-ends of pingora-core (pingora-openssl, pingora-boringssl, pingora-rustls) in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issue 5; until then, importing it gives you nothing to call.
package tlsbackend
