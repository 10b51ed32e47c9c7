package httpheader_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

// lines returns h's lines as "Name: value" strings in wire order.
func lines(h *httpheader.Header) []string {
	var out []string
	for n, v := range h.All() {
		out = append(out, n+": "+v)
	}
	return out
}

// mustHeader builds a Header from "Name: value" pairs via Add.
func mustHeader(t testing.TB, pairs ...string) *httpheader.Header {
	t.Helper()
	h := new(httpheader.Header)
	for _, p := range pairs {
		n, v, _ := strings.Cut(p, ": ")
		if _, err := h.Add(n, v); err != nil {
			t.Fatalf("Add(%q, %q): %v", n, v, err)
		}
	}
	return h
}

func equalLines(t *testing.T, h *httpheader.Header, want ...string) {
	t.Helper()
	if got := lines(h); !slices.Equal(got, want) {
		t.Fatalf("lines = %q\nwant    %q", got, want)
	}
	wire := strings.Join(want, "\r\n")
	if len(want) > 0 {
		wire += "\r\n"
	}
	if got := string(h.AppendWire(nil)); got != wire {
		t.Fatalf("AppendWire = %q, want %q", got, wire)
	}
	if h.WireLen() != len(wire) {
		t.Fatalf("WireLen = %d, want %d", h.WireLen(), len(wire))
	}
	var buf bytes.Buffer
	n, err := h.WriteTo(&buf)
	if err != nil || int(n) != len(wire) || buf.String() != wire {
		t.Fatalf("WriteTo = %d, %v, %q; want %q", n, err, buf.String(), wire)
	}
}

func TestHeader_Get(t *testing.T) {
	h := mustHeader(t, "Host: example.com", "Set-Cookie: a=1", "set-cookie: b=2", "Empty: ", "X-ID: 7")
	tests := []struct {
		name      string
		want      string
		wantBytes []byte
		has       bool
		count     int
		values    []string
	}{
		{"Host", "example.com", []byte("example.com"), true, 1, []string{"example.com"}},
		{"HOST", "example.com", []byte("example.com"), true, 1, []string{"example.com"}},
		{"set-cookie", "a=1", []byte("a=1"), true, 2, []string{"a=1", "b=2"}},
		{"Empty", "", []byte{}, true, 1, []string{""}},
		{"x-id", "7", []byte("7"), true, 1, []string{"7"}},
		{"Missing", "", nil, false, 0, nil},
		{"Hos", "", nil, false, 0, nil},
		{"Hostx", "", nil, false, 0, nil},
		{"", "", nil, false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Get(tt.name); got != tt.want {
				t.Errorf("Get = %q, want %q", got, tt.want)
			}
			got := h.GetBytes(tt.name)
			if !bytes.Equal(got, tt.wantBytes) || (got == nil) != (tt.wantBytes == nil) {
				t.Errorf("GetBytes = %#v, want %#v", got, tt.wantBytes)
			}
			if got := h.Has(tt.name); got != tt.has {
				t.Errorf("Has = %v, want %v", got, tt.has)
			}
			if got := h.Count(tt.name); got != tt.count {
				t.Errorf("Count = %d, want %d", got, tt.count)
			}
			if got := slices.Collect(h.Values(tt.name)); !slices.Equal(got, tt.values) {
				t.Errorf("Values = %q, want %q", got, tt.values)
			}
			var vb []string
			for v := range h.ValuesBytes(tt.name) {
				vb = append(vb, string(v))
			}
			if !slices.Equal(vb, tt.values) {
				t.Errorf("ValuesBytes = %q, want %q", vb, tt.values)
			}
		})
	}
}

func TestHeader_Add(t *testing.T) {
	h := new(httpheader.Header)
	existed, err := h.Add("Set-Cookie", "a=1")
	if err != nil || existed {
		t.Fatalf("first Add = %v, %v; want false, nil", existed, err)
	}
	existed, err = h.Add("set-COOKIE", "  b=2\t")
	if err != nil || !existed {
		t.Fatalf("second Add = %v, %v; want true, nil", existed, err)
	}
	if err := h.AppendBytes([]byte("X-Raw"), []byte(" raw ")); err != nil {
		t.Fatal(err)
	}
	h.AppendBytesUnchecked([]byte("x-unchecked"), []byte("u"))
	equalLines(t, h, "Set-Cookie: a=1", "set-COOKIE: b=2", "X-Raw: raw", "x-unchecked: u")
	if h.Len() != 4 {
		t.Fatalf("Len = %d, want 4", h.Len())
	}
	name, value := h.Field(1)
	if string(name) != "set-COOKIE" || string(value) != "b=2" {
		t.Fatalf("Field(1) = %q, %q", name, value)
	}
}

