package proxyproto

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// ErrNoProxyHeader is returned by [Read] and [Handshaker.Handshake] when a
// header is required and the connection does not start with the signature
// of an accepted version.
var ErrNoProxyHeader = errors.New("proxyproto: no PROXY protocol header")

// HeaderError is a malformed header, or a [Header] that cannot be written in
// the version asked for.
type HeaderError struct {
	// Version is the protocol version concerned, 1 or 2.
	Version int
	// Reason says what is wrong, e.g. "bad source port".
	Reason string
}

// Error returns e.g. "proxyproto: invalid v2 header: unknown command 0x3".
func (e *HeaderError) Error() string {
	return "proxyproto: invalid v" + strconv.Itoa(e.Version) + " header: " + e.Reason
}

func v1Error(reason string) error { return &HeaderError{Version: 1, Reason: reason} }

func v2Error(format string, args ...any) error {
	return &HeaderError{Version: 2, Reason: fmt.Sprintf(format, args...)}
}

// Command is the command of a header. Version 1 headers are always [Proxy].
type Command uint8

// The commands of version 2 (the low nibble of byte 13).
const (
	// Local marks a connection the proxy made on its own, e.g. a health
	// check: the header carries no addresses that apply and the real
	// socket's addresses are used.
	Local Command = 0x0
	// Proxy marks a relayed connection: the header's addresses are the
	// original client's.
	Proxy Command = 0x1
)

// String returns "LOCAL", "PROXY" or "Command(0x…)".
func (c Command) String() string {
	switch c {
	case Local:
		return "LOCAL"
	case Proxy:
		return "PROXY"
	}
	return fmt.Sprintf("Command(%#x)", uint8(c))
}

// Transport is the address family and transport protocol of a header, with
// the values of version 2's byte 14 (family in the high nibble, protocol in
// the low one).
type Transport uint8

// The transports a header can carry. Version 1 has only [TCP4], [TCP6] and
// [Unspec] ("UNKNOWN").
const (
	Unspec       Transport = 0x00 // addresses unknown or not carried
	TCP4         Transport = 0x11
	UDP4         Transport = 0x12
	TCP6         Transport = 0x21
	UDP6         Transport = 0x22
	UnixStream   Transport = 0x31
	UnixDatagram Transport = 0x32
)

// String returns e.g. "TCP4", "UNIX_DGRAM" or "Transport(0x…)".
func (t Transport) String() string {
	switch t {
	case Unspec:
		return "UNSPEC"
	case TCP4:
		return "TCP4"
	case UDP4:
		return "UDP4"
	case TCP6:
		return "TCP6"
	case UDP6:
		return "UDP6"
	case UnixStream:
		return "UNIX_STREAM"
	case UnixDatagram:
		return "UNIX_DGRAM"
	}
	return fmt.Sprintf("Transport(%#02x)", uint8(t))
}

// addrLen returns the size of t's v2 address block, and whether t is one of
// the combinations the spec allows.
func (t Transport) addrLen() (int, bool) {
	switch t {
	case Unspec:
		return 0, true
	case TCP4, UDP4:
		return 12, true
	case TCP6, UDP6:
		return 36, true
	case UnixStream, UnixDatagram:
		return 2 * unixPathLen, true
	}
	return 0, false
}

// unixPathLen is the size of each path in a v2 AF_UNIX address block.
const unixPathLen = 108

// TLVType is the type of a version 2 TLV (type-length-value) field.
type TLVType uint8

// The TLV types the spec registers (section 2.2). Types 0xE0–0xEF are for
// applications, 0xF0–0xF7 experimental, 0xF8–0xFF future use; unknown types
// are kept in [Header.TLVs].
const (
	TypeALPN       TLVType = 0x01 // the negotiated application protocol
	TypeAuthority  TLVType = 0x02 // the host name the client asked for (SNI)
	TypeCRC32C     TLVType = 0x03 // CRC32c of the header, verified by Read
	TypeNoop       TLVType = 0x04 // padding, ignored
	TypeUniqueID   TLVType = 0x05 // opaque connection ID, at most 128 bytes
	TypeSSL        TLVType = 0x20 // TLS facts of the client connection, see [SSL]
	TypeSSLVersion TLVType = 0x21 // sub-TLV of TypeSSL: "TLSv1.3"
	TypeSSLCN      TLVType = 0x22 // sub-TLV of TypeSSL: client certificate CN
	TypeSSLCipher  TLVType = 0x23 // sub-TLV of TypeSSL: cipher name
	TypeSSLSigAlg  TLVType = 0x24 // sub-TLV of TypeSSL: certificate signature algorithm
	TypeSSLKeyAlg  TLVType = 0x25 // sub-TLV of TypeSSL: certificate key algorithm
	TypeNetNS      TLVType = 0x30 // network namespace name
)

// maxUniqueIDLen is the spec's bound on a TypeUniqueID value.
const maxUniqueIDLen = 128

// TLV is one type-length-value field of a version 2 header. Value is at
// most 65535 bytes.
type TLV struct {
	Type  TLVType
	Value []byte
}

