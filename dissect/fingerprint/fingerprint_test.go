package fingerprint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// ---------------------------------------------------------------- builders

func ext(typ uint16, data []byte) dissect.Extension { return dissect.Extension{Type: typ, Data: data} }

func sniExt(name string) dissect.Extension {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(0) // host_name
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
	})
	return ext(extServerName, b.BytesOrPanic())
}

func alpnExt(protos ...string) dissect.Extension {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, p := range protos {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
		}
	})
	return ext(extALPN, b.BytesOrPanic())
}

func u16ListExt(typ uint16, vs ...uint16) dissect.Extension {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range vs {
			b.AddUint16(v)
		}
	})
	return ext(typ, b.BytesOrPanic())
}

func versionsExt(vs ...uint16) dissect.Extension {
	var b cryptobyte.Builder
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range vs {
			b.AddUint16(v)
		}
	})
	return ext(extSupportedVersions, b.BytesOrPanic())
}

func pointFormatsExt(fs ...uint8) dissect.Extension {
	var b cryptobyte.Builder
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(fs) })
	return ext(extECPointFormats, b.BytesOrPanic())
}

// chromeHello is the Chrome ClientHello of the JA4 specification's example
// (JA4.md): 15 cipher suites and 16 extensions besides GREASE, ALPN h2.
func chromeHello() *dissect.ClientHello {
	return &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS12,
		CipherSuites: []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
			0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []dissect.Extension{
			ext(0x8a8a, nil),
			ext(0x001b, []byte{2, 0, 2}),
			sniExt("example.com"),
			ext(0x0033, []byte{0, 0}),
			alpnExt("h2", "http/1.1"),
			ext(0x4469, []byte{0, 3, 2, 'h', '2'}),
			ext(0x0017, nil),
			ext(0x002d, []byte{1, 1}),
			u16ListExt(extSignatureAlgorithms, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
			ext(0x0005, []byte{1, 0, 0, 0, 0}),
			ext(0x0023, nil),
			ext(0x0012, nil),
			versionsExt(0x7a7a, 0x0304, 0x0303),
			ext(0xff01, []byte{0}),
			pointFormatsExt(0),
			u16ListExt(extSupportedGroups, 0x2a2a, 0x001d, 0x0017, 0x0018),
			ext(0x0015, make([]byte, 10)),
			ext(0x9a9a, []byte{0}),
		},
	}
}

// ---------------------------------------------------------------- JA3

func TestJA3SpecExamples(t *testing.T) {
	// The two examples of the salesforce/ja3 README.
	tests := []struct {
		name     string
		ch       *dissect.ClientHello
		raw, md5 string
	}{
		{
			"with extensions",
			&dissect.ClientHello{
				LegacyVersion: dissect.VersionTLS10,
				CipherSuites:  []uint16{47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4},
				Extensions: []dissect.Extension{
					sniExt("example.com"),
					u16ListExt(extSupportedGroups, 23, 24, 25),
					pointFormatsExt(0),
				},
			},
			"769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0",
			"ada70206e40642a3e4461f35503241d5",
		},
		{
			"no extensions",
			&dissect.ClientHello{
				LegacyVersion: dissect.VersionTLS10,
				CipherSuites:  []uint16{4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99},
			},
			"769,4-5-10-9-100-98-3-6-19-18-99,,,",
			"de350869b8c85de67a350c8d186f11e6",
		},
	}
	for _, tt := range tests {
		hash, raw := JA3(tt.ch)
		if raw != tt.raw || hash != tt.md5 {
			t.Errorf("%s: JA3 = %s %q, want %s %q", tt.name, hash, raw, tt.md5, tt.raw)
		}
	}
}

