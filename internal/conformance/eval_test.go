package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// The fixtures below are invented (addresses from documentation ranges,
// made-up hashes): they exercise every reader and comparison without the
// peer captures.

const fixManifest = `[
 {"path": "x/a.pcap", "size": 10, "tls_connections": 3, "tcp_tls": 2, "dtls": 0, "quic": 1}
]`

const fixTshark = `{
 "connections": [
  {"conn": "tcp:0", "transport": "tcp", "client": "192.0.2.1:1000", "server": "192.0.2.2:443",
   "sni": ["a.example"], "negotiated_version": "TLSv1.2", "cipher": "0xc02f",
   "cipher_name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "alpn_selected": "h2",
   "timeline": ["C:HS:ClientHello", "S:HS:ServerHello", "S:HS:Certificate", "S:HS:ServerKeyExchange",
     "S:HS:ServerHelloDone", "C:HS:ClientKeyExchange", "C:CCS", "C:HS:encrypted", "S:HS:NewSessionTicket",
     "S:CCS", "S:HS:encrypted", "C:AppData*3", "S:AppData", "C:Alert(encrypted)"],
   "alerts": [{"dir": "c2s", "frame": 20, "encrypted": true}], "resumed": false},
  {"conn": "tcp:1", "transport": "tcp", "client": "2001:db8::1:5000", "server": "2001:db8::2:443",
   "sni": ["b.example"], "negotiated_version": "TLSv1.3", "cipher": "0x1301", "cipher_name": "TLS_AES_128_GCM_SHA256",
   "alpn_selected": null,
   "timeline": ["C:HS:ClientHello", "S:HS:ServerHello", "S:CCS", "S:AppData*4", "C:CCS", "C:AppData*2", "S:Alert(2,40)"],
   "alerts": [{"dir": "s2c", "frame": 9, "level": 2, "desc": 40, "desc_name": "Handshake Failure"}], "resumed": false},
  {"conn": "quic:0", "transport": "quic", "client": "192.0.2.1:4000", "server": "192.0.2.3:443", "timeline": []}
 ]
}`

const fixZeek = "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\tlast_alert\tnext_protocol\testablished\tssl_history\tcert_chain_fps\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tstring\tstring\tbool\tstring\tvector[string]\n" +
	"XXXXXXXXXX.XXXXXX\tCAAAA\t192.0.2.1\t1000\t192.0.2.2\t443\tTLSv12\tTLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\tx25519\ta.example\tF\t-\th2\tT\tCsxknGIti\taa11\n" +
	"#close XXXX\n"

// A second baseline of the same trace, disagreeing on ssl_history.
const fixZeek2 = "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tssl_history\n" +
	"X\tCBBBB\t192.0.2.1\t1000\t192.0.2.2\t443\tTLSv12\tCsxknGItiD\n"

// An x509.log row for the fixture's server certificate (Zeek escapes the
// backslash of the RFC 4514 comma).
var fixX509 = "#separator \\x09\n#path\tx509\n#fields\tts\tfingerprint\tcertificate.serial\tcertificate.subject\tcertificate.issuer\tcertificate.not_valid_before\tcertificate.not_valid_after\tcertificate.key_type\tcertificate.key_length\tsan.dns\n" +
	"X\t" + fixSHA256 + "\t0A0B\tCN=a.example,O=Example\\\\, Inc.,C=XX\tCN=Example CA,O=Example\t1577836800.000000\t1609459200.000000\trsa\t2048\ta.example\n" +
	"X\t" + strings.Repeat("ab", 32) + "\t01\tCN=other\tCN=other\t1577836800.000000\t1609459200.000000\trsa\t2048\t-\n"

const fixSHA256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

const fixSuricata = `requires:
  min-version: 7

args:
  - -k none

checks:
  - filter:
      count: 1
      match:
        event_type: tls
        tls.sni: a.example
        tls.version: "TLS 1.2"
        tls.serial: "00:0A:0B"
        tls.subject: "C=XX, O=Example, Inc., CN=a.example"
  - filter:
      requires:
        lt-version: 6
      count: 7
      match:
        event_type: tls
        tls.sni: a.example
  - filter:
      count: 2
      match:
        event_type: tls
        src_ip: 2001:0db8:0000:0000:0000:0000:0000:0001
        src_port: 5000
        dest_ip: 2001:0db8:0000:0000:0000:0000:0000:0002
        dest_port: 443
        tls.sni: b.example
  - filter:
      count: 1
      match:
        event_type: alert
        alert.signature_id: 1
`

