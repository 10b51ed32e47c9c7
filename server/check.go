package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
)

// Test checks everything the server needs before it can run, without
// binding or changing anything: the configuration's values, that the files
// it names exist and can be read (ca_file also parses as PEM) and the
// directories of those it writes exist, that user and group exist, that
// every listening address parses (host names resolve) and is used once,
// that every TLS certificate and key load, and the Check of every App,
// BackgroundTask and TLS Handshaker that implements [Checker]. It returns
// every problem, joined with [errors.Join], or nil. This is -t.
func (s *Server) Test() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	c := s.conf
	add(c.Validate())
	if c.CAFile != "" {
		add(checkCAFile(c.CAFile))
	}
	if c.ErrorLog != "" {
		add(checkWritable("error_log", c.ErrorLog))
	}
	if c.Daemon {
		add(checkWritable("pid_file", c.PIDFile))
	}
	add(checkDir("upgrade_sock", filepath.Dir(c.UpgradeSock)))
	if c.WorkingDirectory != "" {
		add(checkDir("working_directory", c.WorkingDirectory))
	}
	if c.User != "" {
		if _, err := user.Lookup(c.User); err != nil {
			add(fmt.Errorf("server: conf user: %w", err))
		}
	}
	if c.Group != "" {
		if _, err := user.LookupGroup(c.Group); err != nil {
			add(fmt.Errorf("server: conf group: %w", err))
		}
	}
	seen := make(map[string]string)
	for _, svc := range s.listening {
		if svc.app == nil {
			add(fmt.Errorf("server: service %q has no app", svc.name))
		} else if ck, ok := svc.app.(Checker); ok {
			add(wrapCheck(svc.name, ck.Check()))
		}
		if len(svc.endpoints) == 0 {
			add(fmt.Errorf("server: service %q has no endpoints", svc.name))
		}
		for _, ep := range svc.endpoints {
			add(checkEndpoint(svc.name, ep))
			if other, dup := seen[ep.Listener.Addr]; dup {
				add(fmt.Errorf("server: service %q: %s is also an endpoint of service %q", svc.name, ep.Listener.Addr, other))
			}
			seen[ep.Listener.Addr] = svc.name
		}
	}
	for _, b := range s.background {
		if ck, ok := b.task.(Checker); ok {
			add(wrapCheck(b.name, ck.Check()))
		}
	}
	return errors.Join(errs...)
}

func wrapCheck(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("server: service %q: %w", name, err)
}

func checkEndpoint(name string, ep Endpoint) error {
	cfg := ep.Listener
	wrap := func(err error) error {
		return fmt.Errorf("server: service %q: endpoint %s: %w", name, cfg.Addr, err)
	}
	network := cfg.Network
	if network == "" {
		network = "tcp"
	}
	switch network {
	case "unix":
		if cfg.Addr == "" {
			return wrap(errors.New("empty path"))
		}
		if cfg.Addr[0] != '@' {
			if err := checkDir("unix socket", filepath.Dir(cfg.Addr)); err != nil {
				return wrap(err)
			}
		}
	case "tcp", "tcp4", "tcp6":
		if _, err := net.ResolveTCPAddr(network, cfg.Addr); err != nil {
			return wrap(err)
		}
	default:
		return wrap(fmt.Errorf("unsupported network %q", network))
	}
	if cfg.TLS != nil {
		if ck, ok := cfg.TLS.(Checker); ok {
			if err := ck.Check(); err != nil {
				return wrap(err)
			}
		}
	} else if ep.CertFile != "" || ep.KeyFile != "" {
		if _, err := tls.LoadX509KeyPair(ep.CertFile, ep.KeyFile); err != nil {
			return wrap(fmt.Errorf("tls: %w", err))
		}
	}
	return nil
}

func checkCAFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("server: conf ca_file: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return fmt.Errorf("server: conf ca_file %s: no PEM certificate in it", path)
	}
	return nil
}

// checkWritable reports whether path can be appended to: the file if it
// exists, else its directory must exist.
func checkWritable(key, path string) error {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("server: conf %s %s: is a directory", key, path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("server: conf %s: %w", key, err)
		}
		return f.Close()
	}
	if err := checkDir(key, filepath.Dir(path)); err != nil {
		return err
	}
	return nil
}

func checkDir(key, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("server: conf %s: directory: %w", key, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("server: conf %s: %s is not a directory", key, dir)
	}
	return nil
}
