package integration_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// serveProxy runs a proxy forwarding to pr on a loopback listener.
func serveProxy(t *testing.T, pr *peer.Peer, opts proxy.Options) string {
	p, err := proxy.New(proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
	}, opts)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	shutdown := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.ServeConn(ctx, &listener.Conn{Conn: c, Raw: c, Accepted: time.Now()}, shutdown)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(shutdown)
		time.AfterFunc(2*time.Second, cancel)
		wg.Wait()
		cancel()
		p.Cleanup()
	})
	return ln.Addr().String()
}

type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testService) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if req.GetResponseStatus().GetCode() != 0 {
		return nil, status.Error(codes.Code(req.GetResponseStatus().GetCode()), req.GetResponseStatus().GetMessage())
	}
	md, _ := metadata.FromIncomingContext(ctx)
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-echo", strings.Join(md.Get("x-in"), ",")))
	return &testgrpc.SimpleResponse{Payload: req.GetPayload()}, nil
}

func (testService) FullDuplexCall(stream testgrpc.TestService_FullDuplexCallServer) error {
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
}

func TestProxy_GRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(gs, testService{})
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()

	pr := peer.New(ln.Addr().String(), false, "")
	pr.ALPN = peer.ALPNH2 // h2c with prior knowledge
	addr := serveProxy(t, pr, proxy.Options{H2C: true})

	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer cc.Close()
	client := testgrpc.NewTestServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("unary", func(t *testing.T) {
		var trailer metadata.MD
		body := []byte(strings.Repeat("p", 100000))
		resp, err := client.UnaryCall(metadata.AppendToOutgoingContext(ctx, "x-in", "v1"),
			&testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: body}}, grpc.Trailer(&trailer))
		require.NoError(t, err)
		assert.Equal(t, body, resp.GetPayload().GetBody())
		assert.Equal(t, []string{"v1"}, trailer.Get("x-echo"))
	})
	t.Run("status", func(t *testing.T) {
		_, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.NotFound), Message: "nope"}})
		st, _ := status.FromError(err)
		assert.Equal(t, codes.NotFound, st.Code())
		assert.Equal(t, "nope", st.Message())
	})
	t.Run("bidi streaming", func(t *testing.T) {
		stream, err := client.FullDuplexCall(ctx)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			msg := []byte(strings.Repeat(string(rune('a'+i)), 10+i))
			require.NoError(t, stream.Send(&testgrpc.StreamingOutputCallRequest{Payload: &testgrpc.Payload{Body: msg}}))
			resp, err := stream.Recv() // echoed before the next send: truly interleaved
			require.NoError(t, err)
			assert.Equal(t, msg, resp.GetPayload().GetBody())
		}
		require.NoError(t, stream.CloseSend())
		_, err = stream.Recv()
		assert.Equal(t, io.EOF, err)
	})
}

func TestProxy_WebSocket(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, append([]byte("echo:"), msg...)); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	addr := serveProxy(t, peer.New(strings.TrimPrefix(srv.URL, "http://"), false, ""), proxy.Options{})
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 101, resp.StatusCode)
	for _, m := range []string{"hello", strings.Repeat("x", 70000), "bye"} {
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(m)))
		_, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, "echo:"+m, string(got))
	}
}
