package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func TestQuickstart(t *testing.T) {
	var origins []string
	for i := range 2 {
		addr := freeAddr(t)
		stop, err := startOrigin(addr, fmt.Sprintf("origin %d", i+1))
		require.NoError(t, err)
		t.Cleanup(stop)
		origins = append(origins, addr)
	}
	broken := freeAddr(t) // nothing listens: the health check takes it out
	listen := freeAddr(t)
	dir := t.TempDir()
	s, err := newServer(&server.Opt{}, listen, append(origins, broken))
	require.NoError(t, err)
	s.Conf().UpgradeSock = dir + "/upgrade.sock"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatal(err)
	}

	client := &http.Client{Timeout: 5 * time.Second}
	seen := map[string]int{}
	for range 6 {
		resp, err := client.Get("http://" + listen + "/")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, "a connect failure on the broken backend is retried on another")
		seen[string(body)]++
	}
	assert.Len(t, seen, 2, "both origins answer: %v", seen)

	cancel()
	require.NoError(t, <-done)
}
