package dissect

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

var tls12Want = []string{
	"C client_hello",
	"S server_hello", "S certificate", "S server_key_exchange", "S server_hello_done",
	"C client_key_exchange", "C change_cipher_spec", "C finished*",
	"S change_cipher_spec", "S finished*",
	"S application_data", "C application_data", "C alert*",
}

var tls13Want = []string{
	"C client_hello",
	"S server_hello", "S change_cipher_spec",
	"S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*",
	"C change_cipher_spec", "C finished*",
	"S application_data", "C application_data", "C application_data",
	// Both directions end with a record of an alert's size: the client's
	// close_notify, and the server's 5-byte "world" (which only looks like one).
	"S ~probable_alert", "C ~probable_alert",
}

func sameLines(t *testing.T, what string, got *logSink, want []string) {
	t.Helper()
	if strings.Join(got.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got.lines, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestConnTLS12(t *testing.T) {
	segs := exchange(t, tls.VersionTLS12, nil)
	sink := feed(DefaultConfig(), segs, 0)
	sameLines(t, "whole segments", sink, tls12Want)
	ev := sink.events
	if ch := ev[0].ClientHello; ch == nil || ch.ServerName != "dissect.test" || ch.ALPN[0] != "h2" {
		t.Errorf("client hello: %+v", ev[0].ClientHello)
	}
	if sh := ev[1].ServerHello; sh == nil || sh.Version() != VersionTLS12 || sh.ALPN != "h2" || !strings.HasPrefix(sh.CipherSuite.String(), "TLS_ECDHE_ECDSA") {
		t.Errorf("server hello: %+v", ev[1].ServerHello)
	}
	if c := ev[2].Certificate; c == nil || len(c.Chain) != 1 || len(c.Chain[0]) < 100 {
		t.Errorf("certificate: %+v", ev[2].Certificate)
	}
	if ske := ev[3].ServerKeyExchange; ske == nil || ske.Kind != "ecdhe" || ske.NamedCurve == 0 || ske.SignatureScheme == 0 {
		t.Errorf("server key exchange: %+v", ev[3].ServerKeyExchange)
	}
	if ev[0].Length != len(segs[0].data)-9 || ev[0].RecordVersion != VersionTLS10 && ev[0].RecordVersion != VersionTLS12 {
		t.Errorf("client hello length %d record version %v", ev[0].Length, ev[0].RecordVersion)
	}
	if ev[len(ev)-1].Alert != nil {
		t.Error("an encrypted alert was decoded")
	}
	if ev[0].Timestamp.IsZero() || !ev[len(ev)-1].Timestamp.After(ev[0].Timestamp) {
		t.Error("timestamps are not the capture times")
	}
	// Whatever the chunking, the same story.
	for _, chunk := range []int{1, 2, 3, 5, 7, 64, 1000} {
		sameLines(t, "chunk "+itoa(chunk), feed(DefaultConfig(), segs, chunk), tls12Want)
	}
}

func TestConnTLS13(t *testing.T) {
	segs := exchange(t, tls.VersionTLS13, nil)
	sink := feed(DefaultConfig(), segs, 0)
	sameLines(t, "whole segments", sink, tls13Want)
	if sh := sink.events[1].ServerHello; sh == nil || sh.Version() != VersionTLS13 || sh.KeyShareGroup == 0 {
		t.Errorf("server hello: %+v", sink.events[1].ServerHello)
	}
	for _, chunk := range []int{1, 4, 6, 333} {
		sameLines(t, "chunk "+itoa(chunk), feed(DefaultConfig(), segs, chunk), tls13Want)
	}
}

// Every segment split in two at every byte position gives the same events.
func TestConnSplitEverywhere(t *testing.T) {
	for _, tc := range []struct {
		v    uint16
		want []string
	}{{tls.VersionTLS12, tls12Want}, {tls.VersionTLS13, tls13Want}} {
		segs := exchange(t, tc.v, nil)
		for i := range segs {
			for p := 1; p < len(segs[i].data); p++ {
				split := make([]segment, 0, len(segs)+1)
				split = append(split, segs[:i]...)
				split = append(split, segment{segs[i].dir, segs[i].data[:p]}, segment{segs[i].dir, segs[i].data[p:]})
				split = append(split, segs[i+1:]...)
				got := feed(DefaultConfig(), split, 0)
				if strings.Join(got.lines, "\n") != strings.Join(tc.want, "\n") {
					t.Fatalf("version %#x, segment %d split at %d:\n%s", tc.v, i, p, got)
				}
			}
		}
	}
}

func TestConnTLS12ClientAuthAndResumption(t *testing.T) {
	cache := tls.NewLRUClientSessionCache(4)
	tweak := func(cc, sc *tls.Config) {
		cc.ClientSessionCache = cache
		sc.SetSessionTicketKeys([][32]byte{{1, 2, 3}})
		sc.ClientAuth = tls.RequireAnyClientCert
		cc.Certificates = []tls.Certificate{sharedCert(t)}
	}
	full := feed(DefaultConfig(), exchange(t, tls.VersionTLS12, tweak), 0)
	sameLines(t, "client auth", full, []string{
		"C client_hello",
		"S server_hello", "S certificate", "S server_key_exchange", "S certificate_request", "S server_hello_done",
		"C certificate", "C client_key_exchange", "C certificate_verify", "C change_cipher_spec", "C finished*",
		"S new_session_ticket", "S change_cipher_spec", "S finished*",
		"S application_data", "C application_data", "C alert*",
	})
	var nst *NewSessionTicket
	for _, e := range full.events {
		if e.NewSessionTicket != nil {
			nst = e.NewSessionTicket
		}
		if e.CertificateRequest != nil && len(e.CertificateRequest.SignatureAlgorithms) == 0 {
			t.Error("certificate_request without signature algorithms")
		}
	}
	// crypto/tls sends a ticket_lifetime_hint of 0 (unspecified) in TLS 1.2.
	if nst == nil || len(nst.Ticket) == 0 {
		t.Fatalf("new_session_ticket: %+v", nst)
	}
	resumed := feed(DefaultConfig(), exchange(t, tls.VersionTLS12, tweak), 0)
	sameLines(t, "resumed with the ticket", resumed, []string{
		"C client_hello",
		"S server_hello", "S new_session_ticket", "S change_cipher_spec", "S finished*",
		"C change_cipher_spec", "C finished*",
		"S application_data", "C application_data", "C alert*",
	})
	if ch := resumed.events[0].ClientHello; !ch.HasSessionTicketExt || string(ch.SessionTicket) != string(nst.Ticket) {
		t.Error("the resumed ClientHello does not present the issued ticket")
	}
}

func TestConnTLS13ResumptionAndHRR(t *testing.T) {
	cache := tls.NewLRUClientSessionCache(4)
	tweak := func(cc, sc *tls.Config) {
		cc.ClientSessionCache = cache
		sc.SetSessionTicketKeys([][32]byte{{1, 2, 3}})
	}
	first := feed(DefaultConfig(), exchange(t, tls.VersionTLS13, tweak), 0)
	// crypto/tls sends its ticket with its first flight when it did not ask
	// for a client certificate: a fifth encrypted handshake record.
	sameLines(t, "first", first, []string{
		"C client_hello", "S server_hello", "S change_cipher_spec",
		"S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*",
		"C change_cipher_spec", "C finished*",
		"S application_data", "C application_data", "C application_data",
		"S ~probable_alert", "C ~probable_alert",
	})
	resumed := feed(DefaultConfig(), exchange(t, tls.VersionTLS13, tweak), 0)
	sh := resumed.events[1].ServerHello
	if sh == nil || !sh.HasPreSharedKey || len(resumed.events[0].ClientHello.PSKIdentities) != 1 {
		t.Fatalf("resumption not seen:\n%s", resumed)
	}
	// Resumed: EncryptedExtensions, Finished and a new ticket.
	sameLines(t, "resumed", resumed, []string{
		"C client_hello", "S server_hello", "S change_cipher_spec", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*",
		"C change_cipher_spec", "C finished*",
		"S application_data", "C application_data", "C application_data",
		"S ~probable_alert", "C ~probable_alert",
	})

	hrr := feed(DefaultConfig(), exchange(t, tls.VersionTLS13, func(cc, sc *tls.Config) {
		sc.CurvePreferences = []tls.CurveID{tls.CurveP384}
	}), 0)
	sameLines(t, "hello retry request", hrr, []string{
		"C client_hello", "S hello_retry_request", "S change_cipher_spec",
		"C change_cipher_spec", "C client_hello",
		"S server_hello", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*", "S encrypted_handshake*",
		"C finished*",
		"S application_data", "C application_data", "C application_data",
		"S ~probable_alert", "C ~probable_alert",
	})
	if e := hrr.events[1]; e.ServerHello == nil || !e.ServerHello.IsHelloRetryRequest || e.ServerHello.KeyShareGroup != NamedGroup(tls.CurveP384) {
		t.Errorf("hello_retry_request: %+v", e.ServerHello)
	}
}

func TestConnRolesSwapped(t *testing.T) {
	segs := exchange(t, tls.VersionTLS12, nil)
	for i := range segs {
		segs[i].dir ^= 1 // the caller guessed the roles the wrong way round
	}
	cfg := DefaultConfig()
	cfg.RolesInferred = true
	sink := feed(cfg, segs, 0)
	want := append([]string{"roles swapped", "C !roles_swapped"}, tls12Want...)
	sameLines(t, "swapped", sink, want)
	// Without RolesInferred the directions are taken as given.
	sink = feed(DefaultConfig(), segs, 0)
	if sink.lines[0] != "S client_hello" {
		t.Errorf("roles changed without RolesInferred: %s", sink.lines[0])
	}
}

func helloRecords() (ch, sh []byte) {
	spec, _ := chromeLikeHello()
	ch = record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(spec)))
	sh = record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{
		version: 0x0303, random: testRandom(9), sid: []byte{}, suites: []uint16{0xc02f}, comp: []uint8{0}, exts: []Extension{extRenegotiation()},
	})))
	return ch, sh
}

