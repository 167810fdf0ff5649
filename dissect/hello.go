package dissect

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// Extension type codepoints decoded by the hello parsers.
const (
	extServerName           uint16 = 0
	extStatusRequest        uint16 = 5
	extSupportedGroups      uint16 = 10
	extECPointFormats       uint16 = 11
	extSignatureAlgorithms  uint16 = 13
	extALPN                 uint16 = 16
	extSCT                  uint16 = 18
	extPadding              uint16 = 21
	extEncryptThenMAC       uint16 = 22
	extExtendedMasterSecret uint16 = 23
	extCompressCertificate  uint16 = 27
	extRecordSizeLimit      uint16 = 28
	extSessionTicket        uint16 = 35
	extPreSharedKey         uint16 = 41
	extEarlyData            uint16 = 42
	extSupportedVersions    uint16 = 43
	extCookie               uint16 = 44
	extPSKModes             uint16 = 45
	extCertAuthorities      uint16 = 47
	extSignatureAlgsCert    uint16 = 50
	extKeyShare             uint16 = 51
	extKeyShareDraft        uint16 = 40 // key_share in TLS 1.3 drafts before 23
	extQUICTransportParams  uint16 = 57
	extQUICTransportDraft   uint16 = 0xffa5
	extECH                  uint16 = 0xfe0d
	extRenegotiationInfo    uint16 = 0xff01
)

// scsvRenegotiation is TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.3).
const scsvRenegotiation uint16 = 0x00ff

