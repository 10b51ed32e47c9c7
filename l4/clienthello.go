package l4

import "errors"

// Errors of ParseClientHello.
var (
	// ErrNeedMore reports that the bytes are a valid prefix of a TLS
	// ClientHello: read more and parse again.
	ErrNeedMore = errors.New("l4: client hello incomplete")
	// ErrNotTLS reports that the bytes do not start with a TLS handshake
	// record: content type 22 and record version 3.1 to 3.4.
	ErrNotTLS = errors.New("l4: not a tls handshake record")
	// ErrMalformedClientHello reports a TLS handshake record whose content
	// is not a well-formed ClientHello. The errors ParseClientHello returns
	// for it match it with errors.Is and say what was wrong.
	ErrMalformedClientHello = errors.New("l4: malformed client hello")
)

// malformed is an error that is ErrMalformedClientHello with a reason.
// Constants of it convert to error without allocating.
type malformed string

func (m malformed) Error() string        { return ErrMalformedClientHello.Error() + ": " + string(m) }
func (m malformed) Is(target error) bool { return target == ErrMalformedClientHello }

// The reasons ParseClientHello rejects a ClientHello for.
const (
	errNotClientHello  malformed = "first handshake message is not a client hello"
	errRecordType      malformed = "client hello continues in a record that is not a handshake"
	errRecordVersion   malformed = "bad record version"
	errEmptyRecord     malformed = "empty handshake record"
	errRecordTooLong   malformed = "record longer than 16384 bytes"
	errClientVersion   malformed = "bad client version"
	errTruncated       malformed = "field runs past the end of the message"
	errSessionID       malformed = "session id longer than 32 bytes"
	errCipherSuites    malformed = "bad cipher suites length"
	errCompression     malformed = "no compression methods"
	errExtensionsLen   malformed = "extensions length does not match the message"
	errTrailing        malformed = "bytes after the extensions"
	errDuplicateExt    malformed = "duplicate server_name or alpn extension"
	errServerNameList  malformed = "bad server_name list"
	errServerNameTwice malformed = "more than one host_name"
	errHostName        malformed = "host_name is not a valid dns name"
	errALPNList        malformed = "bad alpn protocol list"
)

const (
	recordHeaderLen  = 5
	recordTypeHS     = 22
	maxRecordPayload = 1 << 14 // TLSPlaintext.length limit (RFC 8446 §5.1)
	hsTypeCH         = 1
	extServerName    = 0
	extALPN          = 16
	maxHostName      = 253
)

// ParseClientHello extracts the server name (SNI) and ALPN protocols from
// the start of a TLS stream: a ClientHello in one or more handshake
// records. The name is lower-cased; sni is "" and alpn nil when the
// extension is absent.
//
// It returns ErrNeedMore when b is a valid prefix of a ClientHello,
// ErrNotTLS when b does not start with a TLS handshake record, and an error
// matching ErrMalformedClientHello for anything else it rejects. It reads
// no byte past the ClientHello, so once it succeeds, appending bytes to b
// does not change its result. It never panics and allocates only sni and
// alpn.
//
// Parsing is strict: every length is checked against its container, a
// record is at most 16 KiB, the record version is 3.1 to 3.4, the
// message must end with its extensions, server_name and alpn may each
// appear once, the host name must be a DNS name (letters, digits, '-' and
// '.', labels of 1 to 63 bytes, at most 253 bytes, no trailing dot) and
// every ALPN protocol name must be non-empty.
func ParseClientHello(b []byte) (sni string, alpn []string, err error) {
	msg, err := handshakeMessage(b)
	if err != nil {
		return "", nil, err
	}
	return parseClientHelloBody(msg)
}

// handshakeMessage returns the body of the first handshake message (its
// 4-byte header removed), gathered from as many records as it spans. A
// message inside the first record is returned without copying; one split
// over records is copied together, once it is all there, so that feeding
// a ClientHello in small pieces costs a walk over the record headers per
// call and one allocation, bounded by len(b), at the end.
func handshakeMessage(b []byte) ([]byte, error) {
	var (
		hdr    [4]byte // the message's header, as far as seen
		filled int     // bytes of hdr filled
		got    int     // message bytes seen
		need   = -1    // message length with header, once known
		rest   = b
	)
	for first := true; need < 0 || got < need; first = false {
		if len(rest) == 0 {
			return nil, ErrNeedMore
		}
		if rest[0] != recordTypeHS {
			if first {
				return nil, ErrNotTLS
			}
			return nil, errRecordType
		}
		if len(rest) < 3 {
			return nil, ErrNeedMore
		}
		if rest[1] != 3 || rest[2] < 1 || rest[2] > 4 {
			if first {
				return nil, ErrNotTLS
			}
			return nil, errRecordVersion
		}
		if len(rest) < recordHeaderLen {
			return nil, ErrNeedMore
		}
		rlen := int(rest[3])<<8 | int(rest[4])
		switch {
		case rlen == 0:
			return nil, errEmptyRecord
		case rlen > maxRecordPayload:
			return nil, errRecordTooLong
		}
		frag := rest[recordHeaderLen:]
		complete := len(frag) >= rlen
		if complete {
			frag = frag[:rlen]
		}
		if first && len(frag) >= 4 && 4+hsLen(frag) <= len(frag) {
			// The common case: the whole message is in the first record.
			if frag[0] != hsTypeCH {
				return nil, errNotClientHello
			}
			return frag[4 : 4+hsLen(frag)], nil
		}
		for _, c := range frag {
			if filled == len(hdr) {
				break
			}
			hdr[filled] = c
			filled++
		}
		if filled > 0 && hdr[0] != hsTypeCH {
			return nil, errNotClientHello
		}
		got += len(frag)
		if need < 0 && filled == len(hdr) {
			need = 4 + hsLen(hdr[:])
		}
		if need >= 0 && got >= need {
			break
		}
		if !complete {
			return nil, ErrNeedMore
		}
		rest = rest[recordHeaderLen+rlen:]
	}
	// All need bytes are in b: collect them.
	msg := make([]byte, 0, need)
	for rest = b; len(msg) < need; {
		rlen := int(rest[3])<<8 | int(rest[4])
		frag := rest[recordHeaderLen:min(recordHeaderLen+rlen, len(rest))]
		msg = append(msg, frag[:min(len(frag), need-len(msg))]...)
		rest = rest[len(frag)+recordHeaderLen:]
	}
	return msg[4:], nil
}