func TestJA3GREASE(t *testing.T) {
	ch := &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS12,
		CipherSuites:  []uint16{0x0a0a, 0x1301, 0xfafa, 0xc02f},
		Extensions: []dissect.Extension{
			ext(0x1a1a, nil),
			sniExt("a.example"),
			u16ListExt(extSupportedGroups, 0x4a4a, 29, 23),
			pointFormatsExt(0, 1, 2),
			ext(0xeaea, []byte{0}),
			ext(0xff01, []byte{0}),
		},
	}
	const want = "771,4865-49199,0-10-11-65281,29-23,0-1-2"
	if _, raw := JA3(ch); raw != want {
		t.Errorf("JA3 raw = %q, want %q", raw, want)
	}
}

func TestJA3S(t *testing.T) {
	sh := &dissect.ServerHello{
		LegacyVersion: dissect.VersionTLS12,
		CipherSuite:   0xc02f,
		Extensions:    []dissect.Extension{ext(0xff01, []byte{0}), ext(0, nil), pointFormatsExt(0), alpnExt("h2")},
	}
	hash, raw := JA3S(sh)
	if raw != "771,49199,65281-0-11-16" {
		t.Errorf("JA3S raw = %q", raw)
	}
	// MD5 of the raw string, computed independently (Python hashlib).
	if hash != "ae53107a2e47ea20c72ac44821a728bf" {
		t.Errorf("JA3S hash = %s", hash)
	}
	if h, r := JA3S(&dissect.ServerHello{LegacyVersion: dissect.VersionSSL30, CipherSuite: 5}); r != "768,5," || h == "" {
		t.Errorf("JA3S without extensions = %q %q", h, r)
	}
}

func TestNil(t *testing.T) {
	if a, b := JA3(nil); a != "" || b != "" {
		t.Error("JA3(nil)")
	}
	if a, b := JA3S(nil); a != "" || b != "" {
		t.Error("JA3S(nil)")
	}
	if a, b := JA4(nil, 't'); a != "" || b != "" {
		t.Error("JA4(nil)")
	}
	if a, b := JA4S(nil, 't'); a != "" || b != "" {
		t.Error("JA4S(nil)")
	}
	if JA4X(nil) != "" || JA4X([]byte{0x30, 0x03, 0x02, 0x01, 0x00}) != "" {
		t.Error("JA4X of junk")
	}
}

// ---------------------------------------------------------------- JA4

func TestJA4SpecExample(t *testing.T) {
	fp, raw := JA4(chromeHello(), 't')
	const wantFP = "t13d1516h2_8daaf6152771_e5627efa2ab1"
	const wantRaw = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_" +
		"0403,0804,0401,0503,0805,0501,0806,0601"
	if fp != wantFP {
		t.Errorf("JA4 = %s, want %s", fp, wantFP)
	}
	if raw != wantRaw {
		t.Errorf("JA4_r = %s\nwant    %s", raw, wantRaw)
	}
	// Original order: nothing sorted, SNI and ALPN kept.
	_, ro := JA4O(chromeHello(), 't')
	const wantRO = "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_" +
		"001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_" +
		"0403,0804,0401,0503,0805,0501,0806,0601"
	if ro != wantRO {
		t.Errorf("JA4_ro = %s\nwant     %s", ro, wantRO)
	}
	// The transport letter is the caller's.
	if fp, _ := JA4(chromeHello(), 'q'); !strings.HasPrefix(fp, "q13d1516h2_") {
		t.Errorf("QUIC JA4 = %s", fp)
	}
}

func TestJA4Hashes(t *testing.T) {
	// b and c are SHA-256 of the raw lists, first 12 hex digits.
	fp, raw := JA4(chromeHello(), 't')
	parts := strings.SplitN(raw, "_", 3)
	fps := strings.Split(fp, "_")
	for i, p := range parts[1:] {
		sum := sha256.Sum256([]byte(p))
		if want := hex.EncodeToString(sum[:])[:12]; fps[i+1] != want {
			t.Errorf("part %d: %s, want sha256(%q)[:12] = %s", i+1, fps[i+1], p, want)
		}
	}
}

