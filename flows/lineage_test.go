package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// abbreviated12 plays a TLS 1.2 abbreviated handshake with ch.
func abbreviated12(s *script, ch *dissect.ClientHello, sh *dissect.ServerHello) *script {
	return s.ch(ch).sh(sh).ccs(S).encFin(S).ccs(C).encFin(C).app(C, 100).app(S, 500)
}

func TestTicketLineage(t *testing.T) {
	h := newHarness(t, Config{})
	ticket := []byte("opaque-ticket-issued-by-the-server-0001")

	a := h.conn()
	a.ch(ch12("www.example.com")).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
		hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).nst(ticket, 7200).ccs(S).encFin(S)
	ra := a.close(reassembly.CloseFIN)
	if !ra.SessionTicket.Issued || ra.SessionTicket.LifetimeHint != 7200 || ra.SessionTicket.Length != len(ticket) ||
		ra.SessionTicket.SHA256 != hexSHA256(ticket) || ra.Resumed {
		t.Fatalf("issuing connection: %+v resumed %v", ra.SessionTicket, ra.Resumed)
	}

	// b redeems it 30 minutes later and is issued a new one.
	b := h.connAt(base.Add(30 * time.Minute))
	ch := ch12("www.example.com")
	ch.SessionTicket = ticket
	ch.HasSessionTicketExt = true
	newTicket := []byte("opaque-ticket-issued-by-the-server-0002")
	b.ch(ch).sh(sh12()).nst(newTicket, 7200).ccs(S).encFin(S).ccs(C).encFin(C).app(C, 10).app(S, 10)
	rb := b.close(reassembly.CloseFIN)
	st := rb.SessionTicket
	if rb.Status != StatusResumed || !rb.Resumed || rb.Resumption != "ticket" || rb.ResumedFrom != ra.UID {
		t.Errorf("redeeming connection: status %q resumed %v by %q from %q, want resumed ticket from %q", rb.Status, rb.Resumed, rb.Resumption, rb.ResumedFrom, ra.UID)
	}
	if !st.Offered || st.OfferedSHA256 != hexSHA256(ticket) || st.OfferedLength != len(ticket) || st.IssuedBy != ra.UID {
		t.Errorf("offer: %+v", st)
	}
	if st.RedeemedAfter < 1799 || st.RedeemedAfter > 1801 || st.LifetimeExpired || st.Reused {
		t.Errorf("redeemed after %v expired %v reused %v", st.RedeemedAfter, st.LifetimeExpired, st.Reused)
	}
	if !st.Issued || !st.Renewed {
		t.Errorf("a ticket issued on a resumed connection is a renewal: %+v", st)
	}
	if rb.History != "CstiI" {
		t.Errorf("history %q", rb.History)
	}

	// c presents the first ticket again, three hours after issue, past its
	// lifetime. The server refuses it with a full handshake: no
	// redemption, and a TLS 1.2 ticket presented again is no reuse (RFC
	// 5077 allows it).
	c := h.connAt(base.Add(3 * time.Hour))
	c.ch(ch).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
		hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
	rc := c.close(reassembly.CloseFIN)
	st = rc.SessionTicket
	if st.Reused || st.LifetimeExpired || st.RedeemedAfter != 0 || st.IssuedBy != ra.UID {
		t.Errorf("refused ticket: %+v", st)
	}
	if rc.Resumed || rc.Resumption != "" || rc.ResumedFrom != "" || rc.Status != StatusEstablished {
		t.Errorf("refused ticket: resumed %v %q from %q status %q", rc.Resumed, rc.Resumption, rc.ResumedFrom, rc.Status)
	}
	if hasAnomaly(rc, "ticket_reused") || hasAnomaly(rb, "ticket_reused") {
		t.Errorf("ticket_reused anomaly: c %v b %v", rc.Anomalies, rb.Anomalies)
	}

	// d redeems the first ticket again, accepted (OpenSSL's -reconnect):
	// a redemption, still no reuse.
	d := h.connAt(base.Add(40 * time.Minute))
	rd := abbreviated12(d, ch, sh12()).close(reassembly.CloseFIN)
	if st := rd.SessionTicket; st.Reused || st.RedeemedAfter < 2399 || !rd.Resumed || hasAnomaly(rd, "ticket_reused") {
		t.Errorf("ticket redeemed again: %+v resumed %v anomalies %v", st, rd.Resumed, rd.Anomalies)
	}
}

