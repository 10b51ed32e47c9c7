package server

import (
	"flag"
	"fmt"
	"io"
)

// Opt is the server's command line: Pingora's Opt.
type Opt struct {
	// Upgrade (-u, --upgrade) starts the process as the new side of a
	// graceful upgrade: it receives the listening sockets from the running
	// process over Conf.UpgradeSock instead of binding them.
	Upgrade bool
	// Daemon (-d, --daemon) runs the server in the background; it sets
	// Conf.Daemon.
	Daemon bool
	// Test (-t, --test) validates the configuration and the services
	// (addresses, files, certificates), prints every problem and exits: 0
	// if there is none, else 1.
	Test bool
	// Conf (-c, --conf) is the path of the YAML configuration. If empty,
	// [DefaultConf].
	Conf string
}

// ParseOpt parses command-line arguments, without the program name:
// -u/--upgrade, -d/--daemon, -t/--test, -c/--conf PATH (also -c=PATH), and
// the ignored --nocapture. -h and --help return [flag.ErrHelp] after the
// usage is written to usage (if not nil); any other argument is an error.
func ParseOpt(args []string, usage io.Writer) (*Opt, error) {
	o := &Opt{}
	fs := flag.NewFlagSet("pingora", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, n := range []string{"u", "upgrade"} {
		fs.BoolVar(&o.Upgrade, n, false, "receive the listening sockets from the running process (graceful upgrade)")
	}
	for _, n := range []string{"d", "daemon"} {
		fs.BoolVar(&o.Daemon, n, false, "run in the background")
	}
	for _, n := range []string{"t", "test"} {
		fs.BoolVar(&o.Test, n, false, "test the configuration and exit")
	}
	for _, n := range []string{"c", "conf"} {
		fs.StringVar(&o.Conf, n, "", "path of the YAML configuration `file`")
	}
	var nocapture bool
	fs.BoolVar(&nocapture, "nocapture", false, "ignored")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp && usage != nil {
			fmt.Fprint(usage, Usage)
		}
		if err == flag.ErrHelp {
			return nil, err
		}
		return nil, fmt.Errorf("server: command line: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("server: command line: unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// Usage is the help text printed for -h.
const Usage = `Usage: [-u] [-d] [-t] [-c FILE]
  -c, --conf FILE   path of the YAML configuration
  -d, --daemon      run in the background
  -t, --test        test the configuration and exit (0: ok, 1: errors)
  -u, --upgrade     receive the listening sockets from the running process
`
