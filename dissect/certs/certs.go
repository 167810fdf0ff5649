// Package certs summarises X.509 certificates seen in TLS Certificate
// messages, once per distinct certificate.
//
// A Summary is built from crypto/x509 when it accepts the DER. crypto/x509 is
// strict (it refuses negative serial numbers, mismatched signature
// algorithms, unknown critical constructs); a passive observer still wants
// to know whose certificate went by, so when it refuses, a lenient walk of
// the TBSCertificate (RFC 5280 4.1) recovers what its structure still gives:
// serial, names, validity, key and signature algorithm identifiers. The
// SHA-256 and SHA-1 fingerprints are always there.
//
// Distinguished names are written in the RFC 4514 form: the RDNs in reverse
// order of the certificate (the most specific, usually CN, first),
// comma-separated, multi-valued RDNs joined by '+', OpenSSL's short names
// (C, ST, L, O, OU, CN, emailAddress, serialNumber, DC, ...), unknown types
// as a dotted OID with the '#'-hex of the value. This is the string Zeek
// writes to x509.log (OpenSSL XN_FLAG_RFC2253), save that non-ASCII text is
// kept as UTF-8 here where OpenSSL escapes it. Summary.SubjectInOrder and
// IssuerInOrder give the certificate-order form Suricata writes
// ("C=US, O=Org, CN=example.com").
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Summary is what a person asks of a certificate.
type Summary struct {
	Subject, Issuer string // RFC 4514 strings (reverse certificate order, as Zeek)
	// SubjectInOrder and IssuerInOrder list the RDNs in certificate order,
	// ", "-separated, values unescaped, as Suricata's tls.subject and
	// tls.issuerdn.
	SubjectInOrder, IssuerInOrder string
	SubjectCN                     string // the last (most specific) commonName of the subject
	Serial                        string // upper-case hex of the serial's magnitude, even length, '-' if negative (Zeek)
	// SerialBytes is the serial number's DER content, as encoded (with the
	// leading 0x00 a positive number with its high bit set carries).
	SerialBytes        []byte
	Version            int // 1, 2 or 3; 0 when unknown
	NotBefore          time.Time
	NotAfter           time.Time
	SAN                []string // DNS names, then IP addresses, e-mail, URIs
	DNSNames           []string
	IPAddresses        []string
	EmailAddresses     []string
	URIs               []string
	SHA256             string // of the DER, lower-case hex
	SHA1               string // of the DER, lower-case hex (Zeek/Suricata fingerprints)
	MD5                string // of the DER, lower-case hex (ECS tls.*.hash.md5)
	Key                string // "RSA 2048", "ECDSA P-256", "Ed25519", ...
	KeyAlgorithm       string // "rsaEncryption", "id-ecPublicKey", "ED25519", ... (OpenSSL names, as Zeek's key_alg)
	KeyBits            int
	KeyExponent        int    // the RSA public exponent; 0 for other keys
	SignatureAlgorithm string // e.g. "SHA256-RSA" (crypto/x509 names); a dotted OID when unknown
	SelfSigned         bool   // issuer equals subject and the signature verifies with its own key
	IsCA               bool
	// ParseError is set when crypto/x509 rejected the DER; the other fields
	// hold what a lenient read could recover (at least SHA256).
	ParseError string
	// DER is the certificate, owned by the Summary.
	DER []byte
}

// SerialColons returns the serial number's DER content bytes as
// colon-separated upper-case hex ("00:C7:D4:28"), as Suricata prints it.
func (s *Summary) SerialColons() string {
	if len(s.SerialBytes) == 0 {
		return ""
	}
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 3*len(s.SerialBytes))
	for i, c := range s.SerialBytes {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return string(b)
}

// ValidAt says where t lies in the validity period: -1 not yet valid, 0
// valid, 1 expired. Both ends are inclusive (RFC 5280 4.1.2.5). A bound that
// could not be read does not limit.
func (s *Summary) ValidAt(t time.Time) int {
	if !s.NotBefore.IsZero() && t.Before(s.NotBefore) {
		return -1
	}
	if !s.NotAfter.IsZero() && t.After(s.NotAfter) {
		return 1
	}
	return 0
}

