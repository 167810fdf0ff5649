package keys

import (
	"bytes"
	"crypto"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// sealer13 protects TLS 1.3 records the way a sender does. Its AEAD is
// crypto/cipher's GCM or x/crypto's ChaCha20-Poly1305, independent of the
// opener's reading; for CCM it is this package's, checked against the
// published vectors in ccm_test.go.
type sealer13 struct {
	aead cipher.AEAD
	iv   []byte
	seq  uint64
}

func newSealer13(t testing.TB, suite uint16, secret []byte) *sealer13 {
	t.Helper()
	s, err := LookupSuite(suite)
	if err != nil {
		t.Fatal(err)
	}
	key, iv, err := TrafficKeys(s, secret)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := newAEAD(s, key)
	if err != nil {
		t.Fatal(err)
	}
	return &sealer13{aead: a, iv: iv}
}

// seal returns the header and body of a record of content type typ with pad
// zero bytes of padding.
func (s *sealer13) seal(typ uint8, content []byte, pad int) (hdr, body []byte) {
	inner := append(append(bytes.Clone(content), typ), make([]byte, pad)...)
	n := len(inner) + s.aead.Overhead()
	hdr = []byte{23, 3, 3, byte(n >> 8), byte(n)}
	var nonce [12]byte
	xorNonce(&nonce, s.iv, s.seq)
	s.seq++
	return hdr, s.aead.Seal(nil, nonce[:], inner, hdr)
}

var tls13Suites = []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}

func testSecret(suite uint16, seed byte) []byte {
	s, _ := LookupSuite(suite)
	b := make([]byte, s.Hash.Size())
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// Peek agrees with Open on random records of every TLS 1.3 suite: content
// of all sizes around the block edges, padding up to several blocks,
// records of nothing but a type, a KeyUpdate in the middle.
func TestTLS13PeekAgreesWithOpen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, suite := range tls13Suites {
		secret := testSecret(suite, byte(suite))
		seal := newSealer13(t, suite, secret)
		op, _ := NewTLS13Opener(suite, secret)
		pk, _ := NewTLS13Opener(suite, secret)
		for i := range 600 {
			if i == 300 {
				next, _ := NextTrafficSecret(op.Suite().Hash, secret)
				seal = newSealer13(t, suite, next)
				if op.KeyUpdate() != nil || pk.KeyUpdate() != nil {
					t.Fatal("KeyUpdate failed")
				}
			}
			var n int
			switch rng.IntN(4) {
			case 0:
				n = rng.IntN(4)
			case 1:
				n = 64*rng.IntN(5) + rng.IntN(3) - 1
			case 2:
				n = 1<<14 - rng.IntN(2)
			default:
				n = rng.IntN(3000)
			}
			n = max(n, 0)
			content := make([]byte, n)
			for j := range content {
				content[j] = byte(rng.Uint32())
			}
			if n > 0 && rng.IntN(4) == 0 {
				content[n-1] = 0 // zero bytes of content before the type are not padding
			}
			typ := []uint8{21, 22, 23}[rng.IntN(3)]
			pad := 0
			if rng.IntN(3) == 0 {
				pad = rng.IntN(200)
			}
			hdr, body := seal.seal(typ, content, pad)
			ptyp, pn, err := pk.Peek(hdr, body)
			if err != nil || ptyp != typ || pn != n {
				t.Fatalf("%#04x record %d: Peek = %d, %d, %v; want %d, %d", suite, i, ptyp, pn, err, typ, n)
			}
			gtyp, pt, err := op.Open(body[:0], hdr, body)
			if err != nil || gtyp != typ || !bytes.Equal(pt, content) {
				t.Fatalf("%#04x record %d: Open = %d, %d bytes, %v", suite, i, gtyp, len(pt), err)
			}
		}
	}
}

