// Package ketama will be Ketama consistent hashing, identical to nginx's hash $key consistent.
//
// It stands for pingora-ketama in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment. Its work is tracked in the
// project's issue 3.
package ketama
