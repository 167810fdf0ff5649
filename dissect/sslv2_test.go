package dissect

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

func sslv2Record(body []byte, threeByte bool, padding int) []byte {
	if threeByte {
		n := len(body) + padding
		return cat([]byte{byte(n >> 8), byte(n), byte(padding)}, body, make([]byte, padding))
	}
	return cat([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body)
}

func sslv2ClientHelloBody(version uint16, specs []uint32, sid, challenge []byte) []byte {
	b := []byte{1, byte(version >> 8), byte(version), byte(len(specs) * 3 >> 8), byte(len(specs) * 3), byte(len(sid) >> 8), byte(len(sid)), byte(len(challenge) >> 8), byte(len(challenge))}
	for _, s := range specs {
		b = append(b, byte(s>>16), byte(s>>8), byte(s))
	}
	return cat(b, sid, challenge)
}

var sslv2Specs = []uint32{0x010080, 0x0700c0, 0x000039, 0x00002f, 0x0000ff}

func TestSSLv2ClientHello(t *testing.T) {
	chal := testRandom(200)[:16]
	for _, three := range []bool{false, true} {
		rec := sslv2Record(sslv2ClientHelloBody(0x0301, sslv2Specs, nil, chal), three, 3)
		ch, err := ParseSSLv2ClientHello(rec)
		if err != nil {
			t.Fatal(err)
		}
		wantRandom := append(make([]byte, 16), chal...)
		if !ch.FromSSLv2 || ch.LegacyVersion != VersionTLS10 || !reflect.DeepEqual(ch.CipherSuites, []uint16{0x39, 0x2f, 0xff}) ||
			!reflect.DeepEqual(ch.SSLv2CipherSpecs, sslv2Specs) || !reflect.DeepEqual(ch.Random, wantRandom) || !ch.SecureRenegotiation {
			t.Errorf("three=%v: %+v", three, ch)
		}
		checkPrefixes(t, rec, func(b []byte) error { _, err := ParseSSLv2ClientHello(b); return err })
	}
	for _, bad := range [][]byte{
		sslv2Record(sslv2ClientHelloBody(0x0002, []uint32{}, nil, chal), false, 0),             // no cipher specs
		sslv2Record(sslv2ClientHelloBody(0x0002, sslv2Specs, make([]byte, 5), chal), false, 0), // odd session id
		sslv2Record(sslv2ClientHelloBody(0x0002, sslv2Specs, nil, chal[:8]), false, 0),         // short challenge
	} {
		if _, err := ParseSSLv2ClientHello(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("want ErrMalformed, got %v", err)
		}
	}
}

func sslv2ServerHelloRecord() []byte {
	cert := []byte("certificate-der")
	conn := testRandom(7)[:16]
	b := []byte{4, 0, 1, 0, 2, 0, byte(len(cert)), 0, 6, 0, byte(len(conn))}
	b = append(b, cert...)
	b = append(b, 0x01, 0x00, 0x80, 0x07, 0x00, 0xc0)
	b = append(b, conn...)
	return sslv2Record(b, false, 0)
}

func TestSSLv2ServerHelloAndError(t *testing.T) {
	rec := sslv2ServerHelloRecord()
	sh, err := ParseSSLv2ServerHello(rec)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Version != VersionSSL2 || sh.CertificateType != 1 || string(sh.Certificate) != "certificate-der" || !reflect.DeepEqual(sh.CipherSpecs, []uint32{0x010080, 0x0700c0}) || len(sh.ConnectionID) != 16 {
		t.Errorf("%+v", sh)
	}
	checkPrefixes(t, rec, func(b []byte) error { _, err := ParseSSLv2ServerHello(b); return err })
	e, err := ParseSSLv2Error(sslv2Record([]byte{0, 0, 1}, false, 0))
	if err != nil || e.Code != 1 {
		t.Errorf("%+v %v", e, err)
	}
}

func TestConnSSLv2(t *testing.T) {
	chal := testRandom(200)[:16]
	v2ch := sslv2Record(sslv2ClientHelloBody(0x0301, sslv2Specs, nil, chal), false, 0)
	_, sh := helloRecords()
	// An SSLv3/TLS client's compatible hello, answered in TLS.
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, v2ch}, {packet.FromServer, sh}, {packet.FromClient, record(ContentAlert, 0x0303, []byte{1, 0})}}, 0)
	sameLines(t, "compatible hello", sink, []string{"C sslv2_client_hello", "S server_hello", "C alert"})
	if ch := sink.events[0].ClientHello; ch == nil || !ch.FromSSLv2 || sink.events[0].RecordVersion != VersionSSL2 {
		t.Errorf("sslv2 hello event: %+v", sink.events[0])
	}
	// A real SSLv2 conversation: SERVER-HELLO, CLIENT-MASTER-KEY, then ciphertext.
	v2only := sslv2Record(sslv2ClientHelloBody(0x0002, sslv2Specs[:2], nil, chal), false, 0)
	cmk := sslv2Record([]byte{2, 0x01, 0x00, 0x80, 0, 0, 0, 0, 0, 0}, false, 0)
	encrypted := sslv2Record(make([]byte, 40), false, 0)
	for _, chunk := range []int{0, 1} {
		sink = feed(DefaultConfig(), []segment{{packet.FromClient, v2only}, {packet.FromServer, sslv2ServerHelloRecord()}, {packet.FromClient, cat(cmk, encrypted)}, {packet.FromServer, encrypted}}, chunk)
		sameLines(t, "sslv2", sink, []string{"C sslv2_client_hello", "S sslv2_server_hello", "C sslv2_client_master_key", "C sslv2_record*", "S sslv2_record*"})
	}
	// An SSLv2 ERROR in answer.
	sink = feed(DefaultConfig(), []segment{{packet.FromClient, v2only}, {packet.FromServer, sslv2Record([]byte{0, 0, 1}, false, 0)}}, 0)
	sameLines(t, "sslv2 error", sink, []string{"C sslv2_client_hello", "S sslv2_error"})
	if e := sink.events[1].SSLv2Error; e == nil || e.Code != 1 {
		t.Errorf("sslv2 error: %+v", e)
	}
}