// MatchesHost reports whether the certificate is for host name (RFC 6125
// section 6): an IP address against the IP SANs; a DNS name against the
// DNS SANs, case-insensitively, a trailing dot ignored, with a wildcard only
// as the whole left-most label ("*.example.com") standing for exactly one
// non-empty label, and not over a bare one-label suffix ("*.com"). The
// subject CN is consulted only when there is no DNS SAN (RFC 6125 6.4.4).
func (s *Summary) MatchesHost(name string) bool {
	if name == "" {
		return false
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		for _, a := range s.IPAddresses {
			if sip, err := netip.ParseAddr(a); err == nil && sip.Unmap() == ip.Unmap() {
				return true
			}
		}
		return false
	}
	host := strings.TrimSuffix(name, ".")
	if len(s.DNSNames) > 0 {
		for _, p := range s.DNSNames {
			if matchPattern(p, host) {
				return true
			}
		}
		return false
	}
	return s.SubjectCN != "" && matchPattern(s.SubjectCN, host)
}

func matchPattern(pattern, host string) bool {
	pattern = strings.TrimSuffix(pattern, ".")
	if pattern == "" || host == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		// The wildcard covers exactly one label; the rest must have at
		// least two labels so that "*.com" matches nothing.
		if !strings.Contains(rest, ".") || strings.Contains(rest, "*") {
			return false
		}
		label, hostRest, ok := strings.Cut(host, ".")
		return ok && label != "" && strings.EqualFold(hostRest, rest)
	}
	if strings.Contains(pattern, "*") {
		return false // partial or inner wildcards are not honoured
	}
	return strings.EqualFold(pattern, host)
}

// Cache holds summaries by SHA-256 so that a certificate seen a thousand
// times is parsed once. It is bounded twice, by entries and by bytes (a
// summary holds its DER and the strings made from it: a capture of large
// distinct chains must not fill memory however few they are), evicting
// first in, first out. It is safe for concurrent use: the workers of a
// run share one.
type Cache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	byHash   map[[32]byte]*Summary
	order    [][32]byte // insertion order; order[head:] are held
	head     int
	hits     uint64
	parses   uint64
}

// DefaultCacheBytes bounds a Cache's bytes unless NewCacheBytes says
// otherwise.
const DefaultCacheBytes = 32 << 20

// NewCache returns a cache of at most max summaries (at least 1) and
// DefaultCacheBytes.
func NewCache(max int) *Cache { return NewCacheBytes(max, DefaultCacheBytes) }

// NewCacheBytes returns a cache of at most max summaries and about
// maxBytes bytes of them.
func NewCacheBytes(max, maxBytes int) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, maxBytes: maxBytes, byHash: make(map[[32]byte]*Summary, min(max, 1024))}
}

// size estimates what a summary holds: its DER, and strings of about the
// same size again, and its fixed part.
func size(s *Summary) int { return 2*len(s.DER) + 512 }

// Summarize returns the summary of der, from the cache when it is there.
// der is only read during the call. The Summary returned is shared by every
// caller that hands in the same certificate: treat it as read-only.
func (c *Cache) Summarize(der []byte) *Summary {
	return c.SummarizeSum(der, sha256.Sum256(der))
}

// SummarizeSum is Summarize for a caller that has the SHA-256 of der at
// hand already: a certificate is hashed once per connection, not once per
// use.
func (c *Cache) SummarizeSum(der []byte, key [32]byte) *Summary {
	c.mu.Lock()
	if s, ok := c.byHash[key]; ok {
		c.hits++
		c.mu.Unlock()
		return s
	}
	c.parses++
	c.mu.Unlock()
	// Parsed outside the lock: two workers may parse the same new
	// certificate once each, and the second keeps the first's.
	s := summarize(der, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byHash[key]; ok {
		return old
	}
	n := size(s)
	if n > c.maxBytes {
		return s // larger than the whole cache: not kept
	}
	for len(c.byHash) >= c.max || c.bytes+n > c.maxBytes {
		k := c.order[c.head]
		c.order[c.head] = [32]byte{}
		c.head++
		if old, ok := c.byHash[k]; ok {
			c.bytes -= size(old)
			delete(c.byHash, k)
		}
	}
	if c.head > 64 && c.head > len(c.order)/2 {
		m := copy(c.order, c.order[c.head:])
		c.order, c.head = c.order[:m], 0
	}
	c.order = append(c.order, key)
	c.byHash[key] = s
	c.bytes += n
	return s
}

// Len returns how many summaries the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byHash)
}

