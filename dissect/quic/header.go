package quic

import (
	"encoding/binary"
	"errors"
)

// MaxConnIDLen is the longest connection ID QUIC version 1 and 2 allow
// (RFC 9000 section 17.2); the invariants (RFC 8999) allow 255.
const MaxConnIDLen = 20

// Header is the part of a packet readable without keys. Its slices alias
// the buffer handed to ParsePacket.
type Header struct {
	Type    PacketType
	Long    bool
	Version Version // long headers only
	// First is the first byte as on the wire: its low bits are still
	// under header protection (RFC 9001 section 5.4).
	First      byte
	DCID, SCID []byte
	Token      []byte // Initial: the token; Retry: the Retry Token
	// Length is the Length field of Initial, 0-RTT and Handshake packets:
	// packet number and payload, in bytes.
	Length uint64
	// PNOffset is where the (protected) packet number starts. Zero for
	// Retry and Version Negotiation.
	PNOffset int
	// Len is the size of this packet within the datagram: the next
	// coalesced packet, if any, starts there.
	Len int
	// Versions is the raw Supported Version list of a Version
	// Negotiation packet (4 bytes each); see SupportedVersions.
	Versions []byte
	// RetryTag is the Retry Integrity Tag (RFC 9001 section 5.8).
	RetryTag []byte
}

// SupportedVersions decodes the list of a Version Negotiation packet. The
// slice is sized from the bytes present.
func (h *Header) SupportedVersions() []Version {
	out := make([]Version, 0, len(h.Versions)/4)
	for b := h.Versions; len(b) >= 4; b = b[4:] {
		out = append(out, Version(binary.BigEndian.Uint32(b)))
	}
	return out
}

// FixedBit reports the QUIC Bit (0x40), which is 1 unless the peer
// negotiated grease_quic_bit (RFC 9287).
func (h *Header) FixedBit() bool { return h.First&0x40 != 0 }

// ParsePacket reads the header of the packet at the start of b. A short
// header does not say how long its Destination Connection ID is: the
// receiver chose it, so the caller passes shortDCIDLen.
//
// For a long header of an unknown version the version-independent fields
// (RFC 8999: version, connection IDs) are filled in, Len covers the rest
// of b, and the error wraps ErrUnsupportedVersion.
func ParsePacket(b []byte, shortDCIDLen int) (Header, error) {
	var h Header
	c := newCur("packet", b)
	if err := c.u8("first_byte", &h.First); err != nil {
		return h, err
	}
	if h.First&0x80 == 0 {
		h.Type = Packet1RTT
		c.msg = "1rtt"
		if shortDCIDLen < 0 || shortDCIDLen > MaxConnIDLen {
			return h, c.fail("dcid", ErrMalformed)
		}
		if err := c.bytes("dcid", shortDCIDLen, &h.DCID); err != nil {
			return h, err
		}
		h.PNOffset = c.off()
		h.Len = len(b)
		return h, nil
	}
	h.Long = true
	var v uint32
	if err := c.u32("version", &v); err != nil {
		return h, err
	}
	h.Version = Version(v)
	p := h.Version.params()
	maxCID := MaxConnIDLen
	if p == nil {
		maxCID = 255 // RFC 8999 section 5.1
	}
	var n uint8
	if err := c.u8("dcid_length", &n); err != nil {
		return h, err
	}
	if int(n) > maxCID && h.Version != VersionNegotiation {
		return h, c.fail("dcid_length", ErrMalformed)
	}
	if err := c.bytes("dcid", int(n), &h.DCID); err != nil {
		return h, err
	}
	if err := c.u8("scid_length", &n); err != nil {
		return h, err
	}
	if int(n) > maxCID && h.Version != VersionNegotiation {
		return h, c.fail("scid_length", ErrMalformed)
	}
	if err := c.bytes("scid", int(n), &h.SCID); err != nil {
		return h, err
	}
	if h.Version == VersionNegotiation {
		h.Type = PacketVersionNegotiation
		c.msg = "version_negotiation"
		h.Versions = c.rest()
		if len(h.Versions) == 0 {
			return h, c.fail("supported_versions", ErrTruncated)
		}
		if len(h.Versions)%4 != 0 {
			return h, c.fail("supported_versions", ErrMalformed)
		}
		h.Len = len(b)
		return h, nil
	}
	if p == nil {
		h.Len = len(b)
		return h, c.fail("version", ErrUnsupportedVersion)
	}
	switch (h.First >> 4) & 3 {
	case p.initial:
		h.Type = PacketInitial
	case p.zeroRTT:
		h.Type = Packet0RTT
	case p.hs:
		h.Type = PacketHandshake
	default:
		h.Type = PacketRetry
	}
	c.msg = h.Type.String()
	if h.Type == PacketRetry {
		rest := c.rest()
		if len(rest) < 16 {
			return h, c.fail("retry_integrity_tag", ErrTruncated)
		}
		h.Token, h.RetryTag = rest[:len(rest)-16], rest[len(rest)-16:]
		h.Len = len(b)
		return h, nil
	}
	if h.Type == PacketInitial {
		if err := c.vlen("token", &h.Token); err != nil {
			return h, err
		}
	}
	save := c.s
	if err := c.varint("length", &h.Length); err != nil {
		return h, err
	}
	if h.Length > uint64(len(c.s)) {
		c.s = save
		return h, c.fail("length", ErrTruncated)
	}
	h.PNOffset = c.off()
	h.Len = h.PNOffset + int(h.Length)
	return h, nil
}

// LooksLikeQUIC reports whether a UDP payload starts with a QUIC long
// header worth dissecting, whatever the port: the header form and fixed
// bits set, a version this package knows (or Version Negotiation),
// connection IDs within limits and a Length that fits the datagram.
func LooksLikeQUIC(payload []byte) bool {
	if len(payload) < 7 || payload[0]&0xc0 != 0xc0 {
		return false
	}
	h, err := ParsePacket(payload, 0)
	if err != nil {
		return false
	}
	switch h.Type {
	case PacketVersionNegotiation:
		return len(h.DCID) <= MaxConnIDLen && len(h.SCID) <= MaxConnIDLen
	case PacketInitial, PacketHandshake, Packet0RTT:
		// Header protection needs 4 bytes of packet number room and a
		// 16-byte sample; an AEAD tag follows.
		return h.Length >= 20
	case PacketRetry:
		return len(h.SCID) > 0
	}
	return false
}

// LooksLikeClientInitial reports whether a UDP payload starts with an
// Initial packet as a client sends it: LooksLikeQUIC, the Initial type, a
// Destination Connection ID of at least 8 bytes (RFC 9000 section 7.2) in
// a datagram of at least 1200 bytes (section 14.1). A dissector that
// meets a flow midway uses it to tell which side is the client.
func LooksLikeClientInitial(payload []byte) bool {
	if len(payload) < 1200 || !LooksLikeQUIC(payload) {
		return false
	}
	h, err := ParsePacket(payload, 0)
	return err == nil && h.Type == PacketInitial && len(h.DCID) >= 8
}

// isUnsupported reports an ErrUnsupportedVersion from ParsePacket.
func isUnsupported(err error) bool { return errors.Is(err, ErrUnsupportedVersion) }