// A TLS 1.3 PSK identity is meant to be used once (RFC 8446 C.4): the
// second connection presenting it is a reuse.
func TestPSKReuse(t *testing.T) {
	h := newHarness(t, Config{})
	ch := ch13("a.example")
	ch.PSKIdentities = []dissect.PSKIdentity{{Identity: []byte("a-tls13-ticket-identity"), ObfuscatedTicketAge: 7}}
	ch.PSKModes = []uint8{1}
	sh := sh13()
	sh.HasPreSharedKey = true
	var recs []*Record
	for range 2 {
		recs = append(recs, h.conn().ch(ch).sh(sh).app(S, 100).app(C, 53).app(C, 200).app(S, 300).close(reassembly.CloseFIN))
	}
	if recs[0].SessionTicket.Reused || hasAnomaly(recs[0], "ticket_reused") {
		t.Errorf("first presentation: %+v", recs[0].SessionTicket)
	}
	if !recs[1].SessionTicket.Reused || !hasAnomaly(recs[1], "ticket_reused") {
		t.Errorf("second presentation: %+v anomalies %v", recs[1].SessionTicket, recs[1].Anomalies)
	}
}

// The group a HelloRetryRequest asks for is reported.
func TestHelloRetryGroup(t *testing.T) {
	h := newHarness(t, Config{})
	hrr := sh13()
	hrr.IsHelloRetryRequest = true
	hrr.KeyShareGroup = 23
	r := h.conn().ch(ch13("a.example")).sh(hrr).ch(ch13("a.example")).sh(sh13()).app(S, 100).app(C, 53).close(reassembly.CloseFIN)
	if r.HelloRetryGroup != "secp256r1" || r.Curve != "x25519" {
		t.Errorf("hello_retry_group %q curve %q, want secp256r1 and x25519", r.HelloRetryGroup, r.Curve)
	}
	r = h.conn().ch(ch13("a.example")).sh(sh13()).app(S, 100).app(C, 53).close(reassembly.CloseFIN)
	if r.HelloRetryGroup != "" {
		t.Errorf("hello_retry_group %q without a HelloRetryRequest", r.HelloRetryGroup)
	}
}

func hasAnomaly(r *Record, kind string) bool {
	for _, k := range r.Anomalies {
		if k == kind {
			return true
		}
	}
	return false
}

func TestSessionIDResumption(t *testing.T) {
	h := newHarness(t, Config{})
	sid := []byte("0123456789abcdef0123456789abcdef")
	a := h.conn()
	sha := sh12()
	sha.SessionID = sid
	a.ch(ch12("a.example")).sh(sha).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
		hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
	ra := a.close(reassembly.CloseFIN)
	if ra.Resumed {
		t.Fatal("full handshake marked resumed")
	}
	b := h.conn()
	ch := ch12("a.example")
	ch.SessionID = sid
	rb := abbreviated12(b, ch, sha).close(reassembly.CloseFIN)
	if !rb.Resumed || rb.Resumption != "session_id" || rb.ResumedFrom != ra.UID || rb.Status != StatusResumed {
		t.Errorf("resumed %v %q from %q status %q, want session_id from %q", rb.Resumed, rb.Resumption, rb.ResumedFrom, rb.Status, ra.UID)
	}
	if rb.SessionTicket.Offered {
		t.Error("a session ID is not a ticket")
	}
	// A session ID the server does not echo is a new session.
	c := h.conn()
	other := sh12()
	other.SessionID = []byte("another-session-id-from-server!!")
	rc := c.ch(ch).sh(other).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
		hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).close(reassembly.CloseFIN)
	if rc.Resumed {
		t.Error("a refused session ID marked resumed")
	}
}