func TestConnCoalescedAndSplitHandshake(t *testing.T) {
	spec, _ := chromeLikeHello()
	chMsg := handshake(TypeClientHello, buildClientHello(spec))
	// The ClientHello split over three records, and the server's flight
	// coalesced into one record.
	client := cat(
		record(ContentHandshake, 0x0301, chMsg[:3]),
		record(ContentHandshake, 0x0301, chMsg[3:100]),
		record(ContentHandshake, 0x0301, chMsg[100:]),
	)
	shMsg := handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x002f}, comp: []uint8{0}}))
	server := record(ContentHandshake, 0x0303, cat(
		shMsg,
		handshake(TypeCertificate, buildCertificate(false, []byte("der"))),
		handshake(TypeServerHelloDone, nil),
	))
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, client}, {packet.FromServer, server}}, 0)
	sameLines(t, "coalesced", sink, []string{"C client_hello", "S server_hello", "S certificate", "S server_hello_done"})
	if sink.events[0].ClientHello == nil || sink.events[0].ClientHello.ServerName != "example.com" || sink.events[0].Length != len(chMsg)-4 {
		t.Errorf("joined client hello: %+v", sink.events[0])
	}
	if sink.events[3].Length != 0 || len(sink.events[3].Raw) != 0 {
		t.Errorf("server_hello_done: %+v", sink.events[3])
	}
}

