//go:build !unix

package upgrade

import (
	"context"
	"os"
)

// Handoff is the old process's side of a completed send.
type Handoff struct{}

// Send returns ErrUnsupported.
func Send(ctx context.Context, path string, keys []string, files []*os.File) (*Handoff, error) {
	return nil, ErrUnsupported
}

// Wait returns ErrUnsupported.
func (h *Handoff) Wait(ctx context.Context) error { return ErrUnsupported }

// Close does nothing.
func (h *Handoff) Close() error { return nil }

// Received is the new process's side of a hand-over.
type Received struct {
	// Files are the inherited listening sockets by address key.
	Files map[string]*os.File
}

// Receive returns ErrUnsupported.
func Receive(ctx context.Context, path string) (*Received, error) { return nil, ErrUnsupported }

// Ack returns ErrUnsupported.
func (r *Received) Ack() error { return ErrUnsupported }

// Close does nothing.
func (r *Received) Close() error { return nil }