func TestPSKResumption(t *testing.T) {
	h := newHarness(t, Config{})
	identity := []byte("tls13-psk-identity-0001")
	play := func() *Record {
		ch := ch13("a.example")
		ch.PSKIdentities = []dissect.PSKIdentity{{Identity: identity, ObfuscatedTicketAge: 1234}}
		ch.PSKModes = []uint8{1}
		sh := sh13()
		sh.HasPreSharedKey = true
		return h.conn().ch(ch).sh(sh).app(S, 300).app(C, 53).app(C, 400).app(S, 900).close(reassembly.CloseFIN)
	}
	r1 := play()
	if !r1.Resumed || r1.Resumption != "psk" || r1.Status != StatusResumed || !r1.SessionTicket.Offered ||
		r1.SessionTicket.OfferedSHA256 != hexSHA256(identity) || r1.SessionTicket.Reused {
		t.Errorf("psk: resumed %v %q status %q ticket %+v", r1.Resumed, r1.Resumption, r1.Status, r1.SessionTicket)
	}
	r2 := play()
	if !r2.SessionTicket.Reused || !hasAnomaly(r2, "ticket_reused") {
		t.Errorf("second presentation of a PSK identity not flagged: %+v %v", r2.SessionTicket, r2.Anomalies)
	}
}

func TestEarlyData(t *testing.T) {
	identity := []byte("psk-0rtt")
	ch := func() *dissect.ClientHello {
		c := ch13("a.example")
		c.PSKIdentities = []dissect.PSKIdentity{{Identity: identity}}
		c.EarlyData = true
		return c
	}
	accept := sh13()
	accept.HasPreSharedKey = true
	tests := []struct {
		name string
		play func(s *script) *script
		want string
	}{
		{"accepted: end_of_early_data seen", func(s *script) *script {
			return s.ch(ch()).ccs(C).app(C, 300).sh(accept).ccs(S).app(S, 200).app(C, 21).app(C, 53).app(S, 900)
		}, "accepted"},
		{"rejected: no psk", func(s *script) *script {
			return s.ch(ch()).app(C, 300).sh(sh13()).app(S, 2000).app(C, 53).app(S, 900)
		}, "rejected"},
		{"rejected: hello retry", func(s *script) *script {
			hrr := sh13()
			hrr.IsHelloRetryRequest = true
			return s.ch(ch()).app(C, 300).sh(hrr).ch(ch13("a.example")).sh(accept).app(S, 200).app(C, 53)
		}, "rejected"},
		{"cannot tell", func(s *script) *script {
			return s.ch(ch()).app(C, 300).sh(accept).app(S, 200).app(C, 53).app(S, 900)
		}, "offered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			r := tc.play(h.conn()).close(reassembly.CloseFIN)
			if r.EarlyData != tc.want {
				t.Errorf("early_data %q, want %q", r.EarlyData, tc.want)
			}
			if r.Status != StatusResumed && r.Status != StatusEstablished {
				t.Errorf("status %q", r.Status)
			}
		})
	}
}

