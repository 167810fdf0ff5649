package output

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// fullRecord is a record with every field set, so that every optional
// field of every format appears.
func fullRecord() *flows.Record {
	r := fixtures()[1] // resumed: has ticket lineage
	f := fixtures()[0]
	r.Certificates = f.Certificates
	r.Certificates[1].ParseError = "x509: unsupported critical extension"
	r.ClientCertificates = []flows.Certificate{f.Certificates[0]}
	// Every DN attribute and an EC key, for ECS's x509 fields.
	for _, c := range []*flows.Certificate{&r.Certificates[0], &r.ClientCertificates[0]} {
		c.Subject = "CN=www.example.com,OU=Web,O=Example Inc,L=Springfield,ST=Oregon,C=US"
		c.Issuer = "CN=Example Issuing CA 1,OU=PKI,O=Example Inc,L=Springfield,ST=Oregon,C=US"
		c.Key = "ECDSA P-256"
	}
	r.Alerts = []flows.Alert{{TS: at(4300), From: packet.FromServer, Level: "warning", Description: "close_notify", Code: 0},
		{TS: at(4301), From: packet.FromClient, Code: -1, Encrypted: true, Inferred: true}}
	r.Status = flows.StatusFailed
	r.Failure = &flows.Failure{Reason: flows.ReasonOther, By: "server", Alert: "close_notify", Explanation: "test",
		Confidence: flows.ConfidenceUncertain, Evidence: []string{"server sent warning alert close_notify"}, Hint: "test"}
	r.Curve, r.EarlyData, r.Renegotiations = "x25519", "accepted", 1
	r.RenegotiationAttempts = []flows.Renegotiation{{TS: at(4100), By: "client", Done: true}}
	r.Validation, r.StartTLS = "ok", "smtp"
	r.JA3String, r.JA3S, r.JA3SString = f.JA3String, f.JA3S, f.JA3SString
	r.JA4, r.JA4R, r.JA4S, r.JA4SR, r.JA4X = "t12d0207h2_a", "t12d0207h2_b", "t120400h2_c", "t120400h2_d", f.JA4X
	r.CommunityID = f.CommunityID
	r.Anomalies = []string{"gap"}
	r.AnomalyDetails = []flows.Anomaly{{Kind: "gap", From: "server", TS: at(4400), Bytes: 10, Detail: "x"}}
	r.MissingBytes = 10
	r.SessionTicket.LifetimeExpired, r.SessionTicket.Reused = true, true
	// A record is of one transport; this one carries both transports'
	// objects so that every documented field is checked.
	r.TCP = fixtures()[0].TCP
	r.QUIC = datagramFixtures()[0].QUIC
	r.DTLS = datagramFixtures()[1].DTLS
	return r
}

// flatten lists the leaf paths of a JSON document: objects join with
// ".", arrays of objects add "[]", arrays of scalars are leaves.
func flatten(prefix string, v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
	case []any:
		objs := false
		for _, x := range v {
			if _, ok := x.(map[string]any); ok {
				objs = true
				flatten(prefix+"[]", x, out)
			}
		}
		if !objs {
			out[prefix] = true
		}
	default:
		out[prefix] = true
	}
}

// documentedFields parses the field table that follows the marker
// "<!-- fields: NAME -->" in docs/formats.md: the first cell of each row,
// in backticks.
func documentedFields(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	marker := "<!-- fields: " + name + " -->"
	in, header := false, 0
	var fields []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == marker {
			in = true
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if header > 0 {
				break
			}
			continue
		}
		header++
		if header <= 2 {
			continue // header and separator rows
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		cell = strings.Trim(cell, "`")
		fields = append(fields, cell)
	}
	if len(fields) == 0 {
		t.Fatalf("no field table for %q in docs/formats.md", name)
	}
	return fields
}

func TestDocumentedFields(t *testing.T) {
	r := fullRecord()
	docs := map[string]any{}
	for _, f := range []string{"json", "ecs", "zeek-json"} {
		var m map[string]any
		if err := json.Unmarshal(render(t, f, Options{}, []*flows.Record{r}), &m); err != nil {
			t.Fatal(err)
		}
		docs[f] = m
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			got := map[string]bool{}
			flatten("", doc, got)
			want := documentedFields(t, name)
			for _, f := range want {
				if !got[f] {
					t.Errorf("documented field %q is not in a %s document", f, name)
				}
			}
			var undocumented []string
			for f := range got {
				if !slices.Contains(want, f) {
					undocumented = append(undocumented, f)
				}
			}
			sort.Strings(undocumented)
			for _, f := range undocumented {
				t.Errorf("field %q of a %s document is not documented", f, name)
			}
		})
	}
}

func TestJA3Ciphers(t *testing.T) {
	got := ja3Ciphers("771,4865-49195-52393,0-23,29,0")
	if strings.Join(got, " ") != "TLS_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" {
		t.Errorf("named %v", got)
	}
	for _, bad := range []string{"", "771", "771,", "771,x-1,", "771,70000,0"} {
		if got := ja3Ciphers(bad); got != nil {
			t.Errorf("ja3Ciphers(%q) = %v, want nothing", bad, got)
		}
	}
	long := "771," + strings.Repeat("49195-", 2000) + "49195,0"
	if n := len(ja3Ciphers(long)); n != maxOfferedCiphers {
		t.Errorf("%d ciphers from an overlong list", n)
	}
}

// TestDocumentedExamples keeps the examples of docs/formats.md true: each
// is what the writer prints for a fixture (compared as JSON values, since
// the docs indent them).
func TestDocumentedExamples(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, c := range []struct {
		format, marker string
		fixture        int
	}{
		{"json", "Example (a TLS 1.3 connection, indented here; the writer prints one line):", 2},
		{"ecs", "Example (a failed connection, indented here; the writer prints one line):", 3},
		{"zeek-json", "## `zeek-json`", 3},
	} {
		i := strings.Index(doc, c.marker)
		if i < 0 {
			t.Fatalf("%s: no %q in docs/formats.md", c.format, c.marker)
		}
		start := strings.Index(doc[i:], "```json\n")
		if start < 0 {
			t.Fatalf("%s: no example after %q", c.format, c.marker)
		}
		body := doc[i+start+len("```json\n"):]
		body = body[:strings.Index(body, "```")]
		var want, got any
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%s: example is not JSON: %v", c.format, err)
		}
		out := render(t, c.format, Options{}, []*flows.Record{fixtures()[c.fixture]})
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: the example in docs/formats.md is not what the writer prints now:\n%s", c.format, out)
		}
	}
}
