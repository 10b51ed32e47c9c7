package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/netip"
	"time"
)

// Defaults applied to zero [Options] fields.
const (
	// DefaultTimeout bounds the wait for a whole header when
	// Options.Timeout is zero.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxTLVSize bounds the TLV part of a v2 header when
	// Options.MaxTLVSize is zero. Load balancers send a few hundred bytes at
	// most (AWS NLB: a VPC endpoint ID; HAProxy: ALPN, SNI, SSL facts).
	DefaultMaxTLVSize = 2048
)

// MaxV1Len is the longest version 1 header, CRLF included (spec 2.1).
const MaxV1Len = 107

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// v2FixedLen is the signature, version/command, family/protocol and length.
const v2FixedLen = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Options configures [Read] and [NewHandshaker]. The zero value requires a
// header of either version within 5 s with at most 2 KiB of TLVs.
type Options struct {
	// Optional passes a connection that does not start with a PROXY
	// signature through untouched: the bytes read to tell are replayed by
	// the returned Conn. The client must speak first (HTTP and TLS do).
	// Anyone who can reach the listener directly can then send a header of
	// their own. If false, such a connection fails with ErrNoProxyHeader.
	Optional bool
	// DisableV1 and DisableV2 stop the text or binary version from being
	// recognised. Disabling both is an error. If false, both are accepted.
	DisableV1, DisableV2 bool
	// Timeout bounds the wait for the whole header, as a read deadline on
	// the connection that Read clears afterwards. If zero, DefaultTimeout
	// (5 s). If negative, Read sets no deadline (the caller has).
	Timeout time.Duration
	// MaxTLVSize is the most bytes of TLVs a v2 header may carry after its
	// addresses (the length field allows up to 65535); a longer header is
	// rejected before its body is read. If zero, DefaultMaxTLVSize (2 KiB).
	// Negative is an error.
	MaxTLVSize int
}

// resolve fills the defaults into a copy of o.
func (o Options) resolve() (Options, error) {
	if o.DisableV1 && o.DisableV2 {
		return o, errors.New("proxyproto: both versions disabled")
	}
	if o.MaxTLVSize < 0 {
		return o, fmt.Errorf("proxyproto: negative MaxTLVSize %d", o.MaxTLVSize)
	}
	if o.MaxTLVSize == 0 {
		o.MaxTLVSize = DefaultMaxTLVSize
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o, nil
}

// Read reads one PROXY protocol header from the start of c and returns c
// wrapped in a [Conn] whose RemoteAddr and LocalAddr are the header's source
// and destination. It never reads past the header, so the next byte read
// from the Conn (or from c itself) is the client's first.
//
// Read sets c's read deadline to now + opts.Timeout and clears it before
// returning. Errors are ErrNoProxyHeader, a [*HeaderError], an Options
// error, or a read error wrapped with "proxyproto: read header: " (a
// timeout unwraps to os.ErrDeadlineExceeded, a cut-off header to
// io.ErrUnexpectedEOF). On error c is not closed.
func Read(c net.Conn, opts Options) (*Conn, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		if err := c.SetReadDeadline(time.Now().Add(o.Timeout)); err != nil {
			return nil, fmt.Errorf("proxyproto: set read deadline: %w", err)
		}
	}
	pc, err := readHeader(c, o)
	if o.Timeout > 0 {
		if derr := c.SetReadDeadline(time.Time{}); derr != nil && err == nil {
			return nil, fmt.Errorf("proxyproto: clear read deadline: %w", derr)
		}
	}
	return pc, err
}

// readErr wraps a read error; EOF inside a header becomes ErrUnexpectedEOF.
func readErr(err error, n int) error {
	if n > 0 && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("proxyproto: read header: %w", err)
}

// state is everything one Read allocates but a v2 body, in one
// allocation: the returned Conn, its Header, TCP addresses for it, and the
// buffer the first bytes are read into.
type state struct {
	conn Conn
	hdr  Header
	tcp  [2]net.TCPAddr
	ip   [2][16]byte // the IPs of a v1 header
	buf  [MaxV1Len]byte
}