const fixJA4Python = `[
 {"stream": 0, "src": "192.0.2.1", "dst": "192.0.2.2", "srcport": "1000", "dstport": "443",
  "JA4.1": "t12d0101h2_000000000000_111111111111", "JA4S": "t120100h2_c02f_222222222222",
  "JA4X.1": "aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc"}
]`

const fixJA4Rust = `---
source: ja4/src/lib.rs
expression: output
---
- stream: 0
  transport: tcp
  src: 192.0.2.1
  dst: 192.0.2.2
  src_port: 1000
  dst_port: 443
  ja4: t12d0101h2_000000000000_111111111111
  ja4s: t120100h2_c02f_333333333333
  tls_certs:
  - x509:
    - ja4x: aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc
      issuerCommonName: Example CA
- stream: 1
  transport: quic
  src: 192.0.2.1
  dst: 192.0.2.3
  src_port: 4000
  dst_port: 443
  ja4: q13d0101h3_000000000000_111111111111
`

const fixArkime = `{"sessions3": [
 {"body": {"ipProtocol": 6, "protocol": ["tcp", "tls"],
   "source": {"ip": "192.0.2.1", "port": 1000}, "destination": {"ip": "192.0.2.2", "port": 443},
   "tls": {"version": ["TLSv1.2"], "cipher": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], "ja3": ["SET"],
           "ja3s": ["ffff"], "ja4": ["t12d0101h2_000000000000_111111111111"]},
   "cert": [{"serial": "0a0b", "notBefore": 1577836800000, "notAfter": 1609459200000, "alt": ["a.example"],
            "subjectCN": ["a.example"], "issuerCN": ["example ca"]}]}},
 {"body": {"ipProtocol": 17, "protocol": ["udp", "quic"],
   "source": {"ip": "192.0.2.1", "port": 4000}, "destination": {"ip": "192.0.2.3", "port": 443}}}
]}`

const fixNDPI = `Some header: 1

	1	TCP 192.0.2.1:1000 <-> 192.0.2.2:443 [proto: 91/TLS][IP: 0/Unknown][Encrypted][Hostname/SNI: a.example][(Advertised) ALPNs: h2;http/1.1][(Negotiated) ALPN: h2][TLSv1.2][JA3C: 1234][JA3S: ffff][Issuer: CN=Example CA, O=Example][Subject: CN=a.example, O=Example, Inc., C=XX][Validity: 2020-01-01 00:00:00 - 2021-01-01 00:00:00][Cipher: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256][Risk: ** Known [x] **]
	2	UDP 192.0.2.1:4000 <-> 192.0.2.3:443 [proto: 188/QUIC][Hostname/SNI: c.example][QUIC ver: V-1]
	3	UDP 192.0.2.9:53 <-> 192.0.2.1:999 [proto: 5/DNS][Hostname/SNI: d.example]
`

func ts(s string) flows.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return flows.Time{Time: t}
}

func msg(from, typ string, enc bool, count int) flows.Message {
	return flows.Message{From: dirOf(from), Type: typeOf(typ), Encrypted: enc, Count: count}
}

// dirOf and typeOf read the contract's words, as a JSON reader does.
func dirOf(s string) packet.Dir {
	var d packet.Dir
	if err := d.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return d
}

func typeOf(s string) dissect.MsgType {
	var t dissect.MsgType
	if err := t.UnmarshalText([]byte(s)); err != nil {
		panic(err)
	}
	return t
}

