package dissect

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdissect/tlsdissect/dissect/dtls"
	"github.com/tlsdissect/tlsdissect/packet"
)

// t0 is the capture time the datagram tests start at.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// dtlsClientHello builds a DTLS ClientHello body: a TLS one with the
// cookie after the session ID (RFC 6347 4.2.1).
func dtlsClientHello(random, cookie []byte, sni string) []byte {
	var b cryptobyte.Builder
	b.AddUint16(uint16(VersionDTLS12))
	b.AddBytes(random)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(cookie) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 0xc02b, 0xc02f) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	addExtensions(&b, []Extension{extSNI(sni), ext(dtls.ExtUseSRTP, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 0x0007, 0x0001) })
		b.AddUint8(0) // no MKI
	})})
	return mustBytes(&b)
}

// dtlsRecords builds one datagram of DTLS records. Each part is a
// handshake message (typ, message_seq, body, fragment size: 0 = whole) or
// a raw record.
type dtlsPart struct {
	typ   HandshakeType
	seq   uint16
	body  []byte
	frag  int
	ct    ContentType // a record of this type with raw, instead of a message
	raw   []byte
	epoch uint16
}

func dtlsDatagram(parts ...dtlsPart) []byte {
	var out []byte
	rseq := uint64(0)
	for _, p := range parts {
		if p.ct != 0 {
			out = dtls.AppendPlainHeader(out, dtls.ContentType(p.ct), dtls.VersionDTLS12, p.epoch, rseq, len(p.raw))
			out = append(out, p.raw...)
			rseq++
			continue
		}
		n := p.frag
		if n == 0 {
			n = len(p.body)
		}
		for off := 0; off < len(p.body) || off == 0; off += n {
			end := min(off+n, len(p.body))
			frag := dtls.AppendFragment(nil, dtls.HandshakeType(p.typ), len(p.body), p.seq, off, p.body[off:end])
			out = dtls.AppendPlainHeader(out, dtls.ContentHandshake, dtls.VersionDTLS12, 0, rseq, len(frag))
			out = append(out, frag...)
			rseq++
			if len(p.body) == 0 {
				break
			}
		}
	}
	return out
}

func TestDTLSStory(t *testing.T) {
	random := testRandom(1)
	ch1 := dtlsClientHello(random, nil, "media.example.com")
	ch2 := dtlsClientHello(random, []byte("cookie-12345678"), "media.example.com")
	hvr := []byte{0xfe, 0xff, 15, 'c', 'o', 'o', 'k', 'i', 'e', '-', '1', '2', '3', '4', '5', '6', '7', '8'}
	sh := buildServerHello(helloSpec{version: uint16(VersionDTLS12), random: testRandom(2), suites: []uint16{0xc02b}, comp: []uint8{0},
		exts: []Extension{ext(dtls.ExtUseSRTP, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { addU16s(b, 0x0007) })
			b.AddUint8(0)
		})}})
	cert := []byte{0, 0, 0} // an empty certificate_list
	ske := []byte{3, 0, 29, 32}
	ske = append(ske, make([]byte, 32)...)
	ske = append(ske, 4, 3, 0, 2, 0xde, 0xad)
	serverFlight := dtlsDatagram(
		dtlsPart{typ: TypeServerHello, seq: 1, body: sh},
		dtlsPart{typ: TypeCertificate, seq: 2, body: cert},
		dtlsPart{typ: TypeServerKeyExchange, seq: 3, body: ske, frag: 20},
		dtlsPart{typ: TypeServerHelloDone, seq: 4},
	)
	steps := []struct {
		from packet.Dir
		b    []byte
	}{
		{packet.FromClient, dtlsDatagram(dtlsPart{typ: TypeClientHello, seq: 0, body: ch1, frag: 60})},
		{packet.FromServer, dtlsDatagram(dtlsPart{typ: TypeHelloVerifyRequest, seq: 0, body: hvr})},
		{packet.FromClient, dtlsDatagram(dtlsPart{typ: TypeClientHello, seq: 1, body: ch2})},
		{packet.FromServer, serverFlight},
		{packet.FromServer, serverFlight}, // the flight again, after a timeout
		{packet.FromClient, dtlsDatagram(
			dtlsPart{typ: TypeClientKeyExchange, seq: 2, body: append([]byte{32}, make([]byte, 32)...)},
			dtlsPart{ct: ContentChangeCipherSpec, raw: []byte{1}},
			dtlsPart{ct: ContentHandshake, epoch: 1, raw: make([]byte, 40)}, // Finished, encrypted
		)},
		{packet.FromServer, dtlsDatagram(
			dtlsPart{ct: ContentChangeCipherSpec, raw: []byte{1}},
			dtlsPart{ct: ContentHandshake, epoch: 1, raw: make([]byte, 40)},
		)},
		{packet.FromClient, dtlsDatagram(dtlsPart{ct: ContentApplicationData, epoch: 1, raw: make([]byte, 100)})},
		{packet.FromServer, dtlsDatagram(dtlsPart{ct: ContentAlert, epoch: 1, raw: make([]byte, 26)})},
	}
	s := &logSink{}
	c := NewDatagramConn(Config{RolesInferred: true}, s, TransportDTLS)
	for i, st := range steps {
		c.Datagram(st.from, t0.Add(time.Duration(i)*time.Millisecond), st.b)
	}
	c.End(t0.Add(time.Second))
	want := strings.Join([]string{
		"C client_hello", "S hello_verify_request", "C client_hello",
		"S server_hello", "S certificate", "S server_key_exchange", "S server_hello_done",
		"C client_key_exchange", "C change_cipher_spec", "C finished*",
		"S change_cipher_spec", "S finished*", "C application_data", "S alert*",
	}, "\n")
	if got := s.String(); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	st := c.State()
	if st.Transport != TransportDTLS || st.DTLS == nil {
		t.Fatalf("transport %v, DTLS facts %v", st.Transport, st.DTLS)
	}
	if !st.Established || st.Renegotiations != 0 {
		t.Errorf("established %v, renegotiations %d: the cookie round is one handshake", st.Established, st.Renegotiations)
	}
	if st.ServerHello == nil || st.ServerHello.Version() != VersionDTLS12 || st.ServerHello.CipherSuite != 0xc02b {
		t.Errorf("server hello %+v", st.ServerHello)
	}
	if st.ClientHello == nil || st.ClientHello.ServerName != "media.example.com" {
		t.Errorf("client hello %+v", st.ClientHello)
	}
	if st.ServerKeyExchange == nil || st.ServerKeyExchange.NamedCurve != 29 {
		t.Errorf("server key exchange (joined from fragments) %+v", st.ServerKeyExchange)
	}
	d := st.DTLS
	if d.Retransmissions != [2]int{0, 4} || !d.Cookie || len(d.SRTPProfiles) != 2 || d.SRTPProfile != 0x0007 {
		t.Errorf("DTLS facts %+v", d)
	}
}

