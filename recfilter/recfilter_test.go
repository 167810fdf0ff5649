package recfilter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

func failedRecord() *flows.Record {
	ts := flows.Time{Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &flows.Record{
		TS: ts, EndTS: ts, UID: "Cabc", Version: "TLS 1.3", SNI: "api.example.com",
		Client:        flows.Endpoint{IP: "192.0.2.1", Port: 50000},
		Server:        flows.Endpoint{IP: "198.51.100.7", Port: 443},
		ALPNOffered:   []string{"h2", "http/1.1"},
		Alerts:        []flows.Alert{{TS: ts, From: packet.FromServer, Level: "fatal", Description: "bad_certificate", Code: 42}},
		Status:        flows.StatusFailed,
		Failure:       &flows.Failure{Reason: flows.ReasonBadCertificate, By: "server", Alert: "bad_certificate"},
		SessionTicket: flows.SessionTicket{RedeemedAfter: 1.5},
	}
}

func okRecord() *flows.Record {
	return &flows.Record{Version: "TLS 1.2", SNI: "example.org", Status: flows.StatusEstablished, Established: true,
		Server: flows.Endpoint{IP: "203.0.113.9", Port: 8443}}
}

// TestMatch: expressions as a person writes them, on a failed and an
// established record.
func TestMatch(t *testing.T) {
	cases := []struct {
		expr           string
		failed, wellOK bool
	}{
		{`status == "failed" and version == "TLS 1.3"`, true, false},
		{`sni endsWith ".example.com"`, true, false},
		{`sni matches "^api\\."`, true, false},
		{`server.port == 443`, true, false},
		{`server.port in [443, 8443]`, true, true},
		{`server.port > 1000`, false, true},
		{`failure.reason == "bad_certificate"`, true, false},
		{`failure.reason == nil`, false, true},             // no failure: its members are nil
		{`failure.nosuch.deeper.still == nil`, true, true}, // nil all the way down
		{`alerts[3].code == nil`, true, true},              // out of range: nil
		{`certificates[0].subject == "x"`, false, false},
		{`transport == "tcp"`, true, true},
		{`quic.version == nil`, true, true}, // a TCP record has no quic object
		{`transport == "quic"`, false, false},
		{`any(alerts, .description == "bad_certificate")`, true, false},
		{`len(alerts) == 1`, true, false},
		{`alerts[0].code == 42`, true, false},
		{`"h2" in alpn_offered`, true, false},
		{`session_ticket.redeemed_after > 1`, true, false},
		{`established`, false, true},
		{`not established`, true, false},
		{`failure`, true, false}, // not a boolean: present
		{`sni`, true, true},
		{`cipher`, false, false}, // empty string: absent
		{`status != "failed" || sni contains "org"`, false, true},
		{`schema == "tlsdissect.flow/1"`, true, true},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			f, err := Compile(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				name string
				r    *flows.Record
				want bool
			}{{"failed", failedRecord(), c.failed}, {"established", okRecord(), c.wellOK}} {
				got, err := f.Match(v.r)
				if err != nil {
					t.Fatalf("%s: %v", v.name, err)
				}
				if got != v.want {
					t.Errorf("%s record: %v, want %v", v.name, got, v.want)
				}
			}
		})
	}
}

// TestCompileErrors: one line, pointing at the column (from 1).
func TestCompileErrors(t *testing.T) {
	cases := []struct {
		expr   string
		column int
		line   int
	}{
		{`status == `, 10, 1},
		{`status === "failed"`, 10, 1},
		{`sni endsWith`, 12, 1},
		{`(status == "failed"`, 19, 1},
		{`status == "failed" and`, 22, 1},
		{"status ==\n  ==", 3, 2},
		{``, 1, 1},
		{`   `, 1, 1},
		{strings.Repeat("a", MaxSource+1), 1, 1},
	}
	for _, c := range cases {
		t.Run(c.expr[:min(len(c.expr), 30)], func(t *testing.T) {
			_, err := Compile(c.expr)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a *CompileError", err)
			}
			if ce.Column != c.column || ce.Line != c.line {
				t.Errorf("line %d column %d (%v), want line %d column %d", ce.Line, ce.Column, err, c.line, c.column)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || ce.Msg == "" {
				t.Errorf("message %q: want one non-empty line", msg)
			}
		})
	}
}

// TestEvalErrors: an expression that compiles but cannot be evaluated on
// a record is an error for that record, not a panic and not a match.
func TestEvalErrors(t *testing.T) {
	for _, e := range []string{`sni + 1 > 2`, `alerts - 1 > 0`, `upper(server.port) == "X"`} {
		f, err := Compile(e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		ok, err := f.Match(failedRecord())
		if err == nil && ok {
			t.Errorf("%s: matched without error", e)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of several lines: %q", e, err)
		}
	}
}

// TestFields: every key of the JSON contract is a name, numbers whole
// where they are.
func TestFields(t *testing.T) {
	m, _, err := Fields(failedRecord(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "ts", "uid", "client", "server", "status", "failure", "alerts", "session_ticket", "anomalies"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %v", k, m)
		}
	}
	if p := m["server"].(map[string]any)["port"]; p != 443 {
		t.Errorf("server.port = %#v, want int 443", p)
	}
	if f := m["session_ticket"].(map[string]any)["redeemed_after"]; f != 1.5 {
		t.Errorf("redeemed_after = %#v", f)
	}
}

// TestReuse: one Filter over many records gives each its own answer.
func TestReuse(t *testing.T) {
	f, err := Compile(`status == "failed"`)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		r := okRecord()
		want := i%3 == 0
		if want {
			r = failedRecord()
		}
		if got, err := f.Match(r); err != nil || got != want {
			t.Fatalf("record %d: %v %v, want %v", i, got, err, want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := Compile(`status == "failed" and sni endsWith ".example.com"`)
	if err != nil {
		b.Fatal(err)
	}
	r := failedRecord()
	_, buf, _ := Fields(r, nil)
	b.SetBytes(int64(len(buf))) // the record's JSON, decoded per match
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.Match(r); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// TestUnseen: names no record had are reported, fields, members, let
// names and closure fields are not.
func TestUnseen(t *testing.T) {
	for _, c := range []struct {
		expr string
		want string
	}{
		{`stauts == "failed"`, "stauts"},
		{`status == "failed" and sni endsWith "x"`, ""},
		{`failure.nosuch == nil`, ""},
		{`let v = version; v == "TLS 1.3"`, ""},
		{`any(alerts, .nosuch == 1)`, ""},
		{`transport == "quic" or versoin == "x"`, "versoin"},
		{`nosuch == 1 or versoin == "x"`, "nosuch versoin"},
		{`len(alerts) > 0`, ""},
	} {
		f, err := Compile(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		f.Match(failedRecord())
		if got := strings.Join(f.Unseen(), " "); got != c.want {
			t.Errorf("%s: unseen %q, want %q", c.expr, got, c.want)
		}
	}
}
