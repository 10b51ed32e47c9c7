// Package benchmarks compares package limits with other ways to count and
// limit per key: a map behind a sync.Mutex (Pingora's "naive counter") and
// golang.org/x/time/rate token buckets, one per key in such a map.
//
// It holds only benchmarks; nothing imports it. Run them with
//
//	GOWORK=off go test -run='^$' -bench=. -benchtime=1s
package benchmarks
