module github.com/pingora-go/pingora/cache

go 1.26.0

require (
	github.com/pingora-go/pingora/httpheader v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/tinyufo v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/pingora-go/pingora/httpheader => ../httpheader

replace github.com/pingora-go/pingora/tinyufo => ../tinyufo
