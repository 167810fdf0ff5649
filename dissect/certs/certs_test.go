package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	notBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// fixture is a small PKI built once per test binary: an RSA root, an ECDSA
// leaf it issued, and a few self-signed certificates.
type fixture struct {
	rootKey  *rsa.PrivateKey
	root     []byte
	rootCert *x509.Certificate
	leaf     []byte // ECDSA P-256, issued by root, with SANs
	wildcard []byte // ECDSA P-384, *.example.net, issued by root
	ed       []byte // Ed25519, self-signed, not a CA
	multi    []byte // multi-valued RDN, special characters, e-mail
}

var (
	fixOnce sync.Once
	fix     fixture
)

func mustCreate(t testing.TB, tmpl, parent *x509.Certificate, pub, priv any) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	return der
}

func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		var err error
		fix.rootKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rootTmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"Test Org"}, CommonName: "Test Root CA"},
			NotBefore:             notBefore,
			NotAfter:              notAfter.AddDate(10, 0, 0),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}
		fix.root = mustCreate(t, rootTmpl, rootTmpl, &fix.rootKey.PublicKey, fix.rootKey)
		fix.rootCert, _ = x509.ParseCertificate(fix.root)

		leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		serial, _ := new(big.Int).SetString("C7D4288B80E01E27", 16)
		u, _ := url.Parse("spiffe://example.com/svc")
		leafTmpl := &x509.Certificate{
			SerialNumber: serial,
			Subject: pkix.Name{Country: []string{"US"}, Organization: []string{"Org"},
				OrganizationalUnit: []string{"Unit"}, CommonName: "leaf.example.com"},
			NotBefore:      notBefore,
			NotAfter:       notAfter,
			DNSNames:       []string{"leaf.example.com", "www.example.com"},
			IPAddresses:    []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("2001:db8::7")},
			EmailAddresses: []string{"ops@example.com"},
			URIs:           []*url.URL{u},
			ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		fix.leaf = mustCreate(t, leafTmpl, fix.rootCert, &leafKey.PublicKey, fix.rootKey)

		wKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		wTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(0x55),
			Subject:      pkix.Name{CommonName: "*.example.net"},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
			DNSNames:     []string{"*.example.net", "example.net"},
		}
		fix.wildcard = mustCreate(t, wTmpl, fix.rootCert, &wKey.PublicKey, fix.rootKey)

		edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		edTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(42),
			Subject:      pkix.Name{CommonName: "ed.example.org"},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
		}
		fix.ed = mustCreate(t, edTmpl, edTmpl, edPub, edPriv)

		// Two attributes in one RDN (DER sorts them: CN before L).
		oidEmail := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
		raw, err := asn1.Marshal(pkix.RDNSequence{
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "DE"}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Comma, Plus+ \"Co\""}},
			{{Type: asn1.ObjectIdentifier{2, 5, 4, 7}, Value: "Berlin"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "multi"}},
			{{Type: oidEmail, Value: "pki@example.de"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		mKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		mTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(3),
			RawSubject:   raw,
			NotBefore:    notBefore,
			NotAfter:     notAfter,
		}
		mParent := &x509.Certificate{RawSubject: raw, PublicKey: &mKey.PublicKey}
		fix.multi = mustCreate(t, mTmpl, mParent, &mKey.PublicKey, mKey)
	})
	if fix.root == nil {
		t.Fatal("fixture failed")
	}
	return &fix
}

