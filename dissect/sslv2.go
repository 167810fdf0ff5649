package dissect

import "bytes"

// SSL 2.0 message types (SSL 2.0 specification, appendix "Protocol Constant
// Values").
const (
	sslv2MsgError       = 0
	sslv2MsgClientHello = 1
	sslv2MsgServerHello = 4
)

// sslv2Header reads an SSL 2.0 record header: two bytes with the high bit
// set (15-bit length), or three bytes (14-bit length, then a padding count).
// It returns the header length and the record length that follows it; ok is
// false when more bytes are needed or the header cannot be SSLv2.
func sslv2Header(b []byte) (hdrLen, bodyLen int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	if b[0]&0x80 != 0 {
		return 2, int(b[0]&0x7f)<<8 | int(b[1]), true
	}
	if len(b) < 3 || b[0]&0x40 != 0 { // the escape bit marks a security escape: not a hello
		return 0, 0, false
	}
	return 3, int(b[0]&0x3f)<<8 | int(b[1]), true
}

// sslv2Body splits an SSLv2 record (header included) into its body, without
// the 3-byte header's padding bytes.
func sslv2Body(msg string, record []byte) ([]byte, error) {
	h, n, ok := sslv2Header(record)
	if !ok {
		return nil, &ParseError{Msg: msg, Field: "record header", Offset: 0, Err: ErrTruncated}
	}
	if len(record) < h+n {
		return nil, &ParseError{Msg: msg, Field: "record length", Offset: 0, Err: ErrTruncated}
	}
	body := record[h : h+n]
	if h == 3 {
		pad := int(record[2])
		if pad > len(body) {
			return nil, &ParseError{Msg: msg, Field: "padding", Offset: 2, Err: ErrMalformed}
		}
		body = body[:len(body)-pad]
	}
	return body, nil
}

// ParseSSLv2ClientHello parses an SSL 2.0 CLIENT-HELLO record, header
// included, as sent by SSLv2 clients and by SSLv3/TLS clients that want to
// reach SSLv2 servers (RFC 5246 appendix E.2). Cipher specs whose first byte
// is 0 are TLS suites and also appear in CipherSuites; the challenge becomes
// the Random, right-aligned and zero-padded as E.2 prescribes.
func ParseSSLv2ClientHello(record []byte) (*ClientHello, error) {
	body, err := sslv2Body("sslv2_client_hello", record)
	if err != nil {
		return nil, err
	}
	body = bytes.Clone(body)
	c := newCur("sslv2_client_hello", body)
	var typ uint8
	if err := c.u8("msg_type", &typ); err != nil {
		return nil, err
	}
	if typ != sslv2MsgClientHello {
		return nil, c.fail("msg_type", ErrMalformed)
	}
	var v, specLen, sidLen, chalLen uint16
	if err := c.u16("version", &v); err != nil {
		return nil, err
	}
	if err := c.u16("cipher_spec_length", &specLen); err != nil {
		return nil, err
	}
	if err := c.u16("session_id_length", &sidLen); err != nil {
		return nil, err
	}
	if err := c.u16("challenge_length", &chalLen); err != nil {
		return nil, err
	}
	if specLen == 0 || specLen%3 != 0 {
		return nil, c.fail("cipher_spec_length", ErrMalformed)
	}
	if sidLen != 0 && sidLen != 16 {
		return nil, c.fail("session_id_length", ErrMalformed)
	}
	if chalLen < 16 || chalLen > 32 {
		return nil, c.fail("challenge_length", ErrMalformed)
	}
	var specs, sid, chal []byte
	if err := c.bytes("cipher_specs", int(specLen), &specs); err != nil {
		return nil, err
	}
	if err := c.bytes("session_id", int(sidLen), &sid); err != nil {
		return nil, err
	}
	if err := c.bytes("challenge", int(chalLen), &chal); err != nil {
		return nil, err
	}
	if err := c.done("challenge"); err != nil {
		return nil, err
	}
	ch := &ClientHello{
		LegacyVersion:      Version(v),
		FromSSLv2:          true,
		SessionID:          sid,
		CompressionMethods: []uint8{0},
		Random:             make([]byte, 32),
		SSLv2CipherSpecs:   make([]uint32, 0, len(specs)/3),
	}
	copy(ch.Random[32-len(chal):], chal)
	for i := 0; i+3 <= len(specs); i += 3 {
		k := uint32(specs[i])<<16 | uint32(specs[i+1])<<8 | uint32(specs[i+2])
		ch.SSLv2CipherSpecs = append(ch.SSLv2CipherSpecs, k)
		if specs[i] == 0 {
			s := uint16(k)
			ch.CipherSuites = append(ch.CipherSuites, s)
			if s == scsvRenegotiation {
				ch.SecureRenegotiation = true
			}
		}
	}
	return ch, nil
}

