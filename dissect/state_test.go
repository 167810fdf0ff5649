package dissect

import "testing"

// TestResumptionRule pins each condition of the resumption rule: a TLS
// 1.2 server resumes by going from its hello to ChangeCipherSpec (or
// Finished) with no Certificate and no ServerKeyExchange, and the ticket
// or the echoed session ID says which.
func TestResumptionRule(t *testing.T) {
	sid := []byte("0123456789abcdef0123456789abcdef")
	ch := func(ticket, session []byte) *ClientHello {
		return &ClientHello{LegacyVersion: VersionTLS12, SessionID: session, SessionTicket: ticket, HasSessionTicketExt: ticket != nil}
	}
	sh := func(session []byte) *ServerHello {
		return &ServerHello{LegacyVersion: VersionTLS12, CipherSuite: 0xc02f, SessionID: session}
	}
	sh13 := func(psk bool) *ServerHello {
		return &ServerHello{LegacyVersion: VersionTLS12, CipherSuite: 0x1301, SupportedVersion: VersionTLS13, HasPreSharedKey: psk}
	}
	serverCCS := [2]bool{false, true}
	for _, tc := range []struct {
		name string
		st   State
		want Resumption
	}{
		{"ticket, abbreviated", State{ClientHello: ch([]byte("t"), nil), ServerHello: sh(nil), ChangeCipherSpec: serverCCS}, ResumptionTicket},
		{"ticket, abbreviated, seen by the server's Finished only", State{ClientHello: ch([]byte("t"), nil), ServerHello: sh(nil), Finished: [2]bool{false, true}}, ResumptionTicket},
		{"session id echoed, abbreviated", State{ClientHello: ch(nil, sid), ServerHello: sh(sid), ChangeCipherSpec: serverCCS}, ResumptionSessionID},
		{"ticket presented, full handshake (certificate)", State{ClientHello: ch([]byte("t"), nil), ServerHello: sh(nil), ServerChain: [][]byte{{1}}, ChangeCipherSpec: serverCCS}, ResumptionNone},
		{"session id echoed, key exchange (anonymous DH)", State{ClientHello: ch(nil, sid), ServerHello: sh(sid), ServerKeyExchange: &ServerKeyExchange{Kind: "dh_anon"}, ChangeCipherSpec: serverCCS}, ResumptionNone},
		{"ticket, the server not yet past its hello", State{ClientHello: ch([]byte("t"), nil), ServerHello: sh(nil)}, ResumptionNone},
		{"a new session id, abbreviated-looking", State{ClientHello: ch(nil, sid), ServerHello: sh([]byte("other")), ChangeCipherSpec: serverCCS}, ResumptionNone},
		{"empty ticket extension", State{ClientHello: ch([]byte{}, nil), ServerHello: sh(nil), ChangeCipherSpec: serverCCS}, ResumptionNone},
		{"tls 1.3 psk accepted", State{ClientHello: ch(nil, sid), ServerHello: sh13(true)}, ResumptionPSK},
		{"tls 1.3 psk refused", State{ClientHello: ch(nil, sid), ServerHello: sh13(false), ChangeCipherSpec: serverCCS}, ResumptionNone},
		{"sslv2 session id hit", State{SSLv2: true, SSLv2SessionIDHit: true}, ResumptionSessionID},
		{"sslv2 miss", State{SSLv2: true}, ResumptionNone},
		{"no server hello", State{ClientHello: ch([]byte("t"), sid)}, ResumptionNone},
	} {
		if got := tc.st.Resumption(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