func TestConnMalformedHandshake(t *testing.T) {
	bad := record(ContentHandshake, 0x0301, handshake(TypeClientHello, []byte{3, 3, 1, 2}))
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, bad}}, 0)
	sameLines(t, "malformed", sink, []string{"C !malformed_handshake", "C client_hello"})
	if d := sink.anomalies[0].Detail; !strings.Contains(d, "random") {
		t.Errorf("detail %q does not name the field", d)
	}
}

func TestConnHandshakeTooLarge(t *testing.T) {
	big := make([]byte, 3000)
	server := cat(
		record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x002f}, comp: []uint8{0}}))),
		record(ContentHandshake, 0x0303, handshake(TypeCertificate, buildCertificate(false, big))[:1500]),
		record(ContentHandshake, 0x0303, cat(handshake(TypeCertificate, buildCertificate(false, big))[1500:], handshake(TypeServerHelloDone, nil))),
	)
	cfg := DefaultConfig()
	cfg.MaxHandshake = 1024
	sink := feed(cfg, []segment{{packet.FromServer, server}}, 0)
	sameLines(t, "too large", sink, []string{"S server_hello", "S !handshake_too_large", "S certificate", "S server_hello_done"})
	if sink.events[1].Length != 3006 || sink.events[1].Certificate != nil {
		t.Errorf("skipped certificate event: %+v", sink.events[1])
	}
}