func TestRenegotiation(t *testing.T) {
	// done plays the rest of a renegotiation: both sides change cipher
	// spec again.
	done := func(s *script) *script {
		return s.hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
	}
	tests := []struct {
		name     string
		play     func(s *script) *script
		want     int    // renegotiations that happened
		attempts string // by and done, per attempt
	}{
		{"hello request refused", func(s *script) *script {
			return full12(s, "a.example", []byte{1}).app(C, 10).hs(S, dissect.TypeHelloRequest).encAlert(C).app(C, 10)
		}, 0, "server-"},
		{"hello request then client hello", func(s *script) *script {
			return done(full12(s, "a.example", []byte{1}).app(C, 10).hs(S, dissect.TypeHelloRequest).ch(ch12("a.example")).sh(sh12()))
		}, 1, "server+"},
		{"client hello refused", func(s *script) *script {
			return full12(s, "a.example", []byte{1}).app(C, 10).ch(ch12("a.example")).encAlert(S).app(S, 10)
		}, 0, "client-"},
		{"two encrypted client hellos apart", func(s *script) *script {
			s = full12(s, "a.example", []byte{1}).app(C, 10).ch(ch12("a.example")).app(S, 10).ch(ch12("a.example")).sh(sh12())
			return done(s)
		}, 1, "client- client+"},
		{"encrypted handshake after the handshake", func(s *script) *script {
			full12(s, "a.example", []byte{1}).app(C, 10).app(S, 10)
			return s.rec(S, dissect.ContentHandshake, ciphertext(32)).rec(C, dissect.ContentHandshake, ciphertext(300)).
				app(C, 10).rec(C, dissect.ContentHandshake, ciphertext(300))
		}, 0, "server- client-"},
		{"hello retry is no renegotiation", func(s *script) *script {
			hrr := sh13()
			hrr.IsHelloRetryRequest = true
			return s.ch(ch13("a.example")).sh(hrr).ch(ch13("a.example")).sh(sh13()).app(S, 100).app(C, 53)
		}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			r := tc.play(h.conn()).close(reassembly.CloseFIN)
			var got []string
			for _, a := range r.RenegotiationAttempts {
				mark := "-"
				if a.Done {
					mark = "+"
				}
				got = append(got, a.By+mark)
			}
			if r.Renegotiations != tc.want || strings.Join(got, " ") != tc.attempts {
				t.Errorf("renegotiations %d, attempts %q; want %d, %q", r.Renegotiations, strings.Join(got, " "), tc.want, tc.attempts)
			}
			if !r.Established {
				t.Errorf("status %q", r.Status)
			}
		})
	}
}

func TestLineageBounded(t *testing.T) {
	h := newHarness(t, Config{MaxLineage: 8})
	for i := range 100 {
		s := h.conn()
		s.ch(ch12("a.example")).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
			hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).nst([]byte{byte(i), byte(i >> 8), 1, 2, 3}, 60).ccs(S).encFin(S)
		s.close(reassembly.CloseFIN)
	}
	if n := h.tr.lineage.tickets.len(); n != 8 {
		t.Errorf("tickets map holds %d, want the cap 8", n)
	}
	if len(h.tr.lineage.tickets.order)-h.tr.lineage.tickets.head != 8 || len(h.tr.lineage.tickets.order) > 2*8+65 {
		t.Errorf("order slice %d (head %d) not bounded", len(h.tr.lineage.tickets.order), h.tr.lineage.tickets.head)
	}
	// The newest are kept, the oldest forgotten.
	if _, ok := h.tr.lineage.tickets.get(hexSHA256([]byte{99, 0, 1, 2, 3})); !ok {
		t.Error("newest ticket forgotten")
	}
	if _, ok := h.tr.lineage.tickets.get(hexSHA256([]byte{0, 0, 1, 2, 3})); ok {
		t.Error("oldest ticket kept past the cap")
	}
}

// TestResumedButCut: the server accepted the PSK, then the capture ended:
// resumed (the server agreed) but the status is incomplete.
func TestResumedButCut(t *testing.T) {
	h := newHarness(t, Config{})
	ch := ch13("a.example")
	ch.PSKIdentities = []dissect.PSKIdentity{{Identity: []byte("id")}}
	sh := sh13()
	sh.HasPreSharedKey = true
	r := h.conn().ch(ch).sh(sh).ccs(S).close(reassembly.CloseEndOfInput)
	if !r.Resumed || r.Resumption != "psk" || r.Status != StatusIncomplete || r.Established {
		t.Errorf("resumed %v %q status %q established %v", r.Resumed, r.Resumption, r.Status, r.Established)
	}
}

