module github.com/pingora-go/pingora/pool

go 1.26