func TestConnPlaintextAlertAndHeartbleed(t *testing.T) {
	ch, _ := helloRecords()
	client := cat(ch, record(ContentHeartbeat, 0x0301, []byte{1, 0x40, 0x00}))
	server := record(ContentAlert, 0x0303, []byte{2, 40})
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, client}, {packet.FromServer, server}}, 0)
	sameLines(t, "heartbleed", sink, []string{"C client_hello", "C heartbeat", "C !heartbleed", "S alert"})
	if hb := sink.events[1].Heartbeat; hb == nil || !hb.Heartbleed || hb.PayloadLength != 0x4000 || hb.RecordLength != 3 {
		t.Errorf("heartbeat: %+v", hb)
	}
	if a := sink.events[2].Alert; a == nil || a.Level != 2 || a.Description != 40 {
		t.Errorf("alert: %+v", a)
	}
}

func TestConnGapInsideApplicationData(t *testing.T) {
	ch, sh := helloRecords()
	app := record(ContentApplicationData, 0x0303, make([]byte, 1000))
	sink := &logSink{}
	c := NewConn(DefaultConfig(), sink)
	ts := time.Unix(1, 0)
	c.Data(packet.FromClient, ts, ch)
	c.Data(packet.FromServer, ts, sh)
	// 300 bytes of the first record's body are lost: stepped over exactly.
	c.Data(packet.FromServer, ts, app[:200])
	c.Gap(packet.FromServer, ts, 300)
	c.Data(packet.FromServer, ts, app[500:])
	c.Data(packet.FromServer, ts, app)
	// A gap across a record boundary: the framer scans for the next header.
	c.Data(packet.FromServer, ts, app[:100])
	c.Gap(packet.FromServer, ts, 1000) // to 95 bytes into the next record
	c.Data(packet.FromServer, ts, app[95:])
	c.Data(packet.FromServer, ts, app)
	c.Data(packet.FromServer, ts, app)
	c.End(ts)
	sameLines(t, "gaps", sink, []string{
		"C client_hello", "S server_hello",
		"S application_data", "S application_data", "S application_data",
		"S !resync", "S application_data", "S application_data",
	})
	// Skipped: the 95 bytes the gap took of the next record, then the 910
	// left of it before the following header.
	if a := sink.anomalies[0]; a.Bytes != len(app) {
		t.Errorf("resync skipped %d bytes, want %d", a.Bytes, len(app))
	}
}

func TestConnMidstream(t *testing.T) {
	app := record(ContentApplicationData, 0x0303, make([]byte, 700))
	alert := record(ContentAlert, 0x0303, make([]byte, 26))
	stream := cat(app[300:], app, app, alert)
	sink := feed(DefaultConfig(), []segment{{packet.FromServer, stream}}, 0)
	// A 26-byte alert is ciphertext (2 + explicit nonce + GCM tag), CCS seen or not.
	sameLines(t, "midstream", sink, []string{"S !resync", "S application_data", "S application_data", "S alert*"})
	if sink.anomalies[0].Bytes != len(app)-300 {
		t.Errorf("resync skipped %d bytes, want %d", sink.anomalies[0].Bytes, len(app)-300)
	}
	// Same, one byte at a time.
	sameLines(t, "midstream bytewise", feed(DefaultConfig(), []segment{{packet.FromServer, stream}}, 1), []string{"S !resync", "S application_data", "S application_data", "S alert*"})
}

