//go:build unix

package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Handoff is the old process's side of a completed send: the connection on
// which the new process acknowledges.
type Handoff struct {
	conn *net.UnixConn
}

// Send connects to the upgrade socket at path, retrying (after 1 ms, then
// twice as long each time up to RetryInterval) while nobody listens there (the path is missing, refuses,
// or is not yet accessible) until ctx is done, and sends files in one
// message, keys[i] naming files[i]. The files stay the caller's to close.
// On success the caller waits for the acknowledgement with [Handoff.Wait].
func Send(ctx context.Context, path string, keys []string, files []*os.File) (*Handoff, error) {
	payload, err := encode(keys, len(files))
	if err != nil {
		return nil, err
	}
	fds := make([]int, len(files))
	for i, f := range files {
		// Not f.Fd(): it would switch the socket, shared with the
		// listener it was duplicated from, to blocking mode, and the
		// listener's Accept could then no longer be interrupted.
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, fmt.Errorf("upgrade: file %s: %w", keys[i], err)
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
			return nil, fmt.Errorf("upgrade: file %s: %w", keys[i], err)
		}
	}
	conn, err := dial(ctx, path)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Unix(1, 0)) })
	n, _, err := conn.WriteMsgUnix(payload, unix.UnixRights(fds...), nil)
	if err == nil && n < len(payload) {
		_, err = conn.Write(payload[n:])
	}
	stop()
	if err == nil {
		err = conn.CloseWrite() // end of the message
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("upgrade: send to %s: %w", path, err)
	}
	return &Handoff{conn: conn}, nil
}

func dial(ctx context.Context, path string) (*net.UnixConn, error) {
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	delay := time.Millisecond
	for {
		conn, err := net.DialUnix("unix", nil, addr)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) &&
			!errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EAGAIN) {
			return nil, fmt.Errorf("upgrade: connect to %s: %w", path, err)
		}
		t := time.NewTimer(delay)
		delay = min(2*delay, RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("upgrade: connect to %s: no new process is listening: %w (last error: %w)", path, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Wait waits until the new process acknowledges that it serves on the
// sockets, then closes the connection. It returns [ErrNoAck] if the new
// process closed the connection first (it failed), or an error matching
// ctx.Err() when ctx is done first.
func (h *Handoff) Wait(ctx context.Context) error {
	defer h.conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = h.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var b [1]byte
	_, err := io.ReadFull(h.conn, b[:])
	switch {
	case err == nil && b[0] == ackByte:
		return nil
	case err == nil:
		return fmt.Errorf("upgrade: unexpected acknowledgement byte %#x", b[0])
	case ctx.Err() != nil:
		return fmt.Errorf("upgrade: waiting for the new process: %w", ctx.Err())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return ErrNoAck
	default:
		return fmt.Errorf("upgrade: waiting for the new process: %w", err)
	}
}

// Close closes the connection without waiting.
func (h *Handoff) Close() error { return h.conn.Close() }

// Received is the new process's side of a hand-over.
type Received struct {
	// Files are the inherited listening sockets by address key. They are
	// the caller's: adopt them (e.g. with listener.NewTable) or close them.
	Files map[string]*os.File
	conn  *net.UnixConn
}

// Receive listens on the Unix socket at path (removing a stale file first,
// and making it connectable by any user, as Pingora does, so an old process
// running as another user can reach it), accepts one sender until ctx is
// done, and returns the sockets it sent. The listening socket is removed
// before Receive returns. The caller then serves and calls
// [Received.Ack], or [Received.Close] to tell the sender it failed.
func Receive(ctx context.Context, path string) (*Received, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("upgrade: remove stale %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("upgrade: listen on %s: %w", path, err)
	}
	defer ln.Close() // removes path
	if err := os.Chmod(path, 0o666); err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = ln.SetDeadline(time.Unix(1, 0)) })
	conn, err := ln.AcceptUnix()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("upgrade: no old process connected to %s: %w", path, err)
	}
	files, err := receive(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("upgrade: receive on %s: %w", path, err)
	}
	return &Received{Files: files, conn: conn}, nil
}

// receive reads the whole message (the sender half-closes after it) and
// pairs keys with descriptors.
func receive(ctx context.Context, conn *net.UnixConn) (map[string]*os.File, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var payload []byte
	var fds []int
	closeFDs := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(MaxFiles*4))
	for {
		n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil {
				closeFDs()
				return nil, perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			closeFDs()
			return nil, fmt.Errorf("more than %d descriptors sent", MaxFiles)
		}
		payload = append(payload, buf[:n]...)
		if len(payload) > MaxPayload {
			closeFDs()
			return nil, fmt.Errorf("message longer than %d bytes", MaxPayload)
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0 && oobn == 0) {
			break
		}
		if err != nil {
			closeFDs()
			return nil, err
		}
	}
	keys, err := decode(payload, len(fds))
	if err != nil {
		closeFDs()
		return nil, err
	}
	files := make(map[string]*os.File, len(keys))
	for i, k := range keys {
		files[k] = os.NewFile(uintptr(fds[i]), k)
	}
	return files, nil
}

// parseRights returns the descriptors of every SCM_RIGHTS message in oob;
// other control messages are skipped.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fds, fmt.Errorf("control message: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// Ack tells the sender that this process serves on the sockets, and closes
// the connection.
func (r *Received) Ack() error {
	_ = r.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := r.conn.Write([]byte{ackByte})
	if cerr := r.conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("upgrade: acknowledge: %w", err)
	}
	return nil
}

// Close closes the connection without acknowledging: the sender's
// [Handoff.Wait] returns [ErrNoAck]. It does not close Files.
func (r *Received) Close() error { return r.conn.Close() }
