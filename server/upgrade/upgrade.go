package upgrade

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits of one hand-over.
const (
	// MaxFiles is the most descriptors one hand-over carries: Linux's
	// SCM_MAX_FD.
	MaxFiles = 253
	// MaxPayload is the most bytes of joined addresses one hand-over
	// carries. Pingora's receiver reads at most 2048; this one reads up to
	// MaxPayload.
	MaxPayload = 64 << 10
	// RetryInterval is the longest Send waits between attempts to connect
	// while nobody listens on the upgrade socket yet.
	RetryInterval = 100 * time.Millisecond
)

// ackByte is what the receiver writes once it serves.
const ackByte = 'k'

var (
	// ErrUnsupported is returned on systems without Unix sockets with
	// descriptor passing.
	ErrUnsupported = errors.New("upgrade: descriptor passing is not supported on this system")
	// ErrNoAck is returned by [Handoff.Wait] when the receiver closed the
	// connection without acknowledging: it failed to start serving.
	ErrNoAck = errors.New("upgrade: the new process closed the upgrade socket without acknowledging")
)

// encode checks keys against files and joins them into the payload.
func encode(keys []string, nfiles int) ([]byte, error) {
	if len(keys) != nfiles {
		return nil, fmt.Errorf("upgrade: %d keys for %d files", len(keys), nfiles)
	}
	if nfiles == 0 {
		return nil, errors.New("upgrade: no files to send")
	}
	if nfiles > MaxFiles {
		return nil, fmt.Errorf("upgrade: %d files, at most %d", nfiles, MaxFiles)
	}
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, " \t\n\v\f\r") {
			return nil, fmt.Errorf("upgrade: key %q is empty or has white space", k)
		}
	}
	p := strings.Join(keys, " ")
	if len(p) > MaxPayload {
		return nil, fmt.Errorf("upgrade: keys take %d bytes, at most %d", len(p), MaxPayload)
	}
	return []byte(p), nil
}

// decode splits a payload into keys, as Pingora does: on ASCII white space.
func decode(payload []byte, nfiles int) ([]string, error) {
	keys := strings.Fields(string(payload))
	if len(keys) != nfiles {
		return nil, fmt.Errorf("upgrade: received %d keys with %d files", len(keys), nfiles)
	}
	seen := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		if _, dup := seen[k]; dup {
			return nil, fmt.Errorf("upgrade: key %q received twice", k)
		}
		seen[k] = struct{}{}
	}
	return keys, nil
}