// A gap while scanning for the first header: the candidate found so far is
// taken and the gap stepped over inside its record.
func TestConnGapWhileScanning(t *testing.T) {
	app := record(ContentApplicationData, 0x0303, make([]byte, 1<<14))
	sink := &logSink{}
	c := NewConn(DefaultConfig(), sink)
	ts := time.Unix(1, 0)
	c.Data(packet.FromServer, ts, app[9000:])
	c.Data(packet.FromServer, ts, app[:3000])
	c.Gap(packet.FromServer, ts, 5000)
	c.Data(packet.FromServer, ts, app[8000:])
	c.Data(packet.FromServer, ts, app)
	c.End(ts)
	sameLines(t, "gap while scanning", sink, []string{"S !resync", "S application_data", "S application_data"})
}

func TestConnUnknownContentTypeAndOversized(t *testing.T) {
	ch, _ := helloRecords()
	weird := record(ContentType(99), 0x0303, make([]byte, 10))
	huge := record(ContentApplicationData, 0x0303, make([]byte, maxRecordLen+100))
	cid := record(ContentTLS12CID, 0x0303, make([]byte, 40))
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, cat(ch, weird, cid, huge, cid)}}, 0)
	sameLines(t, "odd records", sink, []string{
		"C client_hello", "C !unknown_content_type", "C !resync", "C tls12_cid*", "C !oversized_record", "C application_data", "C tls12_cid*",
	})
	if a := sink.anomalies[1]; a.Bytes != len(weird) {
		t.Errorf("resync skipped %d bytes, want %d", a.Bytes, len(weird))
	}
}

func TestConnTruncatedAtEnd(t *testing.T) {
	ch, _ := helloRecords()
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, ch[:len(ch)-10]}}, 0)
	sameLines(t, "truncated", sink, []string{"C !truncated"})
	if sink.anomalies[0].Bytes != 10 {
		t.Errorf("missing bytes %d, want 10", sink.anomalies[0].Bytes)
	}
}

func TestConnNotTLS(t *testing.T) {
	req := []byte(strings.Repeat("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 20))
	cfg := DefaultConfig()
	cfg.MaxPrelude = 256
	sink := &logSink{}
	c := NewConn(cfg, sink)
	c.Data(packet.FromClient, time.Unix(1, 0), req)
	c.Data(packet.FromClient, time.Unix(1, 0), req)
	c.End(time.Unix(2, 0))
	sameLines(t, "http", sink, []string{"C !not_tls"})
	if c.SawTLS() {
		t.Error("SawTLS on plain HTTP")
	}
}

func TestConnSawTLS(t *testing.T) {
	ch, _ := helloRecords()
	c := NewConn(DefaultConfig(), nil)
	if c.SawTLS() {
		t.Error("SawTLS before any byte")
	}
	c.Data(packet.FromClient, time.Unix(1, 0), ch[:5])
	if !c.SawTLS() {
		t.Error("SawTLS false after a valid record header")
	}
}

// TLS 1.3 with 0-RTT: the client's early data precedes the server's flight;
// EndOfEarlyData and Finished follow it.
func TestConnTLS13EarlyData(t *testing.T) {
	spec := helloSpec{version: 0x0303, random: testRandom(1), sid: testRandom(2), suites: []uint16{0x1301}, comp: []uint8{0},
		exts: []Extension{extVersionsCH(0x0304), extKeyShareCH(29), extRaw(extEarlyData, nil), extU8List(extPSKModes, 1),
			extPSKOffer(PSKIdentity{[]byte("ticket"), 5})}}
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(spec)))
	sh := record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(3), sid: testRandom(2),
		suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{extVersionSH(0x0304), extKeyShareSH(29), ext(extPreSharedKey, nil)}})))
	// pre_shared_key in a ServerHello is the selected identity.
	sh = record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(3), sid: testRandom(2),
		suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{extVersionSH(0x0304), extKeyShareSH(29), extRaw(extPreSharedKey, []byte{0, 0})}})))
	ccs := record(ContentChangeCipherSpec, 0x0303, []byte{1})
	enc := func(n int) []byte { return record(ContentApplicationData, 0x0303, make([]byte, n)) }
	segs := []segment{
		{packet.FromClient, cat(ch, ccs, enc(300))}, // 0-RTT data
		{packet.FromServer, cat(sh, ccs, enc(40), enc(53))},
		{packet.FromClient, cat(enc(21), enc(53), enc(100))},
		{packet.FromServer, enc(500)},
	}
	sink := feed(DefaultConfig(), segs, 0)
	sameLines(t, "early data", sink, []string{
		"C client_hello", "C change_cipher_spec", "C application_data",
		"S server_hello", "S change_cipher_spec", "S encrypted_handshake*", "S encrypted_handshake*",
		"C end_of_early_data*", "C finished*", "C application_data",
		"S application_data",
	})
}