func hexSum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func hexSum1(b []byte) string   { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

func TestSummarize(t *testing.T) {
	f := getFixture(t)
	tests := []struct {
		name string
		der  []byte
		want Summary
	}{
		{
			"RSA root", f.root,
			Summary{
				Subject: "CN=Test Root CA,O=Test Org,C=US", Issuer: "CN=Test Root CA,O=Test Org,C=US",
				SubjectInOrder: "C=US, O=Test Org, CN=Test Root CA", SubjectCN: "Test Root CA",
				Serial: "01", Version: 3, Key: "RSA 2048", KeyAlgorithm: "rsaEncryption", KeyBits: 2048,
				SignatureAlgorithm: "SHA256-RSA", SelfSigned: true, IsCA: true,
			},
		},
		{
			"ECDSA leaf", f.leaf,
			Summary{
				Subject: "CN=leaf.example.com,OU=Unit,O=Org,C=US", Issuer: "CN=Test Root CA,O=Test Org,C=US",
				SubjectInOrder: "C=US, O=Org, OU=Unit, CN=leaf.example.com", SubjectCN: "leaf.example.com",
				Serial: "C7D4288B80E01E27", Version: 3, Key: "ECDSA P-256", KeyAlgorithm: "id-ecPublicKey", KeyBits: 256,
				SignatureAlgorithm: "SHA256-RSA",
				SAN:                []string{"leaf.example.com", "www.example.com", "192.0.2.7", "2001:db8::7", "ops@example.com", "spiffe://example.com/svc"},
			},
		},
		{
			"ECDSA P-384 wildcard", f.wildcard,
			Summary{
				Subject: "CN=*.example.net", Issuer: "CN=Test Root CA,O=Test Org,C=US", SubjectInOrder: "CN=*.example.net",
				SubjectCN: "*.example.net", Serial: "55", Version: 3, Key: "ECDSA P-384", KeyAlgorithm: "id-ecPublicKey",
				KeyBits: 384, SignatureAlgorithm: "SHA256-RSA", SAN: []string{"*.example.net", "example.net"},
			},
		},
		{
			"Ed25519 self-signed leaf", f.ed,
			Summary{
				Subject: "CN=ed.example.org", Issuer: "CN=ed.example.org", SubjectInOrder: "CN=ed.example.org",
				SubjectCN: "ed.example.org", Serial: "2A", Version: 3, Key: "Ed25519", KeyAlgorithm: "ED25519",
				KeyBits: 256, SignatureAlgorithm: "Ed25519", SelfSigned: true,
			},
		},
		{
			"multi-valued RDN and escapes", f.multi,
			Summary{
				Subject:        `emailAddress=pki@example.de,CN=multi+L=Berlin,O=Comma\, Plus\+ \"Co\",C=DE`,
				Issuer:         `emailAddress=pki@example.de,CN=multi+L=Berlin,O=Comma\, Plus\+ \"Co\",C=DE`,
				SubjectInOrder: `C=DE, O=Comma, Plus+ "Co", CN=multi + L=Berlin, Email=pki@example.de`,
				SubjectCN:      "multi", Serial: "03", Version: 3, Key: "ECDSA P-256", KeyAlgorithm: "id-ecPublicKey",
				KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256", SelfSigned: true,
			},
		},
	}
	for _, tt := range tests {
		s := Summarize(tt.der)
		w := tt.want
		check := func(field string, got, want any) {
			t.Helper()
			if g, ok := got.([]string); ok {
				if !slices.Equal(g, want.([]string)) {
					t.Errorf("%s: %s = %q, want %q", tt.name, field, g, want)
				}
				return
			}
			if got != want {
				t.Errorf("%s: %s = %v, want %v", tt.name, field, got, want)
			}
		}
		check("ParseError", s.ParseError, "")
		check("Subject", s.Subject, w.Subject)
		check("Issuer", s.Issuer, w.Issuer)
		check("SubjectInOrder", s.SubjectInOrder, w.SubjectInOrder)
		check("SubjectCN", s.SubjectCN, w.SubjectCN)
		check("Serial", s.Serial, w.Serial)
		check("Version", s.Version, w.Version)
		check("Key", s.Key, w.Key)
		check("KeyAlgorithm", s.KeyAlgorithm, w.KeyAlgorithm)
		check("KeyBits", s.KeyBits, w.KeyBits)
		check("SignatureAlgorithm", s.SignatureAlgorithm, w.SignatureAlgorithm)
		check("SelfSigned", s.SelfSigned, w.SelfSigned)
		check("IsCA", s.IsCA, w.IsCA)
		check("SAN", s.SAN, w.SAN)
		check("SHA256", s.SHA256, hexSum256(tt.der))
		check("SHA1", s.SHA1, hexSum1(tt.der))
		check("NotBefore", s.NotBefore, notBefore)
		if tt.der != nil && string(s.DER) != string(tt.der) {
			t.Errorf("%s: DER differs", tt.name)
		}
	}
}

func TestSerialForms(t *testing.T) {
	f := getFixture(t)
	s := Summarize(f.leaf)
	if got := s.SerialColons(); got != "00:C7:D4:28:8B:80:E0:1E:27" {
		t.Errorf("SerialColons = %s", got)
	}
	if got := hex.EncodeToString(s.SerialBytes); got != "00c7d4288b80e01e27" {
		t.Errorf("SerialBytes = %s", got)
	}
	tests := []struct {
		content []byte
		want    string
	}{
		{[]byte{0x00}, "00"},
		{[]byte{0x55}, "55"},
		{[]byte{0x01, 0x00, 0x00, 0x00, 0x01}, "0100000001"},
		{[]byte{0x00, 0x80}, "80"},
		{[]byte{0xff}, "-01"},
		{[]byte{0xff, 0x7f}, "-81"},
		{[]byte{0x80}, "-80"},
	}
	for _, tt := range tests {
		if got := serialHex(tt.content); got != tt.want {
			t.Errorf("serialHex(% x) = %s, want %s", tt.content, got, tt.want)
		}
	}
}

func TestCallerBufferNotKept(t *testing.T) {
	f := getFixture(t)
	buf := slices.Clone(f.leaf)
	s := NewCache(4).Summarize(buf)
	for i := range buf {
		buf[i] = 0
	}
	if string(s.DER) != string(f.leaf) || hex.EncodeToString(s.SerialBytes) != "00c7d4288b80e01e27" {
		t.Error("summary changed with the caller's buffer")
	}
}

func TestValidAt(t *testing.T) {
	s := Summarize(getFixture(t).leaf)
	tests := []struct {
		at   time.Time
		want int
	}{
		{notBefore.Add(-time.Second), -1},
		{notBefore, 0},
		{notBefore.AddDate(0, 6, 0), 0},
		{notAfter, 0},
		{notAfter.Add(time.Second), 1},
	}
	for _, tt := range tests {
		if got := s.ValidAt(tt.at); got != tt.want {
			t.Errorf("ValidAt(%s) = %d, want %d", tt.at, got, tt.want)
		}
	}
	if (&Summary{}).ValidAt(notAfter) != 0 {
		t.Error("unknown bounds should not limit")
	}
}

func TestMatchesHost(t *testing.T) {
	f := getFixture(t)
	leaf, wild := Summarize(f.leaf), Summarize(f.wildcard)
	cnOnly := &Summary{SubjectCN: "cn.example.com"}
	cnAndSAN := &Summary{SubjectCN: "cn.example.com", DNSNames: []string{"san.example.com"}}
	dotCom := &Summary{DNSNames: []string{"*.com", "f*.example.org", "*.*.example.org"}}
	tests := []struct {
		s    *Summary
		host string
		want bool
	}{
		{leaf, "leaf.example.com", true},
		{leaf, "LEAF.Example.COM", true},
		{leaf, "leaf.example.com.", true},
		{leaf, "www.example.com", true},
		{leaf, "example.com", false},
		{leaf, "leaf.example.com.evil", false},
		{leaf, "192.0.2.7", true},
		{leaf, "2001:db8::7", true},
		{leaf, "192.0.2.8", false},
		{leaf, "", false},
		{wild, "a.example.net", true},
		{wild, "example.net", true},
		{wild, "a.b.example.net", false}, // one label only
		{wild, ".example.net", false},
		{wild, "example.net.a", false},
		{cnOnly, "cn.example.com", true},
		{cnOnly, "CN.example.com", true},
		{cnAndSAN, "cn.example.com", false}, // CN ignored when a DNS SAN exists
		{cnAndSAN, "san.example.com", true},
		{dotCom, "example.com", false},
		{dotCom, "foo.example.org", false},
		{dotCom, "a.b.example.org", false},
		{&Summary{SubjectCN: "*.cn.example"}, "a.cn.example", true}, // the CN fallback has wildcards too
		{&Summary{SubjectCN: "*.cn.example"}, "cn.example", false},
	}
	for _, tt := range tests {
		if got := tt.s.MatchesHost(tt.host); got != tt.want {
			t.Errorf("%v MatchesHost(%q) = %v, want %v", tt.s.DNSNames, tt.host, got, tt.want)
		}
	}
}

// ---------------------------------------------------------------- rejected DER

// splitCert returns the TBSCertificate content and the outer algorithm and
// signature elements.
func splitCert(t testing.TB, der []byte) (tbs, sigAlg, sig cryptobyte.String) {
	t.Helper()
	in := cryptobyte.String(der)
	var cert cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&sig, cbasn1.BIT_STRING) {
		t.Fatal("splitCert")
	}
	return
}