// ParseSSLv2ServerHello parses an SSL 2.0 SERVER-HELLO record, header included.
func ParseSSLv2ServerHello(record []byte) (*SSLv2ServerHello, error) {
	body, err := sslv2Body("sslv2_server_hello", record)
	if err != nil {
		return nil, err
	}
	body = bytes.Clone(body)
	c := newCur("sslv2_server_hello", body)
	var typ, hit, certType uint8
	var v, certLen, specLen, connLen uint16
	if err := c.u8("msg_type", &typ); err != nil {
		return nil, err
	}
	if typ != sslv2MsgServerHello {
		return nil, c.fail("msg_type", ErrMalformed)
	}
	for _, f := range []struct {
		name string
		p    *uint8
	}{{"session_id_hit", &hit}, {"certificate_type", &certType}} {
		if err := c.u8(f.name, f.p); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		p    *uint16
	}{{"server_version", &v}, {"certificate_length", &certLen}, {"cipher_specs_length", &specLen}, {"connection_id_length", &connLen}} {
		if err := c.u16(f.name, f.p); err != nil {
			return nil, err
		}
	}
	if specLen%3 != 0 {
		return nil, c.fail("cipher_specs_length", ErrMalformed)
	}
	sh := &SSLv2ServerHello{SessionIDHit: hit != 0, CertificateType: certType, Version: Version(v)}
	var specs []byte
	if err := c.bytes("certificate", int(certLen), &sh.Certificate); err != nil {
		return nil, err
	}
	if err := c.bytes("cipher_specs", int(specLen), &specs); err != nil {
		return nil, err
	}
	if err := c.bytes("connection_id", int(connLen), &sh.ConnectionID); err != nil {
		return nil, err
	}
	if err := c.done("connection_id"); err != nil {
		return nil, err
	}
	sh.CipherSpecs = make([]uint32, 0, len(specs)/3)
	for i := 0; i+3 <= len(specs); i += 3 {
		sh.CipherSpecs = append(sh.CipherSpecs, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
	}
	return sh, nil
}

// ParseSSLv2Error parses an SSL 2.0 ERROR record, header included.
func ParseSSLv2Error(record []byte) (*SSLv2Error, error) {
	body, err := sslv2Body("sslv2_error", record)
	if err != nil {
		return nil, err
	}
	c := newCur("sslv2_error", body)
	var typ uint8
	e := &SSLv2Error{}
	if err := c.u8("msg_type", &typ); err != nil {
		return nil, err
	}
	if typ != sslv2MsgError {
		return nil, c.fail("msg_type", ErrMalformed)
	}
	if err := c.u16("error_code", &e.Code); err != nil {
		return nil, err
	}
	if err := c.done("error_code"); err != nil {
		return nil, err
	}
	return e, nil
}

// looksSSLv2Hello reports whether b begins an SSLv2 record carrying a
// CLIENT-HELLO (with a version an SSLv2 or SSLv3/TLS client sends), a
// SERVER-HELLO, or an ERROR. need is true when more bytes would decide.
func looksSSLv2Hello(b []byte) (ok, need bool) {
	h, n, hok := sslv2Header(b)
	if !hok {
		return false, len(b) < 3
	}
	if len(b) < h+3 {
		return false, true
	}
	body := b[h:]
	switch body[0] {
	case sslv2MsgClientHello:
		if len(body) < 9 {
			return false, true
		}
		major, minor := body[1], body[2]
		versionOK := major == 0 && minor == 2 || major == 3 && minor <= 4
		specLen := int(body[3])<<8 | int(body[4])
		return versionOK && specLen > 0 && specLen%3 == 0 && n >= 9+specLen, false
	case sslv2MsgServerHello:
		if len(body) < 5 {
			return false, true
		}
		return body[3] == 0 && body[4] == 2 && n >= 11, false
	case sslv2MsgError:
		return h == 2 && n == 3, false
	}
	return false, false
}
