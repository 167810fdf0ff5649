// Package fingerprint computes JA3, JA3S, JA4, JA4S and JA4X from parsed
// hellos and certificates, exactly as their published specifications say:
//
//   - JA3 and JA3S: salesforce/ja3 (README), MD5 of the decimal field string.
//   - JA4, JA4S, JA4X: FoxIO-LLC/ja4 technical_details (JA4.md, JA4S.md,
//     JA4X.md), truncated SHA-256.
//
// Every list is read from the hello's Extensions as they were on the wire
// (type and data, GREASE included), not from the decoded convenience fields
// of dissect.ClientHello, so that a fingerprint is a function of the bytes
// the peer sent and nothing else. An extension whose body does not decode
// contributes an empty list; it is still counted and listed by type.
//
// GREASE values (RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa) are removed from
// cipher suites, extension types, supported groups, supported versions and
// signature algorithms, as both specifications say for the client side.
package fingerprint

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// Extension types (IANA TLS ExtensionType Values) the fingerprints read.
const (
	extServerName          = 0x0000 // RFC 6066
	extSupportedGroups     = 0x000a // RFC 8422, RFC 7919
	extECPointFormats      = 0x000b // RFC 8422
	extSignatureAlgorithms = 0x000d // RFC 8446 4.2.3
	extALPN                = 0x0010 // RFC 7301
	extSupportedVersions   = 0x002b // RFC 8446 4.2.1
)

// IsGREASE reports whether v is one of the sixteen GREASE values of RFC 8701
// section 2 (both bytes equal, low nibble 0xa).
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// ---------------------------------------------------------------- JA3 / JA3S

// JA3 returns the JA3 string of a ClientHello and its MD5 in hex:
// "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats",
// decimal values joined by '-', GREASE removed from the ciphers, extensions
// and curves; SSLVersion is the ClientHello's legacy_version (client_version).
//
// An SSLv2-compatible ClientHello (FromSSLv2) is fingerprinted from the same
// fields: its version field, its cipher specs as dissect lists them, and the
// three empty extension fields ("769,4-5-10,,,"). salesforce/ja3 itself only
// reads TLS handshake records and so gives no JA3 for such a hello; Zeek's
// JA3 script fingerprints whatever its client_hello event carries, which is
// what we do.
func JA3(ch *dissect.ClientHello) (hash, raw string) {
	if ch == nil {
		return "", ""
	}
	b := make([]byte, 0, 256)
	b = strconv.AppendUint(b, uint64(ch.LegacyVersion), 10)
	b = append(b, ',')
	b = appendDecimal16(b, ch.CipherSuites)
	b = append(b, ',')
	first := true
	for _, e := range ch.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(e.Type), 10)
	}
	b = append(b, ',')
	if d, ok := findExt(ch.Extensions, extSupportedGroups); ok {
		b = appendDecimal16(b, readU16List(d))
	}
	b = append(b, ',')
	if d, ok := findExt(ch.Extensions, extECPointFormats); ok {
		for i, f := range readU8List(d) {
			if i > 0 {
				b = append(b, '-')
			}
			b = strconv.AppendUint(b, uint64(f), 10)
		}
	}
	return md5Hex(b), string(b)
}

// JA3S returns the JA3S string of a ServerHello and its MD5 in hex:
// "SSLVersion,Cipher,Extensions" with the ServerHello's legacy_version, the
// chosen cipher suite and the extension types in wire order, GREASE removed.
func JA3S(sh *dissect.ServerHello) (hash, raw string) {
	if sh == nil {
		return "", ""
	}
	b := make([]byte, 0, 64)
	b = strconv.AppendUint(b, uint64(sh.LegacyVersion), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.CipherSuite), 10)
	b = append(b, ',')
	first := true
	for _, e := range sh.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(e.Type), 10)
	}
	return md5Hex(b), string(b)
}