// Bytes returns about how many bytes the cache holds.
func (c *Cache) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Stats returns how many calls were answered from the cache and how many
// certificates were parsed.
func (c *Cache) Stats() (hits, parses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.parses
}

// Summarize summarises der without a cache.
func Summarize(der []byte) *Summary { return summarize(der, sha256.Sum256(der)) }

func summarize(der []byte, sum [32]byte) *Summary {
	s := &Summary{DER: append([]byte(nil), der...)}
	s.SHA256 = hex.EncodeToString(sum[:])
	s1 := sha1.Sum(der)
	s.SHA1 = hex.EncodeToString(s1[:])
	m5 := md5.Sum(der)
	s.MD5 = hex.EncodeToString(m5[:])

	// The lenient walk comes first: it gives the names in certificate order
	// and the serial as encoded, which crypto/x509 does not keep.
	t, lerr := readTBS(s.DER)
	t.fill(s)

	cert, err := x509.ParseCertificate(s.DER)
	if err != nil {
		s.ParseError = err.Error()
		if lerr != nil {
			s.ParseError += "; lenient read: " + lerr.Error()
		}
		return s
	}
	s.Version = cert.Version
	s.NotBefore, s.NotAfter = cert.NotBefore.UTC(), cert.NotAfter.UTC()
	if s.SubjectCN == "" {
		s.SubjectCN = cert.Subject.CommonName
	}
	s.DNSNames = cert.DNSNames
	for _, ip := range cert.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			s.IPAddresses = append(s.IPAddresses, a.Unmap().String())
		}
	}
	s.EmailAddresses = cert.EmailAddresses
	for _, u := range cert.URIs {
		s.URIs = append(s.URIs, u.String())
	}
	s.SAN = make([]string, 0, len(s.DNSNames)+len(s.IPAddresses)+len(s.EmailAddresses)+len(s.URIs))
	s.SAN = append(s.SAN, s.DNSNames...)
	s.SAN = append(s.SAN, s.IPAddresses...)
	s.SAN = append(s.SAN, s.EmailAddresses...)
	s.SAN = append(s.SAN, s.URIs...)
	if len(s.SAN) == 0 {
		s.SAN = nil
	}
	if cert.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		s.SignatureAlgorithm = cert.SignatureAlgorithm.String()
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		s.KeyBits = k.N.BitLen()
		s.KeyExponent = k.E
		s.Key = "RSA " + strconv.Itoa(s.KeyBits)
	case *ecdsa.PublicKey:
		s.KeyBits = k.Curve.Params().BitSize
		s.Key = "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		s.KeyBits = 256
		s.Key = "Ed25519"
	}
	s.IsCA = cert.BasicConstraintsValid && cert.IsCA
	s.SelfSigned = string(cert.RawSubject) == string(cert.RawIssuer) && selfSignatureVerifies(cert)
	return s
}

// selfSignatureVerifies checks the certificate's signature with its own key.
// x509.Certificate.CheckSignature refuses SHA-1 and MD5; old self-signed
// roots and test certificates still use them, and whether a certificate is
// self-signed is a fact about it, not a judgment of its strength, so those
// are checked here directly.
func selfSignatureVerifies(c *x509.Certificate) bool {
	var h crypto.Hash
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		h = crypto.SHA1
	case x509.MD5WithRSA:
		h = crypto.MD5
	default:
		return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
	}
	var digest []byte
	if h == crypto.MD5 {
		d := md5.Sum(c.RawTBSCertificate)
		digest = d[:]
	} else {
		d := sha1.Sum(c.RawTBSCertificate)
		digest = d[:]
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, digest, c.Signature) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, c.Signature)
	}
	return false
}

// ---------------------------------------------------------------- lenient read

