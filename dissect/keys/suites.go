package keys

import (
	"crypto"
	"errors"
	"fmt"
	"strconv"

	// Registers the hashes the suites name, so crypto.Hash.New works.
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// ErrUnsupportedSuite says a cipher suite's record protection is not one
// this package can remove (RC4, CAMELLIA, ARIA, SM4, GOST, export, NULL...).
var ErrUnsupportedSuite = errors.New("keys: unsupported cipher suite")

// Cipher is the bulk cipher and mode of a cipher suite.
type Cipher uint8

const (
	CipherAESGCM           Cipher = iota + 1 // AEAD, RFC 5288 / RFC 8446
	CipherChaCha20Poly1305                   // AEAD, RFC 7905 / RFC 8446
	CipherAESCCM                             // AEAD, 16-byte tag, RFC 6655
	CipherAESCCM8                            // AEAD, 8-byte tag, RFC 6655
	CipherAESCBC                             // block cipher with HMAC, RFC 5246 6.2.3.2
	Cipher3DESCBC                            // block cipher with HMAC
	CipherDESCBC                             // single DES, block cipher with HMAC (RFC 5469)
	CipherRC4                                // stream cipher with HMAC (RFC 5246 6.2.3.1; RFC 7465 forbids it, captures still hold it)
)

func (c Cipher) String() string {
	switch c {
	case CipherAESGCM:
		return "AES-GCM"
	case CipherChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	case CipherAESCCM:
		return "AES-CCM"
	case CipherAESCCM8:
		return "AES-CCM-8"
	case CipherAESCBC:
		return "AES-CBC"
	case Cipher3DESCBC:
		return "3DES-EDE-CBC"
	case CipherDESCBC:
		return "DES-CBC"
	case CipherRC4:
		return "RC4"
	}
	return "Cipher(" + strconv.Itoa(int(c)) + ")"
}

// AEAD is true for the ciphers that authenticate on their own.
func (c Cipher) AEAD() bool {
	return c != CipherAESCBC && c != Cipher3DESCBC && c != CipherDESCBC && c != CipherRC4
}

// Stream is true for a stream cipher, whose state runs over every byte of
// every record: each record must be opened (Peek decrypts it whole too)
// and a sequence number cannot be set back.
func (c Cipher) Stream() bool { return c == CipherRC4 }

// Suite is the record protection of a cipher suite, whatever its key
// exchange: what a passive decryptor needs once it holds the secrets.
type Suite struct {
	ID     uint16
	Name   string      // IANA name
	Cipher Cipher      //
	KeyLen int         // bytes of the bulk cipher key
	MAC    crypto.Hash // HMAC hash of a CBC suite; 0 for AEAD
	Hash   crypto.Hash // TLS 1.2 PRF hash, or the TLS 1.3 HKDF hash
	TLS13  bool        // a TLS 1.3 suite (RFC 8446 B.4)
}

// TagLen is the AEAD tag length, 0 for CBC suites.
func (s Suite) TagLen() int {
	switch s.Cipher {
	case CipherAESCCM8:
		return 8
	case CipherAESCBC, Cipher3DESCBC, CipherDESCBC, CipherRC4:
		return 0
	}
	return 16
}

// MACLen is the HMAC length of a CBC suite, 0 for AEAD.
func (s Suite) MACLen() int {
	if s.MAC == 0 {
		return 0
	}
	return s.MAC.Size()
}

// BlockLen is the cipher block length of a CBC suite, 0 for AEAD.
func (s Suite) BlockLen() int {
	switch s.Cipher {
	case CipherAESCBC:
		return 16
	case Cipher3DESCBC, CipherDESCBC:
		return 8
	}
	return 0
}

// fixedIVLen is the IV bytes taken from the TLS 1.2 key block
// (RFC 5246 6.3): the implicit salt of GCM and CCM (RFC 5288 3, RFC 6655 3),
// the whole nonce of ChaCha20 (RFC 7905 2), the first CBC IV of TLS 1.0.
func (s Suite) fixedIVLen(version uint16) int {
	switch s.Cipher {
	case CipherAESGCM, CipherAESCCM, CipherAESCCM8:
		return 4
	case CipherChaCha20Poly1305:
		return 12
	}
	if version <= VersionTLS10 {
		return s.BlockLen()
	}
	return 0
}

// Protocol versions as on the wire.
const (
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// LookupSuite returns the record protection of an IANA cipher suite code,
// or ErrUnsupportedSuite.
func LookupSuite(id uint16) (Suite, error) {
	for i := range suites {
		if suites[i].ID == id {
			return suites[i], nil
		}
	}
	return Suite{}, fmt.Errorf("keys: cipher suite %#04x: %w", id, ErrUnsupportedSuite)
}

// Suites returns a copy of the table, for tests and documentation.
func Suites() []Suite { return append([]Suite(nil), suites...) }

func aead(id uint16, name string, c Cipher, key int, h crypto.Hash) Suite {
	return Suite{ID: id, Name: name, Cipher: c, KeyLen: key, Hash: h}
}

func cbc(id uint16, name string, c Cipher, key int, mac, prf crypto.Hash) Suite {
	return Suite{ID: id, Name: name, Cipher: c, KeyLen: key, MAC: mac, Hash: prf}
}

func tls13(id uint16, name string, c Cipher, key int, h crypto.Hash) Suite {
	return Suite{ID: id, Name: name, Cipher: c, KeyLen: key, Hash: h, TLS13: true}
}

// suites is the read-only table. The PRF hash of a TLS 1.2 suite is SHA-256
// unless the suite names SHA-384 (RFC 5246 5, RFC 5288 3, RFC 5289 3.2);
// TLS 1.0 and 1.1 use their MD5/SHA-1 PRF whatever the table says.
var suites = []Suite{
	// TLS 1.3, RFC 8446 B.4.
	tls13(0x1301, "TLS_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	tls13(0x1302, "TLS_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	tls13(0x1303, "TLS_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	tls13(0x1304, "TLS_AES_128_CCM_SHA256", CipherAESCCM, 16, crypto.SHA256),
	tls13(0x1305, "TLS_AES_128_CCM_8_SHA256", CipherAESCCM8, 16, crypto.SHA256),

	// AES-GCM, RFC 5288, RFC 5289, RFC 5487, RFC 8442.
	aead(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),
	aead(0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", CipherAESGCM, 16, crypto.SHA256),
	aead(0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384", CipherAESGCM, 32, crypto.SHA384),

	// ChaCha20-Poly1305, RFC 7905.
	aead(0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),
	aead(0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", CipherChaCha20Poly1305, 32, crypto.SHA256),

	// AES-CCM, RFC 6655, RFC 7251, RFC 8442; SHA-256 PRF throughout.
	aead(0xc09c, "TLS_RSA_WITH_AES_128_CCM", CipherAESCCM, 16, crypto.SHA256),
	aead(0xc09d, "TLS_RSA_WITH_AES_256_CCM", CipherAESCCM, 32, crypto.SHA256),
	aead(0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM", CipherAESCCM, 16, crypto.SHA256),
	aead(0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM", CipherAESCCM, 32, crypto.SHA256),
	aead(0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8", CipherAESCCM8, 32, crypto.SHA256),
	aead(0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8", CipherAESCCM8, 32, crypto.SHA256),
	aead(0xc0a4, "TLS_PSK_WITH_AES_128_CCM", CipherAESCCM, 16, crypto.SHA256),
	aead(0xc0a5, "TLS_PSK_WITH_AES_256_CCM", CipherAESCCM, 32, crypto.SHA256),
	aead(0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM", CipherAESCCM, 16, crypto.SHA256),
	aead(0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM", CipherAESCCM, 32, crypto.SHA256),
	aead(0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8", CipherAESCCM8, 32, crypto.SHA256),
	aead(0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8", CipherAESCCM8, 32, crypto.SHA256),
	aead(0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", CipherAESCCM, 16, crypto.SHA256),
	aead(0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", CipherAESCCM, 32, crypto.SHA256),
	aead(0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8", CipherAESCCM8, 32, crypto.SHA256),
	aead(0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", CipherAESCCM8, 16, crypto.SHA256),
	aead(0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256", CipherAESCCM, 16, crypto.SHA256),

	// AES-CBC with HMAC, RFC 5246 A.5, RFC 4492, RFC 5289, RFC 5487, RFC 5489.
	cbc(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", CipherAESCBC, 32, crypto.SHA256, crypto.SHA256),
	cbc(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", CipherAESCBC, 32, crypto.SHA256, crypto.SHA256),
	cbc(0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", CipherAESCBC, 32, crypto.SHA256, crypto.SHA256),
	cbc(0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),
	cbc(0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),
	cbc(0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),
	cbc(0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),
	cbc(0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),
	cbc(0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", CipherAESCBC, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", CipherAESCBC, 32, crypto.SHA1, crypto.SHA256),
	cbc(0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", CipherAESCBC, 16, crypto.SHA256, crypto.SHA256),
	cbc(0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", CipherAESCBC, 32, crypto.SHA384, crypto.SHA384),

	// 3DES-EDE-CBC with HMAC-SHA1, still met in old captures.
	cbc(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	cbc(0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", Cipher3DESCBC, 24, crypto.SHA1, crypto.SHA256),
	// Single DES (RFC 5469 deprecates it) and RC4 (RFC 7465 forbids it):
	// gone from servers, not from the captures an engineer is handed.
	cbc(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", CipherDESCBC, 8, crypto.SHA1, crypto.SHA256),
	cbc(0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", CipherDESCBC, 8, crypto.SHA1, crypto.SHA256),
	cbc(0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", CipherDESCBC, 8, crypto.SHA1, crypto.SHA256),
	cbc(0x0004, "TLS_RSA_WITH_RC4_128_MD5", CipherRC4, 16, crypto.MD5, crypto.SHA256),
	cbc(0x0005, "TLS_RSA_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
	cbc(0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
	cbc(0x008a, "TLS_PSK_WITH_RC4_128_SHA", CipherRC4, 16, crypto.SHA1, crypto.SHA256),
}
