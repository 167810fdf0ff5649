package flows

import (
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// The encoders below turn the message structs of package dissect back into
// wire bytes, so the tests of this package can say what a connection
// carried in the words of its Record and still drive the real state
// machine. TestWireRoundTrip holds them to dissect's parsers.

// Extension code points (IANA TLS ExtensionType registry).
const (
	extServerName         = 0
	extStatusRequest      = 5
	extSupportedGroups    = 10
	extECPointFormats     = 11
	extSignatureAlgs      = 13
	extALPN               = 16
	extSCT                = 18
	extEncryptThenMAC     = 22
	extExtendedMasterSec  = 23
	extSessionTicket      = 35
	extPreSharedKey       = 41
	extEarlyData          = 42
	extSupportedVersions  = 43
	extCookie             = 44
	extPSKModes           = 45
	extKeyShare           = 51
	extRenegotiationInfo  = 0xff01
	keyShareX25519Len     = 32
	uncompressedP256Point = 65
)

// helloRetryRandom is SHA-256("HelloRetryRequest"), the Random that marks
// a HelloRetryRequest (RFC 8446 4.1.3).
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

func build(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	out, err := b.Bytes()
	if err != nil {
		panic("test encoder: " + err.Error())
	}
	return out
}

func tlsRecord(t dissect.ContentType, v dissect.Version, body []byte) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(t))
		b.AddUint16(uint16(v))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	})
}

func handshakeMsg(t dissect.HandshakeType, body []byte) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(t))
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	})
}

// ciphertext returns n bytes that stand for ciphertext: deterministic, and
// unlike any plaintext structure.
func ciphertext(n int) []byte {
	out := make([]byte, n)
	x := uint32(n)*2654435761 + 1
	for i := range out {
		x = x*1664525 + 1013904223
		out[i] = byte(x >> 24)
	}
	return out
}

func addExt(b *cryptobyte.Builder, typ uint16, f func(b *cryptobyte.Builder)) {
	b.AddUint16(typ)
	b.AddUint16LengthPrefixed(f)
}

func addU16s(b *cryptobyte.Builder, vs []uint16) {
	for _, v := range vs {
		b.AddUint16(v)
	}
}

func addALPN(b *cryptobyte.Builder, protos []string) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, p := range protos {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
		}
	})
}

func random32(r []byte) []byte {
	if len(r) == 32 {
		return r
	}
	return make([]byte, 32)
}

// encodeClientHello writes ch's fields and its decoded extensions; the
// pre_shared_key extension goes last, as RFC 8446 4.2.11 requires.
func encodeClientHello(ch *dissect.ClientHello) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(ch.LegacyVersion))
		b.AddBytes(random32(ch.Random))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ch.SessionID) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, ch.CipherSuites) })
		comp := ch.CompressionMethods
		if len(comp) == 0 {
			comp = []uint8{0}
		}
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(comp) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			if ch.ServerName != "" {
				addExt(b, extServerName, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint8(0) // host_name
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(ch.ServerName)) })
					})
				})
			}
			if len(ch.SupportedGroups) > 0 {
				addExt(b, extSupportedGroups, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, ch.SupportedGroups) })
				})
			}
			if len(ch.ECPointFormats) > 0 {
				addExt(b, extECPointFormats, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ch.ECPointFormats) })
				})
			}
			if len(ch.SignatureAlgorithms) > 0 {
				addExt(b, extSignatureAlgs, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, ch.SignatureAlgorithms) })
				})
			}
			if len(ch.ALPN) > 0 {
				addExt(b, extALPN, func(b *cryptobyte.Builder) { addALPN(b, ch.ALPN) })
			}
			if ch.ExtendedMasterSecret {
				addExt(b, extExtendedMasterSec, func(*cryptobyte.Builder) {})
			}
			if ch.HasSessionTicketExt || len(ch.SessionTicket) > 0 {
				addExt(b, extSessionTicket, func(b *cryptobyte.Builder) { b.AddBytes(ch.SessionTicket) })
			}
			if len(ch.SupportedVersions) > 0 {
				addExt(b, extSupportedVersions, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, v := range ch.SupportedVersions {
							b.AddUint16(uint16(v))
						}
					})
				})
			}
			if len(ch.PSKModes) > 0 {
				addExt(b, extPSKModes, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ch.PSKModes) })
				})
			}
			if len(ch.KeyShareGroups) > 0 {
				addExt(b, extKeyShare, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, g := range ch.KeyShareGroups {
							b.AddUint16(g)
							b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(keyShareX25519Len)) })
						}
					})
				})
			}
			if ch.EarlyData {
				addExt(b, extEarlyData, func(*cryptobyte.Builder) {})
			}
			if ch.SecureRenegotiation {
				addExt(b, extRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
			}
			for _, e := range ch.Extensions {
				addExt(b, e.Type, func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
			}
			if len(ch.PSKIdentities) > 0 {
				addExt(b, extPreSharedKey, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, id := range ch.PSKIdentities {
							b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(id.Identity) })
							b.AddUint32(id.ObfuscatedTicketAge)
						}
					})
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for range ch.PSKIdentities {
							b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(32)) })
						}
					})
				})
			}
		})
	})
}

