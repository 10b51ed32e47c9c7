//go:build boringcrypto

package gotls

import "crypto/boring"

// BoringCrypto reports whether this binary was built with
// GOEXPERIMENT=boringcrypto.
const BoringCrypto = true

// boringEnabled reports whether crypto/tls runs on BoringCrypto.
func boringEnabled() bool { return boring.Enabled() }
