module github.com/pingora-go/pingora/limits/benchmarks

go 1.26.0

require github.com/pingora-go/pingora/limits v0.0.0-00010101000000-000000000000

require golang.org/x/time v0.16.0

replace github.com/pingora-go/pingora/limits => ..