func TestTLS13Errors(t *testing.T) {
	suite := uint16(0x1301)
	secret := testSecret(suite, 1)
	seal := newSealer13(t, suite, secret)
	hdr, body := seal.seal(23, []byte("hello"), 0)
	zhdr, zbody := seal.seal(0, nil, 20) // all padding: no content type
	for _, tc := range []struct {
		name      string
		hdr, body []byte
		seq       uint64
		want      error
	}{
		{"ok", hdr, body, 0, nil},
		{"short header", hdr[:4], body, 0, ErrRecordHeader},
		{"length mismatch", hdr, body[:len(body)-1], 0, ErrRecordHeader},
		{"outer type", append([]byte{22}, hdr[1:]...), body, 0, ErrRecordHeader},
		{"tag only", []byte{23, 3, 3, 0, 16}, make([]byte, 16), 0, ErrRecordLength},
		{"too long", []byte{23, 3, 3, 0x41, 0x01}, make([]byte, 1<<14+257), 0, ErrRecordLength},
		{"wrong seq", hdr, body, 1, ErrAuthentication},
		{"flipped", hdr, flip(body, 3), 0, ErrAuthentication},
		{"no content type", zhdr, zbody, 1, ErrNoContentType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := NewTLS13Opener(suite, secret)
			o.SetSeq(tc.seq)
			_, _, err := o.Open(nil, tc.hdr, tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			if tc.want == ErrNoContentType {
				p, _ := NewTLS13Opener(suite, secret)
				p.SetSeq(tc.seq)
				if _, _, err := p.Peek(tc.hdr, tc.body); !errors.Is(err, ErrNoContentType) {
					t.Fatalf("Peek: %v", err)
				}
			}
		})
	}
	if _, err := NewTLS13Opener(0xc02f, secret); !errors.Is(err, ErrUnsupportedSuite) {
		t.Errorf("TLS 1.2 suite: %v", err)
	}
	if _, err := NewTLS13Opener(0x1301, secret[:31]); !errors.Is(err, ErrKeyDerivation) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := LookupSuite(0x0041); !errors.Is(err, ErrUnsupportedSuite) { // TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
		t.Errorf("CAMELLIA: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x80
	return b
}

// sealer12 protects TLS 1.0-1.2 records from a key block: AEAD through
// crypto/cipher and x/crypto (CCM: this package's), CBC with HMAC in both
// orders. It follows RFC 5246 6.2.3 and RFC 7366 as written, so it checks
// the encrypt-then-MAC opener, which crypto/tls cannot.
type sealer12 struct {
	s       Suite
	version uint16
	etm     bool
	seq     uint64
	aead    cipher.AEAD
	fixed   []byte
	block   cipher.Block
	rc4     *rc4.Cipher
	macKey  []byte
	iv      []byte // TLS 1.0 chain
	rng     *rand.Rand
}

func newSealer12(t testing.TB, p Params, master []byte, client bool) *sealer12 {
	t.Helper()
	s, _ := LookupSuite(p.Suite)
	kb, err := DeriveKeyBlock(s, p.Version, master, p.ClientRandom, p.ServerRandom)
	if err != nil {
		t.Fatal(err)
	}
	mac, key, iv := kb.ServerMAC, kb.ServerKey, kb.ServerIV
	if client {
		mac, key, iv = kb.ClientMAC, kb.ClientKey, kb.ClientIV
	}
	w := &sealer12{s: s, version: p.Version, etm: p.EncryptThenMAC, fixed: iv, macKey: mac, iv: bytes.Clone(iv), rng: rand.New(rand.NewPCG(3, 4))}
	switch {
	case s.Cipher.AEAD():
		w.aead, _, err = newAEAD(s, key)
	case s.Cipher == CipherRC4:
		w.rc4, err = rc4.NewCipher(key)
	default:
		w.block, err = newBlock(s, key)
	}
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// recordMAC is the MAC of MAC-then-encrypt: SSL 3.0's own (RFC 6101
// 5.2.3.1, written out here from the RFC), else HMAC over the header.
func (w *sealer12) recordMAC(seq uint64, typ uint8, ad []byte, content []byte) []byte {
	if w.version != VersionSSL30 {
		return w.hmac(ad, content)
	}
	pad := 48
	if w.s.MAC == crypto.SHA1 {
		pad = 40
	}
	in := w.s.MAC.New()
	in.Write(w.macKey)
	in.Write(bytes.Repeat([]byte{0x36}, pad))
	in.Write(binary.BigEndian.AppendUint64(nil, seq))
	in.Write([]byte{typ, byte(len(content) >> 8), byte(len(content))})
	in.Write(content)
	out := w.s.MAC.New()
	out.Write(w.macKey)
	out.Write(bytes.Repeat([]byte{0x5c}, pad))
	out.Write(in.Sum(nil))
	return out.Sum(nil)
}

func (w *sealer12) hmac(parts ...[]byte) []byte {
	m := hmac.New(w.s.MAC.New, w.macKey)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func (w *sealer12) seal(typ uint8, content []byte) (hdr, body []byte) {
	seq := w.seq
	w.seq++
	h := []byte{typ, byte(w.version >> 8), byte(w.version), 0, 0}
	var ad [13]byte
	additionalData(&ad, seq, h, len(content))
	if w.aead != nil {
		var nonce [12]byte
		var explicit []byte
		if w.s.Cipher == CipherChaCha20Poly1305 {
			xorNonce(&nonce, w.fixed, seq)
		} else {
			explicit = binary.BigEndian.AppendUint64(nil, seq^0x5a5a)
			copy(nonce[:], w.fixed)
			copy(nonce[4:], explicit)
		}
		body = w.aead.Seal(explicit, nonce[:], content, ad[:])
	} else if w.rc4 != nil {
		pt := append(bytes.Clone(content), w.recordMAC(seq, typ, ad[:], content)...)
		body = make([]byte, len(pt))
		w.rc4.XORKeyStream(body, pt)
	} else {
		bs := w.block.BlockSize()
		pt := bytes.Clone(content)
		if !w.etm {
			pt = append(pt, w.recordMAC(seq, typ, ad[:], content)...)
		}
		pad := bs - (len(pt)+1)%bs
		if w.version == VersionSSL30 {
			// Shorter than a block, its bytes arbitrary (RFC 6101 5.2.3.2).
			pad %= bs
			for range pad {
				pt = append(pt, byte(w.rng.Uint32()))
			}
			pt = append(pt, byte(pad))
		} else {
			pad += bs * w.rng.IntN(3) // padding of more than a block is allowed
			for range pad + 1 {
				pt = append(pt, byte(pad))
			}
		}
		iv := w.iv
		if w.version >= VersionTLS11 {
			iv = make([]byte, bs)
			for i := range iv {
				iv[i] = byte(w.rng.Uint32())
			}
			body = bytes.Clone(iv)
		}
		ct := make([]byte, len(pt))
		cipher.NewCBCEncrypter(w.block, iv).CryptBlocks(ct, pt)
		if w.version < VersionTLS11 {
			w.iv = bytes.Clone(ct[len(ct)-bs:])
		}
		body = append(body, ct...)
		if w.etm {
			var ad2 [13]byte
			additionalData(&ad2, seq, h, len(body))
			body = append(body, w.hmac(ad2[:], body)...)
		}
	}
	h[3], h[4] = byte(len(body)>>8), byte(len(body))
	return h, body
}

var tls12Cases = []struct {
	suite   uint16
	version uint16
	etm     bool
}{
	{0xc02f, VersionTLS12, false}, {0xc030, VersionTLS12, false}, {0xcca8, VersionTLS12, false},
	{0xc0ac, VersionTLS12, false}, {0xc0ae, VersionTLS12, false}, {0xc0a1, VersionTLS12, false},
	{0x002f, VersionTLS12, false}, {0x002f, VersionTLS12, true}, {0xc028, VersionTLS12, false},
	{0xc028, VersionTLS12, true}, {0x003c, VersionTLS12, true}, {0x000a, VersionTLS12, false},
	{0x000a, VersionTLS10, true}, {0xc014, VersionTLS11, true}, {0xc013, VersionTLS10, false},
	{0xc013, VersionTLS10, true},
	// Stream and single-DES suites, and SSL 3.0's MAC, key block and padding.
	{0x0005, VersionTLS12, false}, {0x0004, VersionTLS10, false}, {0x0009, VersionTLS11, false},
	{0x000a, VersionSSL30, false}, {0x002f, VersionSSL30, false}, {0x0005, VersionSSL30, false}, {0x0004, VersionSSL30, false},
}

func params12(suite, version uint16, etm bool) (Params, []byte) {
	p := Params{Suite: suite, Version: version, EncryptThenMAC: etm, ClientRandom: make([]byte, 32), ServerRandom: make([]byte, 32)}
	for i := range 32 {
		p.ClientRandom[i], p.ServerRandom[i] = byte(i), byte(100+i)
	}
	master := bytes.Repeat([]byte{0x42}, 48)
	return p, master
}

// Round trips of TLS 1.0-1.2 records for AEAD, CBC and encrypt-then-MAC
// suites; Peek's length agrees with Open; flipped bits fail authentication.
func TestTLS12RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range tls12Cases {
		p, master := params12(tc.suite, tc.version, tc.etm)
		s, _ := LookupSuite(tc.suite)
		t.Run(s.Name, func(t *testing.T) {
			w := newSealer12(t, p, master, true)
			op, _, err := NewTLS12Openers(p, master)
			if err != nil {
				t.Fatal(err)
			}
			pk, _, _ := NewTLS12Openers(p, master)
			for i := range 200 {
				n := rng.IntN(2000)
				if i%50 == 0 {
					n = 1 << 14
				}
				content := make([]byte, n)
				for j := range content {
					content[j] = byte(rng.Uint32())
				}
				typ := []uint8{21, 22, 23}[rng.IntN(3)]
				hdr, body := w.seal(typ, content)
				ptyp, pn, err := pk.Peek(hdr, body)
				if err != nil || ptyp != typ || pn != n {
					t.Fatalf("record %d: Peek = %d, %d, %v; want %d, %d", i, ptyp, pn, err, typ, n)
				}
				if i%7 == 3 { // a flipped bit fails, and the opener keeps in step
					at := rng.IntN(len(body))
					if tc.version < VersionTLS11 {
						// Not in the last block, which chains into the next IV.
						at = rng.IntN(max(1, len(body)-40))
					}
					_, _, err := op.Open(nil, hdr, flip(body, at))
					if !errors.Is(err, ErrAuthentication) {
						t.Fatalf("record %d flipped: %v", i, err)
					}
					continue
				}
				gtyp, pt, err := op.Open(body[:0], hdr, body)
				if err != nil || gtyp != typ || !bytes.Equal(pt, content) {
					t.Fatalf("record %d: Open = %d, %d bytes, %v", i, gtyp, len(pt), err)
				}
			}
			// The server's keys are not the client's.
			_, so, _ := NewTLS12Openers(p, master)
			hdr, body := newSealer12(t, p, master, true).seal(23, []byte("x"))
			if _, _, err := so.Open(nil, hdr, body); !errors.Is(err, ErrAuthentication) {
				t.Fatalf("other direction: %v", err)
			}
		})
	}
}

// The PRF of TLS 1.2 against the published known answer for P_SHA256
// (the IETF TLS working group's test vector, as mailed by Joseph Birr-Pixton
// and used in many implementations' tests); TLS 1.0's MD5/SHA-1 PRF is
// checked end to end by the crypto/tls TLS 1.0 test.
func TestPRF12Vector(t *testing.T) {
	secret := unhex(t, "9bbe436ba940f017b17652849a71db35")
	seed := unhex(t, "a0ba9f936cda311827a6f796ffd5198c")
	want := unhex(t, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66")
	got, err := PRF(VersionTLS12, crypto.SHA256, secret, "test label", seed, len(want))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("PRF = %x, %v", got, err)
	}
}
