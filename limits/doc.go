// Package limits will be a count-min estimator, rate and in-flight counters.
//
// It stands for pingora-limits in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 3.
package limits