func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		name string
		alpn *dissect.Extension
		want string
	}{
		{"none", nil, "00"},
		{"h2", ptr(alpnExt("h2", "http/1.1")), "h2"},
		{"http/1.1", ptr(alpnExt("http/1.1")), "h1"},
		{"one char", ptr(alpnExt("x")), "xx"},
		{"empty list", ptr(ext(extALPN, []byte{0, 0})), "00"},
		{"empty body", ptr(ext(extALPN, nil)), "00"},
		// JA4.md: 0xab -> "ab", 0xab 0xcd -> "ad", 0x30 0xab -> "3b".
		{"0xab", ptr(alpnExt("\xab")), "ab"},
		{"0xab 0xcd", ptr(alpnExt("\xab\xcd")), "ad"},
		{"0x30 0xab", ptr(alpnExt("0\xab")), "3b"},
		{"non-alnum first", ptr(alpnExt("/ab")), "22"}, // hex 2f6162
		{"non-alnum last", ptr(alpnExt("ab-")), "6d"},  // hex 61622d
		{"first of several", ptr(alpnExt("spdy/3", "h2")), "s3"},
	}
	for _, tt := range tests {
		ch := &dissect.ClientHello{LegacyVersion: dissect.VersionTLS12, CipherSuites: []uint16{0x002f}}
		if tt.alpn != nil {
			ch.Extensions = []dissect.Extension{*tt.alpn}
		}
		fp, _ := JA4(ch, 't')
		if got := fp[8:10]; got != tt.want {
			t.Errorf("%s: ALPN chars %q, want %q (%s)", tt.name, got, tt.want, fp)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestJA4Version(t *testing.T) {
	tests := []struct {
		legacy   dissect.Version
		versions []uint16
		want     string
	}{
		{dissect.VersionTLS12, nil, "12"},
		{dissect.VersionTLS10, nil, "10"},
		{dissect.VersionTLS11, nil, "11"},
		{dissect.VersionSSL30, nil, "s3"},
		{dissect.VersionSSL2, nil, "s2"},
		{0x0305, nil, "00"},
		{dissect.VersionTLS12, []uint16{0x0a0a, 0x0304, 0x0303}, "13"},
		{dissect.VersionTLS12, []uint16{0x0303, 0x0304}, "13"}, // highest, not first
		{dissect.VersionTLS12, []uint16{0x0302, 0x0301}, "11"},
		{dissect.VersionTLS12, []uint16{0x7f17, 0x0303}, "00"}, // the highest value is a draft: no code
		{dissect.VersionTLS12, []uint16{0x7f17}, "00"},
		{dissect.VersionTLS12, []uint16{0xfafa}, "12"}, // only GREASE: as if absent
		{0xfefd, nil, "d2"},
		{0xfeff, nil, "d1"},
		{0xfefd, []uint16{0xfefc}, "d3"},
		{0xfefd, []uint16{0xfefd, 0xfefc}, "d2"}, // numerically highest, as the spec says
	}
	for _, tt := range tests {
		ch := &dissect.ClientHello{LegacyVersion: tt.legacy, CipherSuites: []uint16{1}}
		if tt.versions != nil {
			ch.Extensions = []dissect.Extension{versionsExt(tt.versions...)}
		}
		fp, _ := JA4(ch, 't')
		if got := fp[1:3]; got != tt.want {
			t.Errorf("legacy %#04x versions %04x: %q, want %q", tt.legacy, tt.versions, got, tt.want)
		}
	}
}

func TestJA4Edges(t *testing.T) {
	// No signature algorithms: c has no '_' part.
	ch := &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS12,
		CipherSuites:  []uint16{0xc02f, 0x002f},
		Extensions:    []dissect.Extension{ext(0xff01, []byte{0}), ext(0x0017, nil)},
	}
	fp, raw := JA4(ch, 't')
	if raw != "t12i020200_002f,c02f_0017,ff01" {
		t.Errorf("raw without signature algorithms: %s", raw)
	}
	bSum := sha256.Sum256([]byte("002f,c02f"))
	cSum := sha256.Sum256([]byte("0017,ff01"))
	if want := "t12i020200_" + hex.EncodeToString(bSum[:6]) + "_" + hex.EncodeToString(cSum[:6]); fp != want {
		t.Errorf("JA4 = %s, want %s", fp, want)
	}

	// Only SNI: the extension count says 1, the hash is zeros; the raw
	// form keeps the empty list (as the reference implementations print it).
	ch = &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS10,
		CipherSuites:  []uint16{0x0039, 0x0035},
		Extensions:    []dissect.Extension{sniExt("www.example.com")},
	}
	fp, raw = JA4(ch, 't')
	if !strings.HasPrefix(fp, "t10d020100_") || !strings.HasSuffix(fp, "_000000000000") || raw != "t10d020100_0035,0039_" {
		t.Errorf("only SNI: %s %s", fp, raw)
	}

	// No cipher suites at all (or only GREASE).
	ch = &dissect.ClientHello{LegacyVersion: dissect.VersionTLS12, CipherSuites: []uint16{0x0a0a}}
	fp, raw = JA4(ch, 't')
	if fp != "t12i000000_000000000000_000000000000" || raw != "t12i000000__" {
		t.Errorf("empty hello: %s %s", fp, raw)
	}

	// GREASE in signature algorithms is dropped like everywhere else.
	ch = &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS12,
		CipherSuites:  []uint16{1},
		Extensions:    []dissect.Extension{u16ListExt(extSignatureAlgorithms, 0x0a0a, 0x0403)},
	}
	if _, raw = JA4(ch, 't'); raw != "t12i010100_0001_000d_0403" {
		t.Errorf("GREASE sigalgs: %s", raw)
	}
	// A malformed signature_algorithms body still counts as an extension.
	ch.Extensions = []dissect.Extension{ext(extSignatureAlgorithms, []byte{0, 3, 4})}
	if _, raw = JA4(ch, 't'); raw != "t12i010100_0001_000d" {
		t.Errorf("malformed sigalgs: %s", raw)
	}
}

