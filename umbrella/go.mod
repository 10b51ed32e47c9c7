module github.com/pingora-go/pingora/umbrella

go 1.26.0
