//go:build unix

package server

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"time"
)

// startDaemon starts this executable again, with the same arguments,
// detached in a new session with umask 007, its output in Conf.ErrorLog,
// and waits for it to be ready if Conf.DaemonWaitForReady. Go cannot fork
// a running process, so the daemon is a new process that knows it is the
// daemon from envDaemon.
func startDaemon(s *Server) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("server: daemon: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), envDaemon+"=1")
	cmd.Dir = s.conf.WorkingDirectory
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("server: daemon: %w", err)
	}
	defer devnull.Close()
	cmd.Stdin = devnull
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if s.conf.ErrorLog != "" {
		f, err := os.OpenFile(s.conf.ErrorLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return fmt.Errorf("server: daemon: error_log: %w", err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	var r, w *os.File
	if s.conf.DaemonWaitForReady {
		if r, w, err = os.Pipe(); err != nil {
			return fmt.Errorf("server: daemon: %w", err)
		}
		defer r.Close()
		cmd.ExtraFiles = []*os.File{w} // descriptor 3
		cmd.Env = append(cmd.Env, envReadyFD+"=3")
	}
	old := syscall.Umask(0o007)
	err = cmd.Start()
	syscall.Umask(old)
	if w != nil {
		w.Close()
	}
	if err != nil {
		return fmt.Errorf("server: daemon: %w", err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	if r == nil {
		return nil
	}
	timeout := time.Duration(s.conf.DaemonReadyTimeoutSeconds) * time.Second
	if err := waitReady(r, timeout); err != nil {
		return fmt.Errorf("%w (pid %d)", err, pid)
	}
	return nil
}

// dropPrivileges switches to Conf.User and Conf.Group when running as
// root; otherwise, or when they do not exist, it logs why it does not.
func (s *Server) dropPrivileges() {
	c := s.conf
	if c.User == "" && c.Group == "" {
		return
	}
	if s.env.geteuid() != 0 {
		s.log.Info("not running as root: user and group unchanged", "user", c.User, "group", c.Group)
		return
	}
	uid, gid := -1, -1
	if c.User != "" {
		u, err := user.Lookup(c.User)
		if err != nil {
			s.log.Warn("user unchanged", "err", err)
			return
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if c.Group != "" {
		g, err := user.LookupGroup(c.Group)
		if err != nil {
			s.log.Warn("user and group unchanged", "err", err)
			return
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if s.env.getenv(envDaemon) != "" && uid >= 0 {
		_ = os.Chown(c.PIDFile, uid, gid)
	}
	if gid >= 0 {
		if err := syscall.Setgroups([]int{gid}); err != nil {
			s.log.Warn("setgroups failed", "err", err)
		}
		if err := syscall.Setgid(gid); err != nil {
			s.log.Error("setgid failed: group unchanged", "gid", gid, "err", err)
		}
	}
	if uid >= 0 {
		if err := syscall.Setuid(uid); err != nil {
			s.log.Error("setuid failed: user unchanged", "uid", uid, "err", err)
			return
		}
	}
	s.log.Info("switched user and group", "uid", uid, "gid", gid)
}
