// Package pool will be a keyed pool of idle upstream connections: a fast per-key slot plus an LRU bounded in total size, idle timeouts, and idle connections watched so one whose peer sends data or closes is dropped at once.
//
// It stands for pingora-pool in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issue 6; until then, importing it gives you nothing to call.
package pool
