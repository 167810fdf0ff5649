package dissect

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect/keys"
)

// keyedExchange runs a crypto/tls exchange that writes its key log, and
// returns the segments and the parsed log.
func keyedExchange(t *testing.T, version uint16, suites []uint16) ([]segment, *keys.KeyLog) {
	t.Helper()
	var log bytes.Buffer
	segs := exchange(t, version, func(cc, sc *tls.Config) {
		cc.KeyLogWriter = &log
		cc.CipherSuites, sc.CipherSuites = suites, suites
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(4) // so that the server issues tickets
	})
	kl, errs := keys.Parse(&log, "test")
	if len(errs) > 0 || kl.Len() == 0 {
		t.Fatalf("key log: %v (%d secrets)", errs, kl.Len())
	}
	return segs, kl
}

func keyedConfig(kl KeyLookup) Config {
	cfg := DefaultConfig()
	cfg.Keys = kl
	return cfg
}

// TestDecryptTLS13: with the key log every message of the handshake is
// read as if it had been in clear, the certificate included, and the
// close_notify is a readable alert rather than a probable one.
func TestDecryptTLS13(t *testing.T) {
	segs, kl := keyedExchange(t, tls.VersionTLS13, nil)
	for _, chunk := range []int{0, 1, 7} {
		sink := &logSink{}
		c := NewConn(keyedConfig(kl), sink)
		feedConn(c, segs, chunk)
		want := []string{
			"C client_hello", "S server_hello", "S change_cipher_spec",
			"S encrypted_extensions", "S certificate", "S certificate_verify", "S finished",
			// crypto/tls issues its ticket with its flight, before the
			// client's Finished (RFC 8446 4.6.1 allows it).
			"S new_session_ticket",
			"C change_cipher_spec", "C finished",
			"S application_data", "C application_data", "C alert",
		}
		got := decryptedLines(sink)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("chunk %d:\ngot  %q\nwant %q", chunk, got, want)
		}
		st := c.State()
		if st.Keys != KeysFound || len(st.ServerChain) == 0 || !st.Established || len(st.Alerts) != 1 ||
			st.Alerts[0].Encrypted || st.Alerts[0].Description != AlertCloseNotify || st.Alerts[0].Probable {
			t.Errorf("chunk %d: keys %v chain %d established %v alerts %+v", chunk, st.Keys, len(st.ServerChain), st.Established, st.Alerts)
		}
		for _, m := range st.Messages {
			if m.Encrypted {
				t.Errorf("chunk %d: %v still encrypted", chunk, m.Type)
			}
		}
	}
}

// TestDecryptTLS12 opens the records after each ChangeCipherSpec for the
// AEAD and CBC suites.
func TestDecryptTLS12(t *testing.T) {
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA} {
		segs, kl := keyedExchange(t, tls.VersionTLS12, []uint16{suite})
		sink := &logSink{}
		c := NewConn(keyedConfig(kl), sink)
		feedConn(c, segs, 0)
		got := strings.Join(decryptedLines(sink), " ")
		for _, w := range []string{"C finished", "S finished", "S application_data", "C application_data", "C alert"} {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks decrypted %q", tls.CipherSuiteName(suite), got, w)
			}
		}
		if st := c.State(); st.Keys != KeysFound || st.Alerts[len(st.Alerts)-1].Description != AlertCloseNotify {
			t.Errorf("%s: keys %v alerts %+v", tls.CipherSuiteName(suite), st.Keys, st.Alerts)
		}
	}
}

// TestDecryptWrongKeys: secrets that do not open the records are
// reported failed, and the records are labelled as without keys.
func TestDecryptWrongKeys(t *testing.T) {
	segs, _ := keyedExchange(t, tls.VersionTLS13, nil)
	otherSegs, other := keyedExchange(t, tls.VersionTLS13, nil)
	// Another run's secrets, handed out for this run's client random.
	sink := &logSink{}
	c := NewConn(keyedConfig(swapped{other, clientRandom(otherSegs)}), sink)
	feedConn(c, segs, 0)
	plain := &logSink{}
	feedConn(NewConn(DefaultConfig(), plain), segs, 0)
	if st := c.State(); st.Keys != KeysFailed {
		t.Errorf("keys %v, want failed", st.Keys)
	}
	if strings.Join(sink.lines, "\n") != strings.Join(plain.lines, "\n") {
		t.Errorf("with wrong keys:\n%s\nwithout keys:\n%s", sink, plain)
	}
	// Without secrets for the connection: missing.
	empty := keys.NewKeyLog(keys.Limits{})
	c = NewConn(keyedConfig(empty), &logSink{})
	feedConn(c, segs, 0)
	if st := c.State(); st.Keys != KeysMissing {
		t.Errorf("keys %v, want missing", st.Keys)
	}
}

// swapped answers every lookup with the secrets log holds for random.
type swapped struct {
	log    *keys.KeyLog
	random [32]byte
}

func (s swapped) Lookup([32]byte) (keys.Secrets, bool) { return s.log.Lookup(s.random) }

// clientRandom is the Random of the ClientHello that opens segs.
func clientRandom(segs []segment) [32]byte {
	var r [32]byte
	for _, s := range segs {
		if s.dir == 0 {
			copy(r[:], s.data[11:43]) // record header 5, handshake header 4, legacy_version 2
			break
		}
	}
	return r
}

func decryptedLines(s *logSink) []string {
	var out []string
	for _, e := range s.events {
		if e.Decrypted || !e.Encrypted && e.Type != MsgApplicationData && e.Type != MsgAlert {
			out = append(out, string("CS"[e.Dir])+" "+e.Type.String())
		} else {
			out = append(out, string("CS"[e.Dir])+" "+e.Type.String()+"?")
		}
	}
	return out
}
