package dissect

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect/keys"
)

// resumedPair records a TLS 1.2 full handshake that is issued a ticket and
// a second connection that resumes it, and returns the segments of both
// and the key log of the first alone: the resumed connection's client
// random is in no log, as when the log was cut or only the first
// connection's client wrote one.
func resumedPair(t *testing.T) (full, resumed []segment, kl *keys.KeyLog) {
	return resumedPairKeys(t, false)
}

// resumedPairKeys is resumedPair; with newKey the second server has
// another ticket key, so that it refuses the ticket and runs a full
// handshake.
func resumedPairKeys(t *testing.T, newKey bool) (full, resumed []segment, kl *keys.KeyLog) {
	t.Helper()
	cache := tls.NewLRUClientSessionCache(4)
	ticketKey := [32]byte{1, 2, 3}
	var log1, log2 bytes.Buffer
	tweak := func(log *bytes.Buffer) func(cc, sc *tls.Config) {
		return func(cc, sc *tls.Config) {
			cc.KeyLogWriter = log
			cc.ClientSessionCache = cache
			sc.SetSessionTicketKeys([][32]byte{ticketKey})
			cc.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
		}
	}
	full = exchange(t, tls.VersionTLS12, tweak(&log1))
	if newKey {
		ticketKey[0] = 9
	}
	resumed = exchange(t, tls.VersionTLS12, tweak(&log2))
	kl, errs := keys.Parse(&log1, "first")
	if len(errs) > 0 || kl.Len() != 1 {
		t.Fatalf("key log: %v (%d secrets)", errs, kl.Len())
	}
	kl.CarrySessions(true)
	var r [32]byte = clientRandom(resumed)
	if _, ok := kl.Lookup(r); ok {
		t.Fatal("the resumed connection's client random is in the first log")
	}
	return full, resumed, kl
}

// resumedWant is what the abbreviated handshake shows once opened.
var resumedWant = []string{
	"C client_hello", "S server_hello", "S new_session_ticket", "S change_cipher_spec", "S finished",
	"C change_cipher_spec", "C finished",
	"S application_data", "C application_data", "C alert",
}

// TestDecryptResumedByTicket: the master secret of the session the ticket
// names is carried from the connection that was issued it to the one that
// redeems it, whose client random the key log lacks.
func TestDecryptResumedByTicket(t *testing.T) {
	full, resumed, kl := resumedPair(t)
	c := NewConn(keyedConfig(kl), &logSink{})
	feedConn(c, full, 0)
	if st := c.State(); st.Keys != KeysFound {
		t.Fatalf("full handshake: keys %v", st.Keys)
	}
	if held, _ := kl.Sessions(); held == 0 {
		t.Fatal("no session remembered from the full handshake")
	}
	for _, chunk := range []int{0, 1, 7} {
		sink := &logSink{}
		c = NewConn(keyedConfig(kl), sink)
		feedConn(c, resumed, chunk)
		got := decryptedLines(sink)
		if strings.Join(got, "\n") != strings.Join(resumedWant, "\n") {
			t.Errorf("chunk %d:\ngot  %q\nwant %q", chunk, got, resumedWant)
		}
		if st := c.State(); st.Keys != KeysFound {
			t.Errorf("chunk %d: keys %v", chunk, st.Keys)
		}
	}

	// Without the first connection nothing is known of the session.
	fresh, _ := keys.Parse(strings.NewReader(""), "empty")
	fresh.Merge(kl)
	c = NewConn(keyedConfig(fresh), &logSink{})
	feedConn(c, resumed, 0)
	if st := c.State(); st.Keys != KeysMissing {
		t.Errorf("resumed alone: keys %v, want missing", st.Keys)
	}
}

// byIDOnly remembers no tickets: what is found is found by session ID.
type byIDOnly struct{ *keys.KeyLog }

func (b byIDOnly) RememberSession(kind keys.SessionKind, id, ms []byte) {
	if kind == keys.SessionByID {
		b.KeyLog.RememberSession(kind, id, ms)
	}
}

