package keys

import (
	"crypto"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"errors"
	"fmt"
	"hash"
)

// ErrKeyDerivation says a secret could not be expanded: a length the hash
// cannot give, or a hash that is not linked in.
var ErrKeyDerivation = errors.New("keys: key derivation failed")

// ExpandLabel is HKDF-Expand-Label of RFC 8446 section 7.1:
//
//	HKDF-Expand(secret, HkdfLabel{length, "tls13 " + label, context}, length)
//
// label is given without the "tls13 " prefix ("key", "iv", "traffic upd";
// QUIC's "quic key", "quic iv", "quic hp", "quic ku" of RFC 9001 5.1 too).
func ExpandLabel(h crypto.Hash, secret []byte, label string, context []byte, length int) ([]byte, error) {
	full := "tls13 " + label
	if length < 0 || length > 0xffff || len(full) > 255 || len(context) > 255 {
		return nil, fmt.Errorf("keys: expand label %q: %w", label, ErrKeyDerivation)
	}
	if !h.Available() {
		return nil, fmt.Errorf("keys: expand label %q: hash %v: %w", label, h, ErrKeyDerivation)
	}
	info := make([]byte, 0, 2+1+len(full)+1+len(context))
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h.New, secret, string(info), length)
	if err != nil {
		return nil, fmt.Errorf("keys: expand label %q: %w: %w", label, ErrKeyDerivation, err)
	}
	return out, nil
}

// TrafficKeys derives the write key and IV of a TLS 1.3 traffic secret
// (RFC 8446 7.3): key = HKDF-Expand-Label(secret, "key", "", key_length),
// iv = HKDF-Expand-Label(secret, "iv", "", 12).
func TrafficKeys(s Suite, secret []byte) (key, iv []byte, err error) {
	if !s.TLS13 {
		return nil, nil, fmt.Errorf("keys: %s is not a TLS 1.3 suite: %w", s.Name, ErrUnsupportedSuite)
	}
	if key, err = ExpandLabel(s.Hash, secret, "key", nil, s.KeyLen); err != nil {
		return nil, nil, err
	}
	if iv, err = ExpandLabel(s.Hash, secret, "iv", nil, 12); err != nil {
		return nil, nil, err
	}
	return key, iv, nil
}

// NextTrafficSecret is the application traffic secret after a KeyUpdate
// (RFC 8446 7.2): HKDF-Expand-Label(secret, "traffic upd", "", Hash.length).
func NextTrafficSecret(h crypto.Hash, secret []byte) ([]byte, error) {
	return ExpandLabel(h, secret, "traffic upd", nil, h.Size())
}

// pHash is P_hash of RFC 5246 section 5, filling out.
func pHash(out []byte, h func() hash.Hash, secret, seed []byte) {
	m := hmac.New(h, secret)
	m.Write(seed)
	a := m.Sum(nil)
	var block []byte
	for len(out) > 0 {
		m.Reset()
		m.Write(a)
		m.Write(seed)
		block = m.Sum(block[:0])
		n := copy(out, block)
		out = out[n:]
		m.Reset()
		m.Write(a)
		a = m.Sum(a[:0])
	}
}

// PRF is the TLS pseudo-random function: for TLS 1.2 P_hash with the
// suite's hash (RFC 5246 5), for TLS 1.0 and 1.1 the XOR of P_MD5 over the
// first half of the secret and P_SHA-1 over the second (RFC 2246 5;
// the halves share the middle byte when the length is odd).
func PRF(version uint16, h crypto.Hash, secret []byte, label string, seed []byte, length int) ([]byte, error) {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	out := make([]byte, length)
	if version >= VersionTLS12 {
		if !h.Available() {
			return nil, fmt.Errorf("keys: prf hash %v: %w", h, ErrKeyDerivation)
		}
		pHash(out, h.New, secret, ls)
		return out, nil
	}
	half := (len(secret) + 1) / 2
	s1, s2 := secret[:half], secret[len(secret)-half:]
	pHash(out, md5.New, s1, ls)
	x := make([]byte, length)
	pHash(x, sha1.New, s2, ls)
	for i := range out {
		out[i] ^= x[i]
	}
	return out, nil
}
