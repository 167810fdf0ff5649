package dtls

// PayloadKind is what a UDP payload is, by its first byte, on a port that
// several protocols share (RFC 7983 7, updated by RFC 9443 for QUIC):
// WebRTC runs STUN, DTLS and SRTP on one 5-tuple, and the first byte
// tells them apart.
type PayloadKind uint8

const (
	KindUnknown     PayloadKind = iota // 4-15, or empty: RFC 7983 says drop
	KindSTUN                           // 0-3 (RFC 5389 / 8489: the top two bits are zero)
	KindZRTP                           // 16-19
	KindDTLS                           // 20-63
	KindTURNChannel                    // 64-79 (RFC 8656 channel numbers 0x4000-0x4fff)
	KindQUIC                           // 80-127 and 192-255 (RFC 9443)
	KindRTP                            // 128-191: RTP and RTCP (version 2)
)

func (k PayloadKind) String() string {
	switch k {
	case KindSTUN:
		return "stun"
	case KindZRTP:
		return "zrtp"
	case KindDTLS:
		return "dtls"
	case KindTURNChannel:
		return "turn_channel"
	case KindQUIC:
		return "quic"
	case KindRTP:
		return "rtp"
	}
	return "unknown"
}

// Classify returns the kind of a UDP payload by its first byte. It is
// only the first step: a payload in the DTLS range is DTLS only if
// LooksLikeDTLS agrees, and QUIC's short header overlaps TURN channels
// (64-79) and its long header RTP (192-255 is QUIC, 128-191 RTP) when the
// QUIC bit is greased.
func Classify(b []byte) PayloadKind {
	if len(b) == 0 {
		return KindUnknown
	}
	switch x := b[0]; {
	case x <= 3:
		return KindSTUN
	case x <= 15:
		return KindUnknown
	case x <= 19:
		return KindZRTP
	case x <= 63:
		return KindDTLS
	case x <= 79:
		return KindTURNChannel
	case x <= 127:
		return KindQUIC
	case x <= 191:
		return KindRTP
	}
	return KindQUIC
}

// stunMagicCookie is the fixed word at bytes 4-7 of every RFC 5389
// message.
const stunMagicCookie = 0x2112a442

// LooksLikeSTUN reports whether b is an RFC 5389/8489 STUN message: top
// two bits zero, a length that is a multiple of 4 and fills the datagram
// after the 20-byte header, and the magic cookie.
func LooksLikeSTUN(b []byte) bool {
	if len(b) < 20 || b[0]&0xc0 != 0 {
		return false
	}
	n := int(b[2])<<8 | int(b[3])
	cookie := uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	return n%4 == 0 && 20+n == len(b) && cookie == stunMagicCookie
}

// LooksLikeDTLS is the cheap test for DTLS on any port: every record of the
// datagram has a plausible header (a DTLS content type and version, a
// length within MaxRecordLen) and the records fill the datagram exactly.
// A unified-header record (DTLS 1.3 ciphertext) counts only with its
// length field or as the datagram's last record, and only without a
// connection ID (whose length only the hellos tell); a tls12_cid record
// is tried with the CID lengths 0 to 32. The first record of an
// association is a plaintext ClientHello, which always passes.
func LooksLikeDTLS(b []byte) bool {
	if len(b) < 1 || b[0] < 20 || b[0] > 63 {
		return false
	}
	return walk(b, CIDUnknown)
}

// walk reports whether b is a sequence of plausible records. cid is the
// CID length of tls12_cid records, once guessed: the guess recurses once.
func walk(b []byte, cid int) bool {
	for len(b) > 0 {
		if b[0]&unifiedFixMask == unifiedFixed && b[0]&unifiedCID != 0 {
			return false
		}
		if b[0] == byte(ContentTLS12CID) && cid == CIDUnknown {
			for n := 0; n <= 32; n++ {
				if walk(b, n) {
					return true
				}
			}
			return false
		}
		r, used, err := ParseRecord(b, cid)
		if err != nil || r.Type > ContentACK {
			return false
		}
		b = b[used:]
	}
	return true
}
