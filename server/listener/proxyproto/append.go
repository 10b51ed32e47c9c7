package proxyproto

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"net/netip"
	"strconv"
)

// AppendV1 appends h as a version 1 (text) header to dst, e.g.
// "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n", and returns the
// extended slice. Source and Destination must both be *net.TCPAddr, or
// both nil, which is written as "PROXY UNKNOWN\r\n" (as is a Local
// command). If either is IPv6, or Transport is TCP6, both are written as
// IPv6 (IPv4 as IPv4-mapped). v1
// cannot carry TLVs, UDP, Unix addresses or IPv6 zones: those are a
// [*HeaderError] and dst is returned unchanged.
func (h *Header) AppendV1(dst []byte) ([]byte, error) {
	if len(h.TLVs) > 0 {
		return dst, v1Error("cannot carry TLVs")
	}
	if h.Command == Local || (h.Source == nil && h.Destination == nil) {
		if h.Command > Proxy {
			return dst, v1Error(fmt.Sprintf("unknown command %#x", uint8(h.Command)))
		}
		return append(dst, "PROXY UNKNOWN\r\n"...), nil
	}
	if h.Command != Proxy {
		return dst, v1Error(fmt.Sprintf("unknown command %#x", uint8(h.Command)))
	}
	src, sok := h.Source.(*net.TCPAddr)
	dst2, dok := h.Destination.(*net.TCPAddr)
	if !sok || !dok {
		return dst, v1Error(fmt.Sprintf("cannot carry %T and %T addresses, only *net.TCPAddr", h.Source, h.Destination))
	}
	sip, dip, v4, err := ipPair(h.Transport == TCP6, src.IP, src.Zone, src.Port, dst2.IP, dst2.Zone, dst2.Port)
	if err != nil {
		return dst, v1Error(err.Error())
	}
	if v4 {
		dst = append(dst, "PROXY TCP4 "...)
	} else {
		dst = append(dst, "PROXY TCP6 "...)
	}
	sa, _ := netip.AddrFromSlice(sip) // 4 or 16 bytes: cannot fail
	da, _ := netip.AddrFromSlice(dip)
	dst = sa.AppendTo(dst)
	dst = append(dst, ' ')
	dst = da.AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(src.Port), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(dst2.Port), 10)
	return append(dst, '\r', '\n'), nil
}

// ipPair checks two IP endpoints and returns them both as 4-byte IPs if
// both are IPv4 and !force6, else both as 16-byte IPs.
func ipPair(force6 bool, sip net.IP, szone string, sport int, dip net.IP, dzone string, dport int) (s, d net.IP, v4 bool, err error) {
	switch {
	case sip.To16() == nil:
		return nil, nil, false, fmt.Errorf("bad source IP %v", sip)
	case dip.To16() == nil:
		return nil, nil, false, fmt.Errorf("bad destination IP %v", dip)
	case szone != "" || dzone != "":
		return nil, nil, false, fmt.Errorf("cannot carry an IPv6 zone")
	case sport < 0 || sport > 0xFFFF:
		return nil, nil, false, fmt.Errorf("bad source port %d", sport)
	case dport < 0 || dport > 0xFFFF:
		return nil, nil, false, fmt.Errorf("bad destination port %d", dport)
	}
	if s4, d4 := sip.To4(), dip.To4(); s4 != nil && d4 != nil && !force6 {
		return s4, d4, true, nil
	}
	return sip.To16(), dip.To16(), false, nil
}