// TestDecryptResumedBySessionID: a ServerHello that echoes the session ID
// of the ClientHello resumes the session of that ID (RFC 5246 7.4.1.2).
// crypto/tls resumes by ticket only, and echoes the client's session ID
// when it does (RFC 5077 3.4): with no ticket remembered, the echo alone
// finds the session, here remembered by hand under the client's ID.
func TestDecryptResumedBySessionID(t *testing.T) {
	full, resumed, kl := resumedPair(t)
	lookup := byIDOnly{kl}
	c := NewConn(keyedConfig(lookup), &logSink{})
	feedConn(c, full, 0)
	sink := &logSink{}
	c = NewConn(keyedConfig(lookup), sink)
	feedConn(c, resumed, 0)
	if st := c.State(); st.Keys != KeysMissing {
		t.Fatalf("with no session remembered: keys %v, want missing", st.Keys)
	}
	var sid []byte
	for _, e := range sink.events {
		if e.ClientHello != nil {
			sid = e.ClientHello.SessionID
		}
	}
	if len(sid) == 0 {
		t.Fatal("the resumed ClientHello has no session ID")
	}
	s, _ := kl.Lookup(clientRandom(full))
	kl.RememberSession(keys.SessionByID, sid, s.MasterSecret)
	sink = &logSink{}
	c = NewConn(keyedConfig(lookup), sink)
	feedConn(c, resumed, 0)
	if got := decryptedLines(sink); strings.Join(got, "\n") != strings.Join(resumedWant, "\n") {
		t.Errorf("got  %q\nwant %q", got, resumedWant)
	}
	if st := c.State(); st.Keys != KeysFound {
		t.Errorf("keys %v", st.Keys)
	}
	// A master secret that is not the session's fails, never passes.
	other := keys.NewKeyLog(keys.Limits{})
	other.CarrySessions(true)
	other.RememberSession(keys.SessionByID, sid, bytes.Repeat([]byte{7}, 48))
	other.ParseKeyLogText(nil, "empty")
	c = NewConn(keyedConfig(other), &logSink{})
	feedConn(c, resumed, 0)
	if st := c.State(); st.Keys != KeysFailed {
		t.Errorf("wrong master secret: keys %v, want failed", st.Keys)
	}
}

// withoutSessionID rewrites the ClientHello that opens segs so that it
// presents its ticket with an empty session ID: the server's echo of the
// ID it saw then tells nothing, and only what follows the ServerHello shows
// whether the ticket was accepted. The handshake's keys do not depend on
// the ClientHello's bytes in TLS 1.2, only its random.
func withoutSessionID(t *testing.T, segs []segment) []segment {
	t.Helper()
	out := append([]segment(nil), segs...)
	for i, s := range out {
		if s.dir != 0 {
			continue
		}
		d := s.data
		if len(d) < 44 || d[0] != 22 || d[5] != 1 {
			t.Fatal("the first client segment does not start with a ClientHello")
		}
		n := int(d[43])
		if len(d) < 44+n || n == 0 {
			t.Fatal("the ClientHello has no session ID")
		}
		rec := int(d[3])<<8 | int(d[4]) - n
		hs := int(d[6])<<16 | int(d[7])<<8 | int(d[8]) - n
		b := append([]byte(nil), d[:44]...)
		b = append(b, d[44+n:]...)
		b[3], b[4] = byte(rec>>8), byte(rec)
		b[6], b[7], b[8] = byte(hs>>16), byte(hs>>8), byte(hs)
		b[43] = 0
		out[i].data = b
		return out
	}
	t.Fatal("no client segment")
	return nil
}

// TestDecryptResumedTentative: a ticket presented without a session ID is
// taken as resumed only once the server's ChangeCipherSpec follows its
// ServerHello; a Certificate instead means the server refused it, and the
// keys tried are dropped, not reported as failed.
func TestDecryptResumedTentative(t *testing.T) {
	full, resumed, kl := resumedPair(t)
	c := NewConn(keyedConfig(kl), &logSink{})
	feedConn(c, full, 0)
	sink := &logSink{}
	c = NewConn(keyedConfig(kl), sink)
	feedConn(c, withoutSessionID(t, resumed), 0)
	if got := decryptedLines(sink); strings.Join(got, "\n") != strings.Join(resumedWant, "\n") {
		t.Errorf("accepted:\ngot  %q\nwant %q", got, resumedWant)
	}
	if st := c.State(); st.Keys != KeysFound {
		t.Errorf("accepted: keys %v", st.Keys)
	}

	full, refused, kl := resumedPairKeys(t, true)
	c = NewConn(keyedConfig(kl), &logSink{})
	feedConn(c, full, 0)
	sink = &logSink{}
	c = NewConn(keyedConfig(kl), sink)
	feedConn(c, withoutSessionID(t, refused), 0)
	if st := c.State(); st.Keys != KeysMissing {
		t.Errorf("refused: keys %v, want missing", st.Keys)
	}
	got := strings.Join(decryptedLines(sink), " ")
	if !strings.Contains(got, "S certificate") || !strings.Contains(got, "S finished?") {
		t.Errorf("refused: %s", got)
	}
}
