package dissect

import (
	"crypto/tls"
	"testing"
)

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

// stateOf runs segs through a Conn and returns its final State.
func stateOf(segs []segment, cfg Config) *State {
	c := NewConn(cfg, &logSink{})
	feedConn(c, segs, 0)
	return c.State()
}

// TestStateOfExchanges checks the facts the State keeps for real crypto/tls
// connections: each field is what flows reads to tell the story.
func TestStateOfExchanges(t *testing.T) {
	cache := tls.NewLRUClientSessionCache(4)
	resume13 := func(cc, sc *tls.Config) {
		cc.ClientSessionCache = cache
		sc.SetSessionTicketKeys([][32]byte{{7}})
	}
	cache12 := tls.NewLRUClientSessionCache(4)
	resume12 := func(cc, sc *tls.Config) {
		cc.ClientSessionCache = cache12
		sc.SetSessionTicketKeys([][32]byte{{8}})
	}
	hrr := func(cc, sc *tls.Config) {
		sc.CurvePreferences = []tls.CurveID{tls.CurveP384}
		cc.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP384}
	}
	_ = stateOf(exchange(t, tls.VersionTLS13, resume13), DefaultConfig()) // issues the ticket
	_ = stateOf(exchange(t, tls.VersionTLS12, resume12), DefaultConfig())
	for _, tc := range []struct {
		name       string
		segs       []segment
		history    string
		tls13      bool
		resumption Resumption
		chain      int
		hrr        bool
		msgs       int
		alerts     int
		probable   int
	}{
		{"tls12", exchange(t, tls.VersionTLS12, nil), "CsxknGIi", false, ResumptionNone, 1, false, 13, 1, 0},
		{"tls13", exchange(t, tls.VersionTLS13, nil), "CsiI", true, ResumptionNone, 0, false, 12, 2, 2},
		{"tls13 resumed", exchange(t, tls.VersionTLS13, resume13), "CsiI", true, ResumptionPSK, 0, false, 11, 2, 2},
		{"tls12 resumed", exchange(t, tls.VersionTLS12, resume12), "CstiI", false, ResumptionTicket, 0, false, 10, 1, 0},
		{"tls13 hello retry", exchange(t, tls.VersionTLS13, hrr), "CjiICs", true, ResumptionNone, 0, true, 14, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := stateOf(tc.segs, DefaultConfig())
			if got := string(st.History); got != tc.history {
				t.Errorf("history %q, want %q", got, tc.history)
			}
			if st.ClientHello == nil || st.ServerHello == nil || st.TLS13() != tc.tls13 || st.HelloRetryRequest != tc.hrr {
				t.Fatalf("hellos %v %v tls13 %v hrr %v", st.ClientHello != nil, st.ServerHello != nil, st.TLS13(), st.HelloRetryRequest)
			}
			if !st.Established || !st.Finished[0] || !st.Finished[1] || !st.ChangeCipherSpec[0] || !st.ChangeCipherSpec[1] {
				t.Errorf("established %v finished %v ccs %v", st.Established, st.Finished, st.ChangeCipherSpec)
			}
			if got := st.Resumption(); got != tc.resumption {
				t.Errorf("resumption %v, want %v", got, tc.resumption)
			}
			if len(st.ServerChain) != tc.chain || st.ServerCertificate != (tc.chain > 0) {
				t.Errorf("server chain %d (certificate seen %v), want %d", len(st.ServerChain), st.ServerCertificate, tc.chain)
			}
			if len(st.Messages) != tc.msgs {
				t.Errorf("%d messages, want %d", len(st.Messages), tc.msgs)
			}
			probable := 0
			for _, a := range st.Alerts {
				if a.Probable {
					probable++
				}
			}
			if len(st.Alerts) != tc.alerts || probable != tc.probable {
				t.Errorf("%d alerts (%d probable), want %d (%d)", len(st.Alerts), probable, tc.alerts, tc.probable)
			}
			if st.Fatal != nil || st.Renegotiations != 0 || st.Malformed || st.Heartbleed {
				t.Errorf("fatal %+v renegotiations %d malformed %v heartbleed %v", st.Fatal, st.Renegotiations, st.Malformed, st.Heartbleed)
			}
			if st.Records[0] == 0 || st.Records[1] == 0 || !st.ServerAnswered || st.LastAt[0].IsZero() || st.LastAt[1].IsZero() {
				t.Errorf("records %v answered %v last %v", st.Records, st.ServerAnswered, st.LastAt)
			}
			if !st.ClientKeyExchange { // its Finished says the client has its keys
				t.Errorf("client key exchange %v", st.ClientKeyExchange)
			}
			if st.EarlyData() != EarlyDataNone {
				t.Errorf("early data %v", st.EarlyData())
			}
		})
	}
}
