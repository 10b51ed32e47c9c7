// Package umbrella will be the assembly of every module into a complete proxy server, and the pingora binary that runs one from a YAML file.
//
// It stands for the pingora umbrella crate in Cloudflare's Pingora. It is NOT BUILT YET: this
// module holds no code beyond this comment, so that the workspace layout and the
// import paths are fixed before the code lands. Its work is tracked in the
// project's issue 10; until then, importing it gives you nothing to call.
package umbrella
