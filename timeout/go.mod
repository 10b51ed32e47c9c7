module github.com/pingora-go/pingora/timeout

go 1.26
