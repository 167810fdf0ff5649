package dissect

import (
	"bytes"
	"math/bits"
	"strings"
)

// ParseCertificate parses a Certificate body: in TLS 1.3 (RFC 8446 4.4.2) a
// certificate_request_context and CertificateEntry list with per-entry
// extensions, before that (RFC 5246 7.4.2) a plain list of DER certificates.
func ParseCertificate(body []byte, tls13 bool) (*Certificate, error) {
	return parseCertificate(bytes.Clone(body), tls13)
}

// parseCertificate is ParseCertificate of a body it may keep: the
// Certificate's slices point into it.
func parseCertificate(body []byte, tls13 bool) (*Certificate, error) {
	c := newCur("certificate", body)
	cert := &Certificate{}
	if tls13 {
		ctx, err := c.vec8("certificate_request_context")
		if err != nil {
			return nil, err
		}
		cert.Context = ctx.rest()
	}
	list, err := c.vec24("certificate_list")
	if err != nil {
		return nil, err
	}
	for !list.empty() {
		der, err := list.vec24("cert_data")
		if err != nil {
			return nil, err
		}
		if der.empty() {
			return nil, der.fail("cert_data", ErrMalformed)
		}
		cert.Chain = append(cert.Chain, der.rest())
		if tls13 {
			if _, err := list.vec16("extensions"); err != nil {
				return nil, err
			}
		}
	}
	if err := c.done("certificate"); err != nil {
		return nil, err
	}
	return cert, nil
}

// KeyExchange returns the key exchange family of a cipher suite, from its
// IANA name: "ecdhe", "dhe", "rsa", "psk", "ecdhe_psk", "dhe_psk",
// "rsa_psk", "srp", "dh_anon", "ecdh_anon", "tls13" (no key exchange in the
// suite) or "unknown".
func KeyExchange(cipherSuite CipherSuite) string {
	name := cipherSuite.String()
	switch {
	case cipherSuite>>8 == 0x13, strings.HasPrefix(name, "TLS_SHA"), strings.HasPrefix(name, "TLS_SM4_"):
		return "tls13"
	case strings.HasPrefix(name, "TLS_ECDHE_PSK_"):
		return "ecdhe_psk"
	case strings.HasPrefix(name, "TLS_DHE_PSK_"), strings.HasPrefix(name, "TLS_PSK_DHE_"):
		return "dhe_psk"
	case strings.HasPrefix(name, "TLS_RSA_PSK_"):
		return "rsa_psk"
	case strings.HasPrefix(name, "TLS_PSK_"):
		return "psk"
	case strings.HasPrefix(name, "TLS_SRP_"):
		return "srp"
	case strings.HasPrefix(name, "TLS_ECDHE_"), strings.HasPrefix(name, "TLS_ECCPWD_"):
		return "ecdhe"
	case strings.HasPrefix(name, "TLS_ECDH_anon_"):
		return "ecdh_anon"
	case strings.HasPrefix(name, "TLS_DHE_"):
		return "dhe"
	case strings.HasPrefix(name, "TLS_DH_anon_"):
		return "dh_anon"
	case strings.HasPrefix(name, "TLS_RSA_EXPORT"):
		return "rsa_export"
	case strings.HasPrefix(name, "TLS_RSA_"), strings.HasPrefix(name, "TLS_DH_"), strings.HasPrefix(name, "TLS_ECDH_"):
		return "rsa" // static key: no ServerKeyExchange expected
	}
	return "unknown"
}

