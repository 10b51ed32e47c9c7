package http1_test

import (
	"fmt"
	"io"
	"net"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
)

func ExampleParseRequest() {
	raw := []byte("GET /index.html HTTP/1.1\r\nHost: example.com\r\nX-Request-ID: 42\r\n\r\nnext bytes")
	var req httpheader.RequestHeader
	n, err := http1.ParseRequest(raw, &req, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Method(), string(req.RawTarget()), req.Version())
	for i := range req.Len() {
		name, value := req.Field(i)
		fmt.Printf("%s = %s\n", name, value)
	}
	fmt.Printf("rest: %q\n", raw[n:])
	// Output:
	// GET /index.html HTTP/1.1
	// Host = example.com
	// X-Request-ID = 42
	// rest: "next bytes"
}

func ExampleParseRequest_error() {
	var req httpheader.RequestHeader
	_, err := http1.ParseRequest([]byte("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), &req, nil)
	fmt.Println(perr.StatusCode(err))
	_, err = http1.ParseRequest([]byte("GET / HTTP/1.1\r\nHost: h\r\n"), &req, nil)
	fmt.Println(err == http1.ErrIncomplete)
	// Output:
	// 400
	// true
}

func ExampleResponseBody() {
	var req httpheader.RequestHeader
	_, _ = http1.ParseRequest([]byte("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"), &req, nil)
	var resp httpheader.ResponseHeader
	_, _ = http1.ParseResponse([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), &resp, nil)
	fr, _ := http1.ResponseBody(&req, &resp)
	fmt.Println(fr.Kind)
	// Output:
	// none
}

func ExampleChunkedDecoder() {
	src := []byte("5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nGET /next")
	var trailers httpheader.Header
	d := http1.ChunkedDecoder{Trailers: &trailers}
	for !d.Done() {
		n, data, err := d.Decode(src)
		if err != nil {
			fmt.Println(err) // ErrIncomplete: read more bytes and append them
			return
		}
		fmt.Printf("%s", data)
		src = src[n:]
	}
	fmt.Printf("\ntrailer %s, rest %q\n", trailers.Get("X-Sum"), src)
	// Output:
	// hello world
	// trailer 1, rest "GET /next"
}

func ExampleServerSession() {
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = client.Write([]byte("GET /hello HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"))
		out, _ := io.ReadAll(client)
		fmt.Printf("%q\n", out)
		client.Close()
	}()

	s := http1.NewServerSession(server, nil)
	for {
		ok, err := s.ReadRequest()
		if err != nil {
			_ = s.RespondError(perr.StatusCode(err))
			break
		}
		if !ok {
			break
		}
		body := "hi from " + s.Request().Path()
		resp, _ := httpheader.NewResponse(200)
		_ = resp.SetContentLength(int64(len(body)))
		_ = s.WriteResponseHeader(resp)
		_, _ = s.Write([]byte(body))
		_ = s.FinishResponse(nil)
		if !s.Finish() {
			break
		}
	}
	_ = s.Close()
	<-done
	// Output:
	// "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nhi from /hello"
}
