//go:build unix

package upgrade

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSendReceive hands n listening sockets from Send to Receive and
// back the acknowledgement: the pause of a graceful upgrade's transfer.
func BenchmarkSendReceive(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			_, keys, files := listeners(b, n)
			sock := filepath.Join(b.TempDir(), "u.sock")
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				errc := make(chan error, 1)
				go func() {
					r, err := Receive(ctx, sock)
					if err == nil {
						for _, f := range r.Files {
							f.Close()
						}
						err = r.Ack()
					}
					errc <- err
				}()
				for { // Send only once Receive listens: measure the transfer, not the retry
					if _, err := os.Stat(sock); err == nil {
						break
					}
					time.Sleep(50 * time.Microsecond)
				}
				h, err := Send(ctx, sock, keys, files)
				if err != nil {
					b.Fatal(err)
				}
				if err := h.Wait(ctx); err != nil {
					b.Fatal(err)
				}
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
	}
}
