package quic

import (
	"bytes"
	"errors"
	"testing"
)

func TestInitialSecrets(t *testing.T) {
	c, s, err := InitialSecrets(Version1, rfcDCID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c, rfcClientInitialSecret) || !bytes.Equal(s, rfcServerInitialSecret) {
		t.Fatalf("secrets\n%x\n%x", c, s)
	}
	if _, _, err := InitialSecrets(Version(0x12345678), rfcDCID); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("unknown version: %v", err)
	}
}

func TestKeyDerivation(t *testing.T) {
	// RFC 9001 A.1 (client and server Initial) and A.5 (ChaCha20).
	tests := []struct {
		suite       Suite
		secret      []byte
		key, iv, hp string
	}{
		{TLS_AES_128_GCM_SHA256, rfcClientInitialSecret, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{TLS_AES_128_GCM_SHA256, rfcServerInitialSecret, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		{TLS_CHACHA20_POLY1305_SHA256, rfcChaChaSecret, "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8", "e0459b3474bdd0e44a41c144", "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4"},
	}
	for _, tt := range tests {
		h := tt.suite.hash()
		for _, c := range []struct{ label, want string }{{"quic key", tt.key}, {"quic iv", tt.iv}, {"quic hp", tt.hp}} {
			got, err := hkdfExpandLabel(h, tt.secret, c.label, len(unhex(c.want)))
			if err != nil || !bytes.Equal(got, unhex(c.want)) {
				t.Errorf("%v %s = %x, %v; want %s", tt.suite, c.label, got, err, c.want)
			}
		}
		k, err := NewKeys(Version1, tt.suite, tt.secret)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k.iv[:], unhex(tt.iv)) {
			t.Errorf("%v iv %x", tt.suite, k.iv)
		}
	}
}

func TestNewKeysRejects(t *testing.T) {
	if _, err := NewKeys(Version1, Suite(0x1304), rfcChaChaSecret); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown suite: %v", err)
	}
	if _, err := NewKeys(Version1, TLS_AES_256_GCM_SHA384, rfcChaChaSecret); !errors.Is(err, ErrMalformed) {
		t.Errorf("32-byte secret for SHA-384: %v", err)
	}
	if _, err := NewKeys(Version(7), TLS_AES_128_GCM_SHA256, rfcChaChaSecret); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("unknown version: %v", err)
	}
}

// openVector removes protection from a copy of a vector packet.
func openVector(t *testing.T, k *Keys, pkt []byte, short int) (Header, []byte, []byte, uint64) {
	t.Helper()
	p := append([]byte(nil), pkt...)
	h, err := ParsePacket(p, short)
	if err != nil {
		t.Fatal(err)
	}
	p = p[:h.Len]
	pn, hdrLen, err := k.Unprotect(p, h.PNOffset, h.Long, -1)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := k.Decrypt(nil, p, hdrLen, pn)
	if err != nil {
		t.Fatal(err)
	}
	return h, p[:hdrLen], payload, pn
}

