module github.com/pingora-go/pingora/tinyufo

go 1.26
