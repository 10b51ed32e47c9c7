module github.com/pingora-go/pingora/umbrella

go 1.26.0

require (
	github.com/pingora-go/pingora/balancer v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/errors v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/httpheader v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/limits v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/proxy v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/server v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/tlsbackend v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_golang v1.25.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pingora-go/pingora/ketama v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/l4 v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/pool v0.0.0-00010101000000-000000000000 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/pingora-go/pingora/balancer => ../balancer

replace github.com/pingora-go/pingora/errors => ../errors

replace github.com/pingora-go/pingora/httpheader => ../httpheader

replace github.com/pingora-go/pingora/ketama => ../ketama

replace github.com/pingora-go/pingora/limits => ../limits

replace github.com/pingora-go/pingora/pool => ../pool

replace github.com/pingora-go/pingora/proxy => ../proxy

replace github.com/pingora-go/pingora/server => ../server

replace github.com/pingora-go/pingora/tlsbackend => ../tlsbackend

replace github.com/pingora-go/pingora/l4 => ../l4