// A DTLS flow first met from the server side: the hellos settle who is
// who, as for TCP.
func TestDTLSRolesFromContent(t *testing.T) {
	sh := buildServerHello(helloSpec{version: uint16(VersionDTLS12), random: testRandom(2), suites: []uint16{0xc02b}, comp: []uint8{0}})
	b := dtlsDatagram(dtlsPart{typ: TypeServerHello, seq: 1, body: sh})
	tr, ok := ClassifyDatagram(b)
	if !ok || tr != TransportDTLS {
		t.Fatalf("ClassifyDatagram = %v, %v", tr, ok)
	}
	if fromServer, sure := DatagramFromServer(tr, b); !fromServer || !sure {
		t.Errorf("DatagramFromServer(ServerHello) = %v, %v", fromServer, sure)
	}
	ch := dtlsDatagram(dtlsPart{typ: TypeClientHello, body: dtlsClientHello(testRandom(1), nil, "x")})
	if fromServer, sure := DatagramFromServer(TransportDTLS, ch); fromServer || !sure {
		t.Errorf("DatagramFromServer(ClientHello) = %v, %v", fromServer, sure)
	}
	app := dtlsDatagram(dtlsPart{ct: ContentApplicationData, epoch: 1, raw: make([]byte, 30)})
	if _, sure := DatagramFromServer(TransportDTLS, app); sure {
		t.Error("application data says nothing of the roles")
	}
	if _, ok := ClassifyDatagram([]byte("\x00\x01 a DNS query")); ok {
		t.Error("a DNS query taken for QUIC or DTLS")
	}
}

// FuzzDatagramConn: any datagrams, to a QUIC or a DTLS Conn, never panic,
// and the story stays within its caps.
func FuzzDatagramConn(f *testing.F) {
	sh := buildServerHello(helloSpec{version: uint16(VersionDTLS12), random: testRandom(2), suites: []uint16{0xc02b}, comp: []uint8{0}})
	f.Add(false, dtlsDatagram(dtlsPart{typ: TypeClientHello, body: dtlsClientHello(testRandom(1), nil, "x"), frag: 30}), dtlsDatagram(dtlsPart{typ: TypeServerHello, seq: 1, body: sh}))
	f.Add(true, []byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x40, 0x20}, []byte{0x40, 1, 2, 3})
	f.Fuzz(func(t *testing.T, isQUIC bool, a, b []byte) {
		tr := TransportDTLS
		if isQUIC {
			tr = TransportQUIC
		}
		c := NewDatagramConn(Config{RolesInferred: !isQUIC}, nopSink{}, tr)
		for i := range 4 {
			c.Datagram(packet.Dir(i&1), t0.Add(time.Duration(i)*time.Millisecond), [][]byte{a, b}[i&1])
		}
		c.End(t0.Add(time.Second))
		st := c.State()
		if len(st.Messages) > MaxMessages || len(st.Alerts) > MaxAlerts {
			t.Fatalf("%d messages, %d alerts over the caps", len(st.Messages), len(st.Alerts))
		}
		if st.Transport != tr {
			t.Fatalf("transport %v, want %v", st.Transport, tr)
		}
	})
}
