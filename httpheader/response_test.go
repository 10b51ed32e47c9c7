package httpheader_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

func TestResponseHeader_Zero(t *testing.T) {
	var resp httpheader.ResponseHeader
	if got := string(resp.AppendWire(nil)); got != "HTTP/1.1 200 OK\r\n\r\n" {
		t.Fatalf("AppendWire = %q", got)
	}
}

func TestResponseHeader_Reason(t *testing.T) {
	tests := []struct {
		desc   string
		status int
		set    *string
		want   string
		line   string
	}{
		{"canonical", 404, nil, "Not Found", "HTTP/1.1 404 Not Found\r\n"},
		{"custom", 200, ptr("Awesome"), "Awesome", "HTTP/1.1 200 Awesome\r\n"},
		{"canonical clears", 200, ptr("OK"), "OK", "HTTP/1.1 200 OK\r\n"},
		{"empty kept", 200, ptr(""), "", "HTTP/1.1 200 \r\n"},
		{"unknown code", 599, nil, "", "HTTP/1.1 599 \r\n"},
		{"obs-text", 200, ptr("D\xe9j\xe0 vu"), "D\xe9j\xe0 vu", "HTTP/1.1 200 D\xe9j\xe0 vu\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			for _, bytesAPI := range []bool{false, true} {
				resp, err := httpheader.NewResponse(tt.status)
				if err != nil {
					t.Fatal(err)
				}
				if tt.set != nil {
					if bytesAPI {
						err = resp.SetReasonBytes([]byte(*tt.set))
					} else {
						err = resp.SetReason(*tt.set)
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				if resp.Reason() != tt.want {
					t.Fatalf("Reason = %q, want %q", resp.Reason(), tt.want)
				}
				if got := string(resp.AppendStatusLine(nil)); got != tt.line {
					t.Fatalf("status line = %q, want %q", got, tt.line)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestResponseHeader_ReasonRules(t *testing.T) {
	resp, err := httpheader.NewResponse(200)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.SetReason("Fine"); err != nil {
		t.Fatal(err)
	}
	if err := resp.SetStatus(404); err != nil {
		t.Fatal(err)
	}
	if resp.Reason() != "Fine" {
		t.Fatalf("custom reason not kept across SetStatus: %q", resp.Reason())
	}
	resp.ClearReason()
	if resp.Reason() != "Not Found" {
		t.Fatalf("Reason after ClearReason = %q", resp.Reason())
	}
	if err := resp.SetReason("bad\r\nX: y"); !errors.Is(err, httpheader.ErrInvalidReason) {
		t.Fatalf("SetReason error = %v", err)
	}
	if err := resp.SetReasonBytes([]byte("\x00")); !errors.Is(err, httpheader.ErrInvalidReason) {
		t.Fatalf("SetReasonBytes error = %v", err)
	}
	if resp.Reason() != "Not Found" {
		t.Fatalf("Reason changed on error: %q", resp.Reason())
	}
}

func TestResponseHeader_Status(t *testing.T) {
	for _, code := range []int{0, 99, 1000, -1} {
		if _, err := httpheader.NewResponse(code); !errors.Is(err, httpheader.ErrInvalidStatus) {
			t.Errorf("NewResponse(%d) error = %v", code, err)
		}
	}
	for _, code := range []int{100, 101, 204, 999} {
		resp, err := httpheader.NewResponse(code)
		if err != nil || resp.Status() != code {
			t.Errorf("NewResponse(%d) = %v, %v", code, resp, err)
		}
	}
}

func TestResponseHeader_SetContentLength(t *testing.T) {
	resp, err := httpheader.NewResponse(200)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{"Server", "x"}, {"content-length", "5"}, {"Date", "d"}} {
		if _, err := resp.Add(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := resp.SetContentLength(1234567890123); err != nil {
		t.Fatal(err)
	}
	if err := resp.SetContentLength(-1); !errors.Is(err, httpheader.ErrInvalidValue) {
		t.Fatalf("SetContentLength(-1) error = %v", err)
	}
	if err := resp.SetVersion(httpheader.HTTP10); err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.0 200 OK\r\nServer: x\r\nContent-Length: 1234567890123\r\nDate: d\r\n\r\n"
	if got := string(resp.AppendWire(nil)); got != want {
		t.Fatalf("AppendWire = %q\nwant %q", got, want)
	}
	if resp.WireLen() != len(want) {
		t.Fatalf("WireLen = %d, want %d", resp.WireLen(), len(want))
	}
	var buf bytes.Buffer
	if _, err := resp.WriteTo(&buf); err != nil || buf.String() != want {
		t.Fatalf("WriteTo = %q, %v", buf.String(), err)
	}
	c := resp.Clone()
	resp.Reset()
	if got := string(resp.AppendWire(nil)); got != "HTTP/1.1 200 OK\r\n\r\n" {
		t.Fatalf("after Reset: %q", got)
	}
	if got := string(c.AppendWire(nil)); got != want {
		t.Fatalf("clone = %q", got)
	}
	if !raceEnabled {
		if n := testing.AllocsPerRun(100, func() { _ = c.SetContentLength(42) }); n != 0 {
			t.Fatalf("SetContentLength: %v allocs", n)
		}
	}
}