// fixRecords are our records for the fixture: the first agrees with every
// reference, the second differs in SNI and reports the TLS 1.3 flight as
// encrypted handshake records (which the TLS 1.3 rule leaves out).
func fixRecords() []flows.Record {
	r1 := flows.Record{
		TS: ts("2020-06-01T00:00:00Z"), Client: flows.Endpoint{IP: "192.0.2.1", Port: 1000},
		Server: flows.Endpoint{IP: "192.0.2.2", Port: 443}, Version: "TLS 1.2",
		Cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", SNI: "a.example", ALPN: "h2",
		ALPNOffered: []string{"h2", "http/1.1"},
		Messages: []flows.Message{
			msg("client", "client_hello", false, 1), msg("server", "server_hello", false, 1),
			msg("server", "certificate", false, 1), msg("server", "server_key_exchange", false, 1),
			msg("server", "server_hello_done", false, 1), msg("client", "client_key_exchange", false, 1),
			msg("client", "change_cipher_spec", false, 1), msg("client", "finished", true, 1),
			msg("server", "new_session_ticket", false, 1), msg("server", "change_cipher_spec", false, 1),
			msg("server", "finished", true, 1), msg("client", "application_data", true, 3),
			msg("server", "application_data", true, 1), msg("client", "alert", true, 1),
		},
		Alerts: []flows.Alert{{From: packet.FromClient, Encrypted: true, Code: -1}},
		Certificates: []flows.Certificate{{Subject: "CN=a.example,O=Example\\, Inc.,C=XX", Issuer: "CN=Example CA,O=Example",
			Serial: "0A0B", NotBefore: ts("2020-01-01T00:00:00Z"), NotAfter: ts("2021-01-01T00:00:00Z"), SAN: []string{"a.example"},
			SHA256: fixSHA256, Key: "RSA 2048"}},
		JA3: "1234", JA3S: "ffff", JA4: "t12d0101h2_000000000000_111111111111",
		JA4X: []string{"aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc"},
	}
	r2 := flows.Record{
		TS: ts("2020-06-01T00:00:01Z"), Client: flows.Endpoint{IP: "2001:0db8::0001", Port: 5000},
		Server: flows.Endpoint{IP: "2001:db8::2", Port: 443}, Version: "TLS 1.3",
		Cipher: "TLS_AES_128_GCM_SHA256", SNI: "c.example",
		Messages: []flows.Message{
			msg("client", "client_hello", false, 1), msg("server", "server_hello", false, 1),
			msg("server", "change_cipher_spec", false, 1), msg("server", "encrypted_handshake", true, 3),
			msg("client", "change_cipher_spec", false, 1), msg("client", "finished", true, 1),
			msg("server", "alert", false, 1),
		},
		Alerts: []flows.Alert{{From: packet.FromServer, Level: "fatal", Description: "handshake_failure", Code: 40}},
	}
	return []flows.Record{r1, r2}
}

func writeFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"manifest.json":             fixManifest,
		"x/a.pcap":                  "not read",
		"x/a.pcap.tshark-conn.json": fixTshark,
		"x/a.pcap.zeek.base.protocols.ssl.t.ssl.log":  fixZeek,
		"x/a.pcap.zeek.policy.other.ssl-all.log":      fixZeek2,
		"x/a.pcap.zeek.base.protocols.ssl.t.x509.log": fixX509,
		"x/a.pcap.sv.tls__t.test.yaml":                fixSuricata,
		"x/a.pcap.ja4-python.json":                    fixJA4Python,
		"x/a.pcap.ja4-rust.snap":                      fixJA4Rust,
		"x/a.pcap.arkime.test":                        fixArkime,
		"x/a.pcap.ndpi.out":                           fixNDPI,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fixZeekOutput() []map[string]string {
	return decodeZeekOutput([]byte(`{"ts":1.5,"uid":"Cx","id.orig_h":"192.0.2.1","id.orig_p":1000,"id.resp_h":"192.0.2.2","id.resp_p":443,"version":"TLSv12","cipher":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","curve":"x25519","server_name":"a.example","resumed":false,"next_protocol":"h2","established":true,"ssl_history":"CsxknGIti","cert_chain_fps":["AA11"]}
{"ts":2.5,"uid":"Cy","id.orig_h":"2001:db8::1","id.orig_p":5000,"id.resp_h":"2001:db8::2","id.resp_p":443,"version":"TLSv13","resumed":false,"established":false}
`))
}