// tbs is what the lenient walk recovered; each field is set only when read.
type tbs struct {
	version                 int
	serial                  []byte
	sigAlg                  string // dotted OID
	issuer, subject         []rdn
	haveIssuer, haveSubject bool
	notBefore, notAfter     time.Time
	keyAlg                  string // dotted OID
	keyCurve                string // dotted OID of the named curve, for EC keys
	keyBits                 int
}

type rdn []atv

type atv struct {
	oid   string // dotted
	value string // decoded text, or "#" + hex of the DER element
}

var errStructure = errors.New("certificate structure")

// lenientError names the field where the walk stopped.
type lenientError struct{ field string }

func (e *lenientError) Error() string { return "stopped at " + e.field }
func (e *lenientError) Unwrap() error { return errStructure }

var (
	tagVersion    = asn1.Tag(0).Constructed().ContextSpecific()
	oidRSA        = "1.2.840.113549.1.1.1"
	oidEC         = "1.2.840.10045.2.1"
	oidEd25519    = "1.3.101.112"
	oidEd448      = "1.3.101.113"
	oidX25519     = "1.3.101.110"
	oidDSA        = "1.2.840.10040.4.1"
	oidRSAPSS     = "1.2.840.113549.1.1.10"
	oidCommonName = "2.5.4.3"
)

// readTBS walks Certificate → TBSCertificate as far as it can (RFC 5280
// 4.1), keeping what it read before a failure.
func readTBS(der []byte) (t tbs, err error) {
	in := cryptobyte.String(der)
	var cert, body cryptobyte.String
	if !in.ReadASN1(&cert, asn1.SEQUENCE) || !cert.ReadASN1(&body, asn1.SEQUENCE) {
		return t, &lenientError{"tbsCertificate"}
	}
	var ver cryptobyte.String
	var hasVer bool
	if !body.ReadOptionalASN1(&ver, &hasVer, tagVersion) {
		return t, &lenientError{"version"}
	}
	t.version = 1
	if hasVer {
		var v int64
		if !ver.ReadASN1Int64WithTag(&v, asn1.INTEGER) || v < 0 || v > 2 {
			return t, &lenientError{"version"}
		}
		t.version = int(v) + 1
	}
	var serial cryptobyte.String
	if !body.ReadASN1(&serial, asn1.INTEGER) || len(serial) == 0 {
		return t, &lenientError{"serialNumber"}
	}
	t.serial = serial
	var alg cryptobyte.String
	if !body.ReadASN1(&alg, asn1.SEQUENCE) {
		return t, &lenientError{"signature"}
	}
	t.sigAlg, _ = readAlgorithmOID(alg)
	var name cryptobyte.String
	if !body.ReadASN1(&name, asn1.SEQUENCE) {
		return t, &lenientError{"issuer"}
	}
	if t.issuer, t.haveIssuer = readName(name); !t.haveIssuer {
		return t, &lenientError{"issuer"}
	}
	var validity cryptobyte.String
	if !body.ReadASN1(&validity, asn1.SEQUENCE) {
		return t, &lenientError{"validity"}
	}
	t.notBefore, _ = readTime(&validity)
	t.notAfter, _ = readTime(&validity)
	if !body.ReadASN1(&name, asn1.SEQUENCE) {
		return t, &lenientError{"subject"}
	}
	if t.subject, t.haveSubject = readName(name); !t.haveSubject {
		return t, &lenientError{"subject"}
	}
	var spki, keyAlg cryptobyte.String
	if !body.ReadASN1(&spki, asn1.SEQUENCE) || !spki.ReadASN1(&keyAlg, asn1.SEQUENCE) {
		return t, &lenientError{"subjectPublicKeyInfo"}
	}
	var params cryptobyte.String
	t.keyAlg, params = readAlgorithmOID(keyAlg)
	if t.keyAlg == oidEC {
		var curve []byte
		if params.ReadASN1((*cryptobyte.String)(&curve), asn1.OBJECT_IDENTIFIER) {
			t.keyCurve = oidString(curve)
		}
	}
	if bits, ok := readBitString(&spki); ok {
		t.keyBits = keyBits(t.keyAlg, t.keyCurve, bits)
	}
	return t, nil
}

