// Package benchmarks compares ketama with a popular Go consistent-hash
// library, github.com/golang/groupcache/consistenthash, on the same
// servers and keys. It holds only benchmarks; nothing imports it.
//
// Both rings use 160 points per server and CRC-32/IEEE, so they differ
// only in how they are built and searched. Run with:
//
//	GOWORK=off go test -run '^$' -bench . -benchtime 1s -count 5
package benchmarks
