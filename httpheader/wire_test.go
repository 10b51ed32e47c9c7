package httpheader_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

// wireHead is an HTTP/1 head as read by readHead: the start line split in
// three and the field lines in order.
type wireHead struct {
	start [3]string
	lines [][2]string
}

// readHead is a minimal, strict HTTP/1 head reader used to check what the
// package writes: CRLF line ends only, "a SP b SP c" start line (the third
// part may hold spaces for a reason phrase), "name:" OWS value OWS lines,
// and a blank line at the end of b.
func readHead(b []byte) (wireHead, error) {
	var h wireHead
	line, rest, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok {
		return h, errors.New("no start line")
	}
	parts := strings.SplitN(string(line), " ", 3)
	if len(parts) != 3 {
		return h, errors.New("start line has fewer than three parts")
	}
	h.start = [3]string(parts)
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return h, errors.New("unterminated line")
		}
		if len(line) == 0 {
			if len(rest) != 0 {
				return h, errors.New("bytes after the head")
			}
			return h, nil
		}
		if bytes.ContainsAny(line, "\r\n") {
			return h, errors.New("bare CR or LF")
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !httpheader.ValidName(name) {
			return h, errors.New("bad field line")
		}
		h.lines = append(h.lines, [2]string{string(name), string(bytes.Trim(value, " \t"))})
	}
}

