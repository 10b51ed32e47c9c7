module github.com/pingora-go/pingora/ketama

go 1.26
