//go:build !unix

package server

import "errors"

// startDaemon fails: daemon mode needs a Unix session.
func startDaemon(s *Server) error {
	return errors.New("server: daemon mode is not supported on this system")
}

// dropPrivileges logs that users cannot be switched here.
func (s *Server) dropPrivileges() {
	if s.conf.User != "" || s.conf.Group != "" {
		s.log.Warn("user and group cannot be switched on this system")
	}
}
