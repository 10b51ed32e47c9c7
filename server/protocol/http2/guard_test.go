package http2_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// refFrames parses frame headers from a whole buffer, the slow obvious way.
func refFrames(skip int, data []byte) [][4]uint32 {
	var out [][4]uint32
	if skip > len(data) {
		return nil
	}
	data = data[skip:]
	for len(data) >= 9 {
		n := uint32(data[0])<<16 | uint32(data[1])<<8 | uint32(data[2])
		out = append(out, [4]uint32{n, uint32(data[3]), uint32(data[4]), binary.BigEndian.Uint32(data[5:9]) & (1<<31 - 1)})
		if uint64(len(data)) < 9+uint64(n) {
			break
		}
		data = data[9+n:]
	}
	return out
}

func FuzzFrameScanner(f *testing.F) {
	f.Add([]byte(http2.ClientPreface+"\x00\x00\x00\x04\x00\x00\x00\x00\x00"), uint8(3), true)
	f.Add([]byte("\x00\x00\x02\x01\x05\x00\x00\x00\x01ab\x00\x00\x00\x09\x04\x00\x00\x00\x01"), uint8(0), false)
	f.Add([]byte("\x00\x00\x08\x06\x00\x00\x00\x00\x00abcdefgh"), uint8(7), false)
	f.Fuzz(func(t *testing.T, data []byte, step uint8, preface bool) {
		skip := 0
		if preface {
			skip = len(http2.ClientPreface)
		}
		var chunks [][]byte
		for rest, k := data, int(step)+1; len(rest) > 0; {
			n := min(k, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		assert.Equal(t, refFrames(skip, data), h2.ScanFrames(skip, chunks))
	})
}

func TestRewriteDuplicateSettings(t *testing.T) {
	enc := func(kv ...uint32) []byte {
		var b []byte
		for i := 0; i+1 < len(kv); i += 2 {
			b = binary.BigEndian.AppendUint16(b, uint16(kv[i]))
			b = binary.BigEndian.AppendUint32(b, kv[i+1])
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		in, out []byte
	}{
		{"no duplicates", enc(3, 100, 4, 1), enc(3, 100, 4, 1)},
		{"one duplicate", enc(4, 100, 4, 1), enc(0xf000, 100, 4, 1)},
		{"three of a kind", enc(4, 1, 3, 5, 4, 2, 4, 3), enc(0xf000, 1, 3, 5, 0xf002, 2, 4, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h2.RewriteDuplicateSettings(tc.in)
			assert.Equal(t, tc.out, tc.in)
		})
	}
}

// RFC 9113 §6.5.3: repeated settings apply in order (x/net alone rejects
// them), even when the frame arrives in pieces.
func TestServer_DuplicateSettingsApplied(t *testing.T) {
	leakCheck(t)
	ts := startServer(t, h2.ServerOptions{}, okHandler)
	rc := dialRaw(t, ts.addr)
	payload := []byte{0, 4, 0, 0, 0, 100, 0, 4, 0, 0, 0, 1}
	frame := append([]byte{0, 0, byte(len(payload)), 4, 0, 0, 0, 0, 0}, payload...)
	for _, piece := range [][]byte{frame[:11], frame[11:]} {
		_, err := rc.c.Write(piece)
		require.NoError(t, err)
	}
	rc.headers(1, true, reqFields()...)
	// The window is 1 byte: "ok" arrives one byte at a time.
	f, err := rc.readUntil(func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	require.NoError(t, err)
	assert.Equal(t, "o", string(f.(*http2.DataFrame).Data()))
}

// FuzzBlockFilter checks that the header-block filter's output does not
// depend on how the input is cut into reads, and that input without
// header blocks passes unchanged.
func FuzzBlockFilter(f *testing.F) {
	f.Add([]byte("\x00\x00\x02\x01\x05\x00\x00\x00\x01ab\x00\x00\x00\x09\x04\x00\x00\x00\x01"), uint8(0))
	f.Add([]byte("\x00\x00\x11\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x01a\x40\x0aconnection\x01x"), uint8(3))
	f.Add([]byte("\x00\x00\x03\x01\x00\x00\x00\x00\x01\x82\x86\x84\x00\x00\x02\x09\x04\x00\x00\x00\x01\x41\x00"), uint8(1))
	f.Add([]byte("\x00\x00\x08\x06\x00\x00\x00\x00\x00abcdefgh"), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole := h2.FilterBlocks(0, [][]byte{data})
		var chunks [][]byte
		for rest, k := data, int(step)+1; len(rest) > 0; {
			n := min(k, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		assert.Equal(t, string(whole), string(h2.FilterBlocks(0, chunks)))
		hasBlock := false
		for _, h := range refFrames(0, data) {
			if h[1] == 0x1 || h[1] == 0x9 {
				hasBlock = true
			}
		}
		if !hasBlock {
			// Only a trailing partial frame header is held back.
			require.LessOrEqual(t, len(whole), len(data))
			assert.Equal(t, string(data[:len(whole)]), string(whole))
			assert.Less(t, len(data)-len(whole), 9)
		}
	})
}

func TestBlockFilter_RewritesConnectionField(t *testing.T) {
	// HEADERS on stream 1: :method GET, :scheme http, :path /, then
	// "connection: x" as a literal with a new name.
	in := []byte("\x00\x00\x11\x01\x05\x00\x00\x00\x01\x82\x86\x84\x40\x0aconnection\x01x")
	out := h2.FilterBlocks(0, [][]byte{in})
	require.Len(t, out, len(in)+4)
	assert.Equal(t, in[9:], out[9:len(in)])
	assert.Equal(t, []byte{0x00, 0x01, 'X', 0x00}, out[len(in):])
	assert.Equal(t, byte(0x15), out[2]) // length grew by 4
	// The same block as trailers (stream 1 again) is left alone.
	out = h2.FilterBlocks(0, [][]byte{in, in})
	assert.Equal(t, in, out[len(in)+4:])
}

// FuzzGuardRead checks that what x/net/http2 reads through the guard does
// not depend on the read buffer, on how the connection cuts its reads, on
// the sizes x/net asks for, or on bytes replayed after PeekPreface.
func FuzzGuardRead(f *testing.F) {
	f.Add([]byte("\x00\x00\x02\x01\x05\x00\x00\x00\x01ab\x00\x00\x00\x09\x04\x00\x00\x00\x01"), uint8(0), uint8(9), uint8(24))
	f.Add([]byte("\x00\x00\x11\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x01a\x40\x0aconnection\x01x"), uint8(3), uint8(0), uint8(30))
	f.Add([]byte("\x00\x00\x0c\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x01\x00\x03\x00\x00\x00\x02"), uint8(4), uint8(2), uint8(10))
	f.Add([]byte("\x00\x00\x03\x01\x00\x00\x00\x00\x01\x82\x86\x84\x00\x00\x02\x09\x04\x00\x00\x00\x01\x41\x00\x00\x00\x08\x06\x00\x00\x00\x00\x00abcdefgh"), uint8(1), uint8(200), uint8(5))
	f.Fuzz(func(t *testing.T, frames []byte, chunk, read, replay uint8) {
		data := append([]byte(http2.ClientPreface), frames...)
		want, werr := h2.GuardRead(data, 0, len(data), []int{1 << 20}, false)
		rp := min(int(replay), len(http2.ClientPreface))
		for _, buffered := range []bool{false, true} {
			got, err := h2.GuardRead(data, rp, int(chunk)+1, []int{int(read) + 1, 9, int(read)*37 + 1}, buffered)
			assert.Equal(t, werr == nil, err == nil, "buffered=%v: %v / %v", buffered, err, werr)
			if werr == nil {
				// (A SETTINGS frame cut off by the end of the stream fails
				// the read it arrived in, wherever the reads fell.)
				assert.Equal(t, want, got, "buffered=%v", buffered)
			}
		}
	})
}

// A flood seen while writes are queued for the connection ends the output
// with GOAWAY(ENHANCE_YOUR_CALM) on a frame boundary, after whole frames
// only, and nothing follows it.
func TestGuard_TripWithWritesQueued(t *testing.T) {
	var stream []byte
	for i := range 60 {
		n := []int{0, 10, 100, 5000, 9000, 16384}[i%6]
		stream = append(stream, byte(n>>16), byte(n>>8), byte(n), 0x0, 0x0, 0, 0, 0, 1)
		stream = append(stream, bytes.Repeat([]byte{byte(i)}, n)...)
	}
	for _, tc := range []struct {
		name   string
		chunk  int
		tripAt int
	}{
		{"frame-sized writes", 0, 20},
		{"small cuts", 700, 50},
		{"large cuts", 12000, 10},
		{"trip at once", 3000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			if tc.chunk == 0 {
				for rest := stream; len(rest) > 0; {
					n := 9 + (int(rest[0])<<16 | int(rest[1])<<8 | int(rest[2]))
					chunks = append(chunks, rest[:n])
					rest = rest[n:]
				}
			} else {
				for rest := stream; len(rest) > 0; {
					n := min(tc.chunk, len(rest))
					chunks = append(chunks, rest[:n])
					rest = rest[n:]
				}
			}
			out := h2.GuardWrites(chunks, tc.tripAt)
			frames := refFrames(0, out)
			require.NotEmpty(t, frames)
			last := frames[len(frames)-1]
			assert.Equal(t, uint32(0x7), last[1], "last frame is GOAWAY")
			goAwayLen := 9 + int(last[0])
			require.LessOrEqual(t, goAwayLen, len(out))
			sent := out[:len(out)-goAwayLen]
			assert.Equal(t, stream[:len(sent)], sent, "whole frames of the input, in order")
			assert.Equal(t, uint32(http2.ErrCodeEnhanceYourCalm), binary.BigEndian.Uint32(out[len(out)-goAwayLen+13:]))
			// sent ends on a frame boundary of the input
			var total int
			for _, f := range refFrames(0, sent) {
				total += 9 + int(f[0])
			}
			assert.Equal(t, len(sent), total)
		})
	}
}
