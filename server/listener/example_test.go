package listener_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/pingora-go/pingora/server/listener"
)

func ExampleListen() {
	l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			panic(err)
		}
		defer c.Close()
		fmt.Fprint(c, "hello")
	}()

	c, err := l.AcceptConn()
	if err != nil {
		panic(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	fmt.Printf("%s from a client of %s, TLS %v\n", b, c.Key, c.TLS)
	// Output: hello from a client of 127.0.0.1:0, TLS false
}

func ExampleListen_unix() {
	dir, err := os.MkdirTemp("", "listener")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "proxy.sock")

	l, err := listener.Listen(context.Background(), listener.Config{Network: "unix", Addr: path, UnixMode: 0o660})
	if err != nil {
		panic(err)
	}
	fi, _ := os.Stat(path)
	fmt.Println(fi.Mode())
	l.Close()
	_, err = os.Stat(path)
	fmt.Println("removed on close:", errors.Is(err, os.ErrNotExist))
	// Output:
	// Srw-rw----
	// removed on close: true
}

// A Handshaker runs before Accept returns a connection, on a goroutine per
// connection. Real servers plug in TLS (crypto/tls or tlsbackend); this one
// reads a greeting line.
func ExampleHandshakerFunc() {
	greeting := listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		line, err := bufio.NewReader(raw).ReadString('\n') // raw's deadline bounds this
		if err != nil {
			return nil, err
		}
		if line != "HELLO\n" {
			return nil, fmt.Errorf("bad greeting %q", line)
		}
		return raw, nil
	})
	l, err := listener.Listen(context.Background(), listener.Config{
		Addr:    "127.0.0.1:0",
		TLS:     greeting,
		OnError: func(err error) { fmt.Println("rejected:", errors.Unwrap(err)) },
	})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	bad, _ := net.Dial("tcp", l.Addr().String())
	defer bad.Close()
	fmt.Fprint(bad, "HI\n")
	bad.Read(make([]byte, 1)) // returns once the listener has closed it

	good, _ := net.Dial("tcp", l.Addr().String())
	defer good.Close()
	fmt.Fprint(good, "HELLO\n")
	c, err := l.AcceptConn()
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println("accepted, handshaken:", c.TLS)
	// Output:
	// rejected: bad greeting "HI\n"
	// accepted, handshaken: true
}

// A graceful upgrade, both processes in one: the old one binds through a
// Table and hands its files over; the new one adopts them by address.
func ExampleTable() {
	ctx := context.Background()
	old := listener.NewTable(nil)
	l, err := old.Listen(ctx, listener.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	keys, files, err := old.Files() // sent over the upgrade socket
	if err != nil {
		panic(err)
	}
	l.Close()

	inherited := map[string]*os.File{}
	for i, k := range keys {
		inherited[k] = files[i]
	}
	next := listener.NewTable(inherited)
	l2, err := next.Listen(ctx, listener.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer l2.Close()
	fmt.Println("same socket:", l2.Addr().String() == l.Addr().String())
	fmt.Println("unclaimed:", next.CloseInherited())
	// Output:
	// same socket: true
	// unclaimed: []
}