// TestLineageAsksOnlyTheEarlier: a question about earlier connections is
// answered from facts placed before it, even when later facts are already
// known, as they are when connections are built late (sharded).
// b fails with a leaf other than the one a accepted for the same name; a
// closes after b, so b's evidence must not name a's leaf, however late it
// is built. In the opposite order it does.
func TestLineageAsksOnlyTheEarlier(t *testing.T) {
	ca := newPKI(t, "Test Root")
	valid := ca.leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 2, 0), "www.example.com")
	other := newPKI(t, "Corp Root").leaf(t, base.AddDate(0, -1, 0), base.AddDate(0, 1, 0), "www.example.com")
	serverFlight12 := func(s *script, sni string, chain []byte) *script {
		return s.ch(ch12(sni)).sh(sh12()).cert(S, chain, ca.caDER).ske().hs(S, dissect.TypeServerHelloDone)
	}
	accepted := func(h *harness) {
		serverFlight12(h.conn(), "www.example.com", valid).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S).
			close(reassembly.CloseFIN)
	}
	refused := func(h *harness) {
		serverFlight12(h.conn(), "www.example.com", other).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA).close(reassembly.CloseFIN)
	}
	for _, tc := range []struct {
		name         string
		refusedFirst bool
		want         bool // the evidence names the leaf accepted earlier
	}{
		{"the other leaf closes first", true, false},
		{"the accepted leaf closes first", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.late = true
			if tc.refusedFirst {
				refused(h)
				accepted(h)
			} else {
				accepted(h)
				refused(h)
			}
			if len(h.recs) != 0 || h.tr.Pending() != 2 {
				t.Fatalf("deferred: %d built, %d pending; want 0 and 2", len(h.recs), h.tr.Pending())
			}
			h.tr.BuildClosed(2)
			var r *Record
			for _, rec := range h.recs {
				if rec.Status == StatusFailed {
					r = rec
				}
			}
			if r == nil || r.Failure == nil || r.Failure.Reason != ReasonUnknownCA {
				t.Fatalf("the refused connection: %+v, want reason unknown_ca", r)
			}
			got := false
			for _, e := range r.Failure.Evidence {
				got = got || strings.Contains(e, "different certificate was accepted")
			}
			if got != tc.want {
				t.Errorf("evidence %q names the earlier leaf: %v, want %v", r.Failure.Evidence, got, tc.want)
			}
		})
	}
}

// TestRenewedNeedsATicket: a ticket is renewed only when one is issued on
// a connection that resumed by ticket.
func TestRenewedNeedsATicket(t *testing.T) {
	ticket := []byte("opaque-ticket-0001")
	chTicket := ch12("a.example")
	chTicket.SessionTicket, chTicket.HasSessionTicketExt = ticket, true
	chSession := ch12("a.example")
	chSession.SessionID = []byte("0123456789abcdef0123456789abcdef")
	shSession := sh12()
	shSession.SessionID = chSession.SessionID
	for _, tc := range []struct {
		name    string
		play    func(s *script) *script
		renewed bool
	}{
		{"resumed by ticket, a new one issued", func(s *script) *script {
			return s.ch(chTicket).sh(sh12()).nst([]byte("opaque-ticket-0002"), 60).ccs(S).encFin(S).ccs(C).encFin(C)
		}, true},
		{"resumed by ticket, none issued", func(s *script) *script {
			return s.ch(chTicket).sh(sh12()).ccs(S).encFin(S).ccs(C).encFin(C)
		}, false},
		{"resumed by session id, a ticket issued", func(s *script) *script {
			return s.ch(chSession).sh(shSession).nst([]byte("opaque-ticket-0003"), 60).ccs(S).encFin(S).ccs(C).encFin(C)
		}, false},
		{"full handshake, a ticket issued", func(s *script) *script {
			return s.ch(ch12("a.example")).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
				hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).nst([]byte("opaque-ticket-0004"), 60).ccs(S).encFin(S)
		}, false},
	} {
		h := newHarness(t, Config{})
		r := tc.play(h.conn()).close(reassembly.CloseFIN)
		if r.SessionTicket.Renewed != tc.renewed {
			t.Errorf("%s: renewed %v, want %v (resumed %v by %q, issued %v)", tc.name, r.SessionTicket.Renewed, tc.renewed, r.Resumed, r.Resumption, r.SessionTicket.Issued)
		}
	}
}