func appendDecimal16(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// ---------------------------------------------------------------- JA4

// JA4 returns the JA4 fingerprint and its raw (ja4_r) form. transport is
// 't' for TCP, 'q' for QUIC, 'd' for DTLS.
//
// JA4 = a_b_c:
//
//	a: transport, version (numerically highest non-GREASE supported_versions entry,
//	   else legacy_version: 13 12 11 10 s3 s2 d1 d2 d3, 00 unknown), 'd' when
//	   a server_name extension is present else 'i', the number of cipher
//	   suites and of extensions (GREASE removed, SNI and ALPN counted, two
//	   digits, at most 99), the first and last character of the first ALPN
//	   protocol ("00" without ALPN; see alpnChars).
//	b: first 12 hex digits of the SHA-256 of the cipher suites as 4-digit
//	   lower-case hex, sorted, comma-joined; "000000000000" when there are none.
//	c: the same of the sorted extension types without SNI (0x0000) and ALPN
//	   (0x0010), then '_' and the signature algorithms in wire order (the
//	   '_' part left out when there are none); "000000000000" when no
//	   extension remains.
//
// The raw form has the unhashed lists in place of the hashes.
//
// An SSLv2-compatible ClientHello (FromSSLv2) has no extensions: its JA4
// takes the version from the hello's version field, says 'i', 00
// extensions and "00" for ALPN, and ends in twelve zeros.
func JA4(ch *dissect.ClientHello, transport byte) (fp, raw string) {
	return (*Memo)(nil).JA4(ch, transport)
}

// Memo remembers the truncated SHA-256 hashes JA4 and JA4S compute, by
// their input: one client software sends the same lists on every
// connection, and the hashes are most of a fingerprint's cost. A nil *Memo
// remembers nothing. It is not safe for concurrent use.
type Memo struct {
	max int
	m   map[string][6]byte
}

// NewMemo returns a Memo of at most max inputs; past it, it starts afresh.
func NewMemo(max int) *Memo { return &Memo{max: max, m: make(map[string][6]byte)} }

// JA4 is the package's JA4, with m's hashes.
func (m *Memo) JA4(ch *dissect.ClientHello, transport byte) (fp, raw string) {
	if ch == nil {
		return "", ""
	}
	return ja4(ch, transport, false, m)
}

// JA4S is the package's JA4S, with m's hashes.
func (m *Memo) JA4S(sh *dissect.ServerHello, transport byte) (fp, raw string) {
	if sh == nil {
		return "", ""
	}
	return ja4s(sh, transport, m)
}

// JA4O returns the JA4 variant over the lists in their original wire order
// (ja4_o, and ja4_ro as raw): nothing sorted, SNI and ALPN kept among the
// extensions.
func JA4O(ch *dissect.ClientHello, transport byte) (fp, raw string) {
	if ch == nil {
		return "", ""
	}
	return ja4(ch, transport, true, nil)
}

func ja4(ch *dissect.ClientHello, transport byte, original bool, m *Memo) (fp, raw string) {
	// Cipher suites without GREASE, kept on the stack for usual hellos.
	var cbuf [64]uint16
	ciphers := cbuf[:0]
	for _, c := range ch.CipherSuites {
		if !IsGREASE(c) {
			ciphers = append(ciphers, c)
		}
	}
	var ebuf [32]uint16
	exts := ebuf[:0]
	extCount := 0
	sni := false
	var alpn []byte
	var versions, sigAlgs []uint16
	for _, e := range ch.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		extCount++
		switch e.Type {
		case extServerName:
			sni = true
		case extALPN:
			alpn = firstALPN(e.Data)
		case extSupportedVersions:
			versions = readU8LenU16List(e.Data)
		case extSignatureAlgorithms:
			sigAlgs = readU16List(e.Data)
		}
		if original || (e.Type != extServerName && e.Type != extALPN) {
			exts = append(exts, e.Type)
		}
	}
	if !original {
		slices.Sort(ciphers)
		slices.Sort(exts)
	}

	version := ch.LegacyVersion
	if best, ok := highestVersion(versions); ok {
		version = best
	}

	var a [10]byte
	a[0] = transport
	vs := versionCode(version)
	a[1], a[2] = vs[0], vs[1]
	a[3] = 'i'
	if sni {
		a[3] = 'd'
	}
	putCount(a[4:6], len(ciphers))
	putCount(a[6:8], extCount)
	a[8], a[9] = alpnChars(alpn)

	bRaw := appendHexList(make([]byte, 0, 5*len(ciphers)), ciphers)
	cRaw := appendHexList(make([]byte, 0, 5*(len(exts)+len(sigAlgs))+1), exts)
	if n := countNonGREASE(sigAlgs); n > 0 {
		cRaw = append(cRaw, '_')
		cRaw = appendHexListNoGREASE(cRaw, sigAlgs)
	}

	out := make([]byte, 0, 10+1+12+1+12)
	out = append(out, a[:]...)
	out = append(out, '_')
	out = m.appendHash12(out, bRaw, len(ciphers) == 0)
	out = append(out, '_')
	out = m.appendHash12(out, cRaw, len(exts) == 0)

	r := make([]byte, 0, len(a)+2+len(bRaw)+len(cRaw))
	r = append(r, a[:]...)
	r = append(r, '_')
	r = append(r, bRaw...)
	r = append(r, '_')
	r = append(r, cRaw...)
	return string(out), string(r)
}

