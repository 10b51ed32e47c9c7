// Package perr will be the shared error type: kind, source, retry decision, context and cause chain.
//
// It stands for pingora-error in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 2.
package perr
