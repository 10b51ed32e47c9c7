package http2_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

func TestPeekPreface(t *testing.T) {
	for _, tc := range []struct {
		name   string
		send   []string // written in this many pieces
		close  bool
		wantH2 bool
		err    error
	}{
		{"h2 preface", []string{http2.ClientPreface + "\x00\x00\x00\x04"}, false, true, nil},
		{"h2 preface in pieces", []string{"PRI * HT", "TP/2.0\r\n\r\nSM", "\r\n\r\n"}, false, true, nil},
		{"http/1", []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n"}, false, false, nil},
		{"http/1 PUT shares a first byte", []string{"PUT /x HTTP/1.1\r\n\r\n"}, false, false, nil},
		{"PRI method not h2", []string{"PRI /x HTTP/1.1\r\n\r\n"}, false, false, nil},
		{"prefix then EOF", []string{"PRI * HTTP"}, true, false, nil},
		{"silent client", nil, false, false, h2.ErrPeekTimeout},
		{"prefix then silence", []string{"PRI * HTTP/2.0"}, false, false, h2.ErrPeekTimeout},
		{"immediate EOF", nil, true, false, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			client, server := net.Pipe()
			defer client.Close()
			go func() {
				for _, p := range tc.send {
					if _, err := client.Write([]byte(p)); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
				if tc.close {
					_ = client.Close()
				}
			}()
			isH2, rc, err := h2.PeekPreface(server, time.Now().Add(200*time.Millisecond))
			defer rc.Close()
			if tc.err != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantH2, isH2)
			// The returned conn replays what was peeked, then the rest.
			want := ""
			for _, p := range tc.send {
				want += p
			}
			if !tc.close {
				go func() {
					time.Sleep(20 * time.Millisecond)
					_ = client.Close()
				}()
			}
			got, _ := io.ReadAll(rc)
			assert.Equal(t, want, string(got))
		})
	}
}

// A port that serves both: PeekPreface routes h2c prior-knowledge clients
// to the Server.
func TestPeekPreface_RoutesH2C(t *testing.T) {
	leakCheck(t)
	srv, err := h2.NewServer(h2.ServerOptions{})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		isH2, rc, err := h2.PeekPreface(c, time.Time{})
		if err != nil || !isH2 {
			_ = c.Close()
			done <- errors.Join(err, errors.New("not detected as h2"))
			return
		}
		done <- srv.ServeConn(t.Context(), rc, okHandler)
	}()
	tr := h2cTransport(t)
	res, err := tr.RoundTrip(must(newGet("http://" + ln.Addr().String() + "/")))
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	assert.Equal(t, "ok", string(b))
	tr.CloseIdleConnections()
	require.NoError(t, <-done)
}

// TestReplayed: the connection under PeekPreface's result and the peeked
// bytes together give exactly what the client sent.
func TestReplayed(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	const req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	go func() {
		_, _ = client.Write([]byte(req))
		_ = client.Close()
	}()
	isH2, rc, err := h2.PeekPreface(server, time.Now().Add(time.Second))
	require.NoError(t, err)
	require.False(t, isH2)
	raw, peeked := h2.Replayed(rc)
	defer raw.Close()
	assert.Equal(t, server, raw, "the very connection, unwrapped")
	assert.NotEmpty(t, peeked)
	rest, _ := io.ReadAll(raw)
	assert.Equal(t, req, string(peeked)+string(rest))

	other, _ := net.Pipe()
	defer other.Close()
	c, b := h2.Replayed(other)
	assert.Equal(t, other, c)
	assert.Nil(t, b)
}