// Header is one PROXY protocol header: what [Read] parsed or what
// [Header.AppendV1] and [Header.AppendV2] write.
type Header struct {
	// Version is 1 (text) or 2 (binary). Read sets it; the Append methods
	// ignore it.
	Version int
	// Command is Proxy or Local. Version 1 headers are always Proxy.
	Command Command
	// Transport is what Read found. The Append methods derive the
	// transport from the types of Source and Destination and use Transport
	// only to write IPv4 addresses as IPv4-mapped IPv6 when it is TCP6 or
	// UDP6, so a header read and written again keeps its bytes.
	Transport Transport
	// Source and Destination are the original client's address and the
	// address it connected to: *net.TCPAddr, *net.UDPAddr or *net.UnixAddr.
	// Both are nil for Local, for Unspec and for "PROXY UNKNOWN".
	Source, Destination net.Addr
	// TLVs are the version 2 TLV fields in header order, sub-TLVs of
	// TypeSSL included only inside its value. The TLV values and IPs of a
	// Header from Read alias its read buffer: treat them as read-only.
	TLVs []TLV
}

// Value returns the value of the first TLV of type t.
func (h *Header) Value(t TLVType) ([]byte, bool) {
	return findTLV(h.TLVs, t)
}

func findTLV(tlvs []TLV, t TLVType) ([]byte, bool) {
	for i := range tlvs {
		if tlvs[i].Type == t {
			return tlvs[i].Value, true
		}
	}
	return nil, false
}

// ALPN returns the TypeALPN value, e.g. "h2", or nil.
func (h *Header) ALPN() []byte {
	v, _ := h.Value(TypeALPN)
	return v
}

// Authority returns the TypeAuthority value (the client's SNI), or "".
func (h *Header) Authority() string {
	v, _ := h.Value(TypeAuthority)
	return string(v)
}

// UniqueID returns the TypeUniqueID value, or nil.
func (h *Header) UniqueID() []byte {
	v, _ := h.Value(TypeUniqueID)
	return v
}

// NetNS returns the TypeNetNS value, or "".
func (h *Header) NetNS() string {
	v, _ := h.Value(TypeNetNS)
	return string(v)
}

// SSL returns the decoded TypeSSL field. ok is false if there is none or it
// is malformed (Read rejects headers with a malformed one).
func (h *Header) SSL() (s SSL, ok bool) {
	v, found := h.Value(TypeSSL)
	if !found {
		return SSL{}, false
	}
	s, err := parseSSL(v)
	return s, err == nil
}

// The bits of SSL.Client.
const (
	ClientSSL      = 0x01 // the client connected over TLS
	ClientCertConn = 0x02 // it presented a certificate on this connection
	ClientCertSess = 0x04 // it presented one on the session being resumed
)

// SSL is the TypeSSL field: how the client connected to the proxy.
type SSL struct {
	// Client holds the ClientSSL, ClientCertConn and ClientCertSess bits.
	Client uint8
	// Verify is zero if the client presented a certificate and it was
	// verified, non-zero otherwise.
	Verify uint32
	// TLVs are the sub-TLVs (TypeSSLVersion, TypeSSLCN, …).
	TLVs []TLV
}

// Version returns the TypeSSLVersion sub-TLV, e.g. "TLSv1.3", or "".
func (s SSL) Version() string { v, _ := findTLV(s.TLVs, TypeSSLVersion); return string(v) }

// CN returns the TypeSSLCN sub-TLV (the client certificate's Common Name),
// or "".
func (s SSL) CN() string { v, _ := findTLV(s.TLVs, TypeSSLCN); return string(v) }

// Cipher returns the TypeSSLCipher sub-TLV, e.g.
// "ECDHE-RSA-AES128-GCM-SHA256", or "".
func (s SSL) Cipher() string { v, _ := findTLV(s.TLVs, TypeSSLCipher); return string(v) }

// Verified reports whether the client presented a certificate that the
// proxy verified.
func (s SSL) Verified() bool {
	return s.Client&ClientSSL != 0 && s.Client&(ClientCertConn|ClientCertSess) != 0 && s.Verify == 0
}

// parseSSL decodes a TypeSSL value: client (1 byte), verify (4 bytes,
// big-endian), then sub-TLVs.
func parseSSL(v []byte) (SSL, error) {
	if len(v) < 5 {
		return SSL{}, v2Error("SSL TLV of %d bytes is shorter than 5", len(v))
	}
	tlvs, err := parseTLVs(v[5:])
	if err != nil {
		return SSL{}, err
	}
	return SSL{
		Client: v[0],
		Verify: uint32(v[1])<<24 | uint32(v[2])<<16 | uint32(v[3])<<8 | uint32(v[4]),
		TLVs:   tlvs,
	}, nil
}

// parseTLVs splits b into TLVs whose values alias b. Every byte must belong
// to a complete TLV.
func parseTLVs(b []byte) ([]TLV, error) {
	n := 0
	for rest := b; len(rest) > 0; n++ {
		if len(rest) < 3 {
			return nil, v2Error("truncated TLV: %d trailing bytes", len(rest))
		}
		l := int(rest[1])<<8 | int(rest[2])
		if len(rest)-3 < l {
			return nil, v2Error("TLV %#02x of %d bytes overruns the header", rest[0], l)
		}
		rest = rest[3+l:]
	}
	if n == 0 {
		return nil, nil
	}
	tlvs := make([]TLV, 0, n)
	for len(b) > 0 {
		l := int(b[1])<<8 | int(b[2])
		tlvs = append(tlvs, TLV{Type: TLVType(b[0]), Value: b[3 : 3+l : 3+l]})
		b = b[3+l:]
	}
	return tlvs, nil
}
