// Package balancer will be load balancing over a set of backends: round robin, hashing, Ketama, least connections, active and passive health checks and service discovery.
//
// It stands for pingora-load-balancing in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issue 9; until then, importing it gives you nothing to call.
package balancer
