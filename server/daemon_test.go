//go:build unix

package server

import (
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWaitReady(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		go func() { w.Write([]byte{1}); w.Close() }()
		assert.NoError(t, waitReady(r, 5*time.Second))
	})
	t.Run("daemon died", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		w.Close()
		assert.ErrorContains(t, waitReady(r, 5*time.Second), "exited before it was ready")
	})
	t.Run("timeout", func(t *testing.T) {
		r, w, err := os.Pipe()
		require.NoError(t, err)
		defer r.Close()
		defer w.Close()
		assert.ErrorContains(t, waitReady(r, 10*time.Millisecond), "not ready after 10ms")
	})
}

func TestNotifyDaemonParent(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	notifyDaemonParent("") // no parent waiting: nothing happens
	notifyDaemonParent("x")
	fd, err := syscall.Dup(int(w.Fd())) // notifyDaemonParent closes what it is given
	require.NoError(t, err)
	w.Close()
	notifyDaemonParent(itoa(fd))
	assert.NoError(t, waitReady(r, 5*time.Second))
}

func TestReadPIDFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		pid           int
	}{
		{"ok", "123\n", 123},
		{"spaces", " 7 ", 7},
		{"empty", "", 0},
		{"text", "abc", 0},
		{"negative", "-1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o644))
			pid, err := ReadPIDFile(p)
			if tc.pid == 0 {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.pid, pid)
		})
	}
	_, err := ReadPIDFile(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestServer_WritePIDFileFails(t *testing.T) {
	_, env := newFakeOS(5)
	conf := DefaultConf()
	conf.PIDFile = "/nonexistent/dir/p.pid"
	s := newServer(Opt{}, conf, nil, env)
	assert.ErrorContains(t, s.writePIDFile(), "server: pid_file")
}

func TestServer_DropPrivilegesUnknownUser(t *testing.T) {
	for _, tc := range []struct {
		name, user, group, log string
	}{
		{"user", "no-such-user-pingora", "", "user unchanged"},
		{"group", "", "no-such-group-pingora", "user and group unchanged"},
		{"nothing to do", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, env := newFakeOS(1)
			env.geteuid = func() int { return 0 } // as root: only lookups happen before the switch
			conf := DefaultConf()
			conf.User, conf.Group = tc.user, tc.group
			s := newServer(Opt{}, conf, nil, env)
			lb := &syncBuffer{}
			s.log = slog.New(slog.NewTextHandler(lb, nil))
			s.dropPrivileges()
			if tc.log == "" {
				assert.Empty(t, lb.String())
				return
			}
			assert.Contains(t, lb.String(), tc.log)
		})
	}
}
