package httpheader_test

import (
	"errors"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"Content-Length", true},
		{"x-custom_1.2", true},
		{"!#$%&'*+-.^_`|~", true},
		{"", false},
		{"Bad Name", false},
		{"Bad:Name", false},
		{"Name ", false},
		{"Näme", false},
		{"a\x00", false},
		{"a\r\n", false},
		{"(x)", false},
		{"\"q\"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := httpheader.ValidName(tt.name); got != tt.want {
				t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.want)
			}
			if got := httpheader.ValidName([]byte(tt.name)); got != tt.want {
				t.Errorf("ValidName([]byte %q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestValidValue(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"", true},
		{"text/html; charset=utf-8", true},
		{"tab\tinside", true},
		{" spaces ", true},
		{"obs-text \x80\xff", true},
		{"héllo", true},
		{"cr\r", false},
		{"lf\n", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"bell\x07", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := httpheader.ValidValue(tt.value); got != tt.want {
				t.Errorf("ValidValue(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    httpheader.Version
		wantErr bool
	}{
		{"HTTP/1.1", httpheader.HTTP11, false},
		{"HTTP/1.0", httpheader.HTTP10, false},
		{"HTTP/2.0", httpheader.HTTP2, false},
		{"HTTP/0.9", httpheader.HTTP09, false},
		{"http/1.1", httpheader.Version{}, true},
		{"HTTP/1.10", httpheader.Version{}, true},
		{"HTTP/11", httpheader.Version{}, true},
		{"HTTP/2", httpheader.Version{}, true},
		{"HTTP/a.1", httpheader.Version{}, true},
		{"", httpheader.Version{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := httpheader.ParseVersion([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, httpheader.ErrInvalidVersion) {
					t.Fatalf("ParseVersion(%q) error = %v, want ErrInvalidVersion", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"HTTP/1.1", "HTTP/2.0", "HTTP/1.", "HTTP/9.9x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := httpheader.ParseVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Fatalf("ParseVersion(%q).String() = %q", s, v.String())
		}
	})
}

// Every byte value at every position of a word agrees with the RFC 9110
// definition (the fast path reads 8 bytes at a time).
func TestValidValue_EveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c == '\t' || (c >= 0x20 && c != 0x7f)
		for pos := 0; pos < 17; pos++ {
			s := []byte("abcdefghijklmnopq")
			s[pos] = byte(c)
			if got := httpheader.ValidValue(s); got != want {
				t.Fatalf("ValidValue with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
			if got := httpheader.ValidValue(string(s)); got != want {
				t.Fatalf("ValidValue(string) with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}
