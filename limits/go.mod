module github.com/pingora-go/pingora/limits

go 1.26