// JA4S returns the JA4S fingerprint and its raw form:
// transport, version (supported_versions when present, else
// legacy_version), the 2-digit extension count, the ALPN characters of the
// chosen protocol; '_' the chosen cipher suite as 4-digit hex; '_' the first
// 12 hex digits of the SHA-256 of the extension types in wire order (not
// sorted), "000000000000" when there are none. The server's list is taken as
// sent: a server has no business sending GREASE (RFC 8701 section 4), and
// JA4S describes what it did send.
func JA4S(sh *dissect.ServerHello, transport byte) (fp, raw string) {
	return (*Memo)(nil).JA4S(sh, transport)
}

func ja4s(sh *dissect.ServerHello, transport byte, m *Memo) (fp, raw string) {
	var ebuf [32]uint16
	exts := ebuf[:0]
	version := sh.LegacyVersion
	var alpn []byte
	for _, e := range sh.Extensions {
		exts = append(exts, e.Type)
		switch e.Type {
		case extSupportedVersions:
			// RFC 8446 4.2.1: the server sends a single selected_version.
			s := cryptobyte.String(e.Data)
			var v uint16
			if s.ReadUint16(&v) && s.Empty() {
				version = dissect.Version(v)
			}
		case extALPN:
			alpn = firstALPN(e.Data)
		}
	}
	var a [7]byte
	a[0] = transport
	vs := versionCode(version)
	a[1], a[2] = vs[0], vs[1]
	putCount(a[3:5], len(exts))
	a[5], a[6] = alpnChars(alpn)

	var cs [4]byte
	putHex16(cs[:], uint16(sh.CipherSuite))
	cRaw := appendHexList(make([]byte, 0, 5*len(exts)), exts)

	out := make([]byte, 0, 7+1+4+1+12)
	out = append(out, a[:]...)
	out = append(out, '_')
	out = append(out, cs[:]...)
	out = append(out, '_')
	out = m.appendHash12(out, cRaw, len(exts) == 0)

	r := make([]byte, 0, 7+1+4+1+len(cRaw))
	r = append(r, a[:]...)
	r = append(r, '_')
	r = append(r, cs[:]...)
	r = append(r, '_')
	r = append(r, cRaw...)
	return string(out), string(r)
}

// versionCode is the two JA4 characters of a protocol version.
func versionCode(v dissect.Version) [2]byte {
	switch v {
	case dissect.VersionTLS13:
		return [2]byte{'1', '3'}
	case dissect.VersionTLS12:
		return [2]byte{'1', '2'}
	case dissect.VersionTLS11:
		return [2]byte{'1', '1'}
	case dissect.VersionTLS10:
		return [2]byte{'1', '0'}
	case dissect.VersionSSL30:
		return [2]byte{'s', '3'}
	case dissect.VersionSSL2:
		return [2]byte{'s', '2'}
	case versionDTLS10:
		return [2]byte{'d', '1'}
	case versionDTLS12:
		return [2]byte{'d', '2'}
	case versionDTLS13:
		return [2]byte{'d', '3'}
	}
	return [2]byte{'0', '0'}
}

// DTLS versions are the one's complement of the TLS version they follow
// (RFC 6347 4.1, RFC 9147 5.3).
const (
	versionDTLS10 dissect.Version = 0xfeff
	versionDTLS12 dissect.Version = 0xfefd
	versionDTLS13 dissect.Version = 0xfefc
)

// highestVersion picks the highest value of a supported_versions list,
// GREASE left out. JA4.md says "the highest value", and the reference
// implementations take the numeric maximum: a TLS 1.3 draft (0x7f12) beats
// 0x0303 and gives "00"; for DTLS, whose numbers fall as versions rise,
// 0xfefd (DTLS 1.2) beats 0xfefc (DTLS 1.3).
func highestVersion(vs []uint16) (dissect.Version, bool) {
	var best uint16
	found := false
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !found || v > best {
			best, found = v, true
		}
	}
	return dissect.Version(best), found
}

