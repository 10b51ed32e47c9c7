package server

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOpt(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Opt
		err  string
	}{
		{"none", nil, Opt{}, ""},
		{"short", []string{"-u", "-d", "-t", "-c", "/etc/p.yaml"}, Opt{Upgrade: true, Daemon: true, Test: true, Conf: "/etc/p.yaml"}, ""},
		{"long", []string{"--upgrade", "--daemon", "--test", "--conf", "p.yaml"}, Opt{Upgrade: true, Daemon: true, Test: true, Conf: "p.yaml"}, ""},
		{"equals", []string{"--conf=p.yaml", "-d=true"}, Opt{Conf: "p.yaml", Daemon: true}, ""},
		{"nocapture ignored", []string{"--nocapture", "-t"}, Opt{Test: true}, ""},
		{"unknown flag", []string{"-x"}, Opt{}, "server: command line: flag provided but not defined: -x"},
		{"missing value", []string{"-c"}, Opt{}, "needs an argument"},
		{"extra argument", []string{"-t", "serve"}, Opt{}, `unexpected argument "serve"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOpt(tc.args, nil)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, &tc.want, got)
		})
	}
}

func TestParseOpt_Help(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out bytes.Buffer
		_, err := ParseOpt([]string{arg}, &out)
		assert.ErrorIs(t, err, flag.ErrHelp)
		assert.Equal(t, Usage, out.String())
	}
}