// parseInto fills a request or response the way an HTTP/1 parser does,
// through the byte-slice entry points.
func parseInto(t *testing.T, h wireHead, raw []byte) []byte {
	t.Helper()
	if strings.HasPrefix(h.start[0], "HTTP/") {
		var resp httpheader.ResponseHeader
		v, err := httpheader.ParseVersion(h.start[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.SetVersion(v); err != nil {
			t.Fatal(err)
		}
		var code int
		for _, c := range h.start[1] {
			code = code*10 + int(c-'0')
		}
		if err := resp.SetStatus(code); err != nil {
			t.Fatal(err)
		}
		if err := resp.SetReasonBytes([]byte(h.start[2])); err != nil {
			t.Fatal(err)
		}
		for _, l := range h.lines {
			if err := resp.AppendBytes([]byte(l[0]), []byte(l[1])); err != nil {
				t.Fatal(err)
			}
		}
		if resp.WireLen() != len(raw) {
			t.Errorf("WireLen = %d, want %d", resp.WireLen(), len(raw))
		}
		return resp.AppendWire(nil)
	}
	var req httpheader.RequestHeader
	if err := req.SetMethodBytes([]byte(h.start[0])); err != nil {
		t.Fatal(err)
	}
	if err := req.SetRawTarget([]byte(h.start[1])); err != nil {
		t.Fatal(err)
	}
	v, err := httpheader.ParseVersion([]byte(h.start[2]))
	if err != nil {
		t.Fatal(err)
	}
	if err := req.SetVersion(v); err != nil {
		t.Fatal(err)
	}
	for _, l := range h.lines {
		req.AppendBytesUnchecked([]byte(l[0]), []byte(l[1]))
	}
	if req.WireLen() != len(raw) {
		t.Errorf("WireLen = %d, want %d", req.WireLen(), len(raw))
	}
	return req.AppendWire(nil)
}

// The heads in testdata/wire are written back byte for byte.
func TestWireVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/wire/*.http")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := readHead(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := parseInto(t, h, raw); !bytes.Equal(got, raw) {
				t.Fatalf("written back:\n%q\nwant\n%q", got, raw)
			}
		})
	}
}

// modelLine is one line of the reference model the fuzz test checks against.
type modelLine struct{ name, value string }

func foldEq(a, b string) bool { return strings.EqualFold(a, b) } // names are ASCII tokens

// FuzzRequestHeader_WireRoundTrip builds a request from fuzz input through
// the public API, checks it against a simple model of the operations, writes
// it, reads it back with readHead and checks that every line (name bytes,
// value bytes, order) and the request line come back unchanged.
//
// ops holds one operation per line: "+name:value" Add, "=name:value" Set,
// "-name" Del, "b name:value" AppendBytes, "0" Reset of the fields, "c"
// continue on a Clone, "gname" Get (strings handed out must never change). Input the API rejects is skipped.
func FuzzRequestHeader_WireRoundTrip(f *testing.F) {
	f.Add("GET", "/", "+Host:example.com\n+Set-Cookie:a\n+set-cookie:b\n=SET-COOKIE:c\n-host")
	f.Add("POST", "http://x/y?z", "+A: 1 \n+B:2\n=a:3\nb X:\xff\n-b\nc\n+C:4")
	f.Add("PUT", "/p", "+A:1\n+B:2\ngb\n=B:3\n=b:44\n0\n+B:5")
	f.Add("CONNECT", "host:443", "+X-Empty:\n0\n+Y:\t v\t")
	f.Add("M-SEARCH", "*", "+Bad Name:x\n+X:a\rb\n+Ok:fine")
	f.Fuzz(func(t *testing.T, method, target, ops string) {
		req, err := httpheader.NewRequest(method, target)
		if err != nil {
			return
		}
		var model []modelLine
		type heldValue struct{ got, copy string }
		var held []heldValue
		for op := range strings.SplitSeq(ops, "\n") {
			if op == "" {
				continue
			}
			kind, arg := op[0], op[1:]
			name, value, _ := strings.Cut(arg, ":")
			trimmed := strings.Trim(value, " \t")
			valid := httpheader.ValidName(name) && httpheader.ValidValue(trimmed)
			switch kind {
			case '+', 'b':
				var err error
				if kind == '+' {
					var existed bool
					existed, err = req.Add(name, value)
					if err == nil && existed != slices.ContainsFunc(model, func(l modelLine) bool { return foldEq(l.name, name) }) {
						t.Fatalf("Add(%q) existed = %v", name, existed)
					}
				} else {
					err = req.AppendBytes([]byte(name), []byte(value))
				}
				if (err == nil) != valid {
					t.Fatalf("add %q %q: err = %v, valid = %v", name, value, err, valid)
				}
				if valid {
					model = append(model, modelLine{name, trimmed})
				}
			case '=':
				err := req.Set(name, value)
				if (err == nil) != valid {
					t.Fatalf("Set %q %q: err = %v, valid = %v", name, value, err, valid)
				}
				if !valid {
					continue
				}
				i := slices.IndexFunc(model, func(l modelLine) bool { return foldEq(l.name, name) })
				if i < 0 {
					model = append(model, modelLine{name, trimmed})
					continue
				}
				model[i] = modelLine{name, trimmed}
				model = slices.Concat(model[:i+1], slices.DeleteFunc(slices.Clone(model[i+1:]), func(l modelLine) bool { return foldEq(l.name, name) }))
			case '-':
				had := slices.ContainsFunc(model, func(l modelLine) bool { return foldEq(l.name, arg) })
				if req.Del(arg) != had {
					t.Fatalf("Del(%q) != %v", arg, had)
				}
				model = slices.DeleteFunc(model, func(l modelLine) bool { return foldEq(l.name, arg) })
			case '0':
				req.Header.Reset()
				model = nil
			case 'c':
				req = req.Clone()
			case 'g':
				v := req.Get(arg)
				held = append(held, heldValue{v, strings.Clone(v)})
			}
		}

		// Strings handed out never change.
		for _, hv := range held {
			if hv.got != hv.copy {
				t.Fatalf("held string changed")
			}
		}

		// The header agrees with the model.
		if req.Len() != len(model) {
			t.Fatalf("Len = %d, model %d", req.Len(), len(model))
		}
		for i, l := range model {
			n, v := req.Field(i)
			if string(n) != l.name || string(v) != l.value {
				t.Fatalf("Field(%d) = %q %q, model %q %q", i, n, v, l.name, l.value)
			}
			first := model[slices.IndexFunc(model, func(m modelLine) bool { return foldEq(m.name, l.name) })]
			if got := req.Get(strings.ToUpper(l.name)); got != first.value {
				t.Fatalf("Get(%q) = %q, want %q", l.name, got, first.value)
			}
		}

		// What is written reads back unchanged.
		wire := req.AppendWire(nil)
		if len(wire) != req.WireLen() {
			t.Fatalf("WireLen = %d, written %d", req.WireLen(), len(wire))
		}
		h, err := readHead(wire)
		if err != nil {
			t.Fatalf("reading back %q: %v", wire, err)
		}
		if h.start != [3]string{method, target, "HTTP/1.1"} {
			t.Fatalf("request line = %q", h.start)
		}
		if len(h.lines) != len(model) {
			t.Fatalf("read %d lines, wrote %d", len(h.lines), len(model))
		}
		for i, l := range model {
			if h.lines[i] != [2]string{l.name, l.value} {
				t.Fatalf("line %d = %q, wrote %q", i, h.lines[i], l)
			}
		}
		if c := req.Clone(); !bytes.Equal(c.AppendWire(nil), wire) {
			t.Fatal("Clone writes different bytes")
		}
		var buf bytes.Buffer
		if _, err := req.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), wire) {
			t.Fatal("WriteTo differs from AppendWire")
		}
	})
}