// hsLen is the body length in a 4-byte handshake header.
func hsLen(h []byte) int { return int(h[1])<<16 | int(h[2])<<8 | int(h[3]) }

// reader reads big-endian fields from a byte slice; a read past the end
// sets bad and returns zeros.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])<<8 | int(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if len(r.b) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// parseClientHelloBody parses a ClientHello message body (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2).
func parseClientHelloBody(msg []byte) (sni string, alpn []string, err error) {
	r := reader{b: msg}
	if v := r.bytes(2); r.bad {
		return "", nil, errTruncated
	} else if v[0] != 3 {
		return "", nil, errClientVersion
	}
	r.bytes(32) // random
	sid := r.u8()
	if sid > 32 {
		return "", nil, errSessionID
	}
	r.bytes(sid)
	suites := r.u16()
	if !r.bad && (suites < 2 || suites%2 != 0) {
		return "", nil, errCipherSuites
	}
	r.bytes(suites)
	methods := r.u8()
	if !r.bad && methods < 1 {
		return "", nil, errCompression
	}
	r.bytes(methods)
	if r.bad {
		return "", nil, errTruncated
	}
	if len(r.b) == 0 {
		return "", nil, nil // no extensions (allowed before TLS 1.3)
	}
	n := r.u16()
	if r.bad || n != len(r.b) {
		if r.bad {
			return "", nil, errTruncated
		}
		if n > len(r.b) {
			return "", nil, errExtensionsLen
		}
		return "", nil, errTrailing
	}
	var sniData, alpnData []byte
	var seenSNI, seenALPN bool
	for len(r.b) > 0 {
		typ := r.u16()
		data := r.bytes(r.u16())
		if r.bad {
			return "", nil, errTruncated
		}
		switch typ {
		case extServerName:
			if seenSNI {
				return "", nil, errDuplicateExt
			}
			seenSNI, sniData = true, data
		case extALPN:
			if seenALPN {
				return "", nil, errDuplicateExt
			}
			seenALPN, alpnData = true, data
		}
	}
	if seenSNI {
		if sni, err = parseServerName(sniData); err != nil {
			return "", nil, err
		}
	}
	if seenALPN {
		if alpn, err = parseALPN(alpnData); err != nil {
			return "", nil, err
		}
	}
	return sni, alpn, nil
}

// parseServerName parses the server_name extension data (RFC 6066 §3):
// the host_name entry, lower-cased. Other name types are skipped.
func parseServerName(data []byte) (string, error) {
	r := reader{b: data}
	n := r.u16()
	if r.bad || n != len(r.b) || n == 0 {
		return "", errServerNameList
	}
	var host []byte
	found := false
	for len(r.b) > 0 {
		typ := r.u8()
		name := r.bytes(r.u16())
		if r.bad {
			return "", errServerNameList
		}
		if typ != 0 {
			continue
		}
		if found {
			return "", errServerNameTwice
		}
		host, found = name, true
	}
	if !found {
		return "", nil
	}
	return lowerHostName(host)
}

// lowerHostName validates a DNS host name and returns it lower-cased.
func lowerHostName(b []byte) (string, error) {
	if len(b) == 0 || len(b) > maxHostName {
		return "", errHostName
	}
	label, upper := 0, false
	for _, c := range b {
		switch {
		case c == '.':
			if label == 0 {
				return "", errHostName
			}
			label = 0
			continue
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-':
		default:
			return "", errHostName
		}
		if label++; label > 63 {
			return "", errHostName
		}
	}
	if label == 0 { // trailing dot
		return "", errHostName
	}
	if !upper {
		return string(b), nil
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out), nil
}

// parseALPN parses the application_layer_protocol_negotiation extension
// data (RFC 7301 §3.1).
func parseALPN(data []byte) ([]string, error) {
	r := reader{b: data}
	n := r.u16()
	if r.bad || n != len(r.b) || n < 2 {
		return nil, errALPNList
	}
	count := 0
	for i := 0; i < len(r.b); {
		l := int(r.b[i])
		if l == 0 || i+1+l > len(r.b) {
			return nil, errALPNList
		}
		i += 1 + l
		count++
	}
	out := make([]string, 0, count)
	for len(r.b) > 0 {
		out = append(out, protoName(r.bytes(r.u8())))
	}
	return out, nil
}

// protoName returns a protocol name as a string, without allocating for
// the common ones.
func protoName(b []byte) string {
	switch string(b) {
	case "h2":
		return "h2"
	case "http/1.1":
		return "http/1.1"
	case "http/1.0":
		return "http/1.0"
	case "h3":
		return "h3"
	case "acme-tls/1":
		return "acme-tls/1"
	}
	return string(b)
}
