module github.com/pingora-go/pingora/tools

go 1.26.0