func TestJA4CountsCapped(t *testing.T) {
	ch := &dissect.ClientHello{LegacyVersion: dissect.VersionTLS12}
	for i := 0; i < 150; i++ {
		ch.CipherSuites = append(ch.CipherSuites, uint16(0x1000+i))
	}
	for i := 0; i < 120; i++ {
		ch.Extensions = append(ch.Extensions, ext(uint16(0x2000+i), nil))
	}
	fp, raw := JA4(ch, 't')
	if !strings.HasPrefix(fp, "t12i9999") {
		t.Errorf("capped counts: %s", fp)
	}
	// The lists themselves are complete.
	if n := strings.Count(strings.Split(raw, "_")[1], ",") + 1; n != 150 {
		t.Errorf("raw lists %d ciphers, want 150", n)
	}
	ch.CipherSuites = ch.CipherSuites[:99]
	ch.Extensions = ch.Extensions[:9]
	if fp, _ := JA4(ch, 't'); !strings.HasPrefix(fp, "t12i9909") {
		t.Errorf("99 and 9: %s", fp)
	}
}

func TestIsGREASE(t *testing.T) {
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if IsGREASE(uint16(v)) {
			n++
			if v&0xff != 0x0a+(v&0xf0) || v>>8 != v&0xff {
				t.Errorf("%#04x taken for GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

// ---------------------------------------------------------------- JA4S

func TestJA4S(t *testing.T) {
	tests := []struct {
		name    string
		sh      *dissect.ServerHello
		fp, raw string
	}{
		{
			"TLS 1.3",
			&dissect.ServerHello{
				LegacyVersion: dissect.VersionTLS12, CipherSuite: 0x1301,
				Extensions: []dissect.Extension{ext(0x0033, make([]byte, 36)), ext(extSupportedVersions, []byte{3, 4})},
			},
			"t130200_1301_234ea6891581", "t130200_1301_0033,002b",
		},
		{
			"TLS 1.2 with ALPN, wire order kept",
			&dissect.ServerHello{
				LegacyVersion: dissect.VersionTLS12, CipherSuite: 0xcca9,
				Extensions: []dissect.Extension{ext(0, nil), ext(0xff01, []byte{0}), pointFormatsExt(0), alpnExt("h2")},
			},
			"t1204h2_cca9_1428ce7b4018", "t1204h2_cca9_0000,ff01,000b,0010",
		},
		{
			"TLS 1.0 no extensions",
			&dissect.ServerHello{LegacyVersion: dissect.VersionTLS10, CipherSuite: 0x0005},
			"t100000_0005_000000000000", "t100000_0005_",
		},
		{
			"non-alphanumeric ALPN",
			&dissect.ServerHello{
				LegacyVersion: dissect.VersionTLS12, CipherSuite: 0xc02f,
				Extensions: []dissect.Extension{alpnExt("\x01x")},
			},
			"t120108_c02f_", "", // 0x01 'x': hex "0178", first and last digit
		},
	}
	for _, tt := range tests {
		fp, raw := JA4S(tt.sh, 't')
		if tt.raw == "" {
			// Only the prefix is asserted.
			if !strings.HasPrefix(fp, tt.fp) {
				t.Errorf("%s: %s", tt.name, fp)
			}
			continue
		}
		if fp != tt.fp || raw != tt.raw {
			t.Errorf("%s: JA4S = %s %s, want %s %s", tt.name, fp, raw, tt.fp, tt.raw)
		}
	}
}

// ---------------------------------------------------------------- JA4X

func TestJA4X(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer := pkix.Name{Country: []string{"US"}, Organization: []string{"DigiCert Inc"},
		OrganizationalUnit: []string{"www.digicert.com"}, CommonName: "Test CA"}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "example.com"},
		Issuer:       issuer,
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"example.com"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent := &x509.Certificate{Subject: issuer, PublicKey: &key.PublicKey}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	// The extension list, as crypto/x509 read it, in certificate order.
	var exts []string
	for _, e := range cert.Extensions {
		b, err := asn1.Marshal(e.Id)
		if err != nil || len(b) < 2 || int(b[1]) != len(b)-2 {
			t.Fatalf("marshal %v: %v", e.Id, err)
		}
		exts = append(exts, hex.EncodeToString(b[2:])) // the content octets
	}
	fp, raw := JA4XRaw(der)
	wantRaw := "550406,55040a,55040b,550403_550403_" + strings.Join(exts, ",")
	if raw != wantRaw {
		t.Errorf("JA4X raw = %s\nwant       %s", raw, wantRaw)
	}
	// C, O, OU, CN hashes to 7d5dbb3783b4 (DigiCert's issuer layout in the
	// JA4X examples).
	if !strings.HasPrefix(fp, "7d5dbb3783b4_") {
		t.Errorf("JA4X = %s, want issuer part 7d5dbb3783b4", fp)
	}
	if JA4X(der) != fp {
		t.Error("JA4X and JA4XRaw differ")
	}
	// Every strict prefix of the DER fails.
	for i := 0; i < len(der); i++ {
		if JA4X(der[:i]) != "" {
			t.Fatalf("prefix %d of %d gave a JA4X", i, len(der))
		}
	}
}

// ---------------------------------------------------------------- fuzz, benchmarks

// FuzzJA4 builds a ClientHello from arbitrary bytes: fingerprints must not
// panic and must keep their shape.
func FuzzJA4(f *testing.F) {
	ch := chromeHello()
	f.Add(encodeHelloForFuzz(ch))
	f.Add([]byte{3, 3, 0, 2, 0x0a, 0x0a, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ch := decodeHelloForFuzz(data)
		fp, raw := JA4(ch, 't')
		if len(fp) != 36 || !strings.HasPrefix(raw, fp[:10]) {
			t.Fatalf("JA4 %q raw %q", fp, raw)
		}
		JA4O(ch, 'd')
		JA3(ch)
		sh := &dissect.ServerHello{LegacyVersion: ch.LegacyVersion, Extensions: ch.Extensions}
		if fp, _ := JA4S(sh, 'q'); len(fp) != 25 {
			t.Fatalf("JA4S %q", fp)
		}
		JA3S(sh)
		JA4X(data)
	})
}

// encodeHelloForFuzz and decodeHelloForFuzz map bytes to a hello: version,
// a uint16-prefixed cipher list, then extensions (type, uint16-prefixed data).
func encodeHelloForFuzz(ch *dissect.ClientHello) []byte {
	var b cryptobyte.Builder
	b.AddUint16(uint16(ch.LegacyVersion))
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range ch.CipherSuites {
			b.AddUint16(c)
		}
	})
	for _, e := range ch.Extensions {
		b.AddUint16(e.Type)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
	}
	return b.BytesOrPanic()
}

func decodeHelloForFuzz(data []byte) *dissect.ClientHello {
	s := cryptobyte.String(data)
	ch := &dissect.ClientHello{}
	var v uint16
	var suites cryptobyte.String
	if !s.ReadUint16(&v) || !s.ReadUint16LengthPrefixed(&suites) {
		return ch
	}
	ch.LegacyVersion = dissect.Version(v)
	for !suites.Empty() {
		var c uint16
		if !suites.ReadUint16(&c) {
			break
		}
		ch.CipherSuites = append(ch.CipherSuites, c)
	}
	for !s.Empty() {
		var typ uint16
		var d cryptobyte.String
		if !s.ReadUint16(&typ) || !s.ReadUint16LengthPrefixed(&d) {
			break
		}
		ch.Extensions = append(ch.Extensions, dissect.Extension{Type: typ, Data: d})
	}
	return ch
}

func BenchmarkJA4(b *testing.B) {
	ch := chromeHello()
	b.ReportAllocs()
	b.SetBytes(int64(len(encodeHelloForFuzz(ch))))
	for b.Loop() {
		JA4(ch, 't')
	}
}

func BenchmarkJA3(b *testing.B) {
	ch := chromeHello()
	b.ReportAllocs()
	b.SetBytes(int64(len(encodeHelloForFuzz(ch))))
	for b.Loop() {
		JA3(ch)
	}
}

func BenchmarkJA4S(b *testing.B) {
	sh := &dissect.ServerHello{
		LegacyVersion: dissect.VersionTLS12, CipherSuite: 0x1301,
		Extensions: []dissect.Extension{ext(0x0033, make([]byte, 36)), ext(extSupportedVersions, []byte{3, 4})},
	}
	b.ReportAllocs()
	b.SetBytes(2 + 2 + 4 + 36 + 4 + 2)
	for b.Loop() {
		JA4S(sh, 't')
	}
}

func TestJA4Allocs(t *testing.T) {
	ch := chromeHello()
	// The two returned strings, the two raw buffers, the decoded
	// signature algorithms and supported versions: a small fixed number,
	// not one per list element.
	if n := testing.AllocsPerRun(100, func() { JA4(ch, 't') }); n > 8 {
		t.Errorf("JA4 allocates %v times per call", n)
	}
}

// A Memo gives the fingerprints the package functions give, the second
// time from its memory, and stays within its size.
func TestMemo(t *testing.T) {
	m := NewMemo(2)
	for _, h := range []*dissect.ClientHello{chromeHello(), chromeHello(), {CipherSuites: []uint16{0x1301}, SupportedVersions: []dissect.Version{dissect.VersionTLS13}}} {
		for range 2 {
			fp, raw := m.JA4(h, 'q')
			wfp, wraw := JA4(h, 'q')
			if fp != wfp || raw != wraw {
				t.Fatalf("memo JA4 %s %s, want %s %s", fp, raw, wfp, wraw)
			}
		}
		if len(m.m) > m.max {
			t.Fatalf("memo holds %d, max %d", len(m.m), m.max)
		}
	}
	var nilMemo *Memo
	if fp, _ := nilMemo.JA4(chromeHello(), 't'); fp == "" {
		t.Error("a nil Memo computes")
	}
}