func readAlgorithmOID(alg cryptobyte.String) (string, cryptobyte.String) {
	var oid []byte
	if !alg.ReadASN1((*cryptobyte.String)(&oid), asn1.OBJECT_IDENTIFIER) {
		return "", nil
	}
	return oidString(oid), alg
}

func readBitString(s *cryptobyte.String) ([]byte, bool) {
	var b cryptobyte.String
	var unused uint8
	if !s.ReadASN1(&b, asn1.BIT_STRING) || !b.ReadUint8(&unused) || unused != 0 {
		return nil, false
	}
	return b, true
}

// keyBits derives the key size from the algorithm and key bits: the RSA
// modulus length, the curve size, the fixed sizes of the EdDSA keys.
func keyBits(alg, curve string, key []byte) int {
	switch alg {
	case oidRSA, oidRSAPSS:
		s := cryptobyte.String(key)
		var seq cryptobyte.String
		var n cryptobyte.String
		if !s.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1(&n, asn1.INTEGER) {
			return 0
		}
		return new(big.Int).SetBytes(n).BitLen()
	case oidEC:
		switch curve {
		case "1.2.840.10045.3.1.7":
			return 256
		case "1.3.132.0.34":
			return 384
		case "1.3.132.0.35":
			return 521
		case "1.2.840.10045.3.1.1":
			return 192
		case "1.3.132.0.33":
			return 224
		}
	case oidEd25519, oidX25519:
		return 256
	case oidEd448:
		return 456
	}
	return 0
}

func readTime(s *cryptobyte.String) (time.Time, bool) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(asn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			s.SkipASN1(asn1.UTCTime)
			return time.Time{}, false
		}
	case s.PeekASN1Tag(asn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			s.SkipASN1(asn1.GeneralizedTime)
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	return t.UTC(), true
}

// readName reads a Name (RDNSequence, RFC 5280 4.1.2.4) in certificate order.
func readName(name cryptobyte.String) ([]rdn, bool) {
	var out []rdn
	for !name.Empty() {
		var set cryptobyte.String
		if !name.ReadASN1(&set, asn1.SET) {
			return out, false
		}
		var r rdn
		for !set.Empty() {
			var seq cryptobyte.String
			var oid []byte
			var val cryptobyte.String
			var tag asn1.Tag
			if !set.ReadASN1(&seq, asn1.SEQUENCE) ||
				!seq.ReadASN1((*cryptobyte.String)(&oid), asn1.OBJECT_IDENTIFIER) ||
				!seq.ReadAnyASN1Element(&val, &tag) {
				return out, false
			}
			r = append(r, atv{oid: oidString(oid), value: decodeValue(val, tag)})
		}
		out = append(out, r)
	}
	return out, true
}

// decodeValue turns a directory string into text; anything else becomes
// "#" and the hex of its DER, as RFC 4514 2.4 says.
func decodeValue(elem cryptobyte.String, tag asn1.Tag) string {
	var content cryptobyte.String
	var t asn1.Tag
	e := elem
	if !e.ReadAnyASN1(&content, &t) {
		return "#" + hex.EncodeToString(elem)
	}
	switch tag {
	case asn1.UTF8String, asn1.PrintableString, asn1.IA5String, 18 /* NumericString */, 26 /* VisibleString */ :
		if utf8.Valid(content) {
			return string(content)
		}
	case asn1.T61String:
		// Teletex is in practice Latin-1.
		r := make([]rune, len(content))
		for i, c := range content {
			r[i] = rune(c)
		}
		return string(r)
	case 30: // BMPString, UTF-16BE
		if len(content)%2 == 0 {
			u := make([]uint16, len(content)/2)
			for i := range u {
				u[i] = uint16(content[2*i])<<8 | uint16(content[2*i+1])
			}
			return string(utf16.Decode(u))
		}
	case 28: // UniversalString, UTF-32BE
		if len(content)%4 == 0 {
			r := make([]rune, len(content)/4)
			for i := range r {
				r[i] = rune(uint32(content[4*i])<<24 | uint32(content[4*i+1])<<16 | uint32(content[4*i+2])<<8 | uint32(content[4*i+3]))
			}
			return string(r)
		}
	}
	return "#" + hex.EncodeToString(elem)
}

