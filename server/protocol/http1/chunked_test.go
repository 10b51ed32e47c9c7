package http1_test

import (
	"strings"
	"testing"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeAll feeds in to a decoder step bytes at a time, as a connection
// would, and returns the body, the bytes left after the body and the error.
func decodeAll(d *http1.ChunkedDecoder, in string, step int) (body string, rest string, err error) {
	var out strings.Builder
	var buf []byte
	src := []byte(in)
	for !d.Done() {
		n, data, e := d.Decode(buf)
		out.Write(data)
		buf = buf[n:]
		switch {
		case e == http1.ErrIncomplete:
			if len(src) == 0 {
				return out.String(), "", e
			}
			k := min(step, len(src))
			buf = append(buf, src[:k]...)
			src = src[k:]
		case e != nil:
			return out.String(), "", e
		}
	}
	return out.String(), string(buf) + string(src), nil
}

func TestChunkedDecoder(t *testing.T) {
	in := "5\r\nhello\r\n7;name=val;x=\"q\"\r\n, world\r\n0\r\nX-Checksum: abc\r\nx-other: 1\r\n\r\nGET /next"
	for _, step := range []int{1, 2, 3, 7, 1000} {
		var trailers httpheader.Header
		d := http1.ChunkedDecoder{Trailers: &trailers}
		body, rest, err := decodeAll(&d, in, step)
		require.NoError(t, err, "step %d", step)
		assert.Equal(t, "hello, world", body)
		assert.Equal(t, "GET /next", rest, "bytes after the body are not consumed")
		assert.Equal(t, "X-Checksum: abc\r\nx-other: 1\r\n", string(trailers.AppendWire(nil)))
	}
}

func TestChunkedDecoder_Rules(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"RFC9112_7_1_NoHexDigits", "\r\nabc\r\n0\r\n\r\n"},
		{"RFC9112_7_1_BadHex", "g\r\n"},
		{"RFC9112_7_1_HexPrefix", "0x5\r\nhello\r\n0\r\n\r\n"},
		{"RFC9112_7_1_NegativeSize", "-5\r\n"},
		{"RFC9112_7_1_SizeOverflow", "1000000000000000\r\n"},
		{"RFC9112_7_1_SizeOverflowLong", "ffffffffffffffffffff\r\n"},
		{"RFC9112_7_1_DataNotFollowedByCRLF", "3\r\nabcX\r\n0\r\n\r\n"},
		{"RFC9112_7_1_DataFollowedByLF", "3\r\nabc\n0\r\n\r\n"},
		{"RFC9112_7_1_SpaceAfterSize", "3 \r\nabc\r\n0\r\n\r\n"},
		{"RFC9112_7_1_1_ExtensionWithoutSemicolon", "3 x\r\nabc\r\n0\r\n\r\n"},
		{"RFC9112_7_1_1_ExtensionControlByte", "3;a=\x01\r\nabc\r\n0\r\n\r\n"},
		{"RFC9112_7_1_1_ExtensionTooLong", "3;" + strings.Repeat("a", 5000) + "\r\nabc\r\n0\r\n\r\n"},
		{"RFC9112_7_1_1_ExtensionTooLongNoLineEnd", "3;" + strings.Repeat("a", 5000)},
		{"RFC9112_7_1_2_TrailerObsFold", "0\r\nX: a\r\n b\r\n\r\n"},
		{"RFC9112_7_1_2_TrailerSpaceBeforeColon", "0\r\nX : a\r\n\r\n"},
		{"RFC9112_7_1_2_TrailerBareLF", "0\r\nX: a\n\r\n"},
		{"RFC9112_7_1_2_TrailerTooLarge", "0\r\nX: " + strings.Repeat("a", 17000) + "\r\n\r\n"},
		{"RFC9112_7_1_2_TooManyTrailers", "0\r\n" + strings.Repeat("X: a\r\n", 101) + "\r\n"},
		{"RFC9112_2_2_BareCRInSizeLine", "3\rabc\r\n0\r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range []int{1, 4096} {
				var d http1.ChunkedDecoder
				_, _, err := decodeAll(&d, tc.in, step)
				require.Error(t, err, "step %d", step)
				require.NotErrorIs(t, err, http1.ErrIncomplete, "step %d", step)
				assert.ErrorIs(t, err, perr.InvalidChunk)
			}
		})
	}
}

func TestChunkedDecoder_CVE_2025_22871(t *testing.T) {
	// A bare LF ending a chunk-size line (with or without an extension)
	// lets a peer that accepts it and one that does not disagree on where
	// the body ends; the decoder must reject it.
	for _, in := range []string{
		"3\nabc\r\n0\r\n\r\n",
		"3;ext\nabc\r\n0\r\n\r\n",
		"3;ext\n\r\nabc\r\n0\r\n\r\n",
		"3\r\nabc\r\n0\n\r\n",
	} {
		var d http1.ChunkedDecoder
		_, _, err := decodeAll(&d, in, 1)
		assert.ErrorIs(t, err, perr.InvalidChunk, "%q", in)
	}
}

func TestChunkedDecoder_ExtensionLimit(t *testing.T) {
	lim := &http1.Limits{MaxChunkExtension: 10}
	d := http1.ChunkedDecoder{Limits: lim}
	_, _, err := decodeAll(&d, "1;abcdefgh\r\na\r\n0\r\n\r\n", 100)
	require.NoError(t, err, "9 bytes of extension")
	d = http1.ChunkedDecoder{Limits: lim}
	_, _, err = decodeAll(&d, "1;abcdefghij\r\na\r\n0\r\n\r\n", 100)
	assert.ErrorIs(t, err, perr.InvalidChunk)
}

func TestChunkedDecoder_Reset(t *testing.T) {
	var d http1.ChunkedDecoder
	_, _, err := decodeAll(&d, "0\r\n\r\n", 10)
	require.NoError(t, err)
	assert.True(t, d.Done())
	n, data, err := d.Decode([]byte("more"))
	assert.Zero(t, n)
	assert.Nil(t, data)
	assert.NoError(t, err)
	d.Reset()
	assert.False(t, d.Done())
	body, _, err := decodeAll(&d, "2\r\nok\r\n0\r\n\r\n", 10)
	require.NoError(t, err)
	assert.Equal(t, "ok", body)
}