// readHeader detects and reads the header with resolved options o.
func readHeader(c net.Conn, o Options) (*Conn, error) {
	st := &state{conn: Conn{conn: c}}
	buf := &st.buf
	n := 0
	for {
		v1 := !o.DisableV1 && matchPrefix(buf[:n], sigV1)
		v2 := !o.DisableV2 && matchPrefix(buf[:n], sigV2)
		switch {
		case v1 && n == len(sigV1):
			return readV1(c, st)
		case v2 && n == v2FixedLen:
			return readV2(c, st, o)
		case !v1 && !v2:
			return noHeader(st, n, o)
		}
		// Ask only for bytes a header of the candidate version must have,
		// so a short non-PROXY message is not waited on needlessly.
		want := 1
		if n > 0 && v1 {
			want = len(sigV1) - n
		} else if n > 0 {
			want = v2FixedLen - n
		}
		k, err := readSome(c, buf[n:n+want])
		n += k
		if err != nil {
			if k > 0 {
				continue // decide on the bytes; the error comes back on the next read
			}
			if o.Optional && errors.Is(err, io.EOF) {
				return noHeader(st, n, o) // the client said all it had
			}
			return nil, readErr(err, n)
		}
	}
}

// readSome reads into b, retrying a conn that returns neither bytes nor an
// error a bounded number of times, as bufio does.
func readSome(c net.Conn, b []byte) (int, error) {
	for range 100 {
		if k, err := c.Read(b); k > 0 || err != nil {
			return k, err
		}
	}
	return 0, io.ErrNoProgress
}

// matchPrefix reports whether b agrees with sig on their common length.
func matchPrefix(b, sig []byte) bool {
	if len(b) > len(sig) {
		b = b[:len(sig)]
	}
	return bytes.Equal(b, sig[:len(b)])
}

// noHeader handles a connection without a recognised signature whose first
// n bytes are in st.buf.
func noHeader(st *state, n int, o Options) (*Conn, error) {
	if !o.Optional {
		return nil, ErrNoProxyHeader
	}
	if n > 0 {
		st.conn.replay = st.buf[:n:n]
	}
	return &st.conn, nil
}

// readV1 reads the rest of a v1 line after the "PROXY " in st.buf.
func readV1(c net.Conn, st *state) (*Conn, error) {
	buf := &st.buf
	n := len(sigV1)
	for {
		want := min(v1Need(buf[len(sigV1):n]), MaxV1Len-n)
		if want <= 0 {
			return nil, v1Error("no CRLF within 107 bytes")
		}
		k, err := readSome(c, buf[n:n+want])
		if i := bytes.IndexByte(buf[n:n+k], '\n'); i >= 0 {
			end := n + i // index of LF
			if buf[end-1] != '\r' {
				return nil, v1Error("line ends with LF, not CRLF")
			}
			if perr := parseV1(buf[len(sigV1):end-1], st); perr != nil {
				return nil, perr
			}
			// Bytes after the CRLF are read only from an invalid line,
			// which parseV1 rejects; keep them anyway rather than lose them.
			if end+1 < n+k {
				st.conn.replay = buf[end+1 : n+k : n+k]
			}
			st.conn.header = &st.hdr
			return &st.conn, nil
		}
		n += k
		if err != nil {
			return nil, readErr(err, n)
		}
	}
}

// v1Need returns how many more bytes a valid v1 line that starts with
// "PROXY "+rest must still have, at least 1, so that reading that many
// never consumes bytes after the CRLF.
func v1Need(rest []byte) int {
	if len(rest) > 0 && rest[len(rest)-1] == '\r' {
		return 1
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		// In the protocol word: "UNKNOWN\r\n" is the shortest remainder.
		return max(len("UNKNOWN\r\n")-len(rest), 2)
	}
	if p := string(rest[:sp]); p != "TCP4" && p != "TCP6" {
		return 2
	}
	// "TCP4 src dst sport dport": each missing field is SP and ≥ 1 byte.
	missing := 4 - bytes.Count(rest, []byte{' '})
	if missing < 0 {
		return 2
	}
	need := 2 + 2*missing
	if rest[len(rest)-1] == ' ' {
		need++
	}
	return need
}