// AppendV2 appends h as a version 2 (binary) header to dst and returns the
// extended slice. Source and Destination must both be *net.TCPAddr, both
// *net.UDPAddr (written as IPv6 if either is IPv6 or Transport is TCP6 or
// UDP6), both *net.UnixAddr of the same Net ("unix" or "unixgram";
// "@name" is an abstract address), or both nil (family UNSPEC). A Local
// command writes no addresses. TLVs are written in order; a TypeCRC32C TLV
// gets the header's checksum whatever its value. On a [*HeaderError] (a
// path over 108 bytes, a header over 65535 bytes, …) dst is returned
// unchanged.
func (h *Header) AppendV2(dst []byte) ([]byte, error) {
	start := len(dst)
	if h.Command > Proxy {
		return dst, v2Error("unknown command %#x", uint8(h.Command))
	}
	out := append(dst, sigV2...)
	out = append(out, 0x20|byte(h.Command), byte(Unspec), 0, 0)
	if h.Command == Proxy {
		tr, b, err := appendV2Addrs(out, h.Transport, h.Source, h.Destination)
		if err != nil {
			return dst, err
		}
		out = b
		out[start+13] = byte(tr)
	}
	crcAt := -1
	for _, t := range h.TLVs {
		if t.Type == TypeCRC32C {
			if crcAt >= 0 {
				return dst, v2Error("more than one CRC32C TLV")
			}
			crcAt = len(out) + 3
			out = append(out, byte(TypeCRC32C), 0, 4, 0, 0, 0, 0)
			continue
		}
		if len(t.Value) > 0xFFFF {
			return dst, v2Error("TLV %#02x of %d bytes exceeds 65535", uint8(t.Type), len(t.Value))
		}
		out = append(out, byte(t.Type), byte(len(t.Value)>>8), byte(len(t.Value)))
		out = append(out, t.Value...)
	}
	length := len(out) - start - v2FixedLen
	if length > 0xFFFF {
		return dst, v2Error("header of %d bytes exceeds 65535", length)
	}
	binary.BigEndian.PutUint16(out[start+14:], uint16(length))
	if crcAt >= 0 {
		binary.BigEndian.PutUint32(out[crcAt:], crc32.Checksum(out[start:], castagnoli))
	}
	return out, nil
}

// appendV2Addrs appends the address block for src and dst.
func appendV2Addrs(b []byte, tr Transport, src, dst net.Addr) (Transport, []byte, error) {
	if src == nil && dst == nil {
		return Unspec, b, nil
	}
	switch s := src.(type) {
	case *net.TCPAddr:
		if d, ok := dst.(*net.TCPAddr); ok {
			return appendIPs(b, tr == TCP6, TCP4, TCP6, s.IP, s.Zone, s.Port, d.IP, d.Zone, d.Port)
		}
	case *net.UDPAddr:
		if d, ok := dst.(*net.UDPAddr); ok {
			return appendIPs(b, tr == UDP6, UDP4, UDP6, s.IP, s.Zone, s.Port, d.IP, d.Zone, d.Port)
		}
	case *net.UnixAddr:
		if d, ok := dst.(*net.UnixAddr); ok {
			return appendUnix(b, s, d)
		}
	}
	return Unspec, b, v2Error("cannot carry %T and %T addresses together", src, dst)
}

func appendIPs(b []byte, force6 bool, tr4, tr6 Transport, sip net.IP, szone string, sport int, dip net.IP, dzone string, dport int) (Transport, []byte, error) {
	s, d, v4, err := ipPair(force6, sip, szone, sport, dip, dzone, dport)
	if err != nil {
		return Unspec, b, &HeaderError{Version: 2, Reason: err.Error()}
	}
	tr := tr6
	if v4 {
		tr = tr4
	}
	b = append(b, s...)
	b = append(b, d...)
	b = binary.BigEndian.AppendUint16(b, uint16(sport))
	b = binary.BigEndian.AppendUint16(b, uint16(dport))
	return tr, b, nil
}

func appendUnix(b []byte, s, d *net.UnixAddr) (Transport, []byte, error) {
	tr := UnixStream
	switch s.Net {
	case "unix", "":
	case "unixgram":
		tr = UnixDatagram
	default:
		return Unspec, b, v2Error("cannot carry network %q", s.Net)
	}
	if d.Net != s.Net && !(d.Net == "" && s.Net == "unix") && !(s.Net == "" && d.Net == "unix") {
		return Unspec, b, v2Error("source network %q differs from destination %q", s.Net, d.Net)
	}
	for _, name := range [2]string{s.Name, d.Name} {
		if len(name) > unixPathLen {
			return Unspec, b, v2Error("unix path of %d bytes exceeds %d", len(name), unixPathLen)
		}
		var p [unixPathLen]byte
		copy(p[:], name)
		if len(name) > 1 && name[0] == '@' {
			p[0] = 0 // Linux abstract address; "@" alone stays a path
		}
		b = append(b, p[:]...)
	}
	return tr, b, nil
}
