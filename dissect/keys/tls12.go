package keys

import (
	"bytes"
	"crypto"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"hash"
)

// KeyBlock is the key material of one TLS 1.0-1.2 connection, cut from the
// key block (RFC 5246 6.3):
//
//	key_block = PRF(master_secret, "key expansion", server_random + client_random)
//
// in the order client MAC key, server MAC key, client key, server key,
// client IV, server IV.
type KeyBlock struct {
	ClientMAC, ServerMAC []byte
	ClientKey, ServerKey []byte
	ClientIV, ServerIV   []byte
}

// DeriveKeyBlock computes the key block of a suite at a protocol version
// from the 48-byte master secret and the two hello randoms.
func DeriveKeyBlock(s Suite, version uint16, master, clientRandom, serverRandom []byte) (*KeyBlock, error) {
	if s.TLS13 {
		return nil, fmt.Errorf("keys: %s below TLS 1.3: %w", s.Name, ErrUnsupportedSuite)
	}
	if version < VersionSSL30 || version > VersionTLS12 {
		return nil, fmt.Errorf("keys: key block for version %#04x: %w", version, ErrUnsupportedSuite)
	}
	if len(master) != 48 || len(clientRandom) != 32 || len(serverRandom) != 32 {
		return nil, fmt.Errorf("keys: master secret of %d bytes, randoms of %d and %d: %w", len(master), len(clientRandom), len(serverRandom), ErrKeyDerivation)
	}
	if version == VersionSSL30 && s.Cipher.AEAD() {
		return nil, fmt.Errorf("keys: %s in SSL 3.0: %w", s.Name, ErrUnsupportedSuite)
	}
	mac, key, iv := s.MACLen(), s.KeyLen, s.fixedIVLen(version)
	seed := make([]byte, 0, 64)
	seed = append(append(seed, serverRandom...), clientRandom...)
	var kb []byte
	var err error
	if version == VersionSSL30 {
		kb = ssl3KeyBlock(master, seed, 2*(mac+key+iv))
	} else if kb, err = PRF(version, s.Hash, master, "key expansion", seed, 2*(mac+key+iv)); err != nil {
		return nil, err
	}
	take := func(n int) []byte {
		b := kb[:n:n]
		kb = kb[n:]
		return b
	}
	return &KeyBlock{
		ClientMAC: take(mac), ServerMAC: take(mac),
		ClientKey: take(key), ServerKey: take(key),
		ClientIV: take(iv), ServerIV: take(iv),
	}, nil
}

// ssl3KeyBlock is the SSL 3.0 key expansion (RFC 6101 6.2.2):
// MD5(master + SHA1("A" + master + seed)) + MD5(master + SHA1("BB" + ...)) + ...
// with seed the server random then the client random.
func ssl3KeyBlock(master, seed []byte, n int) []byte {
	out := make([]byte, 0, n+md5.Size)
	for i := 0; len(out) < n; i++ {
		label := bytes.Repeat([]byte{byte('A' + i)}, i+1)
		sh := sha1.New()
		sh.Write(label)
		sh.Write(master)
		sh.Write(seed)
		inner := sh.Sum(nil)
		mh := md5.New()
		mh.Write(master)
		mh.Write(inner)
		out = mh.Sum(out)
	}
	return out[:n]
}

// ssl3MAC is the SSL 3.0 record MAC (RFC 6101 5.2.3.1): hash(secret +
// pad_2 + hash(secret + pad_1 + seq_num + type + length + content)), with
// 48 pad bytes for MD5 and 40 for SHA-1.
func ssl3MAC(dst []byte, h crypto.Hash, secret []byte, seq uint64, typ uint8, content []byte) []byte {
	padLen := 48
	if h == crypto.SHA1 {
		padLen = 40
	}
	var hdr [11]byte
	binary.BigEndian.PutUint64(hdr[:8], seq)
	hdr[8] = typ
	binary.BigEndian.PutUint16(hdr[9:], uint16(len(content)))
	in := h.New()
	in.Write(secret)
	in.Write(bytes.Repeat([]byte{0x36}, padLen))
	in.Write(hdr[:])
	in.Write(content)
	inner := in.Sum(nil)
	out := h.New()
	out.Write(secret)
	out.Write(bytes.Repeat([]byte{0x5c}, padLen))
	out.Write(inner)
	return out.Sum(dst)
}

