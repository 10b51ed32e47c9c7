module github.com/pingora-go/pingora/ketama/benchmarks

go 1.26

require (
	github.com/golang/groupcache v0.0.0-20241129210726-2c02b8208cf8
	github.com/pingora-go/pingora/ketama v0.0.0-00010101000000-000000000000
)

replace github.com/pingora-go/pingora/ketama => ..
