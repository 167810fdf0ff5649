package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"strconv"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// Suite is a TLS 1.3 cipher suite (RFC 8446 appendix B.4), which decides
// the AEAD, the header protection and the hash of a QUIC key schedule.
type Suite uint16

const (
	TLS_AES_128_GCM_SHA256       Suite = 0x1301
	TLS_AES_256_GCM_SHA384       Suite = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 Suite = 0x1303
)

func (s Suite) String() string {
	switch s {
	case TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	return "Suite(0x" + strconv.FormatUint(uint64(s), 16) + ")"
}

func (s Suite) hash() func() hash.Hash {
	if s == TLS_AES_256_GCM_SHA384 {
		return sha512.New384
	}
	return sha256.New
}

func (s Suite) keyLen() int {
	if s == TLS_AES_128_GCM_SHA256 {
		return 16
	}
	return 32
}

// hkdfExpandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 section 7.1)
// with an empty context, the only kind QUIC uses: the info is
// uint16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255>.
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	info := make([]byte, 0, 4+6+len(label))
	info = append(info, byte(length>>8), byte(length), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), length)
}

// InitialSecrets derives the client and server Initial secrets from the
// Destination Connection ID of the client's first Initial packet (or the
// Source Connection ID of a Retry) (RFC 9001 section 5.2, RFC 9369
// section 3.3.1).
func InitialSecrets(v Version, dcid []byte) (client, server []byte, err error) {
	p := v.params()
	if p == nil {
		return nil, nil, ErrUnsupportedVersion
	}
	prk, err := hkdf.Extract(sha256.New, dcid, p.salt)
	if err != nil {
		return nil, nil, err
	}
	if client, err = hkdfExpandLabel(sha256.New, prk, "client in", sha256.Size); err != nil {
		return nil, nil, err
	}
	if server, err = hkdfExpandLabel(sha256.New, prk, "server in", sha256.Size); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// InitialKeys returns the keys of both directions' Initial packets.
func InitialKeys(v Version, dcid []byte) (client, server *Keys, err error) {
	cs, ss, err := InitialSecrets(v, dcid)
	if err != nil {
		return nil, nil, err
	}
	if client, err = NewKeys(v, TLS_AES_128_GCM_SHA256, cs); err != nil {
		return nil, nil, err
	}
	if server, err = NewKeys(v, TLS_AES_128_GCM_SHA256, ss); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// Keys remove packet protection of one direction at one encryption level
// (RFC 9001 section 5). A Keys holds scratch space: it is not safe for
// concurrent use.
type Keys struct {
	version Version
	suite   Suite
	secret  []byte
	aead    cipher.AEAD
	iv      [12]byte
	hpAES   cipher.Block // AES suites
	hpKey   []byte       // ChaCha20
	nonce   [12]byte
	mask    [16]byte
}

// NewKeys derives the AEAD key, IV and header protection key from a
// traffic secret (RFC 9001 section 5.1): a key log's
// CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_TRAFFIC_SECRET_0 and so on, with
// the cipher suite the ServerHello chose.
func NewKeys(v Version, suite Suite, secret []byte) (*Keys, error) {
	p := v.params()
	if p == nil {
		return nil, ErrUnsupportedVersion
	}
	switch suite {
	case TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256:
	default:
		return nil, &ParseError{Msg: "keys", Field: "cipher_suite " + suite.String(), Err: ErrMalformed}
	}
	if len(secret) != suite.hash()().Size() {
		return nil, &ParseError{Msg: "keys", Field: "secret", Offset: len(secret), Err: ErrMalformed}
	}
	k := &Keys{version: v, suite: suite, secret: append([]byte(nil), secret...)}
	hpKey, err := hkdfExpandLabel(suite.hash(), secret, p.hp, suite.keyLen())
	if err != nil {
		return nil, err
	}
	if suite == TLS_CHACHA20_POLY1305_SHA256 {
		k.hpKey = hpKey
	} else if k.hpAES, err = aes.NewCipher(hpKey); err != nil {
		return nil, err
	}
	if err := k.deriveAEAD(p); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keys) deriveAEAD(p *versionParams) error {
	key, err := hkdfExpandLabel(k.suite.hash(), k.secret, p.key, k.suite.keyLen())
	if err != nil {
		return err
	}
	iv, err := hkdfExpandLabel(k.suite.hash(), k.secret, p.iv, 12)
	if err != nil {
		return err
	}
	copy(k.iv[:], iv)
	if k.suite == TLS_CHACHA20_POLY1305_SHA256 {
		k.aead, err = chacha20poly1305.New(key)
		return err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	k.aead, err = cipher.NewGCM(block)
	return err
}

// Suite returns the cipher suite the keys were made for.
func (k *Keys) Suite() Suite { return k.suite }

// NextGeneration returns the keys after a key update (RFC 9001 section
// 6.1): a new secret from the "quic ku" label, new AEAD key and IV, the
// same header protection key.
func (k *Keys) NextGeneration() (*Keys, error) {
	p := k.version.params()
	secret, err := hkdfExpandLabel(k.suite.hash(), k.secret, p.ku, len(k.secret))
	if err != nil {
		return nil, err
	}
	n := &Keys{version: k.version, suite: k.suite, secret: secret, hpAES: k.hpAES, hpKey: k.hpKey}
	if err := n.deriveAEAD(p); err != nil {
		return nil, err
	}
	return n, nil
}

// sampleLen is the header protection sample size of every QUIC v1 AEAD.
const sampleLen = 16

// Unprotect removes header protection from pkt in place (RFC 9001 section
// 5.4): the low bits of the first byte and the packet number. pkt is the
// whole packet (for a long header, Header.Len bytes), pnOffset is
// Header.PNOffset, and largest is the largest packet number received in
// the packet number space so far, -1 for none. It returns the full packet
// number and the header length, which is where the ciphertext starts.
//
// The caller owns pkt and must let it be modified: pass a copy of what a
// capture source handed out.
func (k *Keys) Unprotect(pkt []byte, pnOffset int, long bool, largest int64) (pn uint64, hdrLen int, err error) {
	if pnOffset < 1 || pnOffset > len(pkt) || len(pkt)-pnOffset < 4+sampleLen {
		return 0, 0, &ParseError{Msg: "packet", Field: "header_protection_sample", Offset: len(pkt), Err: ErrTruncated}
	}
	sample := pkt[pnOffset+4 : pnOffset+4+sampleLen]
	if k.hpAES != nil {
		k.hpAES.Encrypt(k.mask[:], sample)
	} else {
		// RFC 9001 section 5.4.4: counter from the first 4 bytes, little
		// endian; nonce from the other 12; the mask encrypts 5 zeros.
		c, err := chacha20.NewUnauthenticatedCipher(k.hpKey, sample[4:])
		if err != nil {
			return 0, 0, err
		}
		c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
		clear(k.mask[:5])
		c.XORKeyStream(k.mask[:5], k.mask[:5])
	}
	if long {
		pkt[0] ^= k.mask[0] & 0x0f
	} else {
		pkt[0] ^= k.mask[0] & 0x1f
	}
	pnLen := int(pkt[0]&3) + 1
	var truncated uint64
	for i := 0; i < pnLen; i++ {
		pkt[pnOffset+i] ^= k.mask[1+i]
		truncated = truncated<<8 | uint64(pkt[pnOffset+i])
	}
	return DecodePacketNumber(largest, truncated, pnLen), pnOffset + pnLen, nil
}

// Decrypt opens the payload of a packet whose header protection is
// removed: pkt[:hdrLen] is the associated data, pkt[hdrLen:] the
// ciphertext with its tag. The plaintext is appended to dst[:0], which
// must not overlap pkt; pkt is not modified, so a failed attempt can be
// retried with other keys.
func (k *Keys) Decrypt(dst, pkt []byte, hdrLen int, pn uint64) ([]byte, error) {
	if hdrLen < 1 || hdrLen > len(pkt) || len(pkt)-hdrLen < k.aead.Overhead() {
		return nil, &ParseError{Msg: "packet", Field: "payload", Offset: len(pkt), Err: ErrTruncated}
	}
	k.nonce = k.iv
	for i := 0; i < 8; i++ {
		k.nonce[11-i] ^= byte(pn >> (8 * i))
	}
	out, err := k.aead.Open(dst[:0], k.nonce[:], pkt[hdrLen:], pkt[:hdrLen])
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// DecodePacketNumber recovers a full packet number from its truncated
// encoding of pnLen bytes, given the largest packet number received in
// the space so far (-1 for none) (RFC 9000 appendix A.3).
func DecodePacketNumber(largest int64, truncated uint64, pnLen int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << (8 * pnLen)
	hwin := win / 2
	mask := win - 1
	candidate := (expected &^ mask) | truncated
	switch {
	case candidate+hwin <= expected && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// VerifyRetry checks the Retry Integrity Tag of a Retry packet (RFC 9001
// section 5.8, RFC 9369 section 3.3.3) against the Destination Connection
// ID of the Initial it answers. checked is false for versions whose
// integrity key this package does not carry.
func VerifyRetry(v Version, odcid, retry []byte) (ok, checked bool) {
	p := v.params()
	if p == nil || p.retryKey == nil || len(retry) < 16 || len(odcid) > 255 {
		return false, false
	}
	block, err := aes.NewCipher(p.retryKey)
	if err != nil {
		return false, false
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return false, false
	}
	body, tag := retry[:len(retry)-16], retry[len(retry)-16:]
	pseudo := make([]byte, 0, 1+len(odcid)+len(body))
	pseudo = append(pseudo, byte(len(odcid)))
	pseudo = append(pseudo, odcid...)
	pseudo = append(pseudo, body...)
	want := gcm.Seal(nil, p.retryNonce, nil, pseudo)
	return subtle.ConstantTimeCompare(want, tag) == 1, true
}
