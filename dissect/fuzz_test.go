package dissect

import (
	"bytes"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
	"golang.org/x/crypto/cryptobyte"
)

// checkParseErr fails unless err is nil or a ParseError that names a field
// and wraps ErrTruncated or ErrMalformed.
func checkParseErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field == "" || pe.Msg == "" {
		t.Fatalf("not a ParseError naming a field: %v", err)
	}
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error wraps neither ErrTruncated nor ErrMalformed: %v", err)
	}
}

// encodeOps turns segments into the FuzzRecordFramer input format: per
// operation a control byte (bit 0 direction, bit 1 gap), a 2-byte length,
// then the data (absent for a gap).
func encodeOps(segs []segment) []byte {
	var out []byte
	for _, s := range segs {
		for b := s.data; len(b) > 0; {
			n := len(b)
			if n > 0xffff {
				n = 0xffff
			}
			out = append(out, byte(s.dir), byte(n>>8), byte(n))
			out = append(out, b[:n]...)
			b = b[n:]
		}
	}
	return out
}

// runOps feeds a Conn with the operations of a FuzzRecordFramer input and
// checks that its buffers stay within the configured caps.
func runOps(t *testing.T, cfg Config, in []byte) {
	sink := &checkSink{t: t}
	c := NewConn(cfg, sink)
	ts := time.Unix(1, 0)
	for len(in) >= 3 {
		ctl, n := in[0], int(in[1])<<8|int(in[2])
		in = in[3:]
		dir := packet.Dir(ctl & 1)
		ts = ts.Add(time.Millisecond)
		if ctl&2 != 0 {
			c.Gap(dir, ts, n)
		} else {
			if n > len(in) {
				n = len(in)
			}
			c.Data(dir, ts, in[:n])
			in = in[n:]
		}
		for i := range c.h {
			d := &c.h[i]
			if len(d.scan) > cfg.MaxPrelude || len(d.hs) > cfg.MaxHandshake+4 || len(d.v2buf) > cfg.MaxHandshake+3 || len(d.head) > 4096 || len(d.ct) > maxCiphertext {
				t.Fatalf("buffer over its cap: scan %d hs %d v2 %d head %d ct %d", len(d.scan), len(d.hs), len(d.v2buf), len(d.head), len(d.ct))
			}
		}
	}
	c.End(ts)
	if k := c.State().Keys; k > KeysFailed || cfg.Keys != nil && cfg.Keys.Loaded() && k == KeysNone || cfg.Keys == nil && k != KeysNone {
		t.Fatalf("keys status %d with a key log %v", k, cfg.Keys != nil)
	}
}

// checkSink checks what a Conn reports while fuzzing.
type checkSink struct {
	t        *testing.T
	starttls int
}

func (s *checkSink) Event(e *Event) {
	if e.Dir > 1 || e.Length < 0 || e.Type.String() == "" {
		s.t.Fatalf("bad event %+v", e)
	}
	if e.Encrypted && (e.ClientHello != nil || e.ServerHello != nil || e.Certificate != nil || e.Alert != nil) {
		s.t.Fatalf("an encrypted event with a decoded message: %+v", e)
	}
}

func (s *checkSink) Anomaly(a Anomaly) {
	if a.Kind == "" || a.Dir > 1 || a.Bytes < 0 {
		s.t.Fatalf("bad anomaly %+v", a)
	}
}

func (s *checkSink) StartTLS(p string) {
	s.starttls++
	if s.starttls > 1 || p == "" {
		s.t.Fatalf("StartTLS %q called %d times", p, s.starttls)
	}
}

func (s *checkSink) RolesSwapped() {}

func FuzzRecordFramer(f *testing.F) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		f.Add(encodeOps(exchange(f, v, nil)))
	}
	ch, sh := helloRecords()
	f.Add(encodeOps([]segment{{packet.FromClient, ch}, {packet.FromServer, sh}}))
	for _, tc := range preludeCases() {
		f.Add(encodeOps(append(tc.steps, segment{packet.FromClient, ch}, segment{packet.FromServer, sh})))
	}
	chal := testRandom(200)[:16]
	f.Add(encodeOps([]segment{{packet.FromClient, sslv2Record(sslv2ClientHelloBody(0x0002, sslv2Specs, nil, chal), false, 0)}, {packet.FromServer, sslv2ServerHelloRecord()}}))
	app := record(ContentApplicationData, 0x0303, make([]byte, 300))
	f.Add(append(encodeOps([]segment{{packet.FromServer, app[100:]}, {packet.FromServer, app}}), 3, 0, 50))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := Config{MaxHandshake: 4096, MaxPrelude: 2048, RolesInferred: len(in) > 0 && in[0]&4 != 0}
		runOps(t, cfg, in)
	})
}

