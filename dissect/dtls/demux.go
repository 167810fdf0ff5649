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

// LooksLikeDTLS is the port-independent test for DTLS: the datagram
// begins with a sane plain record header (a content type of 20-26, a
// version of 0xfeff, 0xfefd or 0xfefc, a length within MaxRecordLen and
// within the datagram; a plaintext handshake record must begin with a
// handshake fragment that parses), and what follows is more records that
// fill the datagram exactly. Later records may have the unified header
// (DTLS 1.3 coalesces ciphertext after a plaintext ServerHello) or be
// tls12_cid records, whose CID length is tried from 0 to 32.
//
// A datagram of unified-header records only is not claimed: its first
// byte and length are all there is to check. Conn.Plausible accepts
// those once the association's handshake was seen.
func LooksLikeDTLS(b []byte) bool {
	if len(b) < PlainHeaderLen || b[0] < 20 || b[0] > byte(ContentACK) || b[0] == byte(ContentTLS12CID) {
		return false
	}
	v := Version(uint16(b[1])<<8 | uint16(b[2]))
	switch v {
	case VersionDTLS10, VersionDTLS12, VersionDTLS13, VersionDTLS10OpenSSL:
	default:
		return false
	}
	r, n, err := ParseRecord(b, CIDUnknown)
	if err != nil {
		return false
	}
	if v == VersionDTLS10OpenSSL && !(r.Type == ContentHandshake && r.Epoch == 0) && !(r.Type == ContentApplicationData && r.Epoch > 0) {
		// 0x0100 is a weaker sign than the standard versions: OpenSSL's
		// old DTLS is claimed on its hellos, or on application data met
		// in the middle of a session, nothing else.
		return false
	}
	if r.Type == ContentHandshake && r.Epoch == 0 {
		if _, _, err := ParseFragment(r.Fragment); err != nil {
			return false
		}
	}
	rest := b[n:]
	if len(rest) == 0 || fits(rest, CIDUnknown) {
		return true
	}
	_, ok := guessCID(rest)
	return ok
}
