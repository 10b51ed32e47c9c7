package http1_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/require"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// serve runs handle for every request on a ServerSession over conn until
// the connection is done, in a goroutine; the returned wait blocks until it
// ended and reports how many requests were served.
func serve(t *testing.T, conn net.Conn, opts *http1.Options, handle func(s *http1.ServerSession)) (wait func() int) {
	t.Helper()
	var wg sync.WaitGroup
	served := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := http1.NewServerSession(conn, opts)
		defer s.Close()
		for {
			ok, err := s.ReadRequest()
			if err != nil {
				_ = s.RespondError(statusOf(err))
				return
			}
			if !ok {
				return
			}
			served++
			handle(s)
			if s.Upgraded() || !s.Finish() {
				return
			}
		}
	}()
	return func() int { wg.Wait(); return served }
}

// respond writes a 200 response whose body is body.
func respond(t *testing.T, s *http1.ServerSession, body string) {
	resp, _ := httpheader.NewResponse(200)
	require.NoError(t, resp.SetContentLength(int64(len(body))))
	if err := s.WriteResponseHeader(resp); err != nil {
		return
	}
	_, _ = s.Write([]byte(body))
	_ = s.FinishResponse(nil)
}

// readResponses reads responses with net/http until EOF and returns their
// status codes and bodies.
func readResponses(t *testing.T, conn net.Conn, method string) (codes []int, bodies []string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	for {
		req, _ := http.NewRequest(method, "http://h/", nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			conn.Close() // lets the server's lingering close end at once
			return codes, bodies
		}
		b, _ := io.ReadAll(resp.Body)
		codes = append(codes, resp.StatusCode)
		bodies = append(bodies, string(b))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func statusOf(err error) int { return perr.StatusCode(err) }

// readAllClose reads conn to EOF, then closes it so that the server's
// lingering close ends at once.
func readAllClose(conn net.Conn) []byte {
	b, _ := io.ReadAll(conn)
	conn.Close()
	return b
}
