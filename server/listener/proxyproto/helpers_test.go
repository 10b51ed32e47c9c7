package proxyproto_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net"
	"sync"
	"time"
)

// memConn is an in-memory net.Conn over fixed input. Each Read returns at
// most chunk bytes (0: as many as asked), so tests can split a header into
// segments and see exactly how much Read consumed.
type memConn struct {
	mu        sync.Mutex
	data      []byte
	off       int
	chunk     int
	reads     int
	deadlines []time.Time
	written   bytes.Buffer
	closed    bool
}

func newMemConn(data []byte, chunk int) *memConn { return &memConn{data: data, chunk: chunk} }

func (m *memConn) reset(data []byte) {
	m.data, m.off, m.reads, m.deadlines = data, 0, 0, m.deadlines[:0]
}

func (m *memConn) Read(b []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.off == len(m.data) {
		return 0, io.EOF
	}
	if m.chunk > 0 && len(b) > m.chunk {
		b = b[:m.chunk]
	}
	n := copy(b, m.data[m.off:])
	m.off += n
	return n, nil
}

// consumed returns how many input bytes have been read.
func (m *memConn) consumed() int { m.mu.Lock(); defer m.mu.Unlock(); return m.off }

func (m *memConn) Write(b []byte) (int, error) { return m.written.Write(b) }
func (m *memConn) Close() error                { m.closed = true; return nil }
func (m *memConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(10, 0, 0, 2).To4(), Port: 443}
}
func (m *memConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1).To4(), Port: 50000}
}
func (m *memConn) SetDeadline(t time.Time) error {
	return m.SetReadDeadline(t)
}
func (m *memConn) SetReadDeadline(t time.Time) error {
	m.deadlines = append(m.deadlines, t)
	return nil
}
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

var sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")

// v2 builds a raw v2 header: version/command byte vc, family/protocol
// byte fp, and body (addresses then TLVs).
func v2(vc, fp byte, body ...[]byte) []byte {
	b := append([]byte{}, sigV2...)
	joined := bytes.Join(body, nil)
	b = append(b, vc, fp)
	b = binary.BigEndian.AppendUint16(b, uint16(len(joined)))
	return append(b, joined...)
}

// tlv encodes one TLV.
func tlv(t byte, v []byte) []byte {
	return append([]byte{t, byte(len(v) >> 8), byte(len(v))}, v...)
}

// withCRC appends a CRC32C TLV to a raw v2 header and fixes its length and
// checksum; flip corrupts the checksum.
func withCRC(h []byte, flip bool) []byte {
	h = append(h, 0x03, 0, 4, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(h[14:], uint16(len(h)-16))
	sum := crc32.Checksum(h, crc32.MakeTable(crc32.Castagnoli))
	if flip {
		sum ^= 1
	}
	binary.BigEndian.PutUint32(h[len(h)-4:], sum)
	return h
}

func ip4(a, b, c, d byte) []byte { return []byte{a, b, c, d} }

func port(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }

func unixPath(s string) []byte {
	p := make([]byte, 108)
	copy(p, s)
	return p
}

func tcp(s string) *net.TCPAddr {
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		panic(err)
	}
	if v4 := a.IP.To4(); v4 != nil {
		a.IP = v4
	}
	return a
}

func udp(s string) *net.UDPAddr {
	a := tcp(s)
	return &net.UDPAddr{IP: a.IP, Port: a.Port}
}

const request = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