// TLS12Opener opens the records of one direction of a TLS 1.0, 1.1 or 1.2
// connection: AEAD (GCM and CCM with an 8-byte explicit nonce, RFC 5288 3
// and RFC 6655 3; ChaCha20-Poly1305 with the RFC 7905 nonce) or CBC with
// HMAC, MAC-then-encrypt (RFC 5246 6.2.3.2) or encrypt-then-MAC (RFC 7366).
type TLS12Opener struct {
	suite   Suite
	version uint16
	seq     uint64

	aead  cipher.AEAD
	fixed [12]byte // implicit IV: 4-byte salt (GCM, CCM) or the whole ChaCha20 IV

	block cipher.Block
	dec   cipher.BlockMode // reused through SetIV where the mode allows
	mac   hash.Hash
	etm   bool
	iv    []byte // TLS 1.0: the chained IV, the last ciphertext block
	sum   []byte // scratch for the MAC

	rc4     *rc4.Cipher // a stream suite's keystream, running over every record
	scratch []byte      // Peek's plaintext of a stream record, discarded

	macKey []byte // SSL 3.0: the MAC secret (its MAC is not an HMAC)
}

// recordMAC computes the MAC of a record's content (MAC-then-encrypt).
func (o *TLS12Opener) recordMAC(seq uint64, hdr, content []byte) []byte {
	if o.version == VersionSSL30 {
		o.sum = ssl3MAC(o.sum[:0], o.suite.MAC, o.macKey, seq, hdr[0], content)
		return o.sum
	}
	var ad [13]byte
	additionalData(&ad, seq, hdr, len(content))
	o.mac.Reset()
	o.mac.Write(ad[:])
	o.mac.Write(content)
	o.sum = o.mac.Sum(o.sum[:0])
	return o.sum
}

// Params describe a TLS 1.0-1.2 connection once its hellos are seen.
type Params struct {
	Suite        uint16 // the ServerHello cipher_suite
	Version      uint16 // the negotiated version
	ClientRandom []byte // 32 bytes
	ServerRandom []byte // 32 bytes
	// EncryptThenMAC: both hellos carried encrypt_then_mac (RFC 7366);
	// it matters for CBC suites only.
	EncryptThenMAC bool
}

// NewTLS12Openers derives the key block from the master secret
// (CLIENT_RANDOM in the key log) and returns the openers of the client's
// and the server's records; each starts at sequence number 0, for the
// first record after that side's ChangeCipherSpec.
func NewTLS12Openers(p Params, master []byte) (client, server *TLS12Opener, err error) {
	s, err := LookupSuite(p.Suite)
	if err != nil {
		return nil, nil, err
	}
	if s.TLS13 {
		return nil, nil, fmt.Errorf("keys: %s below TLS 1.3: %w", s.Name, ErrUnsupportedSuite)
	}
	kb, err := DeriveKeyBlock(s, p.Version, master, p.ClientRandom, p.ServerRandom)
	if err != nil {
		return nil, nil, err
	}
	if client, err = newTLS12Opener(s, p, kb.ClientMAC, kb.ClientKey, kb.ClientIV); err != nil {
		return nil, nil, err
	}
	if server, err = newTLS12Opener(s, p, kb.ServerMAC, kb.ServerKey, kb.ServerIV); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

func newTLS12Opener(s Suite, p Params, macKey, key, iv []byte) (*TLS12Opener, error) {
	o := &TLS12Opener{suite: s, version: p.Version, macKey: macKey}
	if s.Cipher.AEAD() {
		a, _, err := newAEAD(s, key)
		if err != nil {
			return nil, fmt.Errorf("keys: %s key: %w", s.Name, err)
		}
		o.aead = a
		copy(o.fixed[:], iv)
		return o, nil
	}
	if s.Cipher == CipherRC4 {
		r, err := rc4.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keys: %s key: %w", s.Name, err)
		}
		o.rc4 = r
		o.mac = hmac.New(s.MAC.New, macKey)
		o.sum = make([]byte, 0, o.mac.Size())
		return o, nil
	}
	b, err := newBlock(s, key)
	if err != nil {
		return nil, fmt.Errorf("keys: %s key: %w", s.Name, err)
	}
	o.block = b
	o.mac = hmac.New(s.MAC.New, macKey)
	o.etm = p.EncryptThenMAC
	o.iv = append([]byte(nil), iv...)
	o.sum = make([]byte, 0, o.mac.Size())
	return o, nil
}

// Suite is the cipher suite the opener was made for.
func (o *TLS12Opener) Suite() Suite { return o.suite }

func (o *TLS12Opener) Seq() uint64       { return o.seq }
func (o *TLS12Opener) SetSeq(seq uint64) { o.seq = seq }

// explicitNonce is the per-record nonce carried in the record: 8 bytes for
// GCM and CCM, none for ChaCha20.
func (o *TLS12Opener) explicitNonce() int {
	if o.suite.Cipher == CipherChaCha20Poly1305 {
		return 0
	}
	return 8
}

