//go:build !boringcrypto

package gotls

// BoringCrypto reports whether this binary was built with
// GOEXPERIMENT=boringcrypto.
const BoringCrypto = false

func boringEnabled() bool { return false }