// oidString formats DER OID content as dotted decimal; arcs too large for
// 64 bits, or a broken encoding, give the hex of the content.
func oidString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var sb strings.Builder
	var v uint64
	first := true
	for i, c := range b {
		if v > 1<<56 {
			return "#" + hex.EncodeToString(b)
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return "#" + hex.EncodeToString(b)
			}
			continue
		}
		if first {
			// The first subidentifier packs two arcs (X.690 8.19.4).
			a := min(v/40, 2)
			sb.WriteString(strconv.FormatUint(a, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v-40*a, 10))
			first = false
		} else {
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return sb.String()
}

// fill copies the lenient read into s.
func (t *tbs) fill(s *Summary) {
	s.Version = t.version
	if len(t.serial) > 0 {
		s.SerialBytes = append([]byte(nil), t.serial...)
		s.Serial = serialHex(t.serial)
	}
	if t.haveIssuer {
		s.Issuer = rfc4514(t.issuer)
		s.IssuerInOrder = inOrder(t.issuer)
	}
	if t.haveSubject {
		s.Subject = rfc4514(t.subject)
		s.SubjectInOrder = inOrder(t.subject)
		for _, r := range t.subject {
			for _, a := range r {
				if a.oid == oidCommonName && !strings.HasPrefix(a.value, "#") {
					s.SubjectCN = a.value
				}
			}
		}
	}
	s.NotBefore, s.NotAfter = t.notBefore, t.notAfter
	s.SignatureAlgorithm = signatureName(t.sigAlg)
	s.KeyBits = t.keyBits
	switch t.keyAlg {
	case oidRSA:
		s.KeyAlgorithm = "rsaEncryption"
		if t.keyBits > 0 {
			s.Key = "RSA " + strconv.Itoa(t.keyBits)
		}
	case oidRSAPSS:
		s.KeyAlgorithm = "rsassaPss"
		if t.keyBits > 0 {
			s.Key = "RSA-PSS " + strconv.Itoa(t.keyBits)
		}
	case oidEC:
		s.KeyAlgorithm = "id-ecPublicKey"
		if n := curveName(t.keyCurve); n != "" {
			s.Key = "ECDSA " + n
		}
	case oidEd25519:
		s.KeyAlgorithm, s.Key = "ED25519", "Ed25519"
	case oidEd448:
		s.KeyAlgorithm, s.Key = "ED448", "Ed448"
	case oidX25519:
		s.KeyAlgorithm, s.Key = "X25519", "X25519"
	case oidDSA:
		s.KeyAlgorithm, s.Key = "dsaEncryption", "DSA"
	default:
		s.KeyAlgorithm = t.keyAlg
	}
}

// signatureName gives the crypto/x509 name of the common signature
// algorithms, so that a certificate x509 rejected reads like one it took.
func signatureName(oid string) string {
	switch oid {
	case "1.2.840.113549.1.1.4":
		return "MD5-RSA"
	case "1.2.840.113549.1.1.5":
		return "SHA1-RSA"
	case "1.2.840.113549.1.1.11":
		return "SHA256-RSA"
	case "1.2.840.113549.1.1.12":
		return "SHA384-RSA"
	case "1.2.840.113549.1.1.13":
		return "SHA512-RSA"
	case "1.2.840.10045.4.1":
		return "ECDSA-SHA1"
	case "1.2.840.10045.4.3.2":
		return "ECDSA-SHA256"
	case "1.2.840.10045.4.3.3":
		return "ECDSA-SHA384"
	case "1.2.840.10045.4.3.4":
		return "ECDSA-SHA512"
	case "1.3.101.112":
		return "Ed25519"
	}
	return oid
}

func curveName(oid string) string {
	switch oid {
	case "1.2.840.10045.3.1.7":
		return "P-256"
	case "1.3.132.0.34":
		return "P-384"
	case "1.3.132.0.35":
		return "P-521"
	case "1.2.840.10045.3.1.1":
		return "P-192"
	case "1.3.132.0.33":
		return "P-224"
	case "":
		return ""
	}
	return oid
}

