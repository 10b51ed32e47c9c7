module github.com/pingora-go/pingora/balancer

go 1.26
