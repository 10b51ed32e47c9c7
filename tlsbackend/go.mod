module github.com/pingora-go/pingora/tlsbackend

go 1.26.0
