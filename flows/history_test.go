package flows

import (
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// TestHistoryZeekBaselines rebuilds by hand the message sequences behind
// ssl_history values of Zeek's own test baselines and checks our letters.
func TestHistoryZeekBaselines(t *testing.T) {
	tests := []struct {
		name string
		play func(s *script)
		want string
	}{
		{"tls12 ecdhe (validate-certs baseline)", func(s *script) {
			full12(s, "www.example.com", []byte{1}).app(C, 100).app(S, 200)
		}, "CsxknGIi"},
		{"tls12 with ticket (validate-certs baseline)", func(s *script) {
			s.ch(ch12("a.example")).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeServerHelloDone).
				hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).nst([]byte("ticket-1"), 300).ccs(S).encFin(S)
		}, "CsxknGIti"},
		{"tls12 ocsp stapling (validate-sct baseline)", func(s *script) {
			s.ch(ch12("a.example")).sh(sh12()).cert(S, []byte{1}).hs(S, dissect.TypeCertificateStatus).ske().
				hs(S, dissect.TypeServerHelloDone).hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).
				nst([]byte("t"), 300).ccs(S).encFin(S)
		}, "CsxuknGIti"},
		{"mutual tls (xmpp dialback baseline)", func(s *script) {
			s.ch(ch12("a.example")).sh(sh12()).cert(S, []byte{1}).ske().hs(S, dissect.TypeCertificateRequest).
				hs(S, dissect.TypeServerHelloDone).cert(C, []byte{2}).hs(C, dissect.TypeClientKeyExchange).
				hs(C, dissect.TypeCertificateVerify).ccs(C).encFin(C).ccs(S).encFin(S)
		}, "CsxkrnXGYIi"},
		{"rsa key exchange (rdp baseline)", func(s *script) {
			s.ch(ch12("")).sh(sh12()).cert(S, []byte{1}).hs(S, dissect.TypeServerHelloDone).
				hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
		}, "CsxnGIi"},
		{"tls13 (ftp auth tls baseline)", func(s *script) {
			s.ch(ch13("a.example")).sh(sh13()).ccs(S).app(S, 2000).ccs(C).app(C, 53).app(C, 100).app(S, 300)
		}, "CsiI"},
		{"tls13 hello retry (hrr baseline)", func(s *script) {
			hrr := sh13()
			hrr.IsHelloRetryRequest = true
			s.ch(ch13("a.example")).sh(hrr).ccs(S).ccs(C).ch(ch13("a.example")).sh(sh13()).app(S, 2000).app(C, 53)
		}, "CjiICs"},
		{"handshake failure (tls-1.2-handshake-failure baseline)", func(s *script) {
			s.ch(ch12("a.example")).alert(S, dissect.AlertFatal, dissect.AlertHandshakeFailure)
		}, "Cl"},
		{"client alert after server hello (tls13draft16-ff52 baseline)", func(s *script) {
			s.ch(ch13("a.example")).sh(sh13()).alert(C, dissect.AlertFatal, dissect.AlertUnknownCA)
		}, "CsL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			s := h.conn()
			tc.play(s)
			r := s.close(reassembly.CloseFIN)
			if r.History != tc.want {
				t.Errorf("history = %q, want %q", r.History, tc.want)
			}
		})
	}
}

func TestRolesSwapped(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn()
	cfg := dissect.DefaultConfig()
	cfg.RolesInferred = true
	s.c.dc = dissect.NewConn(cfg, sinkAdapter{s.c})
	client, server := s.c.info.Client, s.c.info.Server
	s.flip = true // reassembly took the server for the client
	full12(s, "a.example", []byte{1})
	r := s.close(reassembly.CloseFIN)
	if r.Client.Port != server.Port() || r.Server.Port != client.Port() {
		t.Errorf("endpoints not swapped: client %v server %v", r.Client, r.Server)
	}
	if r.History[0] != '^' {
		t.Errorf("history %q does not start with ^", r.History)
	}
	// Reassembly's wire direction 1 carried the client's bytes.
	if r.ClientBytes != s.wire[1] || r.ServerBytes != s.wire[0] || s.wire[0] == s.wire[1] {
		t.Errorf("bytes not swapped: client %d server %d, wire %v", r.ClientBytes, r.ServerBytes, s.wire)
	}
}
