package limits

import "time"

// StartOf returns the time r counts from, so tests can place calls exactly.
func StartOf(r *Rate) time.Time { return r.start }
