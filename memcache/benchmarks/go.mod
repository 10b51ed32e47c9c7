module github.com/pingora-go/pingora/memcache/benchmarks

go 1.26.0

require (
	github.com/maypok86/otter/v2 v2.4.0
	github.com/pingora-go/pingora/memcache v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/pingora-go/pingora/tinyufo v0.0.0-00010101000000-000000000000 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace (
	github.com/pingora-go/pingora/memcache => ..
	github.com/pingora-go/pingora/tinyufo => ../../tinyufo
)