// encodeServerHello writes sh; a HelloRetryRequest gets its special Random
// and a key_share naming only the group.
func encodeServerHello(sh *dissect.ServerHello) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(sh.LegacyVersion))
		if sh.IsHelloRetryRequest {
			b.AddBytes(helloRetryRandom)
		} else {
			b.AddBytes(random32(sh.Random))
		}
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sh.SessionID) })
		b.AddUint16(uint16(sh.CipherSuite))
		b.AddUint8(sh.CompressionMethod)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			if sh.SupportedVersion != 0 {
				addExt(b, extSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(uint16(sh.SupportedVersion)) })
			}
			if sh.KeyShareGroup != 0 {
				addExt(b, extKeyShare, func(b *cryptobyte.Builder) {
					b.AddUint16(uint16(sh.KeyShareGroup))
					if !sh.IsHelloRetryRequest {
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(keyShareX25519Len)) })
					}
				})
			}
			if sh.HasPreSharedKey {
				addExt(b, extPreSharedKey, func(b *cryptobyte.Builder) { b.AddUint16(sh.SelectedIdentity) })
			}
			if sh.ALPN != "" {
				addExt(b, extALPN, func(b *cryptobyte.Builder) { addALPN(b, []string{sh.ALPN}) })
			}
			if sh.HasSessionTicketExt {
				addExt(b, extSessionTicket, func(*cryptobyte.Builder) {})
			}
			if sh.ExtendedMasterSecret {
				addExt(b, extExtendedMasterSec, func(*cryptobyte.Builder) {})
			}
			if sh.EncryptThenMAC {
				addExt(b, extEncryptThenMAC, func(*cryptobyte.Builder) {})
			}
			if sh.SecureRenegotiation {
				addExt(b, extRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
			}
			if sh.Cookie {
				addExt(b, extCookie, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(16)) })
				})
			}
			for _, e := range sh.Extensions {
				addExt(b, e.Type, func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
			}
		})
	})
}

// encodeCertificate writes a TLS 1.2 Certificate (RFC 5246 7.4.2).
func encodeCertificate(chain [][]byte) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, der := range chain {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(der) })
			}
		})
	})
}

// ecdheServerKeyExchange writes a TLS 1.2 ECDHE ServerKeyExchange (RFC
// 8422 5.4) for a named curve, signed with ecdsa_secp256r1_sha256.
func ecdheServerKeyExchange(group dissect.NamedGroup) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(3) // named_curve
		b.AddUint16(uint16(group))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8(4) // uncompressed
			b.AddBytes(ciphertext(uncompressedP256Point - 1))
		})
		b.AddUint16(0x0403)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(70)) })
	})
}

// encodeNewSessionTicket12 writes an RFC 5077 NewSessionTicket.
func encodeNewSessionTicket12(ticket []byte, lifetime uint32) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint32(lifetime)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ticket) })
	})
}