// serialHex is the serial as Zeek prints it: the magnitude in upper-case
// hex, whole bytes, '-' before a negative number.
func serialHex(content []byte) string {
	n := new(big.Int).SetBytes(content)
	neg := content[0]&0x80 != 0
	if neg {
		// Two's complement: subtract 2^(8*len).
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(content))))
		n.Neg(n)
	}
	mag := n.Bytes()
	if len(mag) == 0 {
		mag = []byte{0}
	}
	h := strings.ToUpper(hex.EncodeToString(mag))
	if neg {
		return "-" + h
	}
	return h
}

// attributeName is OpenSSL's short name of an attribute type, as Zeek
// prints it; "" for types it has none for.
func attributeName(oid string) string {
	switch oid {
	case "2.5.4.3":
		return "CN"
	case "2.5.4.6":
		return "C"
	case "2.5.4.7":
		return "L"
	case "2.5.4.8":
		return "ST"
	case "2.5.4.9":
		return "street"
	case "2.5.4.10":
		return "O"
	case "2.5.4.11":
		return "OU"
	case "2.5.4.5":
		return "serialNumber"
	case "2.5.4.4":
		return "SN"
	case "2.5.4.42":
		return "GN"
	case "2.5.4.12":
		return "title"
	case "2.5.4.13":
		return "description"
	case "2.5.4.15":
		return "businessCategory"
	case "2.5.4.17":
		return "postalCode"
	case "2.5.4.41":
		return "name"
	case "2.5.4.43":
		return "initials"
	case "2.5.4.44":
		return "generationQualifier"
	case "2.5.4.46":
		return "dnQualifier"
	case "2.5.4.65":
		return "pseudonym"
	case "2.5.4.97":
		return "organizationIdentifier"
	case "1.2.840.113549.1.9.1":
		return "emailAddress"
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	case "1.3.6.1.4.1.311.60.2.1.1":
		return "jurisdictionL"
	case "1.3.6.1.4.1.311.60.2.1.2":
		return "jurisdictionST"
	case "1.3.6.1.4.1.311.60.2.1.3":
		return "jurisdictionC"
	}
	return ""
}

func appendATV(b []byte, a atv, suricata bool) []byte {
	if suricata && a.oid == "1.2.840.113549.1.9.1" {
		b = append(b, "Email"...)
	} else if n := attributeName(a.oid); n != "" {
		b = append(b, n...)
	} else {
		b = append(b, a.oid...)
	}
	b = append(b, '=')
	if suricata || strings.HasPrefix(a.value, "#") {
		// Suricata prints values as they are; the '#' hex form is never
		// escaped (RFC 4514 2.4).
		return append(b, a.value...)
	}
	return appendEscaped(b, a.value)
}

// appendEscaped escapes a value as RFC 4514 2.4 asks: the special
// characters with a backslash, a leading '#' or space and a trailing space,
// and control characters as \XX.
func appendEscaped(b []byte, v string) []byte {
	const digits = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';':
			b = append(b, '\\', c)
		case (c == '#' || c == ' ') && i == 0, c == ' ' && i == len(v)-1:
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', digits[c>>4], digits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

// rfc4514 writes a Name as RFC 4514 2.1 says: last RDN first.
func rfc4514(name []rdn) string {
	var b []byte
	for i := len(name) - 1; i >= 0; i-- {
		if i != len(name)-1 {
			b = append(b, ',')
		}
		for j, a := range name[i] {
			if j > 0 {
				b = append(b, '+')
			}
			b = appendATV(b, a, false)
		}
	}
	return string(b)
}

// inOrder writes a Name in certificate order with ", " between RDNs,
// " + " inside one, "Email" for emailAddress and no escaping, as Suricata
// does; it is for reading and comparing, not for parsing back.
func inOrder(name []rdn) string {
	var b []byte
	for i, r := range name {
		if i > 0 {
			b = append(b, ", "...)
		}
		for j, a := range r {
			if j > 0 {
				b = append(b, " + "...)
			}
			b = appendATV(b, a, true)
		}
	}
	return string(b)
}
