module github.com/pingora-go/pingora/proxy

go 1.26.0
