package testgen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// detReader is a deterministic byte source for crypto code: a ChaCha8 stream
// keyed from a seed and a label.
//
// Reads of exactly one byte return 0 without advancing the stream. Since Go
// 1.26 crypto packages that honour a caller's reader (only with
// GODEBUG=cryptocustomrand=1) first call randutil.MaybeReadByte on it, which
// consumes one byte or not by a coin toss from the runtime's own generator;
// neutralising single-byte reads makes the stream independent of that toss.
// No crypto/tls or x509 code path reads a single byte for real.
type detReader struct{ c *rand.ChaCha8 }

func (r *detReader) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0
		return 1, nil
	}
	_, _ = r.c.Read(p) // ChaCha8.Read never fails
	return len(p), nil
}

// NewRand returns a deterministic io.Reader for crypto code: the same seed and
// label give the same bytes. It is what the generator puts in tls.Config.Rand.
func NewRand(seed uint64, label string) io.Reader {
	return &detReader{c: rand.NewChaCha8(seedKey(seed, label))}
}

func seedKey(seed uint64, label string) [32]byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(label))
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// subSeed derives a 64-bit seed from a seed and a label (for non-crypto
// choices: ISNs, IP IDs, impairments).
func subSeed(seed uint64, label string) uint64 {
	k := seedKey(seed, label)
	return binary.BigEndian.Uint64(k[:8])
}

// CustomRandEnabled reports whether crypto key generation honours the reader
// it is given. In Go 1.26 it does only with GODEBUG=cryptocustomrand=1 (set it
// with a //go:debug directive in the main package or a _test.go file);
// without it keys, certificates and signatures differ on every run and the
// generator cannot be deterministic.
func CustomRandEnabled() bool {
	k1, err1 := ecdsa.GenerateKey(elliptic.P256(), NewRand(1, "probe"))
	k2, err2 := ecdsa.GenerateKey(elliptic.P256(), NewRand(1, "probe"))
	if err1 != nil || err2 != nil {
		return false
	}
	b1, err1 := k1.Bytes()
	b2, err2 := k2.Bytes()
	return err1 == nil && err2 == nil && bytes.Equal(b1, b2)
}
