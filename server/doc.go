// Package server will be the server: lifecycle, YAML configuration, services, listeners, the HTTP/1 and HTTP/2 protocols, connectors, peers, graceful shutdown and zero-downtime binary upgrade.
//
// It stands for pingora-core in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issues 5, 6 and 7; until then, importing it gives you nothing to call.
package server
