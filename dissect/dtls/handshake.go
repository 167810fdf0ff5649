package dtls

import "golang.org/x/crypto/cryptobyte"

// HandshakeHeaderLen is the DTLS handshake header: msg_type, length,
// message_seq, fragment_offset, fragment_length (RFC 6347 4.2.2).
const HandshakeHeaderLen = 12

// MaxMessageLen is the largest handshake message the 24-bit length field
// can announce.
const MaxMessageLen = 1<<24 - 1

// Fragment is the header of one handshake fragment, with its bytes.
type Fragment struct {
	Type       HandshakeType
	Length     int // of the whole message
	MessageSeq uint16
	Offset     int // fragment_offset
	Data       []byte
}

// ParseFragment parses the handshake fragment at the start of b (a
// plaintext handshake record's body, which may hold several) and returns
// it and the bytes it takes. Data aliases b. The fragment must lie within
// its message (fragment_offset + fragment_length <= length) and within b.
func ParseFragment(b []byte) (Fragment, int, error) {
	c := newCur("handshake", b)
	var f Fragment
	var typ uint8
	var length, off, flen uint32
	if err := c.u8("msg_type", &typ); err != nil {
		return Fragment{}, 0, err
	}
	if err := c.u24("length", &length); err != nil {
		return Fragment{}, 0, err
	}
	if err := c.u16("message_seq", &f.MessageSeq); err != nil {
		return Fragment{}, 0, err
	}
	if err := c.u24("fragment_offset", &off); err != nil {
		return Fragment{}, 0, err
	}
	if err := c.u24("fragment_length", &flen); err != nil {
		return Fragment{}, 0, err
	}
	if uint64(off)+uint64(flen) > uint64(length) {
		return Fragment{}, 0, &ParseError{Msg: "handshake", Field: "fragment_length", Offset: 9, Err: ErrMalformed}
	}
	if err := c.bytes("fragment", int(flen), &f.Data); err != nil {
		return Fragment{}, 0, err
	}
	f.Type, f.Length, f.Offset = HandshakeType(typ), int(length), int(off)
	return f, HandshakeHeaderLen + int(flen), nil
}

// AppendFragment appends a handshake fragment (header and data) to dst:
// the builder side of ParseFragment.
func AppendFragment(dst []byte, typ HandshakeType, length int, seq uint16, off int, data []byte) []byte {
	n := len(data)
	dst = append(dst, byte(typ), byte(length>>16), byte(length>>8), byte(length),
		byte(seq>>8), byte(seq), byte(off>>16), byte(off>>8), byte(off),
		byte(n>>16), byte(n>>8), byte(n))
	return append(dst, data...)
}

// HelloVerifyRequest is the server's cookie challenge (RFC 6347 4.2.1).
// Cookie aliases the parsed body.
type HelloVerifyRequest struct {
	ServerVersion Version
	Cookie        []byte
}

// ParseHelloVerifyRequest parses a HelloVerifyRequest body (without its
// handshake header): server_version, opaque cookie<0..2^8-1>.
func ParseHelloVerifyRequest(body []byte) (HelloVerifyRequest, error) {
	c := newCur("hello_verify_request", body)
	var h HelloVerifyRequest
	var v uint16
	if err := c.u16("server_version", &v); err != nil {
		return h, err
	}
	h.ServerVersion = Version(v)
	ck, err := c.vec8("cookie")
	if err != nil {
		return h, err
	}
	h.Cookie = ck.rest()
	return h, c.done("cookie")
}

// ClientHelloTLS converts a DTLS ClientHello body to the TLS layout, so
// that a TLS ClientHello parser reads it unchanged. The DTLS body (RFC
// 6347 4.2.1) is
//
//	ProtocolVersion client_version;        2 bytes (0xfeff, 0xfefd)
//	Random random;                         32 bytes
//	SessionID session_id;                  uint8 length, 0..32 bytes
//	opaque cookie<0..2^8-1>;               uint8 length, then the cookie  <- DTLS only
//	CipherSuite cipher_suites<2..2^16-2>;  uint16 length
//	CompressionMethod compression_methods<1..2^8-1>; uint8 length
//	Extension extensions<0..2^16-1>;       uint16 length, optional
//
// and the TLS one (RFC 5246 7.4.1.2, RFC 8446 4.1.2) is the same without
// the cookie line; client_version stays the DTLS value. ClientHelloTLS
// appends the body without the cookie's length byte and bytes to dst and
// returns it, and the cookie, which aliases body. The framing of every
// vector is checked (session ID of 32 bytes at most, non-empty
// cipher_suites of even length, non-empty compression methods, an
// extensions block that fills the rest), so that what is returned is a
// hello the TLS parser can frame; the contents are left to it. On error
// dst is returned unchanged.
func ClientHelloTLS(dst, body []byte) (tls, cookie []byte, err error) {
	c := newCur("client_hello", body)
	var skip []byte
	if err := c.bytes("client_version", 2, &skip); err != nil {
		return dst, nil, err
	}
	if err := c.bytes("random", 32, &skip); err != nil {
		return dst, nil, err
	}
	sid, err := c.vec8("session_id")
	if err != nil {
		return dst, nil, err
	}
	if len(sid.s) > 32 {
		return dst, nil, sid.fail("session_id", ErrMalformed)
	}
	cookieStart := c.off()
	ck, err := c.vec8("cookie")
	if err != nil {
		return dst, nil, err
	}
	cookie = ck.rest()
	cookieEnd := c.off()
	cs, err := c.vec16("cipher_suites")
	if err != nil {
		return dst, nil, err
	}
	if len(cs.s) == 0 || len(cs.s)%2 != 0 {
		return dst, nil, cs.fail("cipher_suites", ErrMalformed)
	}
	cm, err := c.vec8("compression_methods")
	if err != nil {
		return dst, nil, err
	}
	if cm.empty() {
		return dst, nil, cm.fail("compression_methods", ErrMalformed)
	}
	if !c.empty() {
		if _, err := c.vec16("extensions"); err != nil {
			return dst, nil, err
		}
		if err := c.done("extensions"); err != nil {
			return dst, nil, err
		}
	}
	dst = append(dst, body[:cookieStart]...)
	dst = append(dst, body[cookieEnd:]...)
	return dst, cookie, nil
}