// parseV1 parses the v1 line between "PROXY " and CRLF into st.hdr.
func parseV1(line []byte, st *state) error {
	st.hdr = Header{Version: 1, Command: Proxy, Transport: Unspec}
	if rest, ok := bytes.CutPrefix(line, []byte("UNKNOWN")); ok && (len(rest) == 0 || rest[0] == ' ') {
		return nil // spec 2.1: the rest of an UNKNOWN line is ignored
	}
	var f [5][]byte
	rest := line
	for i := range f {
		sp := bytes.IndexByte(rest, ' ')
		if i == len(f)-1 {
			if sp >= 0 {
				return v1Error("too many fields")
			}
			f[i] = rest
			break
		}
		if sp < 0 {
			return v1Error("too few fields")
		}
		f[i], rest = rest[:sp], rest[sp+1:]
	}
	var tr Transport
	switch string(f[0]) {
	case "TCP4":
		tr = TCP4
	case "TCP6":
		tr = TCP6
	default:
		return v1Error(fmt.Sprintf("unknown protocol %q", f[0]))
	}
	src, err := parseV1Addr(f[1], tr)
	if err != nil {
		return v1Error("bad source address: " + err.Error())
	}
	dst, err := parseV1Addr(f[2], tr)
	if err != nil {
		return v1Error("bad destination address: " + err.Error())
	}
	sport, ok := parsePort(f[3])
	if !ok {
		return v1Error(fmt.Sprintf("bad source port %q", f[3]))
	}
	dport, ok := parsePort(f[4])
	if !ok {
		return v1Error(fmt.Sprintf("bad destination port %q", f[4]))
	}
	st.tcp[0] = net.TCPAddr{IP: ipSlice(&st.ip[0], src), Port: sport}
	st.tcp[1] = net.TCPAddr{IP: ipSlice(&st.ip[1], dst), Port: dport}
	st.hdr.Transport, st.hdr.Source, st.hdr.Destination = tr, &st.tcp[0], &st.tcp[1]
	return nil
}

// parseV1Addr parses an address of the family tr names.
func parseV1Addr(b []byte, tr Transport) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	switch {
	case err != nil:
		return a, fmt.Errorf("%q", b)
	case a.Zone() != "":
		return a, fmt.Errorf("%q has a zone", b)
	case tr == TCP4 && !a.Is4():
		return a, fmt.Errorf("%q is not IPv4", b)
	case tr == TCP6 && !a.Is6():
		return a, fmt.Errorf("%q is not IPv6", b)
	}
	return a, nil
}

// ipSlice stores a in b and returns it as a 4- or 16-byte net.IP.
func ipSlice(b *[16]byte, a netip.Addr) net.IP {
	if a.Is4() {
		*(*[4]byte)(b[:4]) = a.As4()
		return b[:4:4]
	}
	*b = a.As16()
	return b[:16:16]
}

// parsePort parses a decimal port 0–65535 without sign or leading zeros.
func parsePort(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	p := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		p = p*10 + int(ch-'0')
	}
	return p, p <= 0xFFFF
}

// readV2 reads the rest of a v2 header whose fixed 16 bytes are in st.buf.
func readV2(c net.Conn, st *state, o Options) (*Conn, error) {
	fixed := st.buf[:v2FixedLen]
	if v := fixed[12] >> 4; v != 2 {
		return nil, v2Error("unsupported version %d", v)
	}
	cmd := Command(fixed[12] & 0x0F)
	if cmd > Proxy {
		return nil, v2Error("unknown command %#x", uint8(cmd))
	}
	tr := Transport(fixed[13])
	addrLen, ok := tr.addrLen()
	if !ok && cmd == Proxy {
		return nil, v2Error("unknown address family and protocol %#02x", uint8(tr))
	}
	// Under LOCAL the family is ignored (spec 2.2); an unknown one counts
	// as no addresses against MaxTLVSize.
	length := int(binary.BigEndian.Uint16(fixed[14:]))
	if cmd == Proxy && length < addrLen {
		return nil, v2Error("%d bytes of addresses are too few for %s", length, tr)
	}
	if tlvLen := length - addrLen; tlvLen > o.MaxTLVSize {
		return nil, v2Error("%d bytes of TLVs exceed the limit of %d", tlvLen, o.MaxTLVSize)
	}
	raw := make([]byte, v2FixedLen+length)
	copy(raw, fixed)
	if k, err := io.ReadFull(c, raw[v2FixedLen:]); err != nil {
		return nil, readErr(err, v2FixedLen+k)
	}
	if err := parseV2(raw, cmd, tr, addrLen, st); err != nil {
		return nil, err
	}
	st.conn.header = &st.hdr
	return &st.conn, nil
}

