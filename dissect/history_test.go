package dissect

import (
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

// TestHistoryLetters checks every letter and the case rule.
func TestHistoryLetters(t *testing.T) {
	tests := []struct {
		e    Event
		want byte
	}{
		{Event{Type: HandshakeMsg(TypeHelloRequest), Dir: packet.FromServer}, 'h'},
		{Event{Type: HandshakeMsg(TypeClientHello)}, 'C'},
		{Event{Type: HandshakeMsg(TypeServerHello), Dir: packet.FromServer}, 's'},
		{Event{Type: HandshakeMsg(TypeServerHello), Dir: packet.FromServer, ServerHello: &ServerHello{IsHelloRetryRequest: true}}, 'j'},
		{Event{Type: MsgHelloRetryRequest, Dir: packet.FromServer}, 'j'},
		{Event{Type: HandshakeMsg(TypeHelloVerifyRequest), Dir: packet.FromServer}, 'v'},
		{Event{Type: HandshakeMsg(TypeNewSessionTicket), Dir: packet.FromServer}, 't'},
		{Event{Type: HandshakeMsg(TypeEndOfEarlyData)}, 'E'},
		{Event{Type: HandshakeMsg(TypeEncryptedExtensions), Dir: packet.FromServer}, 'o'},
		{Event{Type: HandshakeMsg(TypeCertificate)}, 'X'},
		{Event{Type: HandshakeMsg(TypeServerKeyExchange), Dir: packet.FromServer}, 'k'},
		{Event{Type: HandshakeMsg(TypeCertificateRequest), Dir: packet.FromServer}, 'r'},
		{Event{Type: HandshakeMsg(TypeServerHelloDone), Dir: packet.FromServer}, 'n'},
		{Event{Type: HandshakeMsg(TypeCertificateVerify)}, 'Y'},
		{Event{Type: HandshakeMsg(TypeClientKeyExchange)}, 'G'},
		{Event{Type: HandshakeMsg(TypeFinished)}, 'F'},
		{Event{Type: HandshakeMsg(TypeFinished), Encrypted: true}, 0},
		{Event{Type: HandshakeMsg(TypeCertificateURL)}, 'W'},
		{Event{Type: HandshakeMsg(TypeCertificateStatus), Dir: packet.FromServer}, 'u'},
		{Event{Type: HandshakeMsg(TypeSupplementalData)}, 'A'},
		{Event{Type: HandshakeMsg(TypeKeyUpdate)}, 'P'},
		{Event{Type: HandshakeMsg(TypeMessageHash)}, 'M'},
		{Event{Type: HandshakeMsg(TypeCompressedCert)}, 'Z'},
		{Event{Type: HandshakeMsg(99), Dir: packet.FromServer}, 'z'},
		{Event{Type: MsgChangeCipherSpec, Dir: packet.FromServer}, 'i'},
		{Event{Type: MsgHeartbeat}, 'B'},
		{Event{Type: MsgHeartbeat, Encrypted: true}, 0},
		{Event{Type: MsgApplicationData}, 0},
		{Event{Type: MsgApplicationData, Encrypted: true}, 0},
		{Event{Type: MsgAlert, Dir: packet.FromServer}, 'l'},
		{Event{Type: MsgAlert, Encrypted: true}, 0},
		{Event{Type: MsgUnknownRecord}, 'Q'},
		{Event{Type: MsgSSLv2ClientHello}, 'C'},
		{Event{Type: MsgSSLv2ServerHello, Dir: packet.FromServer}, 's'},
		{Event{Type: MsgEncryptedHandshake, Encrypted: true}, 0},
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
	e := Event{Type: MsgChangeCipherSpec}
	for range 500 {
		h = appendHistory(h, &e)
	}
	if len(h) != maxHistory {
		t.Errorf("history grew to %d, want the cap %d", len(h), maxHistory)
	}
}