// helloExtensions returns the extensions block of a DTLS ClientHello
// (client) or ServerHello body, empty when the hello has none. The
// ServerHello of DTLS 1.3 has the TLS 1.3 layout, which is the same.
func helloExtensions(body []byte, client bool) (cur, error) {
	msg := "server_hello"
	if client {
		msg = "client_hello"
	}
	c := newCur(msg, body)
	var skip []byte
	if err := c.bytes("version", 2, &skip); err != nil {
		return cur{}, err
	}
	if err := c.bytes("random", 32, &skip); err != nil {
		return cur{}, err
	}
	if _, err := c.vec8("session_id"); err != nil {
		return cur{}, err
	}
	if client {
		if _, err := c.vec8("cookie"); err != nil {
			return cur{}, err
		}
		if _, err := c.vec16("cipher_suites"); err != nil {
			return cur{}, err
		}
		if _, err := c.vec8("compression_methods"); err != nil {
			return cur{}, err
		}
	} else if err := c.bytes("cipher_suite", 3, &skip); err != nil { // and compression_method
		return cur{}, err
	}
	if c.empty() {
		return c, nil
	}
	ext, err := c.vec16("extensions")
	if err != nil {
		return cur{}, err
	}
	return ext, c.done("extensions")
}

// FindExtension returns the data of the extension typ in a DTLS
// ClientHello (client) or ServerHello body, aliasing body, and whether it
// is there.
func FindExtension(body []byte, client bool, typ uint16) ([]byte, bool, error) {
	ext, err := helloExtensions(body, client)
	if err != nil {
		return nil, false, err
	}
	for !ext.empty() {
		var t uint16
		if err := ext.u16("extension_type", &t); err != nil {
			return nil, false, err
		}
		data, err := ext.vec16("extension_data")
		if err != nil {
			return nil, false, err
		}
		if t == typ {
			return data.rest(), true, nil
		}
	}
	return nil, false, nil
}

// ParseConnectionID parses the connection_id extension's data (RFC 9146
// 3: opaque cid<0..2^8-1>): the CID its sender wants to receive. The
// result aliases data.
func ParseConnectionID(data []byte) ([]byte, error) {
	c := newCur("connection_id", data)
	cid, err := c.vec8("cid")
	if err != nil {
		return nil, err
	}
	return cid.rest(), c.done("cid")
}

// isHelloRetryRequest reports whether a ServerHello body has the special
// Random of a HelloRetryRequest (RFC 8446 4.1.3; DTLS 1.3 keeps it).
func isHelloRetryRequest(body []byte) bool {
	s := cryptobyte.String(body)
	var random []byte
	return s.Skip(2) && s.ReadBytes(&random, 32) && string(random) == helloRetryRandom
}

// helloRetryRandom is SHA-256("HelloRetryRequest").
const helloRetryRandom = "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91" +
	"\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"

// ClientHelloMessageTLS is ClientHelloTLS for a whole message as a Conn
// delivers it (msg_type 1, uint24 length, DTLS ClientHello body): it
// appends to dst the TLS message, with the length fixed for the body
// without its cookie, and returns the cookie, which aliases msg.
func ClientHelloMessageTLS(dst, msg []byte) (tls, cookie []byte, err error) {
	c := newCur("client_hello", msg)
	var typ uint8
	var n uint32
	if err := c.u8("msg_type", &typ); err != nil {
		return dst, nil, err
	}
	if HandshakeType(typ) != TypeClientHello {
		return dst, nil, &ParseError{Msg: "client_hello", Field: "msg_type", Err: ErrMalformed}
	}
	if err := c.u24("length", &n); err != nil {
		return dst, nil, err
	}
	if int(n) != len(c.s) {
		if int(n) > len(c.s) {
			return dst, nil, c.fail("length", ErrTruncated)
		}
		return dst, nil, c.fail("length", ErrMalformed)
	}
	start := len(dst)
	dst = appendTLSHeader(dst, TypeClientHello, 0)
	dst, cookie, err = ClientHelloTLS(dst, c.rest())
	if err != nil {
		return dst[:start], nil, err
	}
	body := len(dst) - start - 4
	dst[start+1], dst[start+2], dst[start+3] = byte(body>>16), byte(body>>8), byte(body)
	return dst, cookie, nil
}

// clientHelloCookie returns the cookie of a DTLS ClientHello body,
// aliasing it.
func clientHelloCookie(body []byte) ([]byte, error) {
	c := newCur("client_hello", body)
	var skip []byte
	if err := c.bytes("client_version", 2, &skip); err != nil {
		return nil, err
	}
	if err := c.bytes("random", 32, &skip); err != nil {
		return nil, err
	}
	if _, err := c.vec8("session_id"); err != nil {
		return nil, err
	}
	ck, err := c.vec8("cookie")
	if err != nil {
		return nil, err
	}
	return ck.rest(), nil
}
