// Package memcache will be a TTL cache and a read-through cache with a stampede lock, on tinyufo.
//
// It stands for pingora-memory-cache in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 4.
package memcache