func TestRFCPackets(t *testing.T) {
	ck, sk, err := InitialKeys(Version1, rfcDCID)
	if err != nil {
		t.Fatal(err)
	}
	// A.2: the client Initial.
	h, hdr, payload, pn := openVector(t, ck, rfcClientInitial, 0)
	if h.Type != PacketInitial || !bytes.Equal(h.DCID, rfcDCID) || len(h.SCID) != 0 || h.Len != 1200 {
		t.Errorf("client header %+v", h)
	}
	if pn != 2 || !bytes.Equal(hdr, rfcClientHeader) {
		t.Errorf("client pn %d header %x", pn, hdr)
	}
	if len(payload) != 1162 || !bytes.Equal(payload[:len(rfcClientCrypto)], rfcClientCrypto) ||
		bytes.Count(payload[len(rfcClientCrypto):], []byte{0}) != 1162-len(rfcClientCrypto) {
		t.Errorf("client payload %d bytes: %x", len(payload), payload[:32])
	}
	// The Initial keys of the other direction do not open it.
	p := append([]byte(nil), rfcClientInitial...)
	if pn, n, err := sk.Unprotect(p, h.PNOffset, true, -1); err == nil {
		if _, err := sk.Decrypt(nil, p, n, pn); !errors.Is(err, ErrDecrypt) {
			t.Errorf("server keys on client packet: %v", err)
		}
	}

	// A.3: the server Initial.
	h, hdr, payload, pn = openVector(t, sk, rfcServerInitial, 0)
	if pn != 1 || !bytes.Equal(hdr, rfcServerHeader) || !bytes.Equal(payload, rfcServerPayload) {
		t.Errorf("server pn %d header %x payload %x", pn, hdr, payload)
	}
	if !bytes.Equal(h.SCID, unhex("f067a5502a4262b5")) || len(h.DCID) != 0 {
		t.Errorf("server header %+v", h)
	}

	// A.5: ChaCha20 short header, pn 654360564 decoded from 3 bytes with
	// the largest packet number just below it.
	k, err := NewKeys(Version1, TLS_CHACHA20_POLY1305_SHA256, rfcChaChaSecret)
	if err != nil {
		t.Fatal(err)
	}
	p = append([]byte(nil), rfcChaChaPacket...)
	h, err = ParsePacket(p, 0)
	if err != nil || h.Type != Packet1RTT {
		t.Fatal(h, err)
	}
	pn, n, err := k.Unprotect(p, h.PNOffset, false, 654360563)
	if err != nil || pn != 654360564 || !bytes.Equal(p[:n], rfcChaChaHeader) {
		t.Fatalf("chacha pn %d header %x %v", pn, p[:n], err)
	}
	payload, err = k.Decrypt(nil, p, n, pn)
	if err != nil || !bytes.Equal(payload, []byte{0x01}) {
		t.Fatalf("chacha payload %x %v", payload, err)
	}
}

func TestRFC9369Packet(t *testing.T) {
	ck, _, err := InitialKeys(Version2, rfcDCID)
	if err != nil {
		t.Fatal(err)
	}
	h, hdr, payload, pn := openVector(t, ck, rfcV2ClientInitial, 0)
	if h.Type != PacketInitial || h.Version != Version2 || pn != 2 || !bytes.Equal(hdr, rfcV2ClientHeader) {
		t.Errorf("v2 header %+v pn %d %x", h, pn, hdr)
	}
	if !bytes.Equal(payload[:len(rfcClientCrypto)], rfcClientCrypto) {
		t.Errorf("v2 payload %x", payload[:32])
	}
	// The v1 keys do not open the v2 packet.
	v1, _, _ := InitialKeys(Version1, rfcDCID)
	p := append([]byte(nil), rfcV2ClientInitial...)
	if pn, n, err := v1.Unprotect(p, h.PNOffset, true, -1); err == nil {
		if _, err := v1.Decrypt(nil, p, n, pn); err == nil {
			t.Error("v1 keys opened a v2 packet")
		}
	}
}

func TestRetryIntegrity(t *testing.T) {
	for _, tt := range []struct {
		v   Version
		pkt []byte
	}{{Version1, rfcRetry}, {Version2, rfcV2Retry}} {
		h, err := ParsePacket(tt.pkt, 0)
		if err != nil || h.Type != PacketRetry || string(h.Token) != "token" || !bytes.Equal(h.SCID, unhex("f067a5502a4262b5")) {
			t.Fatalf("%v: %+v %v", tt.v, h, err)
		}
		if ok, checked := VerifyRetry(tt.v, rfcDCID, tt.pkt); !ok || !checked {
			t.Errorf("%v: tag rejected", tt.v)
		}
		bad := append([]byte(nil), tt.pkt...)
		bad[len(bad)-1] ^= 1
		if ok, _ := VerifyRetry(tt.v, rfcDCID, bad); ok {
			t.Errorf("%v: corrupted tag accepted", tt.v)
		}
		if ok, _ := VerifyRetry(tt.v, rfcDCID[1:], tt.pkt); ok {
			t.Errorf("%v: wrong odcid accepted", tt.v)
		}
	}
}

