package keys

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CCM against the published vectors: RFC 3610 packet vector #1 and the
// examples of NIST SP 800-38C appendix C (example 3 has the 12-byte nonce
// and 8-byte tag of CCM_8).
func TestCCMVectors(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		key, nonce, aad, pt, ct string
		tag                     int
	}{
		{"rfc3610-1", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5", "0001020304050607",
			"08090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
			"588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0", 8},
		{"sp800-38c-1", "404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607",
			"20212223", "7162015b4dac255d", 4},
		{"sp800-38c-2", "404142434445464748494a4b4c4d4e4f", "1011121314151617", "000102030405060708090a0b0c0d0e0f",
			"202122232425262728292a2b2c2d2e2f", "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", 6},
		{"sp800-38c-3", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213",
			"202122232425262728292a2b2c2d2e2f3031323334353637",
			"e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := aes.NewCipher(unhex(t, tc.key))
			nonce := unhex(t, tc.nonce)
			c, err := newCCM(b, len(nonce), tc.tag)
			if err != nil {
				t.Fatal(err)
			}
			aad, pt, ct := unhex(t, tc.aad), unhex(t, tc.pt), unhex(t, tc.ct)
			if got := c.Seal(nil, nonce, pt, aad); !bytes.Equal(got, ct) {
				t.Fatalf("Seal = %x, want %x", got, ct)
			}
			got, err := c.Open(nil, nonce, ct, aad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open = %x, %v", got, err)
			}
			// In place.
			buf := bytes.Clone(ct)
			if got, err := c.Open(buf[:0], nonce, buf, aad); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("Open in place = %x, %v", got, err)
			}
			// Every flipped bit and every strict prefix fails.
			for i := range len(ct) * 8 {
				bad := bytes.Clone(ct)
				bad[i/8] ^= 1 << (i % 8)
				if _, err := c.Open(nil, nonce, bad, aad); err == nil {
					t.Fatalf("bit %d flipped: opened", i)
				}
			}
			for n := range len(ct) {
				if _, err := c.Open(nil, nonce, ct[:n], aad); err == nil {
					t.Fatalf("prefix %d: opened", n)
				}
			}
			if _, err := c.Open(nil, nonce, ct, append(bytes.Clone(aad), 0)); err == nil {
				t.Fatal("longer aad: opened")
			}
		})
	}
}

// A long AAD takes the 6-byte length encoding; it must still round trip
// and differ from the short form.
func TestCCMLongAAD(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	c, _ := newCCM(b, 12, 16)
	nonce := make([]byte, 12)
	aad := bytes.Repeat([]byte{7}, 0xff00+3)
	pt := []byte("long aad")
	ct := c.Seal(nil, nonce, pt, aad)
	if got, err := c.Open(nil, nonce, ct, aad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := c.Open(nil, nonce, ct, aad[:len(aad)-1]); err == nil {
		t.Fatal("shorter aad: opened")
	}
}