func FuzzClientHello(f *testing.F) {
	spec, _ := chromeLikeHello()
	f.Add(buildClientHello(spec))
	f.Add(buildClientHello(helloSpec{version: 0x0301, random: testRandom(1), suites: []uint16{0x2f}, comp: []uint8{0}}))
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		seg := exchange(f, v, nil)[0].data
		f.Add(seg[9:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := ParseClientHello(body)
		checkParseErr(t, err)
		if err != nil {
			return
		}
		// A hello that parsed without error is rebuilt byte for byte.
		again := buildClientHello(helloSpec{version: uint16(ch.LegacyVersion), random: ch.Random, sid: ch.SessionID, suites: ch.CipherSuites, comp: ch.CompressionMethods, exts: ch.Extensions})
		if !bytes.Equal(again, body) {
			t.Fatalf("round trip differs:\n%x\n%x", body, again)
		}
	})
}

func FuzzServerHello(f *testing.F) {
	f.Add(buildServerHello(helloSpec{version: 0x0303, random: helloRetryRandom[:], sid: testRandom(7), suites: []uint16{0x1301}, comp: []uint8{0},
		exts: []Extension{extVersionSH(0x0304), extKeyShareSH(29), extCookieOf(10)}}))
	f.Add(buildServerHello(helloSpec{version: 0x0303, random: testRandom(6), sid: []byte{}, suites: []uint16{0xc02f}, comp: []uint8{0},
		exts: []Extension{extRenegotiation(), extALPNList("h2"), extU8List(extECPointFormats, 0)}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := ParseDraftHelloRetryRequest(body)
		checkParseErr(t, err)
		sh, err := ParseServerHello(body)
		checkParseErr(t, err)
		if err != nil {
			return
		}
		var exts []Extension
		if sh.Extensions != nil {
			exts = sh.Extensions
		}
		again := buildServerHello(helloSpec{version: uint16(sh.LegacyVersion), random: sh.Random, sid: sh.SessionID, suites: []uint16{uint16(sh.CipherSuite)}, comp: []uint8{sh.CompressionMethod}, exts: exts})
		if sh.SessionID == nil && sh.SupportedVersion == sh.LegacyVersion {
			// The TLS 1.3 draft layout: no session id, no compression.
			var b cryptobyte.Builder
			b.AddUint16(uint16(sh.LegacyVersion))
			b.AddBytes(sh.Random)
			b.AddUint16(uint16(sh.CipherSuite))
			addExtensions(&b, exts)
			again = mustBytes(&b)
		}
		if !bytes.Equal(again, body) {
			t.Fatalf("round trip differs:\n%x\n%x", body, again)
		}
	})
}

func FuzzExtensions(f *testing.F) {
	spec, _ := chromeLikeHello()
	for _, e := range spec.exts {
		f.Add(e.Type, e.Data)
	}
	f.Add(extKeyShare, extKeyShareSH(29).Data)
	f.Add(extPreSharedKey, []byte{0, 1})
	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		exts := []Extension{{Type: typ, Data: data}}
		body := buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0x1301}, comp: []uint8{0}, exts: exts})
		ch, err := ParseClientHello(body)
		checkParseErr(t, err)
		if ch == nil {
			t.Fatal("a well-framed hello was lost to one extension")
		}
		sh, err := ParseServerHello(buildServerHello(helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x1301}, comp: []uint8{0}, exts: exts}))
		checkParseErr(t, err)
		if sh == nil {
			t.Fatal("a well-framed server hello was lost to one extension")
		}
	})
}

func FuzzCertificate(f *testing.F) {
	f.Add(buildCertificate(false, []byte("leaf"), []byte("ca")), false)
	f.Add(buildCertificate(true, []byte("leaf")), true)
	f.Fuzz(func(t *testing.T, body []byte, tls13 bool) {
		c, err := ParseCertificate(body, tls13)
		checkParseErr(t, err)
		if err == nil {
			n := 0
			for _, d := range c.Chain {
				n += len(d)
			}
			if n > len(body) {
				t.Fatal("more certificate bytes than input")
			}
		}
	})
}

func FuzzServerKeyExchange(f *testing.F) {
	f.Add(buildSKEECDHE(23, true), uint16(0xc02f), uint16(0x0303))
	f.Add(buildSKEDHE(128), uint16(0x009e), uint16(0x0303))
	f.Add(buildSKEECDHE(29, false), uint16(0), uint16(0x0301))
	f.Fuzz(func(t *testing.T, body []byte, suite, version uint16) {
		_, err := ParseServerKeyExchange(body, CipherSuite(suite), Version(version))
		checkParseErr(t, err)
	})
}

