// Package httpheader will be request and response headers that keep the original case and order of header lines.
//
// It stands for pingora-http in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 2.
package httpheader
