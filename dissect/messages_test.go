package dissect

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

func buildCertificate(tls13 bool, chain ...[]byte) []byte {
	var b cryptobyte.Builder
	if tls13 {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	}
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range chain {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
			if tls13 {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {})
			}
		}
	})
	return mustBytes(&b)
}

func TestCertificate(t *testing.T) {
	chain := [][]byte{[]byte("leaf-der-bytes"), []byte("intermediate-der")}
	for _, tls13 := range []bool{false, true} {
		body := buildCertificate(tls13, chain...)
		got, err := ParseCertificate(body, tls13)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Chain, chain) {
			t.Errorf("tls13=%v: chain %q", tls13, got.Chain)
		}
		body[len(body)-3] ^= 0xff
		if string(got.Chain[1]) != "intermediate-der" {
			t.Error("certificate aliases its input")
		}
		body[len(body)-3] ^= 0xff
		checkPrefixes(t, body, func(b []byte) error { _, err := ParseCertificate(b, tls13); return err })
	}
	// An empty chain (a client without a certificate) is valid.
	if c, err := ParseCertificate(buildCertificate(false), false); err != nil || len(c.Chain) != 0 {
		t.Errorf("empty chain: %v %v", c, err)
	}
	// The 1.2 layout read as 1.3 fails and names a field.
	if _, err := ParseCertificate(buildCertificate(false, chain...), true); err == nil {
		t.Error("TLS 1.2 certificate parsed as TLS 1.3")
	}
}

func buildSKEECDHE(group uint16, sigScheme bool) []byte {
	var b cryptobyte.Builder
	b.AddUint8(3)
	b.AddUint16(group)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 65)) })
	if sigScheme {
		b.AddUint16(0x0403)
	}
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 70)) })
	return mustBytes(&b)
}

func buildSKEDHE(pBytes int) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		p := make([]byte, pBytes)
		p[0] = 0xff
		b.AddBytes(p)
	})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(2) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, pBytes)) })
	b.AddUint16(0x0804)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 256)) })
	return mustBytes(&b)
}

func TestServerKeyExchange(t *testing.T) {
	pskHint := func() []byte {
		var b cryptobyte.Builder
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("hint")) })
		return mustBytes(&b)
	}()
	ecdhePSK := func() []byte {
		var b cryptobyte.Builder
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {})
		b.AddUint8(3)
		b.AddUint16(29)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
		return mustBytes(&b)
	}()
	cases := []struct {
		name    string
		body    []byte
		suite   CipherSuite
		version Version
		want    ServerKeyExchange
	}{
		{"ecdhe tls12", buildSKEECDHE(23, true), 0xc02f, VersionTLS12, ServerKeyExchange{Kind: "ecdhe", NamedCurve: 23, SignatureScheme: 0x0403}},
		{"ecdhe tls10", buildSKEECDHE(24, false), 0xc013, VersionTLS10, ServerKeyExchange{Kind: "ecdhe", NamedCurve: 24}},
		{"ecdhe unknown suite", buildSKEECDHE(29, true), 0, VersionTLS12, ServerKeyExchange{Kind: "ecdhe", NamedCurve: 29, SignatureScheme: 0x0403}},
		{"dhe 2048", buildSKEDHE(256), 0x009e, VersionTLS12, ServerKeyExchange{Kind: "dhe", DHPrimeBits: 2048, SignatureScheme: 0x0804}},
		{"psk", pskHint, 0x00a8, VersionTLS12, ServerKeyExchange{Kind: "psk"}},
		{"ecdhe_psk", ecdhePSK, 0xc035, VersionTLS12, ServerKeyExchange{Kind: "ecdhe", NamedCurve: 29}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseServerKeyExchange(tc.body, tc.suite, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
			checkPrefixes(t, tc.body, func(b []byte) error { _, err := ParseServerKeyExchange(b, tc.suite, tc.version); return err })
		})
	}
}

func TestKeyExchange(t *testing.T) {
	for s, want := range map[CipherSuite]string{
		0xc02f: "ecdhe", 0x009e: "dhe", 0x002f: "rsa", 0x1301: "tls13", 0x00a8: "psk", 0xc035: "ecdhe_psk",
		0x00aa: "dhe_psk", 0x00ac: "rsa_psk", 0xc01d: "srp", 0x0034: "dh_anon", 0xc018: "ecdh_anon", 0x0003: "rsa_export", 0xbeef: "unknown",
		0xc0aa: "dhe_psk",
	} {
		if got := KeyExchange(s); got != want {
			t.Errorf("KeyExchange(%s) = %q, want %q", s, got, want)
		}
	}
}

