package output

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// parseTSV reads a Zeek TSV log back: header lines by name, rows as
// maps from field to raw value. It fails on any row whose column count
// differs from #fields and #types.
func parseTSV(t *testing.T, src []byte) (hdr map[string]string, rows []map[string]string) {
	t.Helper()
	hdr = map[string]string{}
	var fields, types []string
	for line := range strings.Lines(string(src)) {
		line = strings.TrimSuffix(line, "\n")
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			k, v, _ := strings.Cut(rest, "\t")
			if strings.HasPrefix(rest, "separator ") {
				k, v = "separator", strings.TrimPrefix(rest, "separator ")
			}
			hdr[k] = v
			switch k {
			case "fields":
				fields = strings.Split(v, "\t")
			case "types":
				types = strings.Split(v, "\t")
			}
			continue
		}
		if len(fields) == 0 || len(fields) != len(types) {
			t.Fatalf("row before a complete header: %q", line)
		}
		cols := strings.Split(line, "\t")
		if len(cols) != len(fields) {
			t.Fatalf("%d columns, %d fields: %q", len(cols), len(fields), line)
		}
		row := map[string]string{}
		for i, f := range fields {
			row[f] = cols[i]
			checkZeekType(t, f, types[i], cols[i])
		}
		rows = append(rows, row)
	}
	return hdr, rows
}

// checkZeekType checks a value is written as its column's type says.
func checkZeekType(t *testing.T, field, typ, v string) {
	t.Helper()
	if v == "-" || (v == "(empty)" && (strings.HasPrefix(typ, "vector") || strings.HasPrefix(typ, "set"))) {
		return
	}
	ok := true
	switch typ {
	case "time", "interval":
		_, err := time.ParseDuration(strings.Replace(v, ".", "s", 1) + "us")
		ok = err == nil && len(v) > 7 && v[len(v)-7] == '.'
	case "port", "count":
		ok = strings.Trim(v, "0123456789") == ""
	case "bool":
		ok = v == "T" || v == "F"
	}
	if !ok {
		t.Errorf("%s (%s): %q", field, typ, v)
	}
	for _, c := range []byte(v) {
		if c < 0x20 || c == 0x7f {
			t.Errorf("%s: raw control byte %#x", field, c)
		}
	}
}

func TestZeekTSVHeader(t *testing.T) {
	out := render(t, "zeek", Options{}, fixtures())
	hdr, rows := parseTSV(t, out)
	want := map[string]string{"separator": `\x09`, "set_separator": ",", "empty_field": "(empty)", "unset_field": "-", "path": "ssl",
		"open": "2026-03-14-09-26-53"}
	for k, v := range want {
		if hdr[k] != v {
			t.Errorf("#%s = %q, want %q", k, hdr[k], v)
		}
	}
	if _, err := time.Parse(zeekDateLayout, hdr["close"]); err != nil {
		t.Errorf("#close %q: %v", hdr["close"], err)
	}
	if !bytes.HasSuffix(out, []byte("#close\t"+hdr["close"]+"\n")) {
		t.Errorf("#close is not the last line")
	}
	if len(rows) != len(fixtures()) {
		t.Fatalf("%d rows for %d records", len(rows), len(fixtures()))
	}
	// The hostile fixture: every wire string escaped, nothing raw.
	h := rows[8]
	if got := h["server_name"]; !strings.Contains(got, `\x1b[2J\x07`) || !strings.Contains(got, `\xe2\x80\xae`) || !strings.Contains(got, `\xff`) {
		t.Errorf("hostile server_name %q", got)
	}
	// No record: a header and #close still, unset times.
	empty := render(t, "zeek", Options{}, nil)
	hdr, rows = parseTSV(t, empty)
	if len(rows) != 0 || hdr["open"] != "-" || hdr["close"] != "-" || hdr["fields"] == "" {
		t.Errorf("empty log:\n%s", empty)
	}
}

