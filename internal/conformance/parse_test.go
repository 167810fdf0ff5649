package conformance

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseYAML(t *testing.T) {
	src := `requires:
  min-version: 7  # a comment
args:
- -k none
checks:
  - filter:
      count: 2
      match:
        event_type: tls
        tls.subject: "C=XX, O=Example, Inc., CN=a.example"
        tls.notafter: '2027-02-21T05:13:52'
        quoted: 'it''s'
        tls.exts: [65281, 11,35]
        long: first part
          and second part
  - file-compare:
      filename: x.log
`
	got, err := parseYAML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"requires": map[string]any{"min-version": "7"},
		"args":     []any{"-k none"},
		"checks": []any{
			map[string]any{"filter": map[string]any{"count": "2", "match": map[string]any{
				"event_type":   "tls",
				"tls.subject":  "C=XX, O=Example, Inc., CN=a.example",
				"tls.notafter": "2027-02-21T05:13:52",
				"quoted":       "it's",
				"tls.exts":     []any{"65281", "11", "35"},
				"long":         "first part and second part",
			}}},
			map[string]any{"file-compare": map[string]any{"filename": "x.log"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}

	// Snapshots: the last document counts; nested sequences of mappings.
	snap := "---\nsource: x\n---\n- stream: 0\n  tls_certs:\n  - x509:\n    - ja4x: a_b_c\n      issuerCN: X\n    - ja4x: d_e_f\n- stream: 1\n"
	got, err = parseYAML(snap)
	if err != nil {
		t.Fatal(err)
	}
	list := got.([]any)
	if len(list) != 2 || ystr(ypath(list[1], "stream")) != "1" {
		t.Fatalf("snapshot %#v", got)
	}
	chain := ypath(ypath(list[0], "tls_certs").([]any)[0], "x509").([]any)
	if len(chain) != 2 || ystr(ypath(chain[1], "ja4x")) != "d_e_f" || ystr(ypath(chain[0], "issuerCN")) != "X" {
		t.Errorf("chain %#v", chain)
	}

	for _, bad := range []string{"a: |\n  block\n", "a: {b: c}\n", "a: b\n   c: d\n  e: f\n", "a: \"open\n", "a: [1, [2]]\n", "a:\n\t- x\n"} {
		if _, err := parseYAML(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"TLSv12", "TLS 1.2"}, {"TLSv1.2", "TLS 1.2"}, {"TLS 1.2", "TLS 1.2"}, {"TLSv1", "TLS 1.0"},
		{"TLSv10", "TLS 1.0"}, {"SSLv3", "SSL 3.0"}, {"SSL 3.0", "SSL 3.0"}, {"SSLv2", "SSL 2.0"},
		{"TLSv13-draft16", "TLS 1.3 draft 16"}, {"TLS 1.3 draft-22", "TLS 1.3 draft 22"},
		{"TLSv1.3-draft28", "TLS 1.3 draft 28"}, {"TLSv1.3-experiment(0xfb1a)", "TLS 1.3 fizz"},
		{"TLSv1.3 (Fizz)", "TLS 1.3 fizz"}, {"UNDETERMINED", ""}, {"0x002c", "0x002c"}, {"0x7f1c", "TLS 1.3 draft 28"},
		{"DTLSv12", "DTLS 1.2"},
	} {
		if got := normVersion(c.in); got != c.want {
			t.Errorf("normVersion(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ a, b string }{
		{"C=US, ST=California, O=NetScreen Technologies, Inc., CN=x.example, Email=a@b.example",
			`CN=x.example,O=NetScreen Technologies\, Inc.,ST=California,C=US,1.2.840.113549.1.9.1=#160b6140622e6578616d706c65`},
		{"CN=ubuntu", "CN=ubuntu"},
		{"C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS", "CN=SELKS,O=Stamus,L=Paris,ST=IDF,C=FR"},
	} {
		if normDN(c.a) != normDN(c.b) {
			t.Errorf("normDN differs:\n %q -> %q\n %q -> %q", c.a, normDN(c.a), c.b, normDN(c.b))
		}
	}
	if normDN("CN=a, O=b") == normDN("CN=a, O=c") {
		t.Errorf("different names compare equal")
	}
	for _, c := range []struct{ a, b string }{{"00:97:E6:47:09:8E:EA:C9:B4", "97E647098EEAC9B4"}, {"55", "55"}, {"0a0b", "0A0B"}} {
		if normSerial(c.a) != normSerial(c.b) {
			t.Errorf("normSerial(%q)=%q, normSerial(%q)=%q", c.a, normSerial(c.a), c.b, normSerial(c.b))
		}
	}
	if normSerial("0A0B") == normSerial("0A0C") {
		t.Errorf("different serials compare equal")
	}
	for _, c := range []struct {
		ip   string
		port int
		want string
	}{
		{"2001:0db8:0000:0000:0000:0000:0000:0001", 443, "[2001:db8::1]:443"}, {"::ffff:192.0.2.1", 80, "192.0.2.1:80"},
		{"192.0.2.1", 1, "192.0.2.1:1"},
	} {
		if got := endpoint(c.ip, c.port); got != c.want {
			t.Errorf("endpoint(%q) = %q, want %q", c.ip, got, c.want)
		}
	}
	if got := endpointString("2001:db8::1:443"); got != "[2001:db8::1]:443" {
		t.Errorf("tshark v6 endpoint %q", got)
	}
	if got := ndpiDN("C=US, C=US, CN=x, CN=x, SERIALNUMBER=5, O=A, Inc."); got != "C=US, CN=x, O=A, Inc." {
		t.Errorf("ndpiDN %q", got)
	}
}

func TestParseNDPI(t *testing.T) {
	src := "\t1\tTCP [2001:db8::1]:47460 <-> [2001:db8::2]:443 [proto: 91.220/TLS.Cloudflare][Hostname/SNI: a.example][TLSv1.3][Risk: ** x [y] **][JA4: t13d_a_b]\n" +
		"\t2\tUDP 192.0.2.1:53 -> 192.0.2.2:53 [proto: 5/DNS]\n not a flow line\n"
	fl := parseNDPI(src)
	if len(fl) != 2 {
		t.Fatalf("flows %+v", fl)
	}
	f := fl[0]
	if f.a != "[2001:db8::1]:47460" || f.b != "[2001:db8::2]:443" || f.version != "TLSv1.3" ||
		f.fields["Hostname/SNI"] != "a.example" || f.fields["JA4"] != "t13d_a_b" || f.fields["Risk"] != "** x [y] **" || !f.isTLS() {
		t.Errorf("flow %+v", f)
	}
	if fl[1].isTLS() {
		t.Errorf("DNS flow taken for TLS")
	}
}

func TestParseZeekTSV(t *testing.T) {
	blocks, err := parseZeekTSVStrict("#fields\ta\tb\nx\ty\n#close\n#fields\tc\n1\n")
	if err != nil || len(blocks) != 2 || blocks[0].rows[0]["b"] != "y" || blocks[1].rows[0]["c"] != "1" {
		t.Errorf("blocks %+v, %v", blocks, err)
	}
	blocks, err = parseZeekTSVStrict("### btest\nts\tuid\tversion\nX\tC1\tTLSv13\n")
	if err != nil || len(blocks) != 1 || blocks[0].rows[0]["version"] != "TLSv13" {
		t.Errorf("zeek-cut %+v, %v", blocks, err)
	}
	if _, err := parseZeekTSVStrict("C1\tCsxknGIti\n"); err == nil {
		t.Errorf("headerless zeek-cut output accepted")
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add("checks:\n  - filter:\n      count: 1\n      match:\n        tls.sni: \"a\"\n")
	f.Add("---\nsource: x\n---\n- stream: 0\n  tls_certs:\n  - x509:\n    - ja4x: a\n")
	f.Add("a: [1, 2]\nb: 'x''y'\nc:\n- d\n")
	f.Fuzz(func(t *testing.T, s string) {
		v1, err1 := parseYAML(s)
		v2, err2 := parseYAML(s)
		if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(v1, v2) {
			t.Fatalf("not deterministic")
		}
	})
}

func FuzzNormalizers(f *testing.F) {
	f.Add("C=US, O=Example, Inc., CN=a")
	f.Add(`CN=a\,b,1.2.840.113549.1.9.1=#1603616263`)
	f.Add("TLSv1.3-draft28")
	f.Add("\t1\tTCP 1.2.3.4:5 <-> 5.6.7.8:443 [a: b][[c]]")
	f.Fuzz(func(t *testing.T, s string) {
		_ = normDN(s)
		_ = ndpiDN(s)
		_ = normVersion(s)
		_ = normSerial(s)
		_ = endpointString(s)
		_ = parseNDPI(s)
		_ = parseZeekTSV(s)
		if v := normVersion(s); normVersion(v) != v && !strings.HasPrefix(v, "0x") {
			// Canonical versions are fixed points.
			if strings.HasPrefix(v, "TLS ") || strings.HasPrefix(v, "SSL ") {
				t.Errorf("normVersion not idempotent: %q -> %q -> %q", s, v, normVersion(v))
			}
		}
	})
}

func BenchmarkOurTokens(b *testing.B) {
	r := fixRecords()[0]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = ourTokens(&r, true, false)
	}
}

func BenchmarkParseYAML(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(fixSuricata)))
	for i := 0; i < b.N; i++ {
		if _, err := parseYAML(fixSuricata); err != nil {
			b.Fatal(err)
		}
	}
}