func FuzzCertificateRequest(f *testing.F) {
	f.Add([]byte{1, 1, 0, 2, 4, 1, 0, 0}, false)
	f.Add([]byte{0, 0, 6, 0, 13, 0, 2, 8, 4}, true)
	f.Fuzz(func(t *testing.T, body []byte, tls13 bool) {
		_, err := ParseCertificateRequest(body, tls13)
		checkParseErr(t, err)
	})
}

func FuzzNewSessionTicket(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 0, 3, 'a', 'b', 'c'}, false)
	f.Add([]byte{0, 0, 0, 10, 1, 2, 3, 4, 1, 0, 0, 3, 'a', 'b', 'c', 0, 0}, true)
	f.Fuzz(func(t *testing.T, body []byte, tls13 bool) {
		_, err := ParseNewSessionTicket(body, tls13)
		checkParseErr(t, err)
	})
}

func FuzzSSLv2Hello(f *testing.F) {
	chal := testRandom(200)[:16]
	f.Add(sslv2Record(sslv2ClientHelloBody(0x0301, sslv2Specs, nil, chal), false, 0))
	f.Add(sslv2Record(sslv2ClientHelloBody(0x0002, sslv2Specs, make([]byte, 16), chal), true, 2))
	f.Add(sslv2ServerHelloRecord())
	f.Fuzz(func(t *testing.T, rec []byte) {
		ch, err := ParseSSLv2ClientHello(rec)
		checkParseErr(t, err)
		if err == nil && (len(ch.Random) != 32 || !ch.FromSSLv2) {
			t.Fatalf("bad SSLv2 hello %+v", ch)
		}
		_, err = ParseSSLv2ServerHello(rec)
		checkParseErr(t, err)
		_, err = ParseSSLv2Error(rec)
		checkParseErr(t, err)
		looksSSLv2Hello(rec)
	})
}

func FuzzStartTLS(f *testing.F) {
	for _, tc := range preludeCases() {
		var c, s []byte
		for _, st := range tc.steps {
			if st.dir == packet.FromClient {
				c = append(c, st.data...)
			} else {
				s = append(s, st.data...)
			}
		}
		f.Add(c, s)
	}
	ch, sh := helloRecords()
	f.Fuzz(func(t *testing.T, client, server []byte) {
		startTLSProtocol(client, server)
		in := encodeOps([]segment{{packet.FromServer, server}, {packet.FromClient, client}, {packet.FromClient, ch}, {packet.FromServer, sh}})
		runOps(t, Config{MaxHandshake: 4096, MaxPrelude: 1024}, in)
	})
}

func FuzzHeartbeat(f *testing.F) {
	f.Add([]byte{1, 0x40, 0})
	f.Add(append([]byte{1, 0, 5, 'h', 'e', 'l', 'l', 'o'}, make([]byte, 16)...))
	f.Fuzz(func(t *testing.T, rec []byte) {
		hb, err := ParseHeartbeat(rec)
		checkParseErr(t, err)
		if err == nil && hb.Heartbleed != (3+hb.PayloadLength+16 > len(rec)) {
			t.Fatalf("heartbleed flag wrong: %+v", hb)
		}
		// The same bytes as a record in a connection.
		if len(rec) > 0xffff {
			return
		}
		runOps(t, Config{MaxHandshake: 4096, MaxPrelude: 1024}, encodeOps([]segment{{packet.FromClient, record(ContentHeartbeat, 0x0303, rec)}}))
	})
}

// FuzzStatusAndAlert covers the two small parsers the others do not call
// directly: CertificateStatus (RFC 6066 8) and an alert record's content.
func FuzzStatusAndAlert(f *testing.F) {
	f.Add([]byte{1, 0, 0, 3, 'o', 'c', 's'})
	f.Add([]byte{2, 40})
	f.Add([]byte{9, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 8, 0, 0, 2, 'a', 'b', 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := ParseCertificateStatus(body)
		checkParseErr(t, err)
		if err == nil {
			ok := (st.StatusType == 1 && st.ResponseLength == len(body)-4) || // ocsp
				(st.StatusType == 2 && st.ResponseLength <= len(body)-4) // ocsp_multi
			if !ok {
				t.Fatalf("status %+v from %d bytes", st, len(body))
			}
		}
		// A record may hold several alerts before TLS 1.3: whole pairs.
		a, err := ParseAlert(body)
		checkParseErr(t, err)
		if (err == nil) != (len(body) >= 2 && len(body)%2 == 0) {
			t.Fatalf("alert of %d bytes: err %v", len(body), err)
		}
		if err == nil && (uint8(a.Level) != body[0] || uint8(a.Description) != body[1]) {
			t.Fatalf("alert %+v from %x", a, body)
		}
	})
}
