package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Errors of the openers. An authentication failure (a wrong key, a missed
// record, a corrupted one) is ErrAuthentication; so is a CBC record whose
// padding or MAC is wrong.
var (
	ErrAuthentication = errors.New("keys: record authentication failed")
	ErrRecordHeader   = errors.New("keys: bad record header")
	ErrRecordLength   = errors.New("keys: bad record length")
	ErrNoContentType  = errors.New("keys: inner plaintext has no content type")
)

// Record limits (RFC 8446 5.2, RFC 5246 6.2.3): a protected record body is
// at most 2^14+256 bytes in TLS 1.3 and 2^14+2048 in TLS 1.2 and earlier.
const (
	RecordHeaderLen    = 5
	MaxTLS13Ciphertext = 1<<14 + 256
	MaxTLS12Ciphertext = 1<<14 + 2048
)

// ContentApplicationData is the outer content type of every TLS 1.3
// protected record (RFC 8446 5.2).
const ContentApplicationData uint8 = 23

// Opener removes the record protection of one direction of a connection,
// one record at a time, in order: it keeps the sequence number (and for
// TLS 1.0 CBC the chained IV), so every record of the direction must be
// handed to Open or Peek exactly once. A record that fails still uses up
// its sequence number, as the sender used it.
type Opener interface {
	// Open authenticates and decrypts one record. hdr is its 5-byte header,
	// body the rest (hdr's length field must equal len(body)). The
	// plaintext is appended to dst, which may be body[:0] to decrypt in
	// place (the plaintext then starts where the ciphertext does, after
	// any explicit nonce or IV; dst must not overlap body otherwise); typ is the content type: the inner one in TLS 1.3 (padding
	// removed), the header's otherwise. On error body may be overwritten
	// when dst aliases it.
	Open(dst, hdr, body []byte) (typ uint8, plaintext []byte, err error)
	// Peek tells the content type and the plaintext length of a record
	// without authenticating it and without writing body, at the cost of
	// a block or two of keystream. What it says about a forged or
	// corrupted record may be wrong; use Open for what must be trusted.
	Peek(hdr, body []byte) (typ uint8, n int, err error)
	// Seq is the sequence number of the next record.
	Seq() uint64
	// SetSeq sets it, to resynchronise after a gap.
	SetSeq(uint64)
}

// checkHeader checks that hdr is a header whose length is len(body) and at
// most max.
func checkHeader(hdr, body []byte, max int) error {
	if len(hdr) != RecordHeaderLen {
		return fmt.Errorf("keys: record header of %d bytes: %w", len(hdr), ErrRecordHeader)
	}
	if n := int(hdr[3])<<8 | int(hdr[4]); n != len(body) {
		return fmt.Errorf("keys: record length field %d for a body of %d: %w", n, len(body), ErrRecordHeader)
	}
	if len(body) > max {
		return fmt.Errorf("keys: record body of %d bytes over %d: %w", len(body), max, ErrRecordLength)
	}
	return nil
}

// newAEAD returns the AEAD of a suite with the given nonce length (12 in
// TLS 1.3 and for ChaCha20; 12 = 4 fixed + 8 explicit for TLS 1.2 GCM/CCM).
func newAEAD(s Suite, key []byte) (cipher.AEAD, cipher.Block, error) {
	switch s.Cipher {
	case CipherChaCha20Poly1305:
		a, err := chacha20poly1305.New(key)
		return a, nil, err
	case CipherAESGCM, CipherAESCCM, CipherAESCCM8:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, nil, err
		}
		var a cipher.AEAD
		if s.Cipher == CipherAESGCM {
			a, err = cipher.NewGCM(b)
		} else {
			a, err = newCCM(b, 12, s.TagLen())
		}
		return a, b, err
	}
	return nil, nil, fmt.Errorf("keys: %s is not an AEAD suite: %w", s.Name, ErrUnsupportedSuite)
}

// newBlock returns the block cipher of a CBC suite.
func newBlock(s Suite, key []byte) (cipher.Block, error) {
	switch s.Cipher {
	case CipherAESCBC:
		return aes.NewCipher(key)
	case Cipher3DESCBC:
		return des.NewTripleDESCipher(key)
	case CipherDESCBC:
		return des.NewCipher(key)
	}
	return nil, fmt.Errorf("keys: %s is not a CBC suite: %w", s.Name, ErrUnsupportedSuite)
}

// xorNonce writes iv XOR the left-padded 64-bit sequence number to nonce
// (RFC 8446 5.3, RFC 7905 2).
func xorNonce(nonce *[12]byte, iv []byte, seq uint64) {
	copy(nonce[:], iv)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(seq >> (8 * i))
	}
}

// inPlace tells whether dst is body[:0], the request to decrypt in place:
// the plaintext then lands where the ciphertext starts, after any explicit
// nonce or IV, since crypto/cipher allows only exact overlap.
func inPlace(dst, body []byte) bool {
	return len(dst) == 0 && cap(dst) > 0 && len(body) > 0 && &dst[:1][0] == &body[0]
}