// helloRetryRandom is SHA-256("HelloRetryRequest"), the Random of a
// HelloRetryRequest (RFC 8446 4.1.3).
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// parseExtensions reads the extensions block (RFC 8446 4.2) into a list in
// wire order and rejects a type that appears twice. The Data slices alias
// the cursor's bytes.
func parseExtensions(c *cur) ([]Extension, error) {
	var cutErr error
	block, err := c.vec16("extensions")
	if err != nil {
		// The block claims more than the message holds: read what is
		// there, and say so.
		var n uint16
		if !c.s.ReadUint16(&n) {
			return nil, err
		}
		cutErr = err
		block = c.sub(c.s)
		c.s = c.s[len(c.s):]
	}
	// Count first, to allocate the list once; the count is bounded by the
	// bytes present (4 per extension at least).
	n := 0
	for probe := block.s; !probe.Empty(); n++ {
		var t uint16
		var body cryptobyte.String
		if !probe.ReadUint16(&t) || !probe.ReadUint16LengthPrefixed(&body) {
			break
		}
	}
	exts := make([]Extension, 0, n) // non-nil: the block was there, even if empty
	var seen map[uint16]bool
	for !block.empty() {
		var typ uint16
		if err := block.u16("extension type", &typ); err != nil {
			return exts, firstErr(cutErr, err)
		}
		start := block.off()
		block.inExt, block.ext = true, typ
		body, err := block.vec16("")
		block.inExt = false
		if err != nil {
			return exts, firstErr(cutErr, err)
		}
		// Linear search while the list is short (always, in real hellos);
		// a map once a hostile message makes it long.
		dup := false
		if seen != nil {
			dup = seen[typ]
		} else {
			for i := range exts {
				if exts[i].Type == typ {
					dup = true
					break
				}
			}
			if len(exts) >= 32 {
				seen = make(map[uint16]bool, 64)
				for i := range exts {
					seen[exts[i].Type] = true
				}
			}
		}
		if dup {
			// The block is framed correctly: skip the rest of it so that
			// the caller can still decode what came before.
			block.rest()
			return exts, &ParseError{Msg: c.msg, Field: "extension " + ExtensionName(typ), Offset: start - 2, Err: ErrDuplicateExtension}
		}
		if seen != nil {
			seen[typ] = true
		}
		exts = append(exts, Extension{Type: typ, Data: body.rest()})
	}
	return exts, cutErr
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// extCur returns a cursor over one extension's body, with its offset in the
// message, for decoding; errors name "extension <name>".
func extCur(msg string, e Extension, base int) cur {
	return cur{s: e.Data, end: base + len(e.Data), msg: msg, inner: true, inExt: true, ext: e.Type}
}

// ParseClientHello parses a ClientHello body (the handshake message without
// its 4-byte header; RFC 8446 4.1.2, RFC 5246 7.4.1.2). On an error inside
// one extension's body, or a duplicate extension, the ClientHello is returned
// too, with everything else decoded, so that an observer still sees the hello.
func ParseClientHello(body []byte) (*ClientHello, error) {
	body = bytes.Clone(body) // the ClientHello owns its memory
	c := newCur("client_hello", body)
	ch := &ClientHello{}
	var v uint16
	if err := c.u16("legacy_version", &v); err != nil {
		return nil, err
	}
	ch.LegacyVersion = Version(v)
	if err := c.bytes("random", 32, &ch.Random); err != nil {
		return nil, err
	}
	// From here on a field that is wrong but framed is reported and
	// passed over: an observer still wants the rest of the hello.
	var bad error
	sid, err := c.vec8("legacy_session_id")
	if err != nil {
		return nil, err
	}
	if len(sid.s) > 32 {
		bad = sid.fail("legacy_session_id", ErrMalformed)
	}
	ch.SessionID = sid.rest()
	cs, err := c.vec16("cipher_suites")
	if err != nil {
		return nil, err
	}
	if len(cs.s)%2 != 0 || len(cs.s) == 0 {
		bad = firstErr(bad, cs.fail("cipher_suites", ErrMalformed))
		cs.s = cs.s[:len(cs.s)&^1]
	}
	ch.CipherSuites, _ = cs.u16list("cipher_suites", false)
	cm, err := c.vec8("legacy_compression_methods")
	if err != nil {
		return nil, err
	}
	if len(cm.s) == 0 {
		bad = firstErr(bad, cm.fail("legacy_compression_methods", ErrMalformed))
	}
	ch.CompressionMethods, _ = cm.u8list("legacy_compression_methods", false)
	for _, s := range ch.CipherSuites {
		if s == scsvRenegotiation {
			ch.SecureRenegotiation = true
		}
	}
	if c.empty() {
		return ch, bad // extensions are optional before TLS 1.3
	}
	exts, err := decodeExtensions(&c, ch.decodeExtension)
	ch.Extensions = exts
	return ch, firstErr(bad, err)
}

// decodeExtensions reads the extensions block at c and hands each
// extension, with the offset of its data in the message, to decode. Every
// extension is decoded even after one fails: the observer wants all it can
// get; the first error is returned.
func decodeExtensions(c *cur, decode func(e Extension, off int) error) ([]Extension, error) {
	off := c.off() + 2
	exts, bad := parseExtensions(c)
	if bad == nil {
		bad = c.done("extensions")
	}
	for _, e := range exts {
		off += 4
		bad = firstErr(bad, decode(e, off))
		off += len(e.Data)
	}
	return exts, bad
}

func (ch *ClientHello) decodeExtension(e Extension, base int) error {
	const name = "" // the cursor names the extension in its errors
	c := extCur("client_hello", e, base)
	switch e.Type {
	case extServerName:
		// RFC 6066 3: ServerNameList; the host_name entry is type 0.
		list, err := c.vec16(name)
		if err != nil {
			return err
		}
		if list.empty() {
			return list.fail(name, ErrMalformed)
		}
		for !list.empty() {
			var typ uint8
			if err := list.u8("name_type", &typ); err != nil {
				return err
			}
			host, err := list.vec16("host_name")
			if err != nil {
				return err
			}
			if typ == 0 && ch.ServerName == "" {
				ch.ServerName = string(host.rest())
			}
		}
	case extALPN:
		alpn, err := parseALPNList(&c, name)
		if err != nil {
			return err
		}
		ch.ALPN = alpn
	case extSupportedVersions:
		list, err := c.vec8(name)
		if err != nil {
			return err
		}
		vs, err := list.u16list(name, true)
		if err != nil {
			return err
		}
		ch.SupportedVersions = make([]Version, len(vs))
		for i, v := range vs {
			ch.SupportedVersions[i] = Version(v)
		}
	case extSupportedGroups:
		list, err := c.vec16(name)
		if err != nil {
			return err
		}
		if ch.SupportedGroups, err = list.u16list(name, false); err != nil {
			return err
		}
	case extECPointFormats:
		list, err := c.vec8(name)
		if err != nil {
			return err
		}
		if ch.ECPointFormats, err = list.u8list(name, true); err != nil {
			return err
		}
	case extSignatureAlgorithms, extSignatureAlgsCert:
		list, err := c.vec16(name)
		if err != nil {
			return err
		}
		algs, err := list.u16list(name, true)
		if err != nil {
			return err
		}
		if e.Type == extSignatureAlgorithms {
			ch.SignatureAlgorithms = algs
		} else {
			ch.SignatureAlgorithmsCert = algs
		}
	case extKeyShare, extKeyShareDraft:
		// RFC 8446 4.2.8: KeyShareClientHello, a list of KeyShareEntry.
		list, err := c.vec16(name)
		if err != nil {
			return err
		}
		ch.KeyShareGroups = []uint16{}
		for !list.empty() {
			var g uint16
			if err := list.u16("group", &g); err != nil {
				return err
			}
			if _, err := list.vec16("key_exchange"); err != nil {
				return err
			}
			ch.KeyShareGroups = append(ch.KeyShareGroups, g)
		}
	case extPreSharedKey:
		// RFC 8446 4.2.11: OfferedPsks; it must be the last extension,
		// which the server enforces and we only observe.
		ids, err := c.vec16("identities")
		if err != nil {
			return err
		}
		if ids.empty() {
			return ids.fail("identities", ErrMalformed)
		}
		for !ids.empty() {
			id, err := ids.vec16("identity")
			if err != nil {
				return err
			}
			var age uint32
			if err := ids.u32("obfuscated_ticket_age", &age); err != nil {
				return err
			}
			ch.PSKIdentities = append(ch.PSKIdentities, PSKIdentity{Identity: id.rest(), ObfuscatedTicketAge: age})
		}
		binders, err := c.vec16("binders")
		if err != nil {
			return err
		}
		n := 0
		for !binders.empty() {
			if _, err := binders.vec8("binder"); err != nil {
				return err
			}
			n++
		}
		if n != len(ch.PSKIdentities) {
			return binders.fail("binders", ErrMalformed)
		}
	case extPSKModes:
		list, err := c.vec8(name)
		if err != nil {
			return err
		}
		if ch.PSKModes, err = list.u8list(name, true); err != nil {
			return err
		}
	case extEarlyData:
		ch.EarlyData = true
	case extSessionTicket:
		ch.HasSessionTicketExt = true
		ch.SessionTicket = c.rest()
	case extRenegotiationInfo:
		if _, err := c.vec8(name); err != nil {
			return err
		}
		ch.SecureRenegotiation = true
	case extStatusRequest:
		// RFC 6066 8: status_type, then for ocsp(1) the OCSPStatusRequest.
		var typ uint8
		if err := c.u8("status_type", &typ); err != nil {
			return err
		}
		if typ == 1 {
			if _, err := c.vec16("responder_id_list"); err != nil {
				return err
			}
			if _, err := c.vec16("request_extensions"); err != nil {
				return err
			}
		} else {
			c.rest()
		}
		ch.StatusRequest = true
	case extExtendedMasterSecret:
		ch.ExtendedMasterSecret = true
	case extEncryptThenMAC:
		ch.EncryptThenMAC = true
	case extSCT:
		ch.SignedCertTimestamp = true
	case extPadding:
		ch.PaddingLength = len(e.Data)
		c.rest()
	case extRecordSizeLimit:
		if err := c.u16(name, &ch.RecordSizeLimit); err != nil {
			return err
		}
	case extCompressCertificate:
		list, err := c.vec8(name)
		if err != nil {
			return err
		}
		if ch.CompressCertificate, err = list.u16list(name, true); err != nil {
			return err
		}
	case extECH:
		// draft-ietf-tls-esni 5: ECHClientHello.
		ech := &ECH{}
		var typ uint8
		if err := c.u8("type", &typ); err != nil {
			return err
		}
		switch typ {
		case 0:
			ech.Outer = true
			if err := c.u16("kdf_id", &ech.KDF); err != nil {
				return err
			}
			if err := c.u16("aead_id", &ech.AEAD); err != nil {
				return err
			}
			if err := c.u8("config_id", &ech.ConfigID); err != nil {
				return err
			}
			if _, err := c.vec16("enc"); err != nil {
				return err
			}
			payload, err := c.vec16("payload")
			if err != nil {
				return err
			}
			ech.PayloadLength = len(payload.rest())
		case 1:
			// inner: no further fields
		default:
			return c.fail("type", ErrMalformed)
		}
		ch.ECH = ech
	case extQUICTransportParams, extQUICTransportDraft:
		ch.QUICTransportParams = true
		c.rest()
	case extCookie:
		ck, err := c.vec16(name)
		if err != nil {
			return err
		}
		if ck.empty() {
			return ck.fail(name, ErrMalformed)
		}
		ch.Cookie = true
	default:
		return nil // kept raw in Extensions
	}
	return c.done(name)
}

// parseALPNList reads a ProtocolNameList (RFC 7301 3.1).
func parseALPNList(c *cur, name string) ([]string, error) {
	list, err := c.vec16(name)
	if err != nil {
		return nil, err
	}
	if list.empty() {
		return nil, list.fail(name, ErrMalformed)
	}
	var out []string
	for !list.empty() {
		p, err := list.vec8("protocol_name")
		if err != nil {
			return nil, err
		}
		if p.empty() {
			return nil, p.fail("protocol_name", ErrMalformed)
		}
		out = append(out, string(p.rest()))
	}
	return out, nil
}

// ParseServerHello parses a ServerHello body (RFC 8446 4.1.3, RFC 5246
// 7.4.1.3); a HelloRetryRequest is recognised by its special Random.
func ParseServerHello(body []byte) (*ServerHello, error) {
	if len(body) >= 2 && Version(body[0])<<8|Version(body[1]) == VersionTLS13 {
		// The servers of the early drafts put 0x0304 itself in the
		// version field, with the draft layout; RFC 8446 servers put
		// 0x0303 there. Try the draft layout first.
		if sh, err := parseServerHello(body, true); err == nil {
			return sh, nil
		}
	}
	draft := len(body) >= 2 && draftLayout(Version(body[0])<<8|Version(body[1]))
	return parseServerHello(body, draft)
}

func parseServerHello(body []byte, draft bool) (*ServerHello, error) {
	body = bytes.Clone(body)
	c := newCur("server_hello", body)
	sh := &ServerHello{}
	var v uint16
	if err := c.u16("legacy_version", &v); err != nil {
		return nil, err
	}
	sh.LegacyVersion = Version(v)
	if err := c.bytes("random", 32, &sh.Random); err != nil {
		return nil, err
	}
	sh.IsHelloRetryRequest = bytes.Equal(sh.Random, helloRetryRandom[:])
	if sh.IsHelloRetryRequest {
		c.msg = "hello_retry_request"
	}
	var bad error
	if draft {
		// TLS 1.3 drafts before 22: version, random, cipher_suite,
		// extensions; no session id, no compression.
		sh.SupportedVersion = sh.LegacyVersion
		if err := c.u16("cipher_suite", (*uint16)(&sh.CipherSuite)); err != nil {
			return nil, err
		}
	} else {
		sid, err := c.vec8("legacy_session_id_echo")
		if err != nil {
			return nil, err
		}
		if len(sid.s) > 32 {
			bad = sid.fail("legacy_session_id_echo", ErrMalformed)
		}
		sh.SessionID = sid.rest()
		if err := c.u16("cipher_suite", (*uint16)(&sh.CipherSuite)); err != nil {
			return nil, err
		}
		if err := c.u8("legacy_compression_method", &sh.CompressionMethod); err != nil {
			return nil, err
		}
	}
	if c.empty() {
		return sh, bad
	}
	exts, err := decodeExtensions(&c, func(e Extension, off int) error { return sh.decodeExtension(e, off, c.msg) })
	bad = firstErr(bad, err)
	sh.Extensions = exts
	if draft && sh.SupportedVersion == 0 {
		sh.SupportedVersion = sh.LegacyVersion
	}
	return sh, bad
}

// draftLayout reports whether a ServerHello of version v has the layout of
// the TLS 1.3 drafts before draft-22 (0x7f00 | draft number).
func draftLayout(v Version) bool {
	return v>>8 == 0x7f && v&0xff < 22
}

// ParseDraftHelloRetryRequest parses the HelloRetryRequest message of the
// TLS 1.3 drafts before 22 (handshake type 6): server_version, in drafts
// 19-21 a cipher_suite, then extensions. It is returned as a ServerHello
// with IsHelloRetryRequest set.
func ParseDraftHelloRetryRequest(body []byte) (*ServerHello, error) {
	body = bytes.Clone(body)
	c := newCur("hello_retry_request", body)
	sh := &ServerHello{IsHelloRetryRequest: true}
	var v uint16
	if err := c.u16("server_version", &v); err != nil {
		return nil, err
	}
	sh.LegacyVersion, sh.SupportedVersion = Version(v), Version(v)
	if v>>8 == 0x7f && v&0xff >= 19 {
		if err := c.u16("cipher_suite", (*uint16)(&sh.CipherSuite)); err != nil {
			return nil, err
		}
	}
	exts, err := parseExtensions(&c)
	if err == nil {
		err = c.done("extensions")
	}
	sh.Extensions = exts
	for _, e := range exts {
		if derr := sh.decodeExtension(e, 0, c.msg); derr != nil {
			err = firstErr(err, derr)
		}
	}
	sh.SupportedVersion = Version(v)
	return sh, err
}

func (sh *ServerHello) decodeExtension(e Extension, base int, msg string) error {
	const name = "" // the cursor names the extension in its errors
	c := extCur(msg, e, base)
	switch e.Type {
	case extSupportedVersions:
		var v uint16
		if err := c.u16(name, &v); err != nil {
			return err
		}
		sh.SupportedVersion = Version(v)
	case extALPN:
		alpn, err := parseALPNList(&c, name)
		if err != nil {
			return err
		}
		if len(alpn) != 1 {
			return c.fail(name, ErrMalformed) // RFC 7301 3.1: exactly one
		}
		sh.ALPN = alpn[0]
	case extKeyShare, extKeyShareDraft:
		// KeyShareServerHello carries an entry; in a HelloRetryRequest only
		// the selected_group (RFC 8446 4.2.8).
		if err := c.u16("group", (*uint16)(&sh.KeyShareGroup)); err != nil {
			return err
		}
		if !sh.IsHelloRetryRequest {
			if _, err := c.vec16("key_exchange"); err != nil {
				return err
			}
		}
	case extPreSharedKey:
		if err := c.u16("selected_identity", &sh.SelectedIdentity); err != nil {
			return err
		}
		sh.HasPreSharedKey = true
	case extSessionTicket:
		sh.HasSessionTicketExt = true
	case extRenegotiationInfo:
		if _, err := c.vec8(name); err != nil {
			return err
		}
		sh.SecureRenegotiation = true
	case extExtendedMasterSecret:
		sh.ExtendedMasterSecret = true
	case extEncryptThenMAC:
		sh.EncryptThenMAC = true
	case extECPointFormats:
		list, err := c.vec8(name)
		if err != nil {
			return err
		}
		if sh.ECPointFormats, err = list.u8list(name, true); err != nil {
			return err
		}
	case extCookie:
		ck, err := c.vec16(name)
		if err != nil {
			return err
		}
		if ck.empty() {
			return ck.fail(name, ErrMalformed)
		}
		sh.Cookie = true
	default:
		return nil
	}
	return c.done(name)
}

// EncryptedExtensions is the server's TLS 1.3 EncryptedExtensions message
// (RFC 8446 4.3.1): the extensions that need no key exchange, readable
// with a key log or in QUIC with the Handshake keys.
type EncryptedExtensions struct {
	Extensions []Extension // wire order
	ALPN       string      // the protocol selected (RFC 7301), "" if none
	// EarlyData: the server accepted 0-RTT (RFC 8446 4.2.10).
	EarlyData bool
}

// ParseEncryptedExtensions parses an EncryptedExtensions body. On an error
// inside one extension the message is returned too, with the rest decoded.
func ParseEncryptedExtensions(body []byte) (*EncryptedExtensions, error) {
	const msg = "encrypted_extensions"
	body = bytes.Clone(body) // the message owns its memory
	c := newCur(msg, body)
	ee := &EncryptedExtensions{}
	exts, err := decodeExtensions(&c, func(e Extension, base int) error {
		ec := extCur(msg, e, base)
		switch e.Type {
		case extALPN:
			alpn, err := parseALPNList(&ec, "")
			if err != nil {
				return err
			}
			if len(alpn) != 1 {
				return ec.fail("", ErrMalformed) // RFC 7301 3.1: exactly one
			}
			ee.ALPN = alpn[0]
		case extEarlyData:
			ee.EarlyData = true
		}
		return nil
	})
	if exts == nil && err != nil {
		return nil, err
	}
	ee.Extensions = exts
	return ee, err
}