// putCount writes n as two decimal digits, capped at 99 as JA4 says.
func putCount(dst []byte, n int) {
	if n > 99 {
		n = 99
	}
	dst[0] = byte('0' + n/10)
	dst[1] = byte('0' + n%10)
}

// alpnChars returns JA4's two ALPN characters of the first protocol: its
// first and last character, or "00" when there is none. When either of them
// is not alphanumeric (0-9, A-Z, a-z), the first and last characters of the
// protocol's hex encoding are used instead (JA4.md: 0xab → "ab",
// 0xab 0xcd → "ad", 0x30 0xab → "3b"). A one-byte protocol gives its
// character twice.
func alpnChars(p []byte) (byte, byte) {
	if len(p) == 0 {
		return '0', '0'
	}
	f, l := p[0], p[len(p)-1]
	if isAlnum(f) && isAlnum(l) {
		return f, l
	}
	const digits = "0123456789abcdef"
	return digits[f>>4], digits[l&0x0f]
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

func putHex16(dst []byte, v uint16) {
	const digits = "0123456789abcdef"
	dst[0] = digits[v>>12]
	dst[1] = digits[v>>8&0xf]
	dst[2] = digits[v>>4&0xf]
	dst[3] = digits[v&0xf]
}

// appendHexList appends vs as comma-separated 4-digit lower-case hex.
func appendHexList(b []byte, vs []uint16) []byte {
	var h [4]byte
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		putHex16(h[:], v)
		b = append(b, h[:]...)
	}
	return b
}

func appendHexListNoGREASE(b []byte, vs []uint16) []byte {
	var h [4]byte
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		putHex16(h[:], v)
		b = append(b, h[:]...)
	}
	return b
}

func countNonGREASE(vs []uint16) int {
	n := 0
	for _, v := range vs {
		if !IsGREASE(v) {
			n++
		}
	}
	return n
}

// appendHash12 appends the first 12 hex digits of SHA-256(s), or twelve
// zeros when the list it stands for is empty.
func (m *Memo) appendHash12(b, s []byte, empty bool) []byte {
	if empty {
		return append(b, "000000000000"...)
	}
	if m != nil {
		if h, ok := m.m[string(s)]; ok {
			return hex.AppendEncode(b, h[:])
		}
	}
	sum := sha256.Sum256(s)
	if m != nil {
		if len(m.m) >= m.max {
			clear(m.m)
		}
		m.m[string(s)] = [6]byte(sum[:6])
	}
	return hex.AppendEncode(b, sum[:6])
}

// ---------------------------------------------------------------- extension bodies

func findExt(exts []dissect.Extension, typ uint16) ([]byte, bool) {
	for _, e := range exts {
		if e.Type == typ {
			return e.Data, true
		}
	}
	return nil, false
}

// readU16List reads a uint16-length-prefixed vector of uint16 (supported
// groups, signature algorithms). A malformed body yields nil.
func readU16List(d []byte) []uint16 {
	s := cryptobyte.String(d)
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() || len(list)%2 != 0 {
		return nil
	}
	out := make([]uint16, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		out = append(out, v)
	}
	return out
}

// readU8LenU16List reads a uint8-length-prefixed vector of uint16 (the
// client's supported_versions).
func readU8LenU16List(d []byte) []uint16 {
	s := cryptobyte.String(d)
	var list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&list) || !s.Empty() || len(list)%2 != 0 {
		return nil
	}
	out := make([]uint16, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		list.ReadUint16(&v)
		out = append(out, v)
	}
	return out
}

// readU8List reads a uint8-length-prefixed vector of uint8 (ec_point_formats).
func readU8List(d []byte) []byte {
	s := cryptobyte.String(d)
	var list cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&list) || !s.Empty() {
		return nil
	}
	return list
}

// firstALPN returns the first protocol name of an ALPN extension body
// (RFC 7301 3.1: a uint16-prefixed list of uint8-prefixed names).
func firstALPN(d []byte) []byte {
	s := cryptobyte.String(d)
	var list, name cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !list.ReadUint8LengthPrefixed(&name) {
		return nil
	}
	return name
}
