package gotls

import "crypto/fips140"

func fips140Enabled() bool { return fips140.Enabled() }
