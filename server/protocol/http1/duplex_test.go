package http1_test

import (
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessions_DuplexConcurrentSafe streams a chunked request body through
// a ServerSession that echoes each piece back while still reading, with a
// ClientSession that reads the response while still writing the request:
// both sessions have one goroutine per direction (run with -race).
func TestSessions_DuplexConcurrentSafe(t *testing.T) {
	client, server := tcpPair(t)
	const pieces = 50
	var wg sync.WaitGroup

	// Server: a reader goroutine feeds the writer (this goroutine).
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := http1.NewServerSession(server, nil)
		defer s.Close()
		ok, err := s.ReadRequest()
		if !assert.True(t, ok) || !assert.NoError(t, err) {
			return
		}
		resp, _ := httpheader.NewResponse(200)
		resp.Add("Transfer-Encoding", "chunked")
		require.NoError(t, s.WriteResponseHeader(resp))
		data := make(chan []byte)
		go func() {
			defer close(data)
			buf := make([]byte, 1024)
			for {
				n, err := s.Read(buf)
				if n > 0 {
					data <- append([]byte(nil), buf[:n]...)
				}
				if err != nil {
					assert.ErrorIs(t, err, io.EOF)
					return
				}
			}
		}()
		for d := range data {
			_, err := s.Write(d)
			assert.NoError(t, err)
		}
		assert.NoError(t, s.FinishResponse(nil))
		assert.True(t, s.Finish())
	}()

	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "POST", "/echo", "Transfer-Encoding", "chunked")))
	var got strings.Builder
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := c.ReadResponseHeader()
		if !assert.NoError(t, err) {
			return
		}
		assert.Equal(t, 200, resp.Status())
		_, err = io.Copy(&got, c)
		assert.NoError(t, err)
	}()
	var want strings.Builder
	for i := range pieces {
		piece := strings.Repeat(string(rune('a'+i%26)), i+1)
		want.WriteString(piece)
		_, err := c.Write([]byte(piece))
		require.NoError(t, err)
	}
	require.NoError(t, c.FinishRequestBody(nil))
	wg.Wait()
	assert.Equal(t, want.String(), got.String())
	assert.True(t, c.Reusable())
	c.Close()
}

func TestSessions_LargeChunks(t *testing.T) {
	client, server := tcpPair(t)
	big := strings.Repeat("0123456789abcdef", 2048) // 32 KiB: the vectored path
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := http1.NewServerSession(server, nil)
		defer s.Close()
		if ok, _ := s.ReadRequest(); !ok {
			return
		}
		b, err := io.ReadAll(s)
		assert.NoError(t, err)
		resp, _ := httpheader.NewResponse(200)
		resp.Add("Transfer-Encoding", "chunked")
		assert.NoError(t, s.WriteResponseHeader(resp))
		_, err = s.Write(b)
		assert.NoError(t, err)
		_, err = s.Write([]byte("small"))
		assert.NoError(t, err)
		assert.NoError(t, s.FinishResponse(nil))
	}()
	c := http1.NewClientSession(client, nil)
	_, body := roundTrip(t, c, newReq(t, "POST", "/", "Transfer-Encoding", "chunked"), big)
	assert.Equal(t, big+"small", body)
	c.Close()
	<-done
}

// TestClientSession_AbortWhileReading aborts an exchange from the writing
// goroutine while the reading one is blocked in ReadResponseHeader (a proxy
// whose downstream request body failed): the read must return an error and
// the read buffer must not be given back while it is being filled (run with
// -race); Close afterwards releases it.
func TestClientSession_AbortWhileReading(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial string // response bytes sent before the abort
	}{
		{"nothing read", ""},
		{"partial head", "HTTP/1.1 200 OK\r\nContent-Le"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			c := http1.NewClientSession(client, nil)
			require.NoError(t, c.WriteRequestHeader(newReq(t, "POST", "/", "Transfer-Encoding", "chunked")))
			_, err := c.Write([]byte("some body"))
			require.NoError(t, err)
			if tc.partial != "" {
				_, err := server.Write([]byte(tc.partial))
				require.NoError(t, err)
			}
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				close(started)
				_, err := c.ReadResponseHeader()
				done <- err
			}()
			<-started
			time.Sleep(20 * time.Millisecond) // let the read block
			c.Abort()
			c.Abort() // idempotent
			err = <-done
			require.Error(t, err)
			assert.False(t, c.Reusable())
			_, err = c.Write([]byte("more"))
			assert.Error(t, err)
			assert.NoError(t, c.Close())
			assert.NoError(t, c.Close())
			conn, ok := c.Release()
			assert.False(t, ok)
			assert.Nil(t, conn)
		})
	}
}
