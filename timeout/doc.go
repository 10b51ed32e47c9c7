// Package timeout will be cheap coalesced timers.
//
// It stands for pingora-timeout in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 3.
package timeout