// additionalData is seq_num + type + version + length (RFC 5246 6.2.3.3;
// the MAC input of 6.2.3.1 starts the same way).
func additionalData(ad *[13]byte, seq uint64, hdr []byte, length int) {
	binary.BigEndian.PutUint64(ad[:8], seq)
	ad[8], ad[9], ad[10] = hdr[0], hdr[1], hdr[2]
	ad[11], ad[12] = byte(length>>8), byte(length)
}

// Open implements Opener.
func (o *TLS12Opener) Open(dst, hdr, body []byte) (uint8, []byte, error) {
	if err := checkHeader(hdr, body, MaxTLS12Ciphertext); err != nil {
		return 0, nil, err
	}
	seq := o.seq
	o.seq++
	if o.aead != nil {
		return o.openAEAD(dst, hdr, body, seq)
	}
	if o.rc4 != nil {
		return o.openStream(dst, hdr, body, seq)
	}
	return o.openCBC(dst, hdr, body, seq)
}

// openStream opens a stream-cipher record: content then MAC, both
// encrypted (RFC 5246 6.2.3.1). The keystream moves on whatever the
// outcome, as the sender's did.
func (o *TLS12Opener) openStream(dst, hdr, body []byte, seq uint64) (uint8, []byte, error) {
	base := len(dst)
	head, out := sliceForAppend(dst, len(body))
	if inPlace(dst, body) {
		base, head, out = 0, body, body
	}
	o.rc4.XORKeyStream(out, body)
	ml := o.mac.Size()
	if len(out) < ml {
		return 0, nil, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
	}
	content, got := out[:len(out)-ml], out[len(out)-ml:]
	if !hmac.Equal(o.recordMAC(seq, hdr, content), got) {
		return 0, nil, fmt.Errorf("keys: %s record %d: mac: %w", o.suite.Name, seq, ErrAuthentication)
	}
	return hdr[0], head[:base+len(content)], nil
}

func (o *TLS12Opener) openAEAD(dst, hdr, body []byte, seq uint64) (uint8, []byte, error) {
	en := o.explicitNonce()
	n := len(body) - en - o.aead.Overhead()
	if n < 0 {
		return 0, nil, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
	}
	var nonce [12]byte
	if en == 0 {
		xorNonce(&nonce, o.fixed[:], seq)
	} else {
		copy(nonce[:4], o.fixed[:4])
		copy(nonce[4:], body[:en])
	}
	if inPlace(dst, body) {
		dst = body[en:en]
	}
	var ad [13]byte
	additionalData(&ad, seq, hdr, n)
	out, err := o.aead.Open(dst, nonce[:], body[en:], ad[:])
	if err != nil {
		return 0, nil, fmt.Errorf("keys: %s record %d: %w", o.suite.Name, seq, ErrAuthentication)
	}
	return hdr[0], out, nil
}

// cbcSplit checks the shape of a CBC record and returns its IV and its
// encrypted part (and, for encrypt-then-MAC, the MAC).
func (o *TLS12Opener) cbcSplit(body []byte) (iv, ct, mac []byte, err error) {
	bs, ml := o.block.BlockSize(), o.mac.Size()
	rest := body
	if o.etm {
		if len(rest) < ml {
			return nil, nil, nil, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
		}
		mac = rest[len(rest)-ml:]
		rest = rest[:len(rest)-ml]
	}
	if o.version >= VersionTLS11 {
		if len(rest) < bs {
			return nil, nil, nil, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
		}
		iv, rest = rest[:bs], rest[bs:]
	} else {
		iv = o.iv
	}
	min := bs // padding_length alone, encrypt-then-MAC
	if !o.etm {
		min = (ml + 1 + bs - 1) / bs * bs
	}
	if len(rest)%bs != 0 || len(rest) < min {
		return nil, nil, nil, fmt.Errorf("keys: %s encrypted part of %d bytes: %w", o.suite.Name, len(rest), ErrRecordLength)
	}
	return iv, rest, mac, nil
}

// chain keeps the last ciphertext block as the next IV in TLS 1.0 (RFC 2246
// 6.2.3.2); it must run before ct is decrypted in place.
func (o *TLS12Opener) chain(ct []byte) {
	if o.version < VersionTLS11 && len(ct) >= len(o.iv) {
		copy(o.iv, ct[len(ct)-len(o.iv):])
	}
}

func (o *TLS12Opener) decrypter(iv []byte) cipher.BlockMode {
	type ivSetter interface{ SetIV([]byte) }
	if o.dec != nil {
		if s, ok := o.dec.(ivSetter); ok {
			s.SetIV(iv)
			return o.dec
		}
	}
	o.dec = cipher.NewCBCDecrypter(o.block, iv)
	return o.dec
}

