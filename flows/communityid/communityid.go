// Package communityid computes Community ID v1 flow hashes
// (https://github.com/corelight/community-id-spec), so that a flow reported
// by tlsdissect can be joined with the same flow in Zeek or Suricata logs.
package communityid

import (
	"crypto/sha1"
	"encoding/base64"
	"net/netip"
)

// IANA protocol numbers of the transports whose ports take part in the hash.
const (
	ICMP   = 1
	TCP    = 6
	UDP    = 17
	ICMPv6 = 58
	SCTP   = 132
)

// prefix is the version tag of every v1 identifier.
const prefix = "1:"

// encodedLen is the length of a v1 identifier: the prefix and the base64 of a
// 20-byte SHA-1 (28 characters with padding).
const encodedLen = len(prefix) + 28

// V1 returns "1:<base64 sha1>" for the flow with the given seed.
//
// The endpoints are put in canonical order first (the smaller address, and
// for equal addresses the smaller port, comes first), so that both directions
// of a connection get the same identifier. Ports take part for TCP, UDP and
// SCTP; for ICMP and ICMPv6 the caller passes the type and code as the
// spec's port equivalents (src port = type, dst port = code or counterpart
// type); for any other protocol the ports are left out, as the spec says.
// An IPv4 address is hashed as its 4 bytes, an IPv6 one as its 16.
//
// V1 allocates only the returned string; AppendV1 allocates nothing.
func V1(seed uint16, proto uint8, src, dst netip.AddrPort) string {
	var buf [encodedLen]byte
	return string(AppendV1(buf[:0], seed, proto, src, dst))
}

// AppendV1 appends the identifier V1 would return to dst.
func AppendV1(dst []byte, seed uint16, proto uint8, src, dst2 netip.AddrPort) []byte {
	if !ordered(src, dst2) {
		src, dst2 = dst2, src
	}
	// seed(2) + two addresses (up to 16 each) + proto(1) + pad(1) + ports(2+2).
	var in [2 + 16 + 16 + 1 + 1 + 2 + 2]byte
	n := 0
	in[0], in[1] = byte(seed>>8), byte(seed)
	n = 2
	n += putAddr(in[n:], src.Addr())
	n += putAddr(in[n:], dst2.Addr())
	in[n] = proto
	in[n+1] = 0 // padding, always zero
	n += 2
	if hasPorts(proto) {
		sp, dp := src.Port(), dst2.Port()
		in[n], in[n+1], in[n+2], in[n+3] = byte(sp>>8), byte(sp), byte(dp>>8), byte(dp)
		n += 4
	}
	sum := sha1.Sum(in[:n])
	dst = append(dst, prefix...)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// hasPorts reports whether the spec hashes the port fields for proto.
func hasPorts(proto uint8) bool {
	switch proto {
	case TCP, UDP, SCTP, ICMP, ICMPv6:
		return true
	}
	return false
}

// putAddr writes a's network-order bytes to b and returns how many.
func putAddr(b []byte, a netip.Addr) int {
	if a.Is4() {
		v := a.As4()
		return copy(b, v[:])
	}
	v := a.As16()
	return copy(b, v[:])
}

// ordered reports whether a is the canonical first endpoint: its address is
// smaller than b's, or the addresses are equal and its port is not larger.
func ordered(a, b netip.AddrPort) bool {
	var ab, bb [16]byte
	na := putAddr(ab[:], a.Addr())
	nb := putAddr(bb[:], b.Addr())
	for i := 0; i < na && i < nb; i++ {
		if ab[i] != bb[i] {
			return ab[i] < bb[i]
		}
	}
	if na != nb {
		return na < nb
	}
	return a.Port() <= b.Port()
}