// A client that rejects the server's certificate in TLS 1.3 answers with an
// encrypted alert, not a Finished: too short to be one, it stays
// application data and End reports it as a probable alert.
func TestConnTLS13ClientAlertInsteadOfFinished(t *testing.T) {
	_, _ = helloRecords()
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0x1301}, comp: []uint8{0},
		exts: []Extension{extVersionsCH(0x0304), extKeyShareCH(29)}})))
	sh := record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(3),
		suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{extVersionSH(0x0304), extKeyShareSH(29)}})))
	enc := func(n int) []byte { return record(ContentApplicationData, 0x0303, make([]byte, n)) }
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, cat(sh, enc(2000))}, {packet.FromClient, enc(19)}}, 0)
	sameLines(t, "client alert", sink, []string{
		"C client_hello", "S server_hello", "S encrypted_handshake*", "C application_data", "C ~probable_alert",
	})
}

// A CCS before any ServerHello switches no keys: a ClientHello sent after
// it (a client retrying) is still read in clear.
func TestConnCCSBeforeServerHello(t *testing.T) {
	ch, sh := helloRecords()
	ccs := record(ContentChangeCipherSpec, 0x0303, []byte{1})
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, cat(ch, ccs, ch)}, {packet.FromServer, sh}}, 0)
	sameLines(t, "ccs first", sink, []string{"C client_hello", "C change_cipher_spec", "C client_hello", "S server_hello"})
}

// TLS 1.3 draft 18: the ServerHello has no session id nor compression, and
// the draft version is the version.
func TestConnTLS13Draft(t *testing.T) {
	var sh []byte
	sh = append(sh, 0x7f, 18)
	sh = append(sh, testRandom(4)...)
	sh = append(sh, 0x13, 0x01)
	sh = cat(sh, func() []byte {
		var out []byte
		e := extKeyShareSH(29)
		out = append(out, 0, byte(4+len(e.Data)), 0, 51, 0, byte(len(e.Data)))
		return append(out, e.Data...)
	}())
	parsed, err := ParseServerHello(sh)
	if err != nil || parsed.Version() != 0x7f12 || parsed.CipherSuite != 0x1301 || parsed.KeyShareGroup != 29 || parsed.Version().String() != "TLS 1.3 draft 18" {
		t.Fatalf("%+v %v", parsed, err)
	}
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0x1301}, comp: []uint8{0},
		exts: []Extension{extVersionsCH(0x7f12), extKeyShareCH(29)}})))
	enc := record(ContentApplicationData, 0x0301, make([]byte, 100))
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, cat(record(ContentHandshake, 0x0301, handshake(TypeServerHello, sh)), enc)}, {packet.FromClient, enc}}, 0)
	sameLines(t, "draft 18", sink, []string{"C client_hello", "S server_hello", "S encrypted_handshake*", "C finished*"})
}

