// Package proxy will be the programmable HTTP proxy: a Hooks[C] struct with a func field for every phase of a proxied request.
//
// It stands for pingora-proxy in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issue 8; until then, importing it gives you nothing to call.
package proxy
