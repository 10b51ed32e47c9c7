module github.com/pingora-go/pingora/tools

go 1.26.0

require (
	github.com/pingora-go/pingora/proxy v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/server v0.0.0-00010101000000-000000000000
)

require (
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/pingora-go/pingora/errors v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/httpheader v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/l4 v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/pool v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/tlsbackend v0.0.0-00010101000000-000000000000 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/pingora-go/pingora/errors => ../errors

replace github.com/pingora-go/pingora/httpheader => ../httpheader

replace github.com/pingora-go/pingora/pool => ../pool

replace github.com/pingora-go/pingora/proxy => ../proxy

replace github.com/pingora-go/pingora/server => ../server

replace github.com/pingora-go/pingora/tlsbackend => ../tlsbackend

replace github.com/pingora-go/pingora/l4 => ../l4