// A hello with a fault that does not break its framing is still returned.
func TestClientHelloLenient(t *testing.T) {
	body := buildClientHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1301, 0xc02f}, comp: []uint8{0}, exts: []Extension{extSNI("lenient.example")}})
	// cipher_suites length 4 -> 5.
	odd := append([]byte{}, body[:35]...)
	odd = append(odd, 0, 5, 0x13, 0x01, 0xc0, 0x2f, 0x00)
	odd = append(odd, body[41:]...)
	ch, err := ParseClientHello(odd)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "cipher_suites" || ch == nil {
		t.Fatalf("%v %+v", err, ch)
	}
	if len(ch.CipherSuites) != 2 {
		t.Errorf("suites %v", ch.CipherSuites)
	}
	// An extensions block longer than the message: what is there is read.
	cut := append([]byte{}, body...)
	cut[len(body)-len(extSNI("lenient.example").Data)-4-1] += 10
	ch, err = ParseClientHello(cut)
	if err == nil || ch == nil || ch.ServerName != "lenient.example" {
		t.Errorf("%v %+v", err, ch)
	}
}

// An encrypted heartbleed: a 16 KiB heartbeat answers a 32-byte one.
func TestConnEncryptedHeartbleed(t *testing.T) {
	segs := exchange(t, tls.VersionTLS12, nil)
	segs = append(segs[:len(segs)-1:len(segs)-1],
		segment{packet.FromClient, record(ContentHeartbeat, 0x0303, make([]byte, 32))},
		segment{packet.FromServer, record(ContentHeartbeat, 0x0303, make([]byte, 16416))},
		segment{packet.FromServer, record(ContentHeartbeat, 0x0303, make([]byte, 16416))},
		segment{packet.FromClient, record(ContentHeartbeat, 0x0303, make([]byte, 32))},
		segment{packet.FromServer, record(ContentHeartbeat, 0x0303, make([]byte, 40))},
	)
	sink := feed(DefaultConfig(), segs, 0)
	got := strings.Join(sink.lines[len(sink.lines)-6:], ",")
	want := "C heartbeat*,S heartbeat*,S !heartbleed,S heartbeat*,C heartbeat*,S heartbeat*"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// With a NULL cipher the records after the CCS are clear text and a MAC:
// the Finished and the alert are read, not guessed.
func TestConnNullCipher(t *testing.T) {
	ch, _ := helloRecords()
	sh := record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x003b}, comp: []uint8{0}})))
	ccs := record(ContentChangeCipherSpec, 0x0303, []byte{1})
	fin := record(ContentHandshake, 0x0303, cat(handshake(TypeFinished, make([]byte, 12)), make([]byte, 32)))
	alert := record(ContentAlert, 0x0303, cat([]byte{1, 0}, make([]byte, 32)))
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, cat(sh, ccs, fin)}, {packet.FromClient, cat(ccs, fin, alert)}}, 0)
	sameLines(t, "null cipher", sink, []string{"C client_hello", "S server_hello", "S change_cipher_spec", "S finished", "C change_cipher_spec", "C finished", "C alert"})
	if a := sink.events[len(sink.events)-1].Alert; a == nil || a.Level != 1 || a.Description != 0 {
		t.Errorf("alert %+v", a)
	}
}

// Only the server's side of a TLS 1.3 connection: after a flight's worth of
// records, the rest is application data.
func TestConnTLS13ServerOnly(t *testing.T) {
	sh := record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(3),
		suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{extVersionSH(0x0304), extKeyShareSH(29)}})))
	stream := sh
	for i := 0; i < 14; i++ {
		stream = append(stream, record(ContentApplicationData, 0x0303, make([]byte, 1000))...)
	}
	sink := feed(DefaultConfig(), []segment{{packet.FromServer, stream}}, 0)
	want := []string{"S server_hello"}
	for i := 0; i < 14; i++ {
		if i < maxServerFlightRecords {
			want = append(want, "S encrypted_handshake*")
		} else {
			want = append(want, "S application_data")
		}
	}
	sameLines(t, "server only", sink, want)
}

