package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// A TLS 1.3 record of an encrypted alert's size is an HTTP/2 SETTINGS
// acknowledgement as often as an alert: it is taken for one (inferred)
// only before its side's FIN or a reset, or where it ended a handshake.
func TestInferredAlertPosition(t *testing.T) {
	est := func(s *script) *script {
		return s.ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 53).app(S, 400).app(C, 300)
	}
	tests := []struct {
		name   string
		play   func(s *script) *script
		reason reassembly.CloseReason
		want   int // inferred alerts
		from   string
		status string
	}{
		{"last record, no close seen", func(s *script) *script { return est(s).app(C, 31) }, reassembly.CloseEndOfInput, 0, "", StatusEstablished},
		{"last record, idle", func(s *script) *script { return est(s).app(C, 31).app(S, 500) }, reassembly.CloseIdle, 0, "", StatusEstablished},
		{"before the other side's FIN only", func(s *script) *script { return est(s).app(C, 31).app(S, 500).fin(S) }, reassembly.CloseFIN, 0, "", StatusEstablished},
		{"before its FIN", func(s *script) *script { return est(s).app(C, 31).fin(C) }, reassembly.CloseFIN, 1, "client", StatusEstablished},
		{"before a reset", func(s *script) *script { return est(s).app(S, 24).rst(C) }, reassembly.CloseRST, 1, "server", StatusEstablished},
		{"after its FIN", func(s *script) *script { return est(s).fin(C).app(C, 31) }, reassembly.CloseFIN, 0, "", StatusEstablished},
		{"ending the handshake", func(s *script) *script {
			return s.ch(ch13("a.example")).sh(sh13()).app(S, 3000).app(C, 24)
		}, reassembly.CloseEndOfInput, 1, "client", StatusFailed},
	}
	for _, tt := range tests {
		h := newHarness(t, Config{})
		r := tt.play(h.conn()).close(tt.reason)
		n := 0
		for _, a := range r.Alerts {
			if a.Inferred {
				n++
				if a.From.String() != tt.from || !a.Encrypted {
					t.Errorf("%s: alert %+v, want an encrypted one from the %s", tt.name, a, tt.from)
				}
			}
		}
		if n != tt.want || len(r.Alerts) != n || r.Status != tt.status {
			t.Errorf("%s: alerts %+v status %s, want %d inferred, status %s", tt.name, r.Alerts, r.Status, tt.want, tt.status)
		}
	}
}

// TLS that is only a zero-length handshake record after an HTTP CONNECT is
// a TLS connection (tshark and Suricata say so): it gets a Record.
func TestZeroLengthHandshakeRecordIsTLS(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn()
	s.data(C, []byte("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"))
	s.data(S, []byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	s.data(C, tlsRecord(dissect.ContentHandshake, dissect.VersionTLS10, nil))
	r := s.fin(C).close(reassembly.CloseFIN)
	if r == nil || r.Status != StatusIncomplete || r.StartTLS != "http-connect" {
		t.Fatalf("record %+v, want an incomplete TLS connection started from http-connect", r)
	}
	if st := h.tr.Stats(); st.TLS != 1 || st.NotTLS != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A capture that cut the ClientHello short tells no contradictions: what
// it offered is missing, and the explanation says so.
func TestDamagedClientHelloExplanations(t *testing.T) {
	for _, tt := range []struct {
		name string
		desc dissect.AlertDescription
		want string
	}{
		{"protocol_version", dissect.AlertProtocolVersion, "versions the capture does not show"},
		{"internal_error", dissect.AlertInternalError, "after a ClientHello the capture does not show in full"},
	} {
		h := newHarness(t, Config{})
		s := h.conn()
		chRec := tlsRecord(dissect.ContentHandshake, dissect.VersionTLS10, handshakeMsg(dissect.TypeClientHello, encodeClientHello(ch13("a.example"))))
		s.data(C, chRec[:40]).gap(C, len(chRec)-40)
		r := s.alert(S, dissect.AlertFatal, tt.desc).close(reassembly.CloseFIN)
		if r.Failure == nil {
			t.Fatalf("%s: no failure: status %s messages %+v", tt.name, r.Status, r.Messages)
		}
		e := r.Failure.Explanation + " | " + strings.Join(r.Failure.Evidence, "; ")
		for _, bad := range []string{"at most ;", "at most  ", "before any ClientHello", "offered at most )"} {
			if strings.Contains(e, bad) {
				t.Errorf("%s: %q says %q", tt.name, e, bad)
			}
		}
		if !strings.Contains(e, tt.want) {
			t.Errorf("%s: %q, want it to say %q", tt.name, e, tt.want)
		}
		if len(r.Messages) == 0 || r.Messages[0].Type != dissect.HandshakeMsg(dissect.TypeClientHello) {
			t.Errorf("%s: messages %+v, want the client_hello first", tt.name, r.Messages)
		}
	}
}

// A connection's uid comes from what it is (endpoints, first packet time),
// not from where it is in the capture: the same connection behind other
// packets (a BPF filter dropped some) keeps its uid. Two connections alike
// in both get distinct uids, the same in every run.
func TestUIDStable(t *testing.T) {
	at := base.Add(time.Minute)
	a := reassembly.ConnInfo{ID: 1, Client: netipPort(10, 40000), Server: netipPort(20, 443), Start: at}
	b := a
	b.ID = 7 // later in a capture with more packets before it
	t1 := NewTracker(Config{}, func(*Record) {})
	t2 := NewTracker(Config{}, func(*Record) {})
	if u1, u2 := t1.uid(a), t2.uid(b); u1 != u2 || u1 == "" {
		t.Errorf("uids %q and %q for the same connection", u1, u2)
	}
	// The same endpoints and start time again: another uid, the same one
	// in each Tracker, and different again for a third.
	if u1, u2 := t1.uid(a), t2.uid(b); u1 != u2 || u1 == t2.uid(a) || u1 == makeUID(a, 0) {
		t.Errorf("colliding connections: %q and %q", u1, u2)
	}
	c := a
	c.Start = at.Add(time.Nanosecond)
	if makeUID(c, 0) == makeUID(a, 0) {
		t.Error("start time does not change the uid")
	}
	c = a
	c.Client = netipPort(10, 40001)
	if makeUID(c, 0) == makeUID(a, 0) {
		t.Error("client port does not change the uid")
	}
}
