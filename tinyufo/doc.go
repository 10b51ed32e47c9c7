// Package tinyufo will be an S3-FIFO + TinyLFU in-memory cache.
//
// It stands for TinyUFO in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 4.
package tinyufo
