// Package integration holds end-to-end tests of the proxy with third-party
// clients and servers (grpc-go, a WebSocket library) kept out of the proxy
// module's own dependencies.
package integration