func TestZeekStringEscapes(t *testing.T) {
	for _, c := range []struct {
		in    string
		inSet bool
		want  string
	}{
		{"plain", false, "plain"},
		{"-", false, `\x2d`},
		{"(empty)", false, `\x28empty)`},
		{"a\tb", false, `a\x09b`},
		{`a\b`, false, `a\\b`},
		{"a,b", false, "a,b"},
		{"a,b", true, `a\x2cb`},
		{"\xff", false, `\xff`},
		{"é", false, "é"},
		{"\u202e", false, `\xe2\x80\xae`},
		{"\u0085", false, `\xc2\x85`},
	} {
		if got := string(appendZeekString(nil, c.in, c.inSet)); got != c.want {
			t.Errorf("escape(%q, %v) = %q, want %q", c.in, c.inSet, got, c.want)
		}
	}
}

func TestZeekValidation(t *testing.T) {
	self := flows.Certificate{SelfSigned: true}
	leaf := flows.Certificate{}
	for _, c := range []struct {
		v     string
		chain []flows.Certificate
		want  string
	}{
		{"", nil, ""},
		{"ok", []flows.Certificate{leaf}, "ok"},
		{"expired", []flows.Certificate{leaf}, "certificate has expired"},
		{"not_yet_valid", []flows.Certificate{leaf}, "certificate is not yet valid"},
		{"unknown_authority", []flows.Certificate{leaf}, "unable to get local issuer certificate"},
		{"unknown_authority", []flows.Certificate{self}, "self signed certificate"},
		{"unknown_authority", []flows.Certificate{leaf, self}, "self signed certificate in certificate chain"},
		{"hostname_mismatch", []flows.Certificate{leaf}, ""},
		{"invalid", []flows.Certificate{leaf}, ""},
	} {
		r := &flows.Record{Validation: c.v, Certificates: c.chain}
		if got := zeekValidation(r); got != c.want {
			t.Errorf("%s with %d certificates: %q, want %q", c.v, len(c.chain), got, c.want)
		}
	}
}

