package server

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables the daemon's parent sets for the daemon.
const (
	envDaemon  = "PINGORA_GO_DAEMON"          // "1" in the daemon
	envReadyFD = "PINGORA_GO_DAEMON_READY_FD" // descriptor to write one byte to once ready
)

// writePIDFile renames an existing pid file to .old and writes this
// process's id.
func (s *Server) writePIDFile() error {
	p := s.conf.PIDFile
	if err := os.Rename(p, p+".old"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("server: pid_file: %w", err)
	}
	if err := os.WriteFile(p, []byte(strconv.Itoa(s.env.getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("server: pid_file: %w", err)
	}
	return nil
}

// ReadPIDFile returns the process id written in a pid file.
func ReadPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("server: pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("server: pid file %s: no process id in %q", path, b)
	}
	return pid, nil
}

// notifyDaemonParent writes one byte to the inherited ready descriptor, if
// the parent waits for one.
func notifyDaemonParent(fd string) {
	n, err := strconv.Atoi(fd)
	if err != nil || n < 3 {
		return
	}
	f := os.NewFile(uintptr(n), "daemon-ready")
	if f == nil {
		return
	}
	_, _ = f.Write([]byte{1})
	f.Close()
}

// waitReady waits for the daemon's byte on r: nil when it came, an error
// when the daemon closed r (it exited) or timeout passed.
func waitReady(r *os.File, timeout time.Duration) error {
	_ = r.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	n, err := r.Read(b[:])
	switch {
	case n == 1:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("server: daemon not ready after %v", timeout)
	default:
		return errors.New("server: daemon exited before it was ready")
	}
}