func (o *TLS12Opener) openCBC(dst, hdr, body []byte, seq uint64) (uint8, []byte, error) {
	iv, ct, mac, err := o.cbcSplit(body)
	if err != nil {
		o.chain(body) // a best guess at the sender's chain
		return 0, nil, err
	}
	var ad [13]byte
	if o.etm {
		// RFC 7366 3: the MAC covers the header with the length of IV and
		// ciphertext, then IV and ciphertext; check it before decrypting.
		additionalData(&ad, seq, hdr, len(body)-len(mac))
		o.mac.Reset()
		o.mac.Write(ad[:])
		o.mac.Write(body[:len(body)-len(mac)])
		o.sum = o.mac.Sum(o.sum[:0])
		if !hmac.Equal(o.sum, mac) {
			o.chain(ct)
			return 0, nil, fmt.Errorf("keys: %s record %d: mac: %w", o.suite.Name, seq, ErrAuthentication)
		}
	}
	if inPlace(dst, body) {
		dst = ct[:0]
	}
	var ivCopy [16]byte // iv may be o.iv, which chain overwrites
	copy(ivCopy[:], iv)
	o.chain(ct)
	head, out := sliceForAppend(dst, len(ct))
	o.decrypter(ivCopy[:len(iv)]).CryptBlocks(out, ct)

	// Padding: padding_length+1 bytes, each equal to padding_length.
	pad := int(out[len(out)-1])
	if pad+1 > len(out) || (!o.etm && pad+1+o.mac.Size() > len(out)) {
		return 0, nil, fmt.Errorf("keys: %s record %d: padding: %w", o.suite.Name, seq, ErrAuthentication)
	}
	// A passive reader is no padding oracle: no need for constant time.
	// SSL 3.0 leaves the padding bytes arbitrary but shorter than a block
	// (RFC 6101 5.2.3.2).
	if o.version == VersionSSL30 && pad >= o.block.BlockSize() {
		return 0, nil, fmt.Errorf("keys: %s record %d: padding: %w", o.suite.Name, seq, ErrAuthentication)
	}
	for _, b := range out[len(out)-1-pad : len(out)-1] {
		if int(b) != pad && o.version != VersionSSL30 {
			return 0, nil, fmt.Errorf("keys: %s record %d: padding: %w", o.suite.Name, seq, ErrAuthentication)
		}
	}
	content := out[:len(out)-1-pad]
	if !o.etm {
		ml := o.mac.Size()
		got := content[len(content)-ml:]
		content = content[:len(content)-ml]
		if !hmac.Equal(o.recordMAC(seq, hdr, content), got) {
			return 0, nil, fmt.Errorf("keys: %s record %d: mac: %w", o.suite.Name, seq, ErrAuthentication)
		}
	}
	return hdr[0], head[:len(dst)+len(content)], nil
}

// Peek implements Opener. The content type is the header's; the length
// of an AEAD record follows from its size, that of a CBC record from its
// padding length, read by decrypting the last block alone.
func (o *TLS12Opener) Peek(hdr, body []byte) (uint8, int, error) {
	if err := checkHeader(hdr, body, MaxTLS12Ciphertext); err != nil {
		return 0, 0, err
	}
	seq := o.seq
	o.seq++
	if o.aead != nil {
		n := len(body) - o.explicitNonce() - o.aead.Overhead()
		if n < 0 {
			return 0, 0, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
		}
		return hdr[0], n, nil
	}
	if o.rc4 != nil {
		// The keystream must run over the record all the same.
		o.scratch = append(o.scratch[:0], body...)
		o.rc4.XORKeyStream(o.scratch, o.scratch)
		n := len(body) - o.mac.Size()
		if n < 0 {
			return 0, 0, fmt.Errorf("keys: %s record body of %d bytes: %w", o.suite.Name, len(body), ErrRecordLength)
		}
		return hdr[0], n, nil
	}
	iv, ct, _, err := o.cbcSplit(body)
	if err != nil {
		return 0, 0, err
	}
	bs := o.block.BlockSize()
	prev := iv
	if len(ct) > bs {
		prev = ct[len(ct)-2*bs : len(ct)-bs]
	}
	var last [16]byte
	o.block.Decrypt(last[:bs], ct[len(ct)-bs:])
	pad := int(last[bs-1] ^ prev[bs-1])
	o.chain(ct)
	n := len(ct) - 1 - pad
	if !o.etm {
		n -= o.mac.Size()
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("keys: %s record %d: padding: %w", o.suite.Name, seq, ErrAuthentication)
	}
	return hdr[0], n, nil
}
