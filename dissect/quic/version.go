package quic

import "strconv"

// Version is the 32-bit QUIC version of a long header (RFC 9000 section
// 15). 0 marks a Version Negotiation packet.
type Version uint32

const (
	VersionNegotiation Version = 0x00000000
	Version1           Version = 0x00000001 // RFC 9000
	Version2           Version = 0x6b3343cf // RFC 9369
	VersionDraft29     Version = 0xff00001d // draft-ietf-quic-transport-29
	VersionDraft30     Version = 0xff00001e
	VersionDraft31     Version = 0xff00001f
	VersionDraft32     Version = 0xff000020
)

// String names the version: "v1", "v2", "draft-29", "grease(0x1a2a3a4a)",
// or the number in hex.
func (v Version) String() string {
	switch v {
	case VersionNegotiation:
		return "version_negotiation"
	case Version1:
		return "v1"
	case Version2:
		return "v2"
	}
	if v&0xffffff00 == 0xff000000 {
		return "draft-" + strconv.Itoa(int(v&0xff))
	}
	if v.IsGrease() {
		return "grease(0x" + hex32(uint32(v)) + ")"
	}
	return "0x" + hex32(uint32(v))
}

// IsGrease reports a version reserved for exercising version negotiation,
// 0x?a?a?a?a (RFC 9000 section 15).
func (v Version) IsGrease() bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// Known reports whether this package knows the version's packet layout and
// Initial keys.
func (v Version) Known() bool { return v.params() != nil }

func hex32(v uint32) string {
	s := strconv.FormatUint(uint64(v), 16)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// versionParams holds what differs between versions: the Initial salt, the
// HKDF labels, the long-header type bits and the Retry integrity key.
type versionParams struct {
	salt                      []byte
	key, iv, hp, ku           string // HKDF-Expand-Label labels
	initial, zeroRTT, hs, rty uint8  // long packet type bits
	retryKey, retryNonce      []byte // nil: Retry integrity is not checked
}

// RFC 9001 section 5.2, RFC 9001 section 5.8.
var paramsV1 = versionParams{
	salt: []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a},
	key: "quic key", iv: "quic iv", hp: "quic hp", ku: "quic ku",
	initial: 0, zeroRTT: 1, hs: 2, rty: 3,
	retryKey: []byte{0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
		0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e},
	retryNonce: []byte{0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2,
		0x23, 0x98, 0x25, 0xbb},
}

// RFC 9369 sections 3.2, 3.3.1, 3.3.2, 3.3.3.
var paramsV2 = versionParams{
	salt: []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9},
	key: "quicv2 key", iv: "quicv2 iv", hp: "quicv2 hp", ku: "quicv2 ku",
	initial: 1, zeroRTT: 2, hs: 3, rty: 0,
	retryKey: []byte{0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
		0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92},
	retryNonce: []byte{0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99,
		0x90, 0xef, 0xb0, 0x4a},
}

// draft-ietf-quic-tls-29 section 5.2; drafts 30 to 32 kept its salt. Their
// Retry integrity key is not carried: Retry tags of drafts go unchecked.
var paramsDraft29 = draftParams([]byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99})

// draft-ietf-quic-tls-23 section 5.2, kept by drafts 24 to 28.
var paramsDraft23 = draftParams([]byte{0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
	0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02})

// draftParams are a draft's: v1's labels and type bits, its own salt.
func draftParams(salt []byte) versionParams {
	return versionParams{salt: salt, key: "quic key", iv: "quic iv", hp: "quic hp", ku: "quic ku",
		initial: 0, zeroRTT: 1, hs: 2, rty: 3}
}

func (v Version) params() *versionParams {
	switch v {
	case Version1:
		return &paramsV1
	case Version2:
		return &paramsV2
	case VersionDraft29, VersionDraft30, VersionDraft31, VersionDraft32:
		return &paramsDraft29
	}
	if v >= 0xff000017 && v <= 0xff00001c { // drafts 23 to 28
		return &paramsDraft23
	}
	return nil
}

// PacketType is the kind of a QUIC packet, independent of the version's
// type bits.
type PacketType uint8

const (
	PacketUnknown PacketType = iota // a long header of an unknown version
	PacketInitial
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
	Packet1RTT // short header
)

func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "initial"
	case Packet0RTT:
		return "0rtt"
	case PacketHandshake:
		return "handshake"
	case PacketRetry:
		return "retry"
	case PacketVersionNegotiation:
		return "version_negotiation"
	case Packet1RTT:
		return "1rtt"
	}
	return "unknown"
}

// Level is an encryption level (RFC 9001 section 2.1), which is also what
// a CRYPTO stream belongs to.
type Level uint8

const (
	LevelInitial Level = iota
	Level0RTT
	LevelHandshake
	Level1RTT
	numLevels
)

func (l Level) String() string {
	switch l {
	case LevelInitial:
		return "initial"
	case Level0RTT:
		return "0rtt"
	case LevelHandshake:
		return "handshake"
	case Level1RTT:
		return "1rtt"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// Level returns the encryption level of a packet type; Retry, Version
// Negotiation and unknown packets have none and report LevelInitial.
func (t PacketType) Level() Level {
	switch t {
	case Packet0RTT:
		return Level0RTT
	case PacketHandshake:
		return LevelHandshake
	case Packet1RTT:
		return Level1RTT
	}
	return LevelInitial
}

// space is the packet number space of a level (RFC 9000 section 12.3):
// 0-RTT and 1-RTT share the application space.
func (l Level) space() int {
	switch l {
	case LevelHandshake:
		return 1
	case Level0RTT, Level1RTT:
		return 2
	}
	return 0
}