func TestHeader_AddInvalid(t *testing.T) {
	tests := []struct {
		name, value string
		want        error
	}{
		{"", "v", httpheader.ErrInvalidName},
		{"Bad Name", "v", httpheader.ErrInvalidName},
		{"Bad:", "v", httpheader.ErrInvalidName},
		{"X", "a\r\nInjected: 1", httpheader.ErrInvalidValue},
		{"X", "a\nb", httpheader.ErrInvalidValue},
		{"X", "nul\x00", httpheader.ErrInvalidValue},
		{"X", "del\x7f", httpheader.ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			h := mustHeader(t, "Keep: 1")
			if _, err := h.Add(tt.name, tt.value); !errors.Is(err, tt.want) {
				t.Errorf("Add error = %v, want %v", err, tt.want)
			}
			if err := h.Set(tt.name, tt.value); !errors.Is(err, tt.want) {
				t.Errorf("Set error = %v, want %v", err, tt.want)
			}
			if err := h.SetBytes(tt.name, []byte(tt.value)); !errors.Is(err, tt.want) {
				t.Errorf("SetBytes error = %v, want %v", err, tt.want)
			}
			if err := h.AppendBytes([]byte(tt.name), []byte(tt.value)); !errors.Is(err, tt.want) {
				t.Errorf("AppendBytes error = %v, want %v", err, tt.want)
			}
			if err := h.AppendBytes([]byte(tt.name), []byte(tt.value)); err != nil && !strings.HasPrefix(err.Error(), "httpheader: ") {
				t.Errorf("error %q lacks package prefix", err)
			}
			equalLines(t, h, "Keep: 1")
		})
	}
}

func TestHeader_Set(t *testing.T) {
	tests := []struct {
		desc        string
		start       []string
		name, value string
		want        []string
	}{
		{"appends when absent", []string{"A: 1"}, "B", "2", []string{"A: 1", "B: 2"}},
		{"replaces in place", []string{"A: 1", "B: 2", "C: 3"}, "B", "x", []string{"A: 1", "B: x", "C: 3"}},
		{"takes new case", []string{"A: 1", "content-type: a", "C: 3"}, "Content-Type", "b", []string{"A: 1", "Content-Type: b", "C: 3"}},
		{"removes later duplicates", []string{"V: 1", "A: 1", "v: 2", "B: 2", "V: 3"}, "v", "new", []string{"v: new", "A: 1", "B: 2"}},
		{"trims value", []string{"A: 1"}, "A", " \tx\t ", []string{"A: x"}},
		{"empty value", []string{"A: 1"}, "A", "", []string{"A: "}},
		{"last line longer", []string{"A: 1", "B: 2"}, "b", "22", []string{"A: 1", "b: 22"}},
		{"last line shorter", []string{"A: 1", "B: 22"}, "B", "2", []string{"A: 1", "B: 2"}},
		{"middle line longer", []string{"A: 1", "B: 2", "C: 3"}, "B", "long", []string{"A: 1", "B: long", "C: 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			h := mustHeader(t, tt.start...)
			if err := h.Set(tt.name, tt.value); err != nil {
				t.Fatal(err)
			}
			equalLines(t, h, tt.want...)

			// The same after strings were handed out, which must not change.
			shared := mustHeader(t, tt.start...)
			before := lines(shared)
			if err := shared.Set(tt.name, tt.value); err != nil {
				t.Fatal(err)
			}
			equalLines(t, shared, tt.want...)
			if !slices.Equal(before, tt.start) {
				t.Fatalf("strings handed out before Set changed: %q", before)
			}
			h2 := mustHeader(t, tt.start...)
			if err := h2.SetBytes(tt.name, []byte(tt.value)); err != nil {
				t.Fatal(err)
			}
			equalLines(t, h2, tt.want...)
		})
	}
}

func TestHeader_Del(t *testing.T) {
	h := mustHeader(t, "A: 1", "Set-Cookie: x", "B: 2", "set-cookie: y", "C: 3")
	if !h.Del("SET-COOKIE") {
		t.Fatal("Del = false, want true")
	}
	equalLines(t, h, "A: 1", "B: 2", "C: 3")
	if h.Del("Set-Cookie") {
		t.Fatal("second Del = true, want false")
	}
	if !h.Del("A") || !h.Del("C") {
		t.Fatal("Del = false")
	}
	equalLines(t, h, "B: 2")
	if _, err := h.Add("D", "4"); err != nil {
		t.Fatal(err)
	}
	equalLines(t, h, "B: 2", "D: 4")
}

func TestHeader_Reset(t *testing.T) {
	h := mustHeader(t, "A: 1", "B: 2")
	h.Reset()
	equalLines(t, h)
	if h.Has("A") {
		t.Fatal("Has after Reset")
	}
	if _, err := h.Add("C", "3"); err != nil {
		t.Fatal(err)
	}
	equalLines(t, h, "C: 3")
}