// TestZeekLogsLinks writes the three logs of the fixtures and checks the
// links a Zeek user joins on: conn.log and ssl.log by uid, ssl.log's
// fingerprints to x509.log rows.
func TestZeekLogsLinks(t *testing.T) {
	var ssl, x509, conn bytes.Buffer
	z := NewZeekLogs(&ssl, &x509, &conn)
	recs := append(fixtures(), datagramFixtures()...)
	for _, r := range recs {
		if err := z.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	// A second connection with the same chain adds no x509.log row.
	if err := z.Write(fixtures()[0]); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	hs, sslRows := parseTSV(t, ssl.Bytes())
	hx, x509Rows := parseTSV(t, x509.Bytes())
	hc, connRows := parseTSV(t, conn.Bytes())
	if hs["path"] != "ssl" || hx["path"] != "x509" || hc["path"] != "conn" {
		t.Fatalf("#path %q %q %q", hs["path"], hx["path"], hc["path"])
	}
	if len(connRows) != len(recs)+1 || len(sslRows) != len(recs)+1 {
		t.Fatalf("%d conn.log and %d ssl.log rows for %d records", len(connRows), len(sslRows), len(recs)+1)
	}
	for i := range sslRows {
		if sslRows[i]["uid"] != connRows[i]["uid"] {
			t.Errorf("row %d: ssl uid %s, conn uid %s", i, sslRows[i]["uid"], connRows[i]["uid"])
		}
	}
	byFP := map[string]map[string]string{}
	for _, row := range x509Rows {
		side := "T" // sent by the server
		if row["client_cert"] == "T" {
			side = "F"
		}
		if row["host_cert"] == "T" && row["client_cert"] == "T" {
			t.Errorf("%s: both host and client certificate", row["fingerprint"])
		}
		key := row["fingerprint"] + side
		if byFP[key] != nil {
			t.Errorf("certificate %s logged twice", key)
		}
		byFP[key] = row
	}
	linked := 0
	for _, row := range sslRows {
		for col, host := range map[string]string{"cert_chain_fps": "T", "client_cert_chain_fps": "F"} {
			if v := row[col]; v != "-" && v != "(empty)" {
				for fp := range strings.SplitSeq(v, ",") {
					x := byFP[fp+host]
					if x == nil {
						t.Errorf("%s %s: no x509.log row", col, fp)
						continue
					}
					linked++
				}
			}
		}
	}
	if linked == 0 {
		t.Fatal("no fingerprint linked")
	}
	leaf := byFP[strings.ToLower(fixtures()[0].Certificates[0].SHA256)+"T"]
	if leaf == nil {
		t.Fatal("first fixture's leaf not in x509.log")
	}
	for k, want := range map[string]string{
		"certificate.serial": "0A1B2C3D4E5F", "certificate.key_alg": "rsaEncryption", "certificate.key_type": "rsa",
		"certificate.key_length": "2048", "certificate.sig_alg": "sha256WithRSAEncryption", "san.dns": "www.example.com,example.com",
		"certificate.not_valid_before": "1767225600.000000", "host_cert": "T", "client_cert": "F",
	} {
		if leaf[k] != want {
			t.Errorf("leaf %s = %q, want %q", k, leaf[k], want)
		}
	}
	if c := connRows[0]; c["proto"] != "tcp" || c["service"] != "ssl" || c["ip_proto"] != "6" {
		t.Errorf("conn row %v", c)
	}
	if c := connRows[len(fixtures())]; c["proto"] != "udp" || c["ip_proto"] != "17" {
		t.Errorf("datagram conn row %v", c)
	}
}

func TestConnState(t *testing.T) {
	at := func(s int) flows.Time { return flows.Time{Time: time.Unix(int64(1000+s), 0)} }
	for _, c := range []struct {
		tcp  *flows.TCPEnds
		want string
		hist string
	}{
		{&flows.TCPEnds{}, "OTH", "Dd"},
		{&flows.TCPEnds{SYN: at(0)}, "S0", "SDd"},
		{&flows.TCPEnds{SYN: at(0), RST: at(1), RSTFrom: "server"}, "REJ", "SrDd"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0)}, "S1", "ShDd"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0), ClientFIN: at(9), ServerFIN: at(9)}, "SF", "ShDdFf"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0), ClientFIN: at(9)}, "S2", "ShDdF"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0), ServerFIN: at(9)}, "S3", "ShDdf"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0), RST: at(9), RSTFrom: "client"}, "RSTO", "ShDdR"},
		{&flows.TCPEnds{SYN: at(0), SYNACK: at(0), RST: at(9), RSTFrom: "server"}, "RSTR", "ShDdr"},
	} {
		r := &flows.Record{TCP: c.tcp, ClientBytes: 1, ServerBytes: 1, Messages: []flows.Message{
			{TS: at(2), From: 0}, {TS: at(3), From: 1}}}
		r.Messages[0].From, r.Messages[1].From = fixtures()[0].Messages[0].From, fixtures()[0].Messages[1].From
		if got := connState(r); got != c.want {
			t.Errorf("%+v: conn_state %s, want %s", c.tcp, got, c.want)
		}
		if got := connHistory(r); got != c.hist {
			t.Errorf("%+v: history %s, want %s", c.tcp, got, c.hist)
		}
	}
}

// TestDocumentedTSVExample keeps the -F zeek example of docs/formats.md
// true.
func TestDocumentedTSVExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "Example (`-F zeek`, the fixture of the `zeek-json` example):\n\n")
	if i < 0 {
		t.Fatal("no -F zeek example in docs/formats.md")
	}
	var want strings.Builder
	for line := range strings.Lines(doc[i:]) {
		if rest, ok := strings.CutPrefix(line, "    "); ok {
			want.WriteString(rest)
		} else if want.Len() > 0 {
			break
		}
	}
	got := render(t, "zeek", Options{}, []*flows.Record{fixtures()[3]})
	if want.String() != string(got) {
		t.Errorf("the -F zeek example in docs/formats.md is not what the writer prints:\n%s", got)
	}
}

func TestZeekLogsX509Time(t *testing.T) {
	var ssl, x509, conn bytes.Buffer
	z := NewZeekLogs(&ssl, &x509, &conn)
	if err := z.Write(fixtures()[0]); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	_, rows := parseTSV(t, x509.Bytes())
	want := string(zTime(fixtures()[0].Messages[2].TS.Time)) // its Certificate message
	for _, r := range rows {
		if r["ts"] != want {
			t.Errorf("x509.log ts %s, want %s", r["ts"], want)
		}
	}
}