// ParseServerKeyExchange reads what a passive observer can of a
// ServerKeyExchange body (RFC 8422 5.4, RFC 5246 7.4.3, RFC 4279 2-3). The
// cipher suite chosen in the ServerHello tells its layout; with an unknown
// suite (0) the layout is guessed from the first byte. version tells whether
// a signature scheme precedes the signature (TLS 1.2).
func ParseServerKeyExchange(body []byte, cipherSuite CipherSuite, version Version) (*ServerKeyExchange, error) {
	c := newCur("server_key_exchange", body)
	kx := KeyExchange(cipherSuite)
	if kx == "unknown" || kx == "tls13" {
		// A named_curve ECParameters begins with curve_type 3 and a group;
		// a DH prime length is rarely 0x03xx with the second byte that low.
		if len(body) > 4 && body[0] == 3 && body[1] == 0 && body[3] > 0 {
			kx = "ecdhe"
		} else {
			kx = "dhe"
		}
	}
	ske := &ServerKeyExchange{Kind: "unknown"}
	signed := true
	switch kx {
	case "psk", "dhe_psk", "ecdhe_psk", "rsa_psk":
		// RFC 4279 2: psk_identity_hint first; the PSK families are unsigned.
		if _, err := c.vec16("psk_identity_hint"); err != nil {
			return nil, err
		}
		signed = false
		if kx == "psk" || kx == "rsa_psk" {
			ske.Kind = "psk"
			return ske, c.done("server_key_exchange")
		}
		kx = strings.TrimSuffix(kx, "_psk")
	case "dh_anon", "ecdh_anon":
		signed = false
		kx = strings.TrimSuffix(kx, "_anon")
		if kx == "dh" {
			kx = "dhe"
		} else {
			kx = "ecdhe"
		}
	case "srp":
		// RFC 5054 2.8.1: N, g, s, B, then the signature.
		for _, f := range []string{"srp_N", "srp_g", "srp_s"} {
			var err error
			if f == "srp_s" {
				_, err = c.vec8(f)
			} else {
				_, err = c.vec16(f)
			}
			if err != nil {
				return nil, err
			}
		}
		if _, err := c.vec16("srp_B"); err != nil {
			return nil, err
		}
		ske.Kind = "srp"
	case "rsa_export", "rsa":
		if _, err := c.vec16("rsa_modulus"); err != nil {
			return nil, err
		}
		if _, err := c.vec16("rsa_exponent"); err != nil {
			return nil, err
		}
		ske.Kind = "rsa"
	}
	switch kx {
	case "ecdhe":
		var curveType uint8
		if err := c.u8("curve_type", &curveType); err != nil {
			return nil, err
		}
		if curveType != 3 {
			// explicit_prime/char2 curves (deprecated by RFC 8422) are not
			// decoded; what follows is not worth guessing.
			return nil, c.fail("curve_type", ErrMalformed)
		}
		if err := c.u16("namedcurve", (*uint16)(&ske.NamedCurve)); err != nil {
			return nil, err
		}
		if _, err := c.vec8("public"); err != nil {
			return nil, err
		}
		ske.Kind = "ecdhe"
	case "dhe":
		p, err := c.vec16("dh_p")
		if err != nil {
			return nil, err
		}
		ske.DHPrimeBits = bitLen(p.rest())
		if _, err := c.vec16("dh_g"); err != nil {
			return nil, err
		}
		if _, err := c.vec16("dh_Ys"); err != nil {
			return nil, err
		}
		ske.Kind = "dhe"
	}
	if signed {
		if version >= VersionTLS12 { // TLS 1.2 added the scheme (RFC 5246 7.4.1.4.1)
			if err := c.u16("signature_algorithm", &ske.SignatureScheme); err != nil {
				return nil, err
			}
		}
		if _, err := c.vec16("signature"); err != nil {
			return nil, err
		}
	}
	if err := c.done("server_key_exchange"); err != nil {
		return nil, err
	}
	return ske, nil
}

// bitLen is the bit length of a big-endian unsigned integer.
func bitLen(b []byte) int {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	return (len(b)-1)*8 + bits.Len8(b[0])
}

// ParseCertificateRequest parses a CertificateRequest body: TLS 1.3 (RFC
// 8446 4.3.2) context and extensions; TLS 1.2 (RFC 5246 7.4.4) types,
// signature algorithms and authorities; when that layout does not fit, the
// TLS 1.0/1.1 one without signature algorithms (RFC 4346 7.4.4).
func ParseCertificateRequest(body []byte, tls13 bool) (*CertificateRequest, error) {
	if tls13 {
		return parseCertificateRequest13(body)
	}
	cr, err := parseCertificateRequest12(body, true)
	if err != nil {
		if cr10, err10 := parseCertificateRequest12(body, false); err10 == nil {
			return cr10, nil
		}
		return nil, err
	}
	return cr, nil
}

func parseCertificateRequest12(body []byte, withSigAlgs bool) (*CertificateRequest, error) {
	body = bytes.Clone(body)
	c := newCur("certificate_request", body)
	cr := &CertificateRequest{}
	types, err := c.vec8("certificate_types")
	if err != nil {
		return nil, err
	}
	if cr.CertificateTypes, err = types.u8list("certificate_types", true); err != nil {
		return nil, err
	}
	if withSigAlgs {
		algs, err := c.vec16("supported_signature_algorithms")
		if err != nil {
			return nil, err
		}
		if cr.SignatureAlgorithms, err = algs.u16list("supported_signature_algorithms", true); err != nil {
			return nil, err
		}
	}
	cas, err := c.vec16("certificate_authorities")
	if err != nil {
		return nil, err
	}
	for !cas.empty() {
		if _, err := cas.vec16("distinguished_name"); err != nil {
			return nil, err
		}
		cr.CACount++
	}
	if err := c.done("certificate_request"); err != nil {
		return nil, err
	}
	return cr, nil
}

