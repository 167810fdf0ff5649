package dissect

// Builders of wire messages for the tests, written with cryptobyte.Builder
// from the RFC structures, independently of the parsers.

import (
	"golang.org/x/crypto/cryptobyte"
)

func mustBytes(b *cryptobyte.Builder) []byte {
	out, err := b.Bytes()
	if err != nil {
		panic(err) // a test builder bug, not input
	}
	return out
}

func ext(typ uint16, f func(b *cryptobyte.Builder)) Extension {
	var b cryptobyte.Builder
	if f != nil {
		f(&b)
	}
	return Extension{Type: typ, Data: mustBytes(&b)}
}

func addU16s(b *cryptobyte.Builder, vs ...uint16) {
	for _, v := range vs {
		b.AddUint16(v)
	}
}

func extSNI(host string) Extension {
	return ext(extServerName, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8(0)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(host)) })
		})
	})
}

func extALPNList(protos ...string) Extension {
	return ext(extALPN, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, p := range protos {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
			}
		})
	})
}

func extVersionsCH(vs ...uint16) Extension {
	return ext(extSupportedVersions, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, vs...) })
	})
}

func extVersionSH(v uint16) Extension {
	return ext(extSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(v) })
}

func extU16List(typ uint16, vs ...uint16) Extension {
	return ext(typ, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, vs...) })
	})
}

func extU8List(typ uint16, vs ...uint8) Extension {
	return ext(typ, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(vs) })
	})
}

func extKeyShareCH(groups ...uint16) Extension {
	return ext(extKeyShare, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, g := range groups {
				b.AddUint16(g)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
			}
		})
	})
}

func extKeyShareSH(group uint16) Extension {
	return ext(extKeyShare, func(b *cryptobyte.Builder) {
		b.AddUint16(group)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
	})
}

func extPSKOffer(ids ...PSKIdentity) Extension {
	return ext(extPreSharedKey, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, id := range ids {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(id.Identity) })
				b.AddUint32(id.ObfuscatedTicketAge)
			}
		})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for range ids {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
			}
		})
	})
}

func extRaw(typ uint16, data []byte) Extension {
	return Extension{Type: typ, Data: append([]byte{}, data...)}
}

func extStatusRequestOCSP() Extension {
	return ext(extStatusRequest, func(b *cryptobyte.Builder) {
		b.AddUint8(1)
		b.AddUint16(0)
		b.AddUint16(0)
	})
}

func extRenegotiation() Extension {
	return ext(extRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
}

func extECHOuter(kdf, aead uint16, configID uint8, payload int) Extension {
	return ext(extECH, func(b *cryptobyte.Builder) {
		b.AddUint8(0)
		b.AddUint16(kdf)
		b.AddUint16(aead)
		b.AddUint8(configID)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, payload)) })
	})
}

func extCookieOf(n int) Extension {
	return ext(extCookie, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, n)) })
	})
}

func addExtensions(b *cryptobyte.Builder, exts []Extension) {
	if exts == nil {
		return
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, e := range exts {
			b.AddUint16(e.Type)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
		}
	})
}

type helloSpec struct {
	version uint16
	random  []byte
	sid     []byte
	suites  []uint16
	comp    []uint8
	exts    []Extension // nil: no extensions block
}

func testRandom(seed byte) []byte {
	r := make([]byte, 32)
	for i := range r {
		r[i] = seed + byte(i)
	}
	return r
}

func buildClientHello(h helloSpec) []byte {
	var b cryptobyte.Builder
	b.AddUint16(h.version)
	b.AddBytes(h.random)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.sid) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, h.suites...) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.comp) })
	addExtensions(&b, h.exts)
	return mustBytes(&b)
}

func buildServerHello(h helloSpec) []byte {
	var b cryptobyte.Builder
	b.AddUint16(h.version)
	b.AddBytes(h.random)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(h.sid) })
	b.AddUint16(h.suites[0])
	b.AddUint8(h.comp[0])
	addExtensions(&b, h.exts)
	return mustBytes(&b)
}

// handshake wraps a body in a handshake header.
func handshake(typ HandshakeType, body []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(uint8(typ))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(body) })
	return mustBytes(&b)
}

// record wraps a fragment in a record header.
func record(typ ContentType, version uint16, frag []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(uint8(typ))
	b.AddUint16(version)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(frag) })
	return mustBytes(&b)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// chromeLikeHello is a modern ClientHello with GREASE, used across tests.
func chromeLikeHello() (helloSpec, *ClientHello) {
	exts := []Extension{
		extRaw(0x0a0a, nil),
		extSNI("example.com"),
		extRaw(extExtendedMasterSecret, nil),
		extRenegotiation(),
		extU16List(extSupportedGroups, 0x1a1a, 0x11ec, 29, 23, 24),
		extU8List(extECPointFormats, 0),
		extRaw(extSessionTicket, nil),
		extALPNList("h2", "http/1.1"),
		extStatusRequestOCSP(),
		extU16List(extSignatureAlgorithms, 0x0403, 0x0804, 0x0401),
		extRaw(extSCT, nil),
		extKeyShareCH(0x1a1a, 0x11ec, 29),
		extU8List(extPSKModes, 1),
		extVersionsCH(0x2a2a, 0x0304, 0x0303),
		{}, // compress_certificate, below
		extECHOuter(1, 1, 7, 144),
		extRaw(17613, []byte{0, 3, 2, 'h', '2'}),
		extRaw(0x3a3a, []byte{0}),
		extRaw(extPadding, make([]byte, 10)),
	}
	// compress_certificate: a uint8-prefixed list of uint16 algorithms.
	exts[14] = ext(extCompressCertificate, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 2) })
	})
	spec := helloSpec{
		version: 0x0303,
		random:  testRandom(1),
		sid:     testRandom(100),
		suites:  []uint16{0x4a4a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x00ff},
		comp:    []uint8{0},
		exts:    exts,
	}
	want := &ClientHello{
		LegacyVersion:        VersionTLS12,
		Random:               spec.random,
		SessionID:            spec.sid,
		CipherSuites:         spec.suites,
		CompressionMethods:   []uint8{0},
		Extensions:           exts,
		ServerName:           "example.com",
		ALPN:                 []string{"h2", "http/1.1"},
		SupportedVersions:    []Version{0x2a2a, VersionTLS13, VersionTLS12},
		SupportedGroups:      []uint16{0x1a1a, 0x11ec, 29, 23, 24},
		ECPointFormats:       []uint8{0},
		SignatureAlgorithms:  []uint16{0x0403, 0x0804, 0x0401},
		KeyShareGroups:       []uint16{0x1a1a, 0x11ec, 29},
		PSKModes:             []uint8{1},
		HasSessionTicketExt:  true,
		SessionTicket:        []byte{},
		SecureRenegotiation:  true,
		StatusRequest:        true,
		ExtendedMasterSecret: true,
		SignedCertTimestamp:  true,
		PaddingLength:        10,
		CompressCertificate:  []uint16{2},
		ECH:                  &ECH{Outer: true, ConfigID: 7, KDF: 1, AEAD: 1, PayloadLength: 144},
	}
	return spec, want
}
