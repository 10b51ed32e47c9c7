module github.com/pingora-go/pingora/httpheader

go 1.26.0