func joinCert(tbs func(b *cryptobyte.Builder), sigAlg, sig []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, tbs)
		b.AddBytes(sigAlg)
		b.AddBytes(sig)
	})
	return b.BytesOrPanic()
}

// withSerial re-encodes der with the serial number's content replaced.
func withSerial(t testing.TB, der, serial []byte) []byte {
	tbs, sigAlg, sig := splitCert(t, der)
	var version cryptobyte.String
	if !tbs.ReadASN1Element(&version, cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.SkipASN1(cbasn1.INTEGER) {
		t.Fatal("withSerial")
	}
	return joinCert(func(b *cryptobyte.Builder) {
		b.AddBytes(version)
		b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) { b.AddBytes(serial) })
		b.AddBytes(tbs)
	}, sigAlg, sig)
}

func TestRejectedByX509(t *testing.T) {
	f := getFixture(t)
	_, leafSigAlg, _ := splitCert(t, f.leaf)
	// The outer signature algorithm changed to ECDSA-SHA256: it no longer
	// matches the one inside the TBSCertificate.
	tbs, _, sig := splitCert(t, f.leaf)
	ecdsaSHA256 := []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}
	mismatched := joinCert(func(b *cryptobyte.Builder) { b.AddBytes(tbs) }, ecdsaSHA256, sig)
	if string(ecdsaSHA256) == string(leafSigAlg) {
		t.Fatal("test setup: same algorithm")
	}

	tests := []struct {
		name   string
		der    []byte
		serial string
	}{
		{"negative serial", withSerial(t, f.leaf, []byte{0xff, 0x7f}), "-81"},
		{"non-minimal serial", withSerial(t, f.leaf, []byte{0x00, 0x00, 0x01}), "01"},
		{"mismatched signature algorithm", mismatched, "C7D4288B80E01E27"},
	}
	for _, tt := range tests {
		if _, err := x509.ParseCertificate(tt.der); err == nil {
			t.Fatalf("%s: crypto/x509 accepts it; the test no longer tests the fallback", tt.name)
		}
		s := Summarize(tt.der)
		if s.ParseError == "" {
			t.Errorf("%s: no ParseError", tt.name)
		}
		if s.SHA256 != hexSum256(tt.der) || s.SHA1 != hexSum1(tt.der) {
			t.Errorf("%s: fingerprints missing", tt.name)
		}
		if s.Serial != tt.serial {
			t.Errorf("%s: Serial = %q, want %q", tt.name, s.Serial, tt.serial)
		}
		if s.Subject != "CN=leaf.example.com,OU=Unit,O=Org,C=US" || s.Issuer != "CN=Test Root CA,O=Test Org,C=US" || s.SubjectCN != "leaf.example.com" {
			t.Errorf("%s: names %q / %q", tt.name, s.Subject, s.Issuer)
		}
		if !s.NotBefore.Equal(notBefore) || !s.NotAfter.Equal(notAfter) {
			t.Errorf("%s: validity %s - %s", tt.name, s.NotBefore, s.NotAfter)
		}
		if s.Key != "ECDSA P-256" || s.KeyBits != 256 || s.SignatureAlgorithm != "SHA256-RSA" || s.Version != 3 {
			t.Errorf("%s: key %q %d, signature %q, version %d", tt.name, s.Key, s.KeyBits, s.SignatureAlgorithm, s.Version)
		}
	}
}

