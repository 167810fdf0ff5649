package keys

import (
	"crypto/cipher"
	"crypto/subtle"
	"errors"
)

// ccm is the CCM mode of NIST SP 800-38C and RFC 3610 over the AES block
// cipher of crypto/aes: CBC-MAC for the tag, CTR for the payload. Neither
// the standard library nor x/crypto has it, and this package may import
// nothing else; the cipher itself stays crypto/aes.
//
// The counter block A_i is flags(L-1) || nonce || i, in L = 15-len(nonce)
// bytes; S_0 = E(A_0) masks the tag and S_1, S_2... the payload.
type ccm struct {
	b      cipher.Block
	nonce  int // 7..13 bytes
	tagLen int // 4, 6, ..., 16
}

var errCCMOpen = errors.New("keys: ccm: message authentication failed")

func newCCM(b cipher.Block, nonceLen, tagLen int) (*ccm, error) {
	if b.BlockSize() != 16 || nonceLen < 7 || nonceLen > 13 || tagLen < 4 || tagLen > 16 || tagLen%2 != 0 {
		return nil, errors.New("keys: ccm: bad parameters")
	}
	return &ccm{b: b, nonce: nonceLen, tagLen: tagLen}, nil
}

func (c *ccm) NonceSize() int { return c.nonce }
func (c *ccm) Overhead() int  { return c.tagLen }

func (c *ccm) lenBytes() int { return 15 - c.nonce }

func (c *ccm) maxLen() uint64 {
	if c.lenBytes() >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*uint(c.lenBytes())) - 1
}

// counter writes A_i.
func (c *ccm) counter(a *[16]byte, nonce []byte, i uint64) {
	L := c.lenBytes()
	a[0] = byte(L - 1)
	copy(a[1:], nonce)
	for k := 15; k > c.nonce; k-- {
		a[k] = byte(i)
		i >>= 8
	}
}

// keystream writes S_i = E(A_i).
func (c *ccm) keystream(s *[16]byte, nonce []byte, i uint64) {
	c.counter(s, nonce, i)
	c.b.Encrypt(s[:], s[:])
}

// ctr XORs src into dst with S_1, S_2, ...
func (c *ccm) ctr(dst, src, nonce []byte) {
	var s [16]byte
	for i := uint64(1); len(src) > 0; i++ {
		c.keystream(&s, nonce, i)
		n := subtle.XORBytes(dst, src, s[:])
		dst, src = dst[n:], src[n:]
	}
}

// mac is the CBC-MAC T of RFC 3610 2.2, unmasked.
func (c *ccm) mac(t *[16]byte, nonce, plaintext, aad []byte) {
	var b [16]byte
	flags := byte((c.tagLen-2)/2<<3 | (c.lenBytes() - 1))
	if len(aad) > 0 {
		flags |= 0x40
	}
	c.counter(&b, nonce, uint64(len(plaintext)))
	b[0] = flags
	c.b.Encrypt(t[:], b[:])

	if len(aad) > 0 {
		// Encoded length of the AAD (RFC 3610 2.2), then the AAD, in
		// blocks padded with zeros.
		var hdr [6]byte
		var h []byte
		if len(aad) < 0xff00 {
			hdr[0], hdr[1] = byte(len(aad)>>8), byte(len(aad))
			h = hdr[:2]
		} else {
			hdr[0], hdr[1] = 0xff, 0xfe
			hdr[2], hdr[3], hdr[4], hdr[5] = byte(len(aad)>>24), byte(len(aad)>>16), byte(len(aad)>>8), byte(len(aad))
			h = hdr[:6]
		}
		var blk [16]byte
		n := copy(blk[:], h)
		for len(aad) > 0 || n > 0 {
			m := copy(blk[n:], aad)
			aad = aad[m:]
			clear(blk[n+m:])
			subtle.XORBytes(t[:], t[:], blk[:])
			c.b.Encrypt(t[:], t[:])
			n = 0
		}
	}
	for len(plaintext) > 0 {
		var blk [16]byte
		m := copy(blk[:], plaintext)
		plaintext = plaintext[m:]
		subtle.XORBytes(t[:], t[:], blk[:])
		c.b.Encrypt(t[:], t[:])
	}
}

func (c *ccm) Seal(dst, nonce, plaintext, aad []byte) []byte {
	if len(nonce) != c.nonce || uint64(len(plaintext)) > c.maxLen() {
		panic("keys: ccm: bad nonce or message length") // a caller bug, never input
	}
	var t, s [16]byte
	c.mac(&t, nonce, plaintext, aad)
	c.keystream(&s, nonce, 0)
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagLen)
	c.ctr(out, plaintext, nonce)
	subtle.XORBytes(out[len(plaintext):], t[:c.tagLen], s[:c.tagLen])
	return ret
}

func (c *ccm) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != c.nonce || len(ciphertext) < c.tagLen || uint64(len(ciphertext)-c.tagLen) > c.maxLen() {
		return nil, errCCMOpen
	}
	tag := ciphertext[len(ciphertext)-c.tagLen:]
	ciphertext = ciphertext[:len(ciphertext)-c.tagLen]
	var want [16]byte
	var s [16]byte
	c.keystream(&s, nonce, 0)
	subtle.XORBytes(want[:c.tagLen], tag, s[:c.tagLen]) // unmask before out may overwrite tag's bytes
	ret, out := sliceForAppend(dst, len(ciphertext))
	c.ctr(out, ciphertext, nonce)
	var t [16]byte
	c.mac(&t, nonce, out, aad)
	if subtle.ConstantTimeCompare(t[:c.tagLen], want[:c.tagLen]) != 1 {
		clear(out)
		return nil, errCCMOpen
	}
	return ret, nil
}

// sliceForAppend extends in by n bytes, reusing its capacity, and returns
// the whole slice and the new part (the crypto/cipher idiom).
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
