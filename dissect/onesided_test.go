package dissect

import (
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

// TestCCSBeforeServerHello: what a CCS means when no ServerHello was seen
// depends on what the client offered. Offering TLS 1.3, a CCS before a
// second ClientHello is the middlebox-compatibility no-op (RFC 8446 D.4);
// offering TLS 1.2 at most, the ServerHello was only not captured (a
// one-sided capture) and the next handshake record is the encrypted
// Finished, not a HelloRequest read from ciphertext.
func TestCCSBeforeServerHello(t *testing.T) {
	ccs := record(ContentChangeCipherSpec, 0x0303, []byte{1})
	ciphertext := record(ContentHandshake, 0x0303, []byte{0, 0, 0, 0, 0x9e, 0x21, 0x4b, 0x07, 0xd3, 0x11, 0x5c, 0x60, 0x2a, 0x01, 0x77, 0x38,
		0x45, 0xf1, 0x0b, 0x66, 0x93, 0x1d, 0xa4, 0x5e, 0xc2, 0x80, 0x3f, 0x19, 0x07, 0x6b, 0xe8, 0x52, 0x21, 0x90, 0x4c, 0xd7})
	tls12 := helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0xc02f}, comp: []uint8{0}, exts: []Extension{extSNI("example.com")}}
	tls13 := helloSpec{version: 0x0303, random: testRandom(2), suites: []uint16{0x1301}, comp: []uint8{0}, exts: []Extension{extSNI("example.com"), extVersionsCH(0x0304, 0x0303), extKeyShareCH(29)}}

	oneSided := cat(record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(tls12))),
		record(ContentHandshake, 0x0303, handshake(TypeClientKeyExchange, make([]byte, 33))), ccs, ciphertext)
	got := feed(DefaultConfig(), []segment{{packet.FromClient, oneSided}}, 0).String()
	if want := "C client_hello\nC client_key_exchange\nC change_cipher_spec\nC finished*"; !strings.HasPrefix(got, want) {
		t.Errorf("TLS 1.2, server side not captured:\n%s\nwant prefix:\n%s", got, want)
	}

	hello := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(tls13)))
	retry := cat(hello, ccs, hello)
	got = feed(DefaultConfig(), []segment{{packet.FromClient, retry}}, 0).String()
	if want := "C client_hello\nC change_cipher_spec\nC client_hello"; !strings.HasPrefix(got, want) {
		t.Errorf("TLS 1.3 compatibility CCS before a second ClientHello:\n%s\nwant prefix:\n%s", got, want)
	}
}

// TestOversizedMessageKeepsItsPlace: a handshake message over the cap is
// skipped, but it is reported where its header was seen, so that the
// other direction's later messages come after it in the sequence.
func TestOversizedMessageKeepsItsPlace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxHandshake = 1000
	big := handshake(TypeCertificate, make([]byte, 3000))
	var server []byte
	for len(big) > 0 {
		n := min(len(big), 1200)
		server = append(server, record(ContentHandshake, 0x0303, big[:n])...)
		big = big[n:]
	}
	cke := record(ContentHandshake, 0x0303, handshake(TypeClientKeyExchange, make([]byte, 33)))
	got := feed(cfg, []segment{{packet.FromServer, server[:600]}, {packet.FromClient, cke}, {packet.FromServer, server[600:]}}, 0).String()
	want := "S certificate\nS !handshake_too_large\nC client_key_exchange"
	if !strings.Contains(got, "S certificate") || strings.Index(got, "S certificate") > strings.Index(got, "C client_key_exchange") {
		t.Errorf("got:\n%s\nwant the certificate before the client's message, as in:\n%s", got, want)
	}
}
