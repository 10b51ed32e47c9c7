module github.com/pingora-go/pingora/errors

go 1.26