func TestGarbage(t *testing.T) {
	f := getFixture(t)
	inputs := [][]byte{nil, {}, {0x30}, {0x30, 0x80, 0x00, 0x00}, []byte("not a certificate")}
	for i := 1; i < len(f.leaf); i += 37 {
		inputs = append(inputs, f.leaf[:i])
	}
	for _, der := range inputs {
		s := Summarize(der)
		if s.ParseError == "" {
			t.Errorf("% x...: no ParseError", der[:min(len(der), 8)])
		}
		if s.SHA256 != hexSum256(der) {
			t.Errorf("SHA256 missing for a %d-byte input", len(der))
		}
	}
}

func TestRSASHA1SelfSigned(t *testing.T) {
	f := getFixture(t)
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(9),
		Subject:            pkix.Name{CommonName: "old root"},
		NotBefore:          notBefore,
		NotAfter:           notAfter,
		SignatureAlgorithm: x509.SHA1WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &f.rootKey.PublicKey, f.rootKey)
	if err != nil {
		t.Skipf("this Go refuses to sign with SHA-1: %v", err)
	}
	s := Summarize(der)
	if !s.SelfSigned || s.SignatureAlgorithm != "SHA1-RSA" {
		t.Errorf("SHA-1 self-signed: SelfSigned %v, %s, %s", s.SelfSigned, s.SignatureAlgorithm, s.ParseError)
	}
	// The same subject and issuer but signed by another key is not self-signed.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := &x509.Certificate{Subject: tmpl.Subject, PublicKey: &other.PublicKey}
	tmpl.SignatureAlgorithm = 0
	der = mustCreate(t, tmpl, parent, &f.rootKey.PublicKey, other)
	if s := Summarize(der); s.SelfSigned {
		t.Error("a certificate signed by another key with the same name counts as self-signed")
	}
	_ = crypto.SHA1
}

