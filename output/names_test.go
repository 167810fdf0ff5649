package output

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

func TestCertMatches(t *testing.T) {
	cases := []struct {
		san     []string
		subject string
		host    string
		want    bool
	}{
		{[]string{"www.example.com"}, "", "www.example.com", true},
		{[]string{"www.example.com"}, "", "WWW.Example.COM.", true},
		{[]string{"*.example.com"}, "", "a.example.com", true},
		{[]string{"*.example.com"}, "", "a.b.example.com", false}, // one label only
		{[]string{"*.example.com"}, "", "example.com", false},
		{[]string{"*.com"}, "", "example.com", false},                               // no wildcard over a public suffix-like single label
		{[]string{"other.example"}, "CN=www.example.com", "www.example.com", false}, // SANs win over CN
		{nil, "CN=www.example.com,O=x", "www.example.com", true},
		{nil, "O=x", "www.example.com", false},
		{[]string{"DNS:a.example"}, "", "a.example", true},
	}
	for _, c := range cases {
		cert := &flows.Certificate{SAN: c.san, Subject: c.subject}
		if got := certMatches(cert, c.host); got != c.want {
			t.Errorf("certMatches(%v, %q, %q) = %v", c.san, c.subject, c.host, got)
		}
	}
}

func TestDN(t *testing.T) {
	cases := []struct {
		dn   string
		want []string
	}{
		{"CN=a,O=b,C=US", []string{"CN=a", "O=b", "C=US"}},
		{`CN=a\,b,O=c`, []string{"CN=a,b", "O=c"}},
		{"CN=a+OU=x,O=b", []string{"CN=a", "OU=x", "O=b"}},
		{`CN=trailing\`, []string{`CN=trailing\`}},
		{"", nil},
	}
	for _, c := range cases {
		if got := splitDN(c.dn); strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("splitDN(%q) = %q, want %q", c.dn, got, c.want)
		}
	}
	if cn := commonNames(`CN=a\,b,CN=c, cn = d`); strings.Join(cn, "|") != "a,b|c| d" {
		t.Errorf("commonNames = %q", cn)
	}
	d := dnOf("CN=x,O=Org,C=DE")
	if d.CommonName[0] != "x" || d.Organization[0] != "Org" || d.Country[0] != "DE" || d.Distinguished != "CN=x,O=Org,C=DE" {
		t.Errorf("dnOf = %+v", d)
	}
}

func TestKeyOf(t *testing.T) {
	cases := []struct {
		key  string
		alg  string
		bits int
	}{
		{"RSA 2048", "RSA", 2048},
		{"ECDSA P-256", "ECDSA", 256},
		{"ECDSA P-521", "ECDSA", 521},
		{"Ed25519", "Ed25519", 256},
		{"RSA 99999999", "RSA", 0},
		{"DSA", "DSA", 0},
		{"", "", 0},
	}
	for _, c := range cases {
		if alg, bits := keyOf(c.key); alg != c.alg || bits != c.bits {
			t.Errorf("keyOf(%q) = %q %d, want %q %d", c.key, alg, bits, c.alg, c.bits)
		}
	}
}

func TestVersionSpellings(t *testing.T) {
	for in, want := range map[string][3]string{
		"TLS 1.3": {"TLSv13", "1.3", "tls"},
		"TLS 1.2": {"TLSv12", "1.2", "tls"},
		"TLS 1.1": {"TLSv11", "1.1", "tls"},
		"TLS 1.0": {"TLSv10", "1.0", "tls"},
		"SSL 3.0": {"SSLv3", "3.0", "ssl"},
		"SSL 2.0": {"SSLv2", "2.0", "ssl"},
		"0x7f1c":  {"0x7f1c", "0x7f1c", ""},
	} {
		v, p := ecsVersionOf(in)
		if got := [3]string{zeekVersion(in), v, p}; got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"X25519": "x25519", "P-256": "secp256r1", "prime256v1": "secp256r1", "secp384r1": "secp384r1", "X25519MLKEM768": "X25519MLKEM768"} {
		if got := zeekCurve(in); got != want {
			t.Errorf("zeekCurve(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortCipher(t *testing.T) {
	for in, want := range map[string][2]string{
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256":         {"ECDHE_RSA", "AES128_GCM_SHA256"},
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": {"ECDHE_ECDSA", "CHACHA20_SHA256"},
		"TLS_AES_256_GCM_SHA384":                        {"", "AES256_GCM_SHA384"},
		"TLS_RSA_WITH_3DES_EDE_CBC_SHA":                 {"RSA", "3DES_CBC_SHA"},
		"0x13ff":                                        {"", "0x13ff"},
	} {
		kx, bulk := shortCipher(in)
		if [2]string{kx, bulk} != want {
			t.Errorf("shortCipher(%q) = %q %q, want %q", in, kx, bulk, want)
		}
	}
}

func TestTextHelpers(t *testing.T) {
	if got := truncate("abcdef", 4); got != "abc…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("äöü", 3); got != "äöü" {
		t.Errorf("truncate counts bytes: %q", got)
	}
	if got := since(-1500 * time.Microsecond); got != "-1.500 ms" {
		t.Errorf("since negative = %q", got)
	}
	if got := since(12 * time.Second); got != "+12.000 s" {
		t.Errorf("since = %q", got)
	}
	if got := wrap("a bb ccc dddddddddddddddd", 10); strings.Join(got, "|") != "a bb ccc|dddddddddd|dddddd" {
		t.Errorf("wrap = %q", got)
	}
	if got := fitLines("protocol_version_mismatch", 20); got != "protocol_version_\nmismatch" {
		t.Errorf("fitLines = %q", got)
	}
	if got := endpoint(flows.Endpoint{IP: "2001:db8::1", Port: 443}); got != "[2001:db8::1]:443" {
		t.Errorf("endpoint = %q", got)
	}
	if got := msgName("some_new_type"); got != "SomeNewType" {
		t.Errorf("msgName fallback = %q", got)
	}
	if got := msgAbbrev("x\x1b"); got != `?x\x1b` {
		t.Errorf("msgAbbrev of an unknown type = %q", got)
	}
}