func parseCertificateRequest13(body []byte) (*CertificateRequest, error) {
	body = bytes.Clone(body)
	c := newCur("certificate_request", body)
	cr := &CertificateRequest{}
	if _, err := c.vec8("certificate_request_context"); err != nil {
		return nil, err
	}
	exts, err := parseExtensions(&c)
	if err != nil {
		return nil, err
	}
	if err := c.done("certificate_request"); err != nil {
		return nil, err
	}
	for _, e := range exts {
		ec := cur{s: e.Data, msg: c.msg, inner: true, end: len(e.Data), inExt: true, ext: e.Type}
		const name = ""
		switch e.Type {
		case extSignatureAlgorithms:
			list, err := ec.vec16(name)
			if err != nil {
				return nil, err
			}
			if cr.SignatureAlgorithms, err = list.u16list(name, true); err != nil {
				return nil, err
			}
		case extCertAuthorities:
			list, err := ec.vec16(name)
			if err != nil {
				return nil, err
			}
			for !list.empty() {
				if _, err := list.vec16("distinguished_name"); err != nil {
					return nil, err
				}
				cr.CACount++
			}
		}
	}
	return cr, nil
}

// ParseNewSessionTicket parses a NewSessionTicket body: RFC 5077 3.3, or
// RFC 8446 4.6.1 (seen in clear only when a capture was decrypted).
func ParseNewSessionTicket(body []byte, tls13 bool) (*NewSessionTicket, error) {
	body = bytes.Clone(body)
	c := newCur("new_session_ticket", body)
	nst := &NewSessionTicket{}
	if err := c.u32("ticket_lifetime_hint", &nst.LifetimeHint); err != nil {
		return nil, err
	}
	if tls13 {
		var ageAdd uint32
		if err := c.u32("ticket_age_add", &ageAdd); err != nil {
			return nil, err
		}
		if _, err := c.vec8("ticket_nonce"); err != nil {
			return nil, err
		}
	}
	t, err := c.vec16("ticket")
	if err != nil {
		return nil, err
	}
	nst.Ticket = t.rest()
	if tls13 {
		if nst.Ticket == nil || len(nst.Ticket) == 0 {
			return nil, t.fail("ticket", ErrMalformed)
		}
		if _, err := parseExtensions(&c); err != nil {
			return nil, err
		}
	}
	if err := c.done("new_session_ticket"); err != nil {
		return nil, err
	}
	return nst, nil
}

// ParseCertificateStatus parses a CertificateStatus body (RFC 6066 8,
// RFC 6961 2.2 for ocsp_multi).
func ParseCertificateStatus(body []byte) (*CertificateStatus, error) {
	c := newCur("certificate_status", body)
	cs := &CertificateStatus{}
	if err := c.u8("status_type", &cs.StatusType); err != nil {
		return nil, err
	}
	switch cs.StatusType {
	case 1: // ocsp
		resp, err := c.vec24("ocsp_response")
		if err != nil {
			return nil, err
		}
		cs.ResponseLength = len(resp.rest())
	case 2: // ocsp_multi
		list, err := c.vec24("ocsp_response_list")
		if err != nil {
			return nil, err
		}
		for !list.empty() {
			r, err := list.vec24("ocsp_response")
			if err != nil {
				return nil, err
			}
			cs.ResponseLength += len(r.rest())
		}
	default:
		return nil, c.fail("status_type", ErrMalformed)
	}
	if err := c.done("certificate_status"); err != nil {
		return nil, err
	}
	return cs, nil
}

// ParseAlert parses the content of a plaintext alert record (RFC 8446 6):
// level and description. A record carrying more than one alert (allowed
// before TLS 1.3) yields the first.
func ParseAlert(record []byte) (*Alert, error) {
	c := newCur("alert", record)
	a := &Alert{}
	if err := c.u8("level", (*uint8)(&a.Level)); err != nil {
		return nil, err
	}
	if err := c.u8("description", (*uint8)(&a.Description)); err != nil {
		return nil, err
	}
	if len(c.s)%2 != 0 {
		return nil, c.fail("alert", ErrMalformed)
	}
	return a, nil
}

// heartbeatMinPadding is the minimum padding of a HeartbeatMessage (RFC 6520 4).
const heartbeatMinPadding = 16

// ParseHeartbeat parses the content of a plaintext heartbeat record (RFC
// 6520 4) and flags the CVE-2014-0160 pattern: a payload_length that claims
// more than the record holds.
func ParseHeartbeat(record []byte) (*Heartbeat, error) {
	return heartbeatFrom(record, len(record))
}

// heartbeatFrom reads a heartbeat from the first bytes of a record whose full
// length is recordLen; the framer keeps only those first bytes.
func heartbeatFrom(prefix []byte, recordLen int) (*Heartbeat, error) {
	c := newCur("heartbeat", prefix)
	hb := &Heartbeat{RecordLength: recordLen}
	if err := c.u8("type", &hb.Type); err != nil {
		return nil, err
	}
	var n uint16
	if err := c.u16("payload_length", &n); err != nil {
		return nil, err
	}
	hb.PayloadLength = int(n)
	hb.Heartbleed = 3+hb.PayloadLength+heartbeatMinPadding > recordLen
	return hb, nil
}
