module github.com/pingora-go/pingora/balancer

go 1.26.0

require (
	github.com/pingora-go/pingora/errors v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/ketama v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	golang.org/x/net v0.62.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/pingora-go/pingora/errors => ../errors

replace github.com/pingora-go/pingora/ketama => ../ketama
