module github.com/pingora-go/pingora/memcache

go 1.26
