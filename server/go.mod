module github.com/pingora-go/pingora/server

go 1.26