// ---------------------------------------------------------------- cache

func TestCache(t *testing.T) {
	f := getFixture(t)
	c := NewCache(2)
	a := c.Summarize(f.leaf)
	b := c.Summarize(slices.Clone(f.leaf))
	if a != b {
		t.Error("the same certificate gave two summaries")
	}
	if hits, parses := c.Stats(); hits != 1 || parses != 1 {
		t.Errorf("hits %d parses %d, want 1 1", hits, parses)
	}
	// FIFO: leaf, root, ed → leaf evicted; root and ed stay.
	root := c.Summarize(f.root)
	c.Summarize(f.ed)
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	if c.Summarize(f.root) != root {
		t.Error("root evicted too early")
	}
	if _, parses := c.Stats(); parses != 3 {
		t.Errorf("parses = %d, want 3", parses)
	}
	if c.Summarize(f.leaf) == a {
		t.Error("leaf not evicted")
	}
	if _, parses := c.Stats(); parses != 4 {
		t.Errorf("parses = %d, want 4", parses)
	}
	// leaf re-entered in place of root, the oldest.
	c.Summarize(f.ed)
	if _, parses := c.Stats(); parses != 4 {
		t.Error("ed evicted out of order")
	}
	if NewCache(0).max != 1 {
		t.Error("NewCache(0) should hold one entry")
	}
}

func TestCacheHitNoAlloc(t *testing.T) {
	f := getFixture(t)
	c := NewCache(8)
	c.Summarize(f.leaf)
	if n := testing.AllocsPerRun(100, func() { c.Summarize(f.leaf) }); n != 0 {
		t.Errorf("cache hit allocates %v times", n)
	}
}

// ---------------------------------------------------------------- fuzz, benchmarks

func FuzzSummarize(f *testing.F) {
	fx := getFixture(f)
	for _, der := range [][]byte{fx.root, fx.leaf, fx.wildcard, fx.ed, fx.multi, withSerial(f, fx.leaf, []byte{0x80})} {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		s := Summarize(der)
		if len(s.SHA256) != 64 || len(s.SHA1) != 40 {
			t.Fatalf("fingerprints %q %q", s.SHA256, s.SHA1)
		}
		_ = s.MatchesHost("a.example.com")
		_ = s.SerialColons()
		_ = s.ValidAt(notBefore)
	})
}

func BenchmarkSummarizeUncached(b *testing.B) {
	der := getFixture(b).leaf
	b.ReportAllocs()
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		Summarize(der)
	}
}

func BenchmarkSummarizeCached(b *testing.B) {
	der := getFixture(b).leaf
	c := NewCache(64)
	c.Summarize(der)
	b.ReportAllocs()
	b.SetBytes(int64(len(der)))
	for b.Loop() {
		c.Summarize(der)
	}
}

func TestOIDString(t *testing.T) {
	tests := []struct{ hex, want string }{
		{"550403", "2.5.4.3"},
		{"2a864886f70d010901", "1.2.840.113549.1.9.1"},
		{"0992268993f22c640119", "0.9.2342.19200300.100.1.25"},
		{"883703", "2.999.3"},
		{"2a86", "#2a86"}, // ends inside a subidentifier
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		if got := oidString(b); got != tt.want {
			t.Errorf("oidString(%s) = %s, want %s", tt.hex, got, tt.want)
		}
	}
	if !strings.HasPrefix(oidString([]byte{0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01}), "#") {
		t.Error("overlong arc not refused")
	}
}

// The cache is bounded in bytes as well as in entries, and safe for the
// workers of a run to share.
func TestCacheBytes(t *testing.T) {
	c := NewCacheBytes(1000, 64<<10)
	ders := make([][]byte, 40)
	for i := range ders {
		ders[i] = make([]byte, 4000) // not certificates: summarised leniently
		ders[i][0], ders[i][1] = byte(i), byte(i>>8)
	}
	done := make(chan bool)
	for w := 0; w < 2; w++ {
		go func() {
			for _, d := range ders {
				c.Summarize(d)
			}
			done <- true
		}()
	}
	<-done
	<-done
	if b := c.Bytes(); b > 64<<10 || c.Len() == 0 || c.Len() >= len(ders) {
		t.Errorf("%d bytes in %d entries, want at most 64 KiB and fewer than %d", b, c.Len(), len(ders))
	}
	if s := c.Summarize(make([]byte, 1<<17)); s == nil || c.Bytes() > 64<<10 {
		t.Errorf("a summary larger than the cache: %v, %d bytes held", s != nil, c.Bytes())
	}
}
