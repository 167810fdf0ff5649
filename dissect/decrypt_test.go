package dissect

import (
	"bytes"
	"crypto/tls"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/dissect/keys"
)

// keyedExchange runs a crypto/tls exchange that writes its key log, and
// returns the segments and the parsed log.
func keyedExchange(t testing.TB, version uint16, suites []uint16) ([]segment, *keys.KeyLog) {
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
		got := decryptedLines(sink)
		for _, w := range []string{"C finished", "S finished", "S application_data", "C application_data", "C alert"} {
			// Exact lines: a record left as ciphertext is marked "?".
			if !slices.Contains(got, w) {
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
	empty.ParseKeyLogText(nil, "empty")
	c = NewConn(keyedConfig(empty), &logSink{})
	feedConn(c, segs, 0)
	if st := c.State(); st.Keys != KeysMissing {
		t.Errorf("keys %v, want missing", st.Keys)
	}
	// A key log that nothing was ever added to (a pcapng whose secrets
	// blocks may come later) is no key log: none.
	c = NewConn(keyedConfig(keys.NewKeyLog(keys.Limits{})), &logSink{})
	feedConn(c, segs, 0)
	if st := c.State(); st.Keys != KeysNone {
		t.Errorf("keys %v with a key log never loaded, want none", st.Keys)
	}
}

// swapped answers every lookup with the secrets log holds for random.
type swapped struct {
	*keys.KeyLog
	random [32]byte
}

func (s swapped) Lookup([32]byte) (keys.Secrets, bool) { return s.KeyLog.Lookup(s.random) }

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

// FuzzDecrypt runs arbitrary streams through a Conn whose key log holds
// the secrets of a real exchange for whatever ClientHello comes: records
// that open, records that do not, and everything between stay within the
// caps and never panic.
func FuzzDecrypt(f *testing.F) {
	type keyed struct {
		segs []segment
		kl   *keys.KeyLog
	}
	var runs []keyed
	for _, v := range []struct {
		version uint16
		suites  []uint16
	}{{tls.VersionTLS13, nil}, {tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
		{tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}} {
		segs, kl := keyedExchange(f, v.version, v.suites)
		runs = append(runs, keyed{segs, kl})
		f.Add(uint8(len(runs)-1), encodeOps(segs))
	}
	f.Fuzz(func(t *testing.T, which uint8, in []byte) {
		r := runs[int(which)%len(runs)]
		cfg := Config{MaxHandshake: 4096, MaxPrelude: 2048, Keys: swapped{r.kl, clientRandom(r.segs)}}
		runOps(t, cfg, in)
	})
}

// bulkRecorded runs a TLS 1.3 exchange in which the server sends n bytes,
// and returns what each side wrote and the key log.
func bulkRecorded(tb testing.TB, n int) ([]segment, *keys.KeyLog) {
	tb.Helper()
	var log bytes.Buffer
	rec := &recorder{}
	cp, sp := newBufPipe()
	sc := &tls.Config{Certificates: []tls.Certificate{sharedCert(tb)}}
	cc := &tls.Config{InsecureSkipVerify: true, ServerName: "dissect.test", KeyLogWriter: &log}
	done := make(chan error, 1)
	go func() {
		s := tls.Server(&recConn{sp, 1, rec}, sc)
		_, err := s.Write(make([]byte, n))
		s.Close()
		done <- err
	}()
	c := tls.Client(&recConn{cp, 0, rec}, cc)
	got, err := io.Copy(io.Discard, c)
	c.Close()
	if err != nil || got != int64(n) {
		tb.Fatalf("client read %d of %d: %v", got, n, err)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	kl, _ := keys.Parse(&log, "bench")
	return rec.segs, kl
}

// BenchmarkBulkKeys measures a TLS 1.3 connection carrying 4 MiB of
// application data, dissected without and with its key log: with keys the
// handshake and alerts are opened, the bulk records only peeked at.
func BenchmarkBulkKeys(b *testing.B) {
	segs, kl := bulkRecorded(b, 4<<20)
	total := 0
	for _, s := range segs {
		total += len(s.data)
	}
	for _, tc := range []struct {
		name string
		keys KeyLookup
	}{{"without", nil}, {"with", kl}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for range b.N {
				c := NewConn(keyedConfig(tc.keys), &countSink{})
				feedConn(c, segs, 1460)
				if want := tc.keys != nil; want != (c.State().Keys == KeysFound) {
					b.Fatalf("keys %v", c.State().Keys)
				}
			}
		})
	}
}

// TestDecryptHelloRetry: after a HelloRetryRequest the secrets are those
// of the second ClientHello's handshake, under the same client random.
func TestDecryptHelloRetry(t *testing.T) {
	var log bytes.Buffer
	segs := exchange(t, tls.VersionTLS13, func(cc, sc *tls.Config) {
		cc.KeyLogWriter = &log
		sc.CurvePreferences = []tls.CurveID{tls.CurveP384}
		cc.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP384}
	})
	kl, _ := keys.Parse(&log, "hrr")
	sink := &logSink{}
	c := NewConn(keyedConfig(kl), sink)
	feedConn(c, segs, 0)
	got := strings.Join(decryptedLines(sink), " ")
	want := "C client_hello S hello_retry_request S change_cipher_spec C change_cipher_spec C client_hello S server_hello " +
		"S encrypted_extensions S certificate S certificate_verify S finished C finished S application_data C application_data C alert"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if c.State().Keys != KeysFound {
		t.Errorf("keys %v", c.State().Keys)
	}
}
