package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// FuzzFormats puts arbitrary strings wherever the wire or a producer
// decides a string, and renders every format: no panic, terminal output
// free of control characters, JSON lines valid, HTML free of raw markup
// from the input.
func FuzzFormats(f *testing.F) {
	f.Add(hostileSNI, "h2", "CN=x", "client_hello", "client", "fatal", "handshake_failure", 3, 80)
	f.Add("", "", "", "", "", "", "", 0, 0)
	f.Add("\xff\xfe", "\u202e", "CN=\\,,O=+", "weird_type", "server", "", "\x1b[2J", 1000, 1)
	f.Add("a.b", "<b>", "CN=*.b", "application_data", "nobody", "warning", "close_notify", -5, 500)
	f.Fuzz(func(t *testing.T, sni, alpn, subject, typ, from, level, desc string, count, width int) {
		base := fixtures()
		r := base[0]
		r.SNI, r.ALPN, r.ALPNOffered = sni, alpn, []string{alpn, sni}
		r.Certificates[0].Subject, r.Certificates[0].SAN = subject, []string{sni}
		// A record read back from JSON holds only the contract's words;
		// any other value is still written safely.
		var mt dissect.MsgType
		if mt.UnmarshalText([]byte(typ)) != nil {
			mt = dissect.MsgType(len(typ) * 37)
		}
		dir := packet.Dir(len(from) & 1)
		r.Messages = append(r.Messages, flows.Message{TS: at(float64(count)), From: dir, Type: mt, Count: count, Bytes: count})
		r.Alerts = append(r.Alerts, flows.Alert{From: dir, Level: level, Description: desc, Code: count})
		r.Status = desc
		r.Failure = &flows.Failure{Reason: typ, By: from, Alert: desc, Explanation: subject}
		r.Anomalies = []string{typ}
		r.SessionTicket.IssuedBy = sni
		r.Resumed, r.Resumption = true, level
		recs := append(base[1:], r)
		width = width % 400
		for _, format := range Formats() {
			out := render(t, format, Options{Width: width, Title: desc}, recs)
			switch format {
			case "table", "ladder", "summary":
				checkSafe(t, strings.ReplaceAll(string(out), "\n", " "))
			case "zeek":
				for line := range bytes.Lines(out) {
					line = bytes.TrimSuffix(line, []byte("\n"))
					if len(line) > 0 && line[0] != '#' && bytes.Count(line, []byte("\t")) != len(sslColumns)-1 {
						t.Fatalf("zeek: %d columns in %q", bytes.Count(line, []byte("\t"))+1, line)
					}
					for _, c := range line {
						if c < 0x20 && c != '\t' {
							t.Fatalf("zeek: raw control byte %#x in %q", c, line)
						}
					}
				}
			case "json", "ecs", "zeek-json":
				for line := range bytes.Lines(out) {
					if !json.Valid(line) {
						t.Fatalf("%s: invalid JSON line %q", format, line)
					}
				}
			case "html":
				if bytes.Contains(out, []byte("<b>")) {
					t.Fatalf("html: raw markup from the input")
				}
			}
		}
	})
}