func TestCertificateRequest(t *testing.T) {
	build12 := func(sigalgs bool) []byte {
		var b cryptobyte.Builder
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 64}) })
		if sigalgs {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 0x0401, 0x0403) })
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, dn := range []string{"CN=a", "CN=b", "CN=c"} {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(dn)) })
			}
		})
		return mustBytes(&b)
	}
	var b13 cryptobyte.Builder
	b13.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	addExtensions(&b13, []Extension{
		extU16List(extSignatureAlgorithms, 0x0804, 0x0403),
		ext(extCertAuthorities, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("CN=root")) })
			})
		}),
	})
	cases := []struct {
		name  string
		body  []byte
		tls13 bool
		want  *CertificateRequest
	}{
		{"tls12", build12(true), false, &CertificateRequest{CertificateTypes: []uint8{1, 64}, SignatureAlgorithms: []uint16{0x0401, 0x0403}, CACount: 3}},
		{"tls10", build12(false), false, &CertificateRequest{CertificateTypes: []uint8{1, 64}, CACount: 3}},
		{"tls13", mustBytes(&b13), true, &CertificateRequest{SignatureAlgorithms: []uint16{0x0804, 0x0403}, CACount: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCertificateRequest(tc.body, tc.tls13)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			// A TLS 1.2 prefix may happen to read as the TLS 1.0 layout
			// (no signature algorithms); that is the one allowed success.
			var valid []int
			for i := 0; i < len(tc.body); i++ {
				if !tc.tls13 && tc.name == "tls12" {
					if _, err := parseCertificateRequest12(tc.body[:i], false); err == nil {
						valid = append(valid, i)
					}
				}
			}
			checkPrefixes(t, tc.body, func(b []byte) error { _, err := ParseCertificateRequest(b, tc.tls13); return err }, valid...)
		})
	}
}

func TestNewSessionTicket(t *testing.T) {
	var b12 cryptobyte.Builder
	b12.AddUint32(7200)
	b12.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("ticket-bytes-12")) })
	var b13 cryptobyte.Builder
	b13.AddUint32(604800)
	b13.AddUint32(0xdeadbeef)
	b13.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{0}) })
	b13.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("ticket-13")) })
	addExtensions(&b13, []Extension{ext(extEarlyData, func(b *cryptobyte.Builder) { b.AddUint32(16384) })})
	for _, tc := range []struct {
		body  []byte
		tls13 bool
		want  NewSessionTicket
	}{
		{mustBytes(&b12), false, NewSessionTicket{LifetimeHint: 7200, Ticket: []byte("ticket-bytes-12")}},
		{mustBytes(&b13), true, NewSessionTicket{LifetimeHint: 604800, Ticket: []byte("ticket-13")}},
	} {
		got, err := ParseNewSessionTicket(tc.body, tc.tls13)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("got %+v want %+v", *got, tc.want)
		}
		checkPrefixes(t, tc.body, func(b []byte) error { _, err := ParseNewSessionTicket(b, tc.tls13); return err })
	}
}

func TestCertificateStatus(t *testing.T) {
	var b cryptobyte.Builder
	b.AddUint8(1)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 1500)) })
	body := mustBytes(&b)
	got, err := ParseCertificateStatus(body)
	if err != nil || got.StatusType != 1 || got.ResponseLength != 1500 {
		t.Fatalf("%+v %v", got, err)
	}
	checkPrefixes(t, body, func(b []byte) error { _, err := ParseCertificateStatus(b); return err })
	if _, err := ParseCertificateStatus([]byte{9, 0, 0, 0}); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown status_type: %v", err)
	}
}

func TestAlert(t *testing.T) {
	a, err := ParseAlert([]byte{2, 40})
	if err != nil || a.Level != 2 || a.Description != 40 {
		t.Fatalf("%+v %v", a, err)
	}
	checkPrefixes(t, []byte{2, 40}, func(b []byte) error { _, err := ParseAlert(b); return err })
	if _, err := ParseAlert([]byte{2, 40, 1}); err == nil {
		t.Error("an alert record of 3 bytes parsed")
	}
}

func TestHeartbeat(t *testing.T) {
	// A well-formed request: type, length 5, payload, 16 bytes of padding.
	ok := append([]byte{1, 0, 5, 'h', 'e', 'l', 'l', 'o'}, make([]byte, 16)...)
	hb, err := ParseHeartbeat(ok)
	if err != nil || hb.Heartbleed || hb.PayloadLength != 5 || hb.RecordLength != len(ok) || hb.Type != 1 {
		t.Fatalf("%+v %v", hb, err)
	}
	// The CVE-2014-0160 probe: claims 16384 bytes in a 3-byte record.
	hb, err = ParseHeartbeat([]byte{1, 0x40, 0x00})
	if err != nil || !hb.Heartbleed || hb.PayloadLength != 16384 {
		t.Fatalf("%+v %v", hb, err)
	}
	checkPrefixes(t, []byte{1, 0x40, 0x00}, func(b []byte) error { _, err := ParseHeartbeat(b); return err })
}
