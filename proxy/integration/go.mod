module github.com/pingora-go/pingora/proxy/integration

go 1.26.0

require (
	github.com/gorilla/websocket v1.5.3
	github.com/pingora-go/pingora/proxy v0.0.0-00010101000000-000000000000
	github.com/pingora-go/pingora/server v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
	google.golang.org/grpc v1.85.0
)

require (
	github.com/klauspost/compress v1.20.1 // indirect
	github.com/pingora-go/pingora/errors v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/httpheader v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/pool v0.0.0-00010101000000-000000000000 // indirect
	github.com/pingora-go/pingora/tlsbackend v0.0.0-00010101000000-000000000000 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/pingora-go/pingora/proxy => ..

replace github.com/pingora-go/pingora/errors => ../../errors

replace github.com/pingora-go/pingora/httpheader => ../../httpheader

replace github.com/pingora-go/pingora/pool => ../../pool

replace github.com/pingora-go/pingora/server => ../../server

replace github.com/pingora-go/pingora/tlsbackend => ../../tlsbackend