// parseV2 decodes a whole v2 header raw, whose fixed part has been
// checked, into st.hdr.
func parseV2(raw []byte, cmd Command, tr Transport, addrLen int, st *state) error {
	st.hdr = Header{Version: 2, Command: cmd, Transport: tr}
	h := &st.hdr
	if cmd == Local {
		// Spec 2.2: the receiver discards the whole block, family included.
		h.Transport = Unspec
		return nil
	}
	a := raw[v2FixedLen : v2FixedLen+addrLen]
	switch tr {
	case TCP4, UDP4:
		h.Source, h.Destination = ipAddr(st, 0, tr, a[0:4], a[8:10]), ipAddr(st, 1, tr, a[4:8], a[10:12])
	case TCP6, UDP6:
		h.Source, h.Destination = ipAddr(st, 0, tr, a[0:16], a[32:34]), ipAddr(st, 1, tr, a[16:32], a[34:36])
	case UnixStream, UnixDatagram:
		network := "unix"
		if tr == UnixDatagram {
			network = "unixgram"
		}
		h.Source = &net.UnixAddr{Name: unixName(a[:unixPathLen]), Net: network}
		h.Destination = &net.UnixAddr{Name: unixName(a[unixPathLen:]), Net: network}
	}
	tlvs, err := parseTLVs(raw[v2FixedLen+addrLen:])
	if err != nil {
		return err
	}
	h.TLVs = tlvs
	crcs := 0
	for i := range tlvs {
		if tlvs[i].Type == TypeCRC32C {
			crcs++
		}
	}
	if crcs > 1 {
		return v2Error("more than one CRC32C TLV")
	}
	for i := range tlvs {
		t := &tlvs[i]
		switch t.Type {
		case TypeCRC32C:
			if len(t.Value) != 4 {
				return v2Error("CRC32C TLV of %d bytes, not 4", len(t.Value))
			}
			if !crcOK(raw, t.Value) {
				return v2Error("CRC32C mismatch")
			}
		case TypeUniqueID:
			if len(t.Value) > maxUniqueIDLen {
				return v2Error("unique ID of %d bytes exceeds %d", len(t.Value), maxUniqueIDLen)
			}
		case TypeSSL:
			if _, err := parseSSL(t.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// crcOK checks the CRC32C of raw, computed with the 4 bytes of v (which
// alias raw) zeroed.
func crcOK(raw, v []byte) bool {
	want := binary.BigEndian.Uint32(v)
	clear(v)
	got := crc32.Checksum(raw, castagnoli)
	binary.BigEndian.PutUint32(v, want)
	return got == want
}

// ipAddr builds the *net.TCPAddr (in st.tcp[i]) or *net.UDPAddr of ip
// and a 2-byte port. The IP aliases ip, in the header's buffer.
func ipAddr(st *state, i int, tr Transport, ip, port []byte) net.Addr {
	p := int(binary.BigEndian.Uint16(port))
	ipc := net.IP(ip[:len(ip):len(ip)])
	if tr == UDP4 || tr == UDP6 {
		return &net.UDPAddr{IP: ipc, Port: p}
	}
	st.tcp[i] = net.TCPAddr{IP: ipc, Port: p}
	return &st.tcp[i]
}

// unixName decodes a 108-byte sun_path: up to the first NUL, or "@name"
// for a Linux abstract address (leading NUL, trailing NULs dropped).
func unixName(b []byte) string {
	if len(b) > 0 && b[0] == 0 {
		rest := bytes.TrimRight(b[1:], "\x00")
		if len(rest) == 0 {
			return ""
		}
		return "@" + string(rest)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