// Draft-era key_share (40) is decoded, and a client's plaintext alert ends
// the server's flight: what the server sends after it is not handshake.
func TestConnTLS13DraftKeyShareAndClientAlert(t *testing.T) {
	ks := extKeyShareSH(24)
	ks.Type = 40
	shBody := buildServerHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0x1303}, comp: []uint8{0}, exts: []Extension{extVersionSH(0x7f10), ks}})
	sh := record(ContentHandshake, 0x0301, handshake(TypeServerHello, shBody))
	chks := extKeyShareCH(24)
	chks.Type = 40
	ch := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0x1303}, comp: []uint8{0},
		exts: []Extension{extVersionsCH(0x7f10), chks}})))
	enc := func(n int) []byte { return record(ContentApplicationData, 0x0301, make([]byte, n)) }
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, ch}, {packet.FromServer, cat(sh, enc(400), enc(60))}, {packet.FromClient, record(ContentAlert, 0x0301, []byte{2, 48})}, {packet.FromServer, enc(19)}}, 0)
	sameLines(t, "draft alert", sink, []string{"C client_hello", "S server_hello", "S encrypted_handshake*", "S encrypted_handshake*", "C alert", "S application_data", "S ~probable_alert"})
	if g := sink.events[1].ServerHello.KeyShareGroup; g != 24 {
		t.Errorf("key share group %d", g)
	}
	if g := sink.events[0].ClientHello.KeyShareGroups; len(g) != 1 || g[0] != 24 {
		t.Errorf("client key share groups %v", g)
	}
}

// A gap inside a Certificate that spans records: the certificate is
// reported without its content and the messages after it are read.
func TestConnGapInsideHandshakeMessage(t *testing.T) {
	shMsg := handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x002f}, comp: []uint8{0}}))
	certMsg := handshake(TypeCertificate, buildCertificate(false, make([]byte, 3000)))
	flight := cat(shMsg, certMsg, handshake(TypeServerHelloDone, nil))
	r1 := record(ContentHandshake, 0x0303, flight[:1500])
	r2 := record(ContentHandshake, 0x0303, flight[1500:])
	sink := &logSink{}
	c := NewConn(DefaultConfig(), sink)
	ts := time.Unix(1, 0)
	c.Data(packet.FromServer, ts, r1[:700])
	c.Gap(packet.FromServer, ts, 500) // inside the certificate
	c.Data(packet.FromServer, ts, r1[1200:])
	c.Data(packet.FromServer, ts, r2)
	c.End(ts)
	sameLines(t, "gap in certificate", sink, []string{"S server_hello", "S certificate", "S server_hello_done"})
	if e := sink.events[1]; e.Certificate != nil || e.Length != len(certMsg)-4 {
		t.Errorf("certificate event %+v", e)
	}
}

// Hostile input that breaks the framing every few bytes: the anomalies
// reported are capped, the records between them still framed.
func TestConnAnomalyCap(t *testing.T) {
	unit := []byte{23, 3, 3, 0, 0, 23, 3, 3, 0, 0, 23, 3, 9, 0, 0}
	var in []byte
	for i := 0; i < 1000; i++ {
		in = append(in, unit...)
	}
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, in}}, 700)
	if len(sink.anomalies) != maxAnomalies {
		t.Errorf("%d anomalies, want the cap %d", len(sink.anomalies), maxAnomalies)
	}
	if !strings.Contains(sink.anomalies[maxAnomalies-1].Detail, "not reported") {
		t.Errorf("the last anomaly does not say more were dropped: %q", sink.anomalies[maxAnomalies-1].Detail)
	}
	if len(sink.events) != 2000 {
		t.Errorf("%d records framed, want 2000", len(sink.events))
	}
}
