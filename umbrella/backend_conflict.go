//go:build openssl && boringcrypto

package umbrella

// OpenSSL and BoringCrypto are two TLS backends; a binary has one. This
// undefined name stops a build that asks for both.
var _ = choose_one_of_openssl_or_boringcrypto
