//go:build openssl && !cgo

package umbrella

// The OpenSSL backend is cgo: build with CGO_ENABLED=1 -tags openssl. This
// undefined name stops a build that asks for it without cgo.
var _ = openssl_backend_needs_CGO_ENABLED_1