// Strings handed out must never change, even when the header is reset and
// refilled (its storage reused).
func TestHeader_StringsSurviveReset(t *testing.T) {
	h := mustHeader(t, "Host: first.example", "Cookie: c1")
	host := h.Get("host")
	var names []string
	for n := range h.All() {
		names = append(names, n)
	}
	raw := h.GetBytes("Cookie") // valid only until modification
	if string(raw) != "c1" {
		t.Fatalf("GetBytes = %q", raw)
	}
	for i := 0; i < 3; i++ {
		h.Reset()
		for j := 0; j < 10; j++ {
			if _, err := h.Add("Host", "second.example.and.longer"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if host != "first.example" {
		t.Fatalf("string from Get changed after Reset: %q", host)
	}
	if !slices.Equal(names, []string{"Host", "Cookie"}) {
		t.Fatalf("names from All changed after Reset: %q", names)
	}
}

func TestHeader_Compaction(t *testing.T) {
	h := new(httpheader.Header)
	if _, err := h.Add("First", "1"); err != nil {
		t.Fatal(err)
	}
	held := h.Get("First")
	big := strings.Repeat("v", 300)
	for i := 0; i < 50; i++ {
		if err := h.Set("X-Big", big+string(rune('a'+i%26))); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Add("Tmp", big); err != nil {
			t.Fatal(err)
		}
		h.Del("tmp")
		if _, err := h.Add("Last", "z"); err != nil {
			t.Fatal(err)
		}
		h.Del("Last")
	}
	equalLines(t, h, "First: 1", "X-Big: "+big+string(rune('a'+49%26)))
	if held != "1" {
		t.Fatalf("held string changed: %q", held)
	}
	// Dead bytes are bounded: the wire form is a small part of what was stored.
	if h.WireLen() > 400 {
		t.Fatalf("WireLen = %d", h.WireLen())
	}
}

func TestHeader_Clone(t *testing.T) {
	h := mustHeader(t, "A: 1", "B: 2", "C: 3")
	if err := h.Set("A", "x"); err != nil {
		t.Fatal(err)
	}
	c := h.Clone()
	equalLines(t, c, "A: x", "B: 2", "C: 3")
	if _, err := c.Add("D", "4"); err != nil {
		t.Fatal(err)
	}
	h.Del("B")
	equalLines(t, c, "A: x", "B: 2", "C: 3", "D: 4")
	equalLines(t, h, "A: x", "C: 3")
}

func TestHeader_IterateEarlyStop(t *testing.T) {
	h := mustHeader(t, "A: 1", "a: 2", "B: 3")
	for v := range h.Values("a") {
		if v != "1" {
			t.Fatalf("first value %q", v)
		}
		break
	}
	for v := range h.ValuesBytes("a") {
		if string(v) != "1" {
			t.Fatalf("first value %q", v)
		}
		break
	}
	n := 0
	for range h.All() {
		n++
		break
	}
	for range h.AllBytes() {
		n++
		break
	}
	if n != 2 {
		t.Fatalf("n = %d", n)
	}
	// Modifying during iteration is not allowed, but must not panic.
	for name := range h.AllBytes() {
		h.Del(string(name))
	}
}

func TestHeader_AllocsAfterWarmup(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	req := browserRequest(t)
	name, value := []byte("Accept-Encoding"), []byte("gzip, deflate, br")
	fill := func() {
		req.Reset()
		for i := 0; i < 12; i++ {
			req.AppendBytesUnchecked(name, value)
		}
		if err := req.AppendBytes(name, value); err != nil {
			t.Fatal(err)
		}
		if _, err := req.Add("Content-Length", "0"); err != nil {
			t.Fatal(err)
		}
	}
	fill()
	var sink int
	buf := make([]byte, 0, 4096)
	tests := []struct {
		name string
		fn   func()
		want float64
	}{
		{"Fill", fill, 0},
		{"GetBytes", func() { sink += len(req.GetBytes("content-length")) }, 0},
		{"Get", func() { sink += len(req.Get("content-length")) }, 0},
		// Once a string was handed out, Reset moves to a fresh buffer.
		{"FillAfterGet", func() { sink += len(req.Get("accept-encoding")); fill() }, 1},
		{"Has", func() {
			if req.Has("x-missing") {
				sink++
			}
		}, 0},
		{"Values", func() {
			for v := range req.Values("accept-encoding") {
				sink += len(v)
			}
		}, 0},
		{"AllBytes", func() {
			for n := range req.AllBytes() {
				sink += len(n)
			}
		}, 0},
		{"Set", func() { _ = req.Set("Content-Length", "0") }, 0},
		{"AppendWire", func() { buf = req.AppendWire(buf[:0]) }, 0},
		{"WriteTo", func() { _, _ = req.WriteTo(io.Discard) }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.fn); n != tt.want {
				t.Errorf("%s: %v allocs/op, want %v", tt.name, n, tt.want)
			}
		})
	}
}

func TestHeader_ConcurrentSafe(t *testing.T) {
	h := mustHeader(t, "Host: example.com", "Accept: */*", "Set-Cookie: a", "Set-Cookie: b")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				if h.Get("host") != "example.com" || h.Count("set-cookie") != 2 {
					t.Error("bad read")
					return
				}
				for range h.All() {
				}
				_ = h.AppendWire(nil)
				_ = h.Clone()
			}
		})
	}
	wg.Wait()
}
