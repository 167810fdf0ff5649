package keys

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20"
)

// TLS13Opener opens the records of one direction under one TLS 1.3 traffic
// secret (RFC 8446 5.2): AEAD over the inner plaintext, the record header
// as additional data, nonce = iv XOR sequence number.
type TLS13Opener struct {
	suite  Suite
	secret []byte // current traffic secret, for KeyUpdate; owned
	aead   cipher.AEAD
	block  cipher.Block // the AES block cipher of GCM and CCM, for Peek
	ccm    *ccm         // the CCM mode, for Peek
	key    []byte       // the ChaCha20 key, for Peek
	iv     [12]byte
	seq    uint64
	// Scratch, kept here because what crosses the cipher.AEAD and
	// cipher.Block interfaces escapes: on the stack it would be an
	// allocation per record.
	nonce [12]byte
	ks    [64]byte
}

// NewTLS13Opener returns an opener for records protected with a traffic
// secret (from the key log: CLIENT_HANDSHAKE_TRAFFIC_SECRET and so on) of
// a TLS 1.3 suite. The secret is copied.
func NewTLS13Opener(suite uint16, secret []byte) (*TLS13Opener, error) {
	s, err := LookupSuite(suite)
	if err != nil {
		return nil, err
	}
	if !s.TLS13 {
		return nil, fmt.Errorf("keys: %s in TLS 1.3: %w", s.Name, ErrUnsupportedSuite)
	}
	if len(secret) != s.Hash.Size() {
		return nil, fmt.Errorf("keys: traffic secret of %d bytes for %s: %w", len(secret), s.Name, ErrKeyDerivation)
	}
	o := &TLS13Opener{suite: s}
	if err := o.setSecret(append([]byte(nil), secret...)); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *TLS13Opener) setSecret(secret []byte) error {
	key, iv, err := TrafficKeys(o.suite, secret)
	if err != nil {
		return err
	}
	a, b, err := newAEAD(o.suite, key)
	if err != nil {
		return fmt.Errorf("keys: %s key: %w", o.suite.Name, err)
	}
	o.secret, o.aead, o.block, o.key = secret, a, b, key
	o.ccm, _ = a.(*ccm)
	copy(o.iv[:], iv)
	o.seq = 0
	return nil
}

// Suite is the cipher suite the opener was made for.
func (o *TLS13Opener) Suite() Suite { return o.suite }

// KeyUpdate moves to the next application traffic secret (RFC 8446 7.2),
// to be called after the record carrying the peer's KeyUpdate message; the
// sequence number restarts at 0.
func (o *TLS13Opener) KeyUpdate() error {
	next, err := NextTrafficSecret(o.suite.Hash, o.secret)
	if err != nil {
		return err
	}
	return o.setSecret(next)
}

func (o *TLS13Opener) Seq() uint64       { return o.seq }
func (o *TLS13Opener) SetSeq(seq uint64) { o.seq = seq }

// check validates a record and takes its sequence number; it returns the
// nonce and the length of the encrypted inner plaintext.
func (o *TLS13Opener) check(hdr, body []byte) (nonce []byte, n int, err error) {
	if err := checkHeader(hdr, body, MaxTLS13Ciphertext); err != nil {
		return nil, 0, err
	}
	if hdr[0] != ContentApplicationData {
		return nil, 0, fmt.Errorf("keys: TLS 1.3 record of outer type %d: %w", hdr[0], ErrRecordHeader)
	}
	n = len(body) - o.aead.Overhead()
	if n < 1 {
		return nil, 0, fmt.Errorf("keys: TLS 1.3 record body of %d bytes: %w", len(body), ErrRecordLength)
	}
	xorNonce(&o.nonce, o.iv[:], o.seq)
	o.seq++
	return o.nonce[:], n, nil
}

// Open implements Opener: it authenticates the record, decrypts it and
// strips the zero padding of TLSInnerPlaintext (RFC 8446 5.4).
func (o *TLS13Opener) Open(dst, hdr, body []byte) (uint8, []byte, error) {
	nonce, _, err := o.check(hdr, body)
	if err != nil {
		return 0, nil, err
	}
	seq := o.seq - 1
	out, err := o.aead.Open(dst, nonce, body, hdr)
	if err != nil {
		return 0, nil, fmt.Errorf("keys: %s record %d: %w", o.suite.Name, seq, ErrAuthentication)
	}
	pt := out[len(dst):]
	for i := len(pt) - 1; i >= 0; i-- {
		if pt[i] != 0 {
			return pt[i], out[:len(dst)+i], nil
		}
	}
	return 0, nil, fmt.Errorf("keys: record %d: %w", seq, ErrNoContentType)
}

// Peek implements Opener: it finds the inner content type and the length
// of the content by decrypting only the tail of the record with the raw
// keystream, without checking the tag; body is not written. For the AES
// suites keystream block j of the payload is E(counter j+2) in GCM
// (J0 = nonce||1 is for the tag; NIST SP 800-38D 7.1) and E(A_{j+1}) in
// CCM; for ChaCha20 it is block j+1 (block 0 keys Poly1305; RFC 8439 2.8).
// Padding is walked back block by block, so a heavily padded record costs
// more; a record of nothing but zeros is ErrNoContentType.
func (o *TLS13Opener) Peek(hdr, body []byte) (uint8, int, error) {
	nonce, n, err := o.check(hdr, body)
	if err != nil {
		return 0, 0, err
	}
	ct := body[:n]
	ks := &o.ks
	bs := 16
	if o.suite.Cipher == CipherChaCha20Poly1305 {
		bs = 64
	}
	for end := len(ct); end > 0; {
		j := (end - 1) / bs
		start := j * bs
		if err := o.keystream(ks, nonce, j); err != nil {
			return 0, 0, err
		}
		for i := end - 1; i >= start; i-- {
			if b := ct[i] ^ ks[i-start]; b != 0 {
				return b, i, nil
			}
		}
		end = start
	}
	return 0, 0, fmt.Errorf("keys: record %d: %w", o.seq-1, ErrNoContentType)
}

// keystream writes keystream block j of the payload to ks (16 bytes for
// AES, 64 for ChaCha20).
func (o *TLS13Opener) keystream(ks *[64]byte, nonce []byte, j int) error {
	switch o.suite.Cipher {
	case CipherAESGCM:
		copy(ks[:12], nonce)
		binary.BigEndian.PutUint32(ks[12:16], uint32(j)+2)
		o.block.Encrypt(ks[:16], ks[:16])
	case CipherAESCCM, CipherAESCCM8:
		var s [16]byte
		o.ccm.keystream(&s, nonce, uint64(j)+1)
		copy(ks[:], s[:])
	case CipherChaCha20Poly1305:
		c, err := chacha20.NewUnauthenticatedCipher(o.key, nonce)
		if err != nil {
			return err
		}
		c.SetCounter(uint32(j) + 1)
		clear(ks[:])
		c.XORKeyStream(ks[:], ks[:])
	}
	return nil
}