// minimalBody returns a small well-formed body for a handshake type the
// tests send without caring for its content.
func minimalBody(t dissect.HandshakeType) []byte {
	switch t {
	case dissect.TypeHelloRequest, dissect.TypeServerHelloDone, dissect.TypeEndOfEarlyData:
		return nil
	case dissect.TypeClientKeyExchange:
		// ECDHE: the client's point (RFC 8422 5.7).
		return build(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(4); b.AddBytes(ciphertext(uncompressedP256Point - 1)) })
		})
	case dissect.TypeCertificateRequest:
		// RFC 5246 7.4.4: ecdsa_sign, ecdsa_secp256r1_sha256, no CAs.
		return []byte{1, 64, 0, 2, 0x04, 0x03, 0, 0}
	case dissect.TypeCertificateVerify:
		return build(func(b *cryptobyte.Builder) {
			b.AddUint16(0x0403)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(70)) })
		})
	case dissect.TypeCertificateStatus:
		// RFC 6066 8: ocsp(1) and a response.
		return build(func(b *cryptobyte.Builder) {
			b.AddUint8(1)
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ciphertext(30)) })
		})
	}
	return ciphertext(12)
}

// TestWireRoundTrip holds the encoders to dissect's parsers: what the
// tests write is what the dissector reads back.
func TestWireRoundTrip(t *testing.T) {
	ch := ch13("rt.example")
	ch.SessionID = []byte{1, 2, 3}
	ch.PSKModes = []uint8{1}
	ch.EarlyData = true
	ch.SecureRenegotiation = true
	ch.PSKIdentities = []dissect.PSKIdentity{{Identity: []byte("ticket"), ObfuscatedTicketAge: 77}}
	got, err := dissect.ParseClientHello(encodeClientHello(ch))
	if err != nil {
		t.Fatal(err)
	}
	if got.ServerName != ch.ServerName || !slices.Equal(got.ALPN, ch.ALPN) || !slices.Equal(got.CipherSuites, ch.CipherSuites) ||
		!slices.Equal(got.SupportedVersions, ch.SupportedVersions) || !slices.Equal(got.KeyShareGroups, ch.KeyShareGroups) ||
		!got.EarlyData || !got.SecureRenegotiation || len(got.PSKIdentities) != 1 || got.PSKIdentities[0].ObfuscatedTicketAge != 77 ||
		string(got.PSKIdentities[0].Identity) != "ticket" || !slices.Equal(got.SessionID, ch.SessionID) {
		t.Errorf("client hello round trip:\n got %+v\nwant %+v", got, ch)
	}
	for _, sh := range []*dissect.ServerHello{sh12(), sh13(), {LegacyVersion: dissect.VersionTLS12, CipherSuite: 0x1302, SupportedVersion: dissect.VersionTLS13,
		KeyShareGroup: 24, IsHelloRetryRequest: true, Cookie: true}, {LegacyVersion: dissect.VersionTLS12, CipherSuite: 0x1301,
		SupportedVersion: dissect.VersionTLS13, KeyShareGroup: 29, HasPreSharedKey: true, SelectedIdentity: 1}} {
		got, err := dissect.ParseServerHello(encodeServerHello(sh))
		if err != nil {
			t.Fatal(err)
		}
		if got.Version() != sh.Version() || got.CipherSuite != sh.CipherSuite || got.ALPN != sh.ALPN || got.KeyShareGroup != sh.KeyShareGroup ||
			got.IsHelloRetryRequest != sh.IsHelloRetryRequest || got.HasPreSharedKey != sh.HasPreSharedKey || got.SelectedIdentity != sh.SelectedIdentity {
			t.Errorf("server hello round trip:\n got %+v\nwant %+v", got, sh)
		}
	}
	if _, err := dissect.ParseServerKeyExchange(ecdheServerKeyExchange(23), 0xc02b, dissect.VersionTLS12); err != nil {
		t.Errorf("server key exchange: %v", err)
	}
}
