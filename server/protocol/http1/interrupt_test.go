package http1_test

import (
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/require"
)

// TestServerSession_InterruptRead checks that InterruptRead ends a read
// waiting under a long timeout at once, whether the session waits for a
// first request or for the next one on a kept-alive connection (whose
// deadline the session keeps coarsely, so it must not stay hidden).
func TestServerSession_InterruptRead(t *testing.T) {
	for _, served := range []int{0, 1, 3} {
		t.Run(itoa(served)+"-requests-before", func(t *testing.T) {
			client, server := tcpPair(t)
			s := http1.NewServerSession(server, &http1.Options{KeepAliveTimeout: time.Minute, HeaderTimeout: time.Minute})
			defer s.Close()
			for range served {
				_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
				require.NoError(t, err)
				ok, err := s.ReadRequest()
				require.NoError(t, err)
				require.True(t, ok)
				respond(t, s, "ok")
				require.True(t, s.Finish())
			}
			type result struct {
				ok  bool
				err error
			}
			done := make(chan result, 1)
			go func() {
				ok, err := s.ReadRequest()
				done <- result{ok, err}
			}()
			time.Sleep(30 * time.Millisecond) // let it block in the read
			start := time.Now()
			s.InterruptRead()
			select {
			case r := <-done:
				require.False(t, r.ok, "no request came")
				require.Less(t, time.Since(start), 2*time.Second)
			case <-time.After(5 * time.Second):
				client.Close() // unblock the goroutine, then fail
				<-done
				t.Fatal("InterruptRead did not end the read")
			}
		})
	}
}
