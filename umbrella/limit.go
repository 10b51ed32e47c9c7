package umbrella

import (
	"time"

	"github.com/pingora-go/pingora/limits"
)

// newRate returns the per-second counter of a rate limit.
func newRate() (*limits.Rate, error) { return limits.NewRate(time.Second, limits.Options{}) }