func TestEvaluateFixture(t *testing.T) {
	dir := writeFixture(t)
	entries, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs := fixRecords()
	runs := map[string]*Run{"x/a.pcap": {Status: "ok", ZeekStatus: "ok", Records: recs, Raw: make([]map[string]any, len(recs)), Zeek: fixZeekOutput()}}
	sc := Evaluate(dir, entries, runs)

	want := map[string]Tally{
		"run.captures":        {1, 1, 0},
		"tshark.connections":  {2, 2, 0},
		"tshark.messages":     {2, 2, 0},
		"tshark.version":      {2, 2, 0},
		"tshark.cipher":       {2, 2, 0},
		"tshark.sni":          {1, 2, 0},
		"tshark.alpn":         {1, 1, 0},
		"tshark.resumed":      {2, 2, 0},
		"tshark.alerts":       {1, 1, 0},
		"zeek.connections":    {1, 1, 0},
		"zeek.version":        {1, 1, 0},
		"zeek.cipher":         {1, 1, 0},
		"zeek.curve":          {1, 1, 0},
		"zeek.server_name":    {1, 1, 0},
		"zeek.resumed":        {1, 1, 0},
		"zeek.established":    {1, 1, 0},
		"zeek.next_protocol":  {1, 1, 0},
		"zeek.ssl_history":    {0, 0, 1},
		"zeek.cert_chain_fps": {1, 1, 0},
		"zeek.x509":           {1, 2, 0},
		"suricata.checks":     {1, 2, 0},
		"ja4.ja4":             {1, 1, 0},
		"ja4.ja4s":            {0, 0, 1},
		"ja4.ja4x":            {1, 1, 0},
		"arkime.connections":  {1, 1, 0},
		"arkime.version":      {1, 1, 0},
		"arkime.cipher":       {1, 1, 0},
		"arkime.ja3s":         {1, 1, 0},
		"arkime.ja4":          {1, 1, 0},
		"arkime.cert":         {1, 1, 0},
		"ndpi.connections":    {1, 1, 0},
		"ndpi.sni":            {1, 1, 0},
		"ndpi.alpn":           {1, 1, 0},
		"ndpi.alpn_offered":   {1, 1, 0},
		"ndpi.version":        {1, 1, 0},
		"ndpi.ja3":            {1, 1, 0},
		"ndpi.ja3s":           {1, 1, 0},
		"ndpi.cipher":         {1, 1, 0},
		"ndpi.issuer":         {1, 1, 0},
		"ndpi.subject":        {1, 1, 0},
		"ndpi.validity":       {1, 1, 0},
	}
	for _, c := range Categories {
		if got := sc.Totals[c.Name]; got != want[c.Name] {
			t.Errorf("%s = %+v, want %+v", c.Name, got, want[c.Name])
		}
	}
	if len(sc.Disagreements) != 3 {
		t.Fatalf("disagreements = %+v, want the SNI, the suricata count and the unknown certificate", sc.Disagreements)
	}
	for _, d := range sc.Disagreements {
		if d.Reason != ReasonUnclassified {
			t.Errorf("%+v: reason %q, want unclassified", d, d.Reason)
		}
	}
	if d := sc.Disagreements[0]; d.Category != "tshark.sni" || d.Ours != "c.example" || d.Reference != "b.example" ||
		d.Conn != "[2001:db8::1]:5000 -> [2001:db8::2]:443" {
		t.Errorf("first disagreement %+v", d)
	}
	oos := map[string]int{}
	for _, o := range sc.OutOfScope {
		oos[o.Source] += o.Count
	}
	// tshark's QUIC connection is compared (quic.*, datagram.go): only
	// the other sources leave it out.
	if oos["tshark"] != 0 || oos["ja4"] != 1 || oos["arkime"] != 1 || oos["ndpi"] != 1 {
		t.Errorf("out of scope %v", oos)
	}
	if len(sc.Unparsed) != 0 {
		t.Errorf("unparsed %v", sc.Unparsed)
	}

	// The report renders, and the same scorecard renders the same.
	sc.Elapsed = 3 * time.Second
	md := sc.Markdown(map[string]int{"tshark.messages": 2})
	for _, s := range []string{"| tshark.messages | 2 | 2 | 100.0 | 0 | 2 |", "| x/a.pcap | [2001:db8::1]:5000 -> [2001:db8::2]:443 | tshark.sni | c.example | b.example | unclassified |",
		RunTimePrefix + " 3.0 s"} {
		if !strings.Contains(md, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	sc.Elapsed = 9 * time.Second
	if md2 := sc.Markdown(map[string]int{"tshark.messages": 2}); !SameReport(md, md2) || md == md2 {
		t.Errorf("reports differing only in run time should compare equal")
	}
	if SameReport(md, strings.Replace(md, "c.example", "e.example", 1)) {
		t.Errorf("a changed report compares equal")
	}
	if b := sc.BelowThresholds(map[string]int{"tshark.messages": 3, "tshark.sni": 1}); len(b) != 1 || !strings.HasPrefix(b[0], "tshark.messages") {
		t.Errorf("BelowThresholds = %v", b)
	}
}

// A message sequence that differs is caught, and the first difference is
// marked.
func TestMessagesDisagree(t *testing.T) {
	dir := writeFixture(t)
	entries, _ := LoadManifest(dir)
	recs := fixRecords()
	// Drop the server's NewSessionTicket.
	m := recs[0].Messages
	recs[0].Messages = append(append([]flows.Message{}, m[:8]...), m[9:]...)
	sc := Evaluate(dir, entries, map[string]*Run{"x/a.pcap": {Status: "ok", Records: recs}})
	if got := sc.Totals["tshark.messages"]; got.Agree != 1 || got.Total != 2 {
		t.Fatalf("tshark.messages = %+v", got)
	}
	var d *Disagreement
	for i := range sc.Disagreements {
		if sc.Disagreements[i].Category == "tshark.messages" {
			d = &sc.Disagreements[i]
		}
	}
	if d == nil || !strings.Contains(d.Ours, "**S:CCS**") || !strings.Contains(d.Reference, "**S:HS:NewSessionTicket**") {
		t.Fatalf("disagreement %+v", d)
	}
	found := false
	for _, p := range sc.Patterns() {
		found = found || p.Pattern == "tshark.messages: ours S:CCS where tshark has S:HS:NewSessionTicket" && p.Count == 1
	}
	if !found {
		t.Errorf("patterns %+v", sc.Patterns())
	}
	// No zeek output at all: every Zeek row is a missing connection.
	if got := sc.Totals["zeek.connections"]; got.Agree != 0 || got.Total != 1 {
		t.Errorf("zeek.connections = %+v", got)
	}
}

func TestClassify(t *testing.T) {
	saved := knownDisagreements
	defer func() { knownDisagreements = saved }()
	knownDisagreements = []knownDisagreement{
		{Capture: "zeek/tls/*.pcap", Category: "tshark.*", Reason: ReasonReferenceWrong, Why: "tshark"},
		{Capture: "ndpi/x.pcap", Conn: ":443", Reason: ReasonOurBug, Why: "ours"},
	}
	for _, c := range []struct{ capture, conn, cat, reason string }{
		{"zeek/tls/a.pcap", "a -> b", "tshark.messages", ReasonReferenceWrong},
		{"zeek/tls/a.pcap", "a -> b", "zeek.version", ReasonUnclassified},
		{"zeek/tls/sub/a.pcap", "", "tshark.sni", ReasonUnclassified},
		{"ndpi/x.pcap", "1.2.3.4:5 -> 1.2.3.5:443", "ndpi.sni", ReasonOurBug},
		{"ndpi/x.pcap", "1.2.3.4:5 -> 1.2.3.5:80", "ndpi.sni", ReasonUnclassified},
	} {
		d := Disagreement{Capture: c.capture, Conn: c.conn, Category: c.cat}
		classify(&d)
		if d.Reason != c.reason {
			t.Errorf("%+v: reason %q, want %q", c, d.Reason, c.reason)
		}
	}
}

// Every committed classification names a known reason and category.
func TestKnownDisagreementsWellFormed(t *testing.T) {
	for _, k := range knownDisagreements {
		switch k.Reason {
		case ReasonOurBug, ReasonReferenceWrong, ReasonByDesign, ReasonOutOfScope:
		default:
			t.Errorf("%+v: reason %q", k, k.Reason)
		}
		if k.Why == "" || k.Capture == "" {
			t.Errorf("%+v: capture and why are required", k)
		}
	}
	for k := range thresholds {
		if catIndex(k) == len(Categories) {
			t.Errorf("threshold for unknown category %q", k)
		}
	}
}