func TestHeaderProtectionMask(t *testing.T) {
	// RFC 9001 A.2: sample d1b1c98dd7689fb8ec11d242b123dc9b gives mask
	// 437b9aec36; A.5: sample 5e5cd55c41f69080575d7999c25a5bfb gives
	// aefefe7d03.
	ck, _, _ := InitialKeys(Version1, rfcDCID)
	ck.hpAES.Encrypt(ck.mask[:], unhex("d1b1c98dd7689fb8ec11d242b123dc9b"))
	if !bytes.Equal(ck.mask[:5], unhex("437b9aec36")) {
		t.Errorf("aes mask %x", ck.mask[:5])
	}
	k, _ := NewKeys(Version1, TLS_CHACHA20_POLY1305_SHA256, rfcChaChaSecret)
	pkt := append([]byte(nil), rfcChaChaPacket...)
	first := pkt[0]
	if _, _, err := k.Unprotect(pkt, 1, false, 654360563); err != nil {
		t.Fatal(err)
	}
	if first^pkt[0] != unhex("aefefe7d03")[0]&0x1f {
		t.Errorf("chacha mask %x", k.mask[:5])
	}
}

func TestDecodePacketNumber(t *testing.T) {
	tests := []struct {
		largest   int64
		truncated uint64
		pnLen     int
		want      uint64
	}{
		{0xa82f30ea, 0x9b32, 2, 0xa82f9b32}, // RFC 9000 A.3
		{-1, 0, 1, 0},
		{-1, 2, 4, 2},
		{0, 1, 1, 1},
		{0xff, 0x00, 1, 0x100},
		{0x1ff, 0xfe, 1, 0x1fe},
		{0xabe8b3, 0xac5c02, 3, 0xac5c02}, // RFC 9000 17.1 example window
		{0xabe8b3, 0xace8fe, 3, 0xace8fe},
		{1000, 0x10, 1, 1040},               // 1040 = 0x410, nearest to 1001
		{MaxVarint - 1, 0xff, 1, MaxVarint}, // no wrap past 2^62
	}
	for _, tt := range tests {
		if got := DecodePacketNumber(tt.largest, tt.truncated, tt.pnLen); got != tt.want {
			t.Errorf("DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", tt.largest, tt.truncated, tt.pnLen, got, tt.want)
		}
	}
}

func TestKeyUpdate(t *testing.T) {
	// NextGeneration keeps the header protection key and changes the
	// AEAD: the same plaintext sealed by both generations differs.
	k, _ := NewKeys(Version1, TLS_AES_128_GCM_SHA256, rfcClientInitialSecret)
	n, err := k.NextGeneration()
	if err != nil {
		t.Fatal(err)
	}
	if n.hpAES != k.hpAES || n.iv == k.iv {
		t.Error("key update: hp must stay, iv must change")
	}
	a := k.aead.Seal(nil, k.iv[:], []byte("x"), nil)
	b := n.aead.Seal(nil, k.iv[:], []byte("x"), nil)
	if bytes.Equal(a, b) {
		t.Error("key update did not change the AEAD key")
	}
}

func TestTransportErrorName(t *testing.T) {
	for _, tc := range []struct {
		code uint64
		want string
	}{
		{0x0, "NO_ERROR"}, {0xa, "PROTOCOL_VIOLATION"}, {0x10, "NO_VIABLE_PATH"}, {0x11, "VERSION_NEGOTIATION_ERROR"},
		{0x128, "CRYPTO_ERROR(40)"}, {0x100, "CRYPTO_ERROR(0)"}, {0x1ff, "CRYPTO_ERROR(255)"}, {0x12, "0x12"}, {0x200, "0x200"},
	} {
		if got := TransportErrorName(tc.code); got != tc.want {
			t.Errorf("TransportErrorName(%#x) = %q, want %q", tc.code, got, tc.want)
		}
	}
}
