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
			s.ch(ch12("a.example")).alert(S, 2, alertHandshakeFailure)
		}, "Cl"},
		{"client alert after server hello (tls13draft16-ff52 baseline)", func(s *script) {
			s.ch(ch13("a.example")).sh(sh13()).alert(C, 2, alertUnknownCA)
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

// TestHistoryLetters checks every letter and the case rule.
func TestHistoryLetters(t *testing.T) {
	tests := []struct {
		e    dissect.Event
		want byte
	}{
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeHelloRequest), Dir: S}, 'h'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeClientHello)}, 'C'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeServerHello), Dir: S}, 's'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeServerHello), Dir: S, ServerHello: &dissect.ServerHello{IsHelloRetryRequest: true}}, 'j'},
		{dissect.Event{Type: dissect.MsgHelloRetryRequest, Dir: S}, 'j'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeHelloVerifyRequest), Dir: S}, 'v'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeNewSessionTicket), Dir: S}, 't'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeEndOfEarlyData)}, 'E'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeEncryptedExtensions), Dir: S}, 'o'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCertificate)}, 'X'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeServerKeyExchange), Dir: S}, 'k'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCertificateRequest), Dir: S}, 'r'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeServerHelloDone), Dir: S}, 'n'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCertificateVerify)}, 'Y'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeClientKeyExchange)}, 'G'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeFinished)}, 'F'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeFinished), Encrypted: true}, 0},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCertificateURL)}, 'W'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCertificateStatus), Dir: S}, 'u'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeSupplementalData)}, 'A'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeKeyUpdate)}, 'P'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeMessageHash)}, 'M'},
		{dissect.Event{Type: dissect.HandshakeMsg(dissect.TypeCompressedCert)}, 'Z'},
		{dissect.Event{Type: dissect.HandshakeMsg(99), Dir: S}, 'z'},
		{dissect.Event{Type: dissect.MsgChangeCipherSpec, Dir: S}, 'i'},
		{dissect.Event{Type: dissect.MsgHeartbeat}, 'B'},
		{dissect.Event{Type: dissect.MsgHeartbeat, Encrypted: true}, 0},
		{dissect.Event{Type: dissect.MsgApplicationData}, 0},
		{dissect.Event{Type: dissect.MsgApplicationData, Encrypted: true}, 0},
		{dissect.Event{Type: dissect.MsgAlert, Dir: S}, 'l'},
		{dissect.Event{Type: dissect.MsgAlert, Encrypted: true}, 0},
		{dissect.Event{Type: dissect.MsgUnknownRecord}, 'Q'},
		{dissect.Event{Type: dissect.MsgSSLv2ClientHello}, 'C'},
		{dissect.Event{Type: dissect.MsgSSLv2ServerHello, Dir: S}, 's'},
		{dissect.Event{Type: dissect.MsgEncryptedHandshake, Encrypted: true}, 0},
	}
	for _, tc := range tests {
		h := appendHistory(nil, &tc.e)
		got := byte(0)
		if len(h) == 1 {
			got = h[0]
		}
		if got != tc.want {
			t.Errorf("%v from %v: letter %q, want %q", tc.e.Type, tc.e.Dir, got, tc.want)
		}
	}
	// The history is bounded.
	var h []byte
	e := dissect.Event{Type: dissect.MsgChangeCipherSpec}
	for range 500 {
		h = appendHistory(h, &e)
	}
	if len(h) != maxHistory {
		t.Errorf("history grew to %d, want the cap %d", len(h), maxHistory)
	}
}

func TestRolesSwapped(t *testing.T) {
	h := newHarness(t, Config{})
	s := h.conn()
	s.c.info.RolesInferred = true
	client, server := s.c.info.Client, s.c.info.Server
	s.anomaly(dissect.Anomaly{Kind: dissect.AnomalyRolesSwapped, Dir: C})
	full12(s, "a.example", []byte{1})
	r := s.close(reassembly.CloseFIN)
	if r.Client.Port != server.Port() || r.Server.Port != client.Port() {
		t.Errorf("endpoints not swapped: client %v server %v", r.Client, r.Server)
	}
	if r.History[0] != '^' {
		t.Errorf("history %q does not start with ^", r.History)
	}
	var fromClient, fromServer uint64
	for _, m := range r.Messages {
		if m.From == "client" {
			fromClient += uint64(m.Bytes + 5*m.Count)
		} else {
			fromServer += uint64(m.Bytes + 5*m.Count)
		}
	}
	if r.ClientBytes != fromClient || r.ServerBytes != fromServer || fromClient == fromServer {
		t.Errorf("bytes not swapped: client %d server %d", r.ClientBytes, r.ServerBytes)
	}
}
