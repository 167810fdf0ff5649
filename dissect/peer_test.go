package dissect

import (
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Records after a ChangeCipherSpec that switched nothing, or whose header
// was damaged, are read as plaintext only when they begin like a second
// ClientHello: an encrypted Finished read as handshake headers names a
// random type and length, and is never reported as messages.
func TestConnCiphertextAfterUnswitchedCCS(t *testing.T) {
	ch13 := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0x1301, 0xc02f}, comp: []uint8{0},
		exts: []Extension{extVersionsCH(0x0304, 0x0303), extKeyShareCH(29)}})))
	ch12 := record(ContentHandshake, 0x0301, handshake(TypeClientHello, buildClientHello(helloSpec{version: 0x0303, random: testRandom(1), suites: []uint16{0xc02f}, comp: []uint8{0}})))
	sh12 := record(ContentHandshake, 0x0303, handshake(TypeServerHello, buildServerHello(helloSpec{version: 0x0303, random: testRandom(3), suites: []uint16{0xc02f}, comp: []uint8{0}})))
	ccs := record(ContentChangeCipherSpec, 0x0303, []byte{1})
	cke := record(ContentHandshake, 0x0303, handshake(TypeClientKeyExchange, append([]byte{32}, testRandom(7)...)))
	// Encrypted Finished records whose first bytes read as headers.
	fin := func(head ...byte) []byte {
		b := make([]byte, 40)
		copy(b, head)
		for i := len(head); i < len(b); i++ {
			b[i] = byte(i * 37)
		}
		return record(ContentHandshake, 0x0303, b)
	}
	tests := []struct {
		name string
		segs []segment
		want []string
	}{
		{"two hello_requests", []segment{{packet.FromClient, cat(ch13, cke, ccs, fin(0, 0, 0, 0, 0, 0, 0, 0))}},
			[]string{"C client_hello", "C client_key_exchange", "C change_cipher_spec", "C finished*"}},
		{"a 15 MB client_hello", []segment{{packet.FromClient, cat(ch13, cke, ccs, fin(1, 0xea, 0x61, 0x20))}},
			[]string{"C client_hello", "C client_key_exchange", "C change_cipher_spec", "C finished*"}},
		{"a client_hello longer than its record", []segment{{packet.FromClient, cat(ch13, ccs, fin(1, 0, 0x10, 0))}},
			[]string{"C client_hello", "C change_cipher_spec", "C finished*"}},
		{"the second ClientHello is read", []segment{{packet.FromClient, cat(ch13, ccs, ch13)}},
			[]string{"C client_hello", "C change_cipher_spec", "C client_hello"}},
		{"server CCS damaged", []segment{{packet.FromClient, ch12}, {packet.FromServer, cat(sh12, []byte{0x14, 0xff, 0xff, 0xff, 0x01}, fin(0xca, 0x20, 0, 0))}},
			[]string{"C client_hello", "S server_hello", "S !malformed_record", "S !resync", "S finished*"}},
		{"client CCS damaged", []segment{{packet.FromClient, cat(ch12, cke, []byte{0x14, 0xff, 0xff, 0xff, 0x01}, fin(0xca, 0x20, 0, 0))}},
			[]string{"C client_hello", "C client_key_exchange", "C !malformed_record", "C !resync", "C finished*"}},
	}
	for _, tt := range tests {
		for _, chunk := range []int{0, 1, 3} {
			sameLines(t, tt.name+" chunk "+itoa(chunk), feed(DefaultConfig(), tt.segs, chunk), tt.want)
		}
	}
}

// A message is timed by the segment that carried its first byte, and takes
// its place in the sequence by that time: a ClientHello whose rest was
// held back until after the server's flight came is listed first.
func TestConnMessageTimedByFirstByte(t *testing.T) {
	ch, sh := helloRecords()
	c := NewConn(DefaultConfig(), nil)
	t0 := time.Unix(1700000000, 0)
	c.Data(packet.FromClient, t0, ch[:60])
	c.Data(packet.FromServer, t0.Add(2*time.Millisecond), sh)
	c.Data(packet.FromClient, t0.Add(3*time.Millisecond), ch[60:])
	c.End(t0.Add(time.Second))
	st := c.State()
	if len(st.Messages) != 2 {
		t.Fatalf("messages: %+v", st.Messages)
	}
	if m := st.Messages[0]; m.Type != HandshakeMsg(TypeClientHello) || !m.Timestamp.Equal(t0) {
		t.Errorf("first message %v at %v, want the client_hello at %v", m.Type, m.Timestamp, t0)
	}
	if !st.ServerAnswered {
		t.Error("the server's answer, emitted before the ClientHello completed, was not counted")
	}

	// The same with the rest of the message lost: it is reported (without
	// content) when the gap passes its end, at its first byte's time.
	c = NewConn(DefaultConfig(), nil)
	c.Data(packet.FromClient, t0, ch[:60])
	c.Data(packet.FromServer, t0.Add(2*time.Millisecond), sh)
	c.Gap(packet.FromClient, t0.Add(3*time.Millisecond), len(ch)-60)
	c.End(t0.Add(time.Second))
	st = c.State()
	if len(st.Messages) != 2 || st.Messages[0].From != packet.FromClient || !st.Messages[0].Timestamp.Equal(t0) {
		t.Errorf("with a gap: %+v", st.Messages)
	}
}

// A stream whose only TLS is a zero-length handshake record (a client that
// gave up right after an HTTP CONNECT) is still TLS, as tshark and
// Suricata say.
func TestConnZeroLengthHandshakeRecord(t *testing.T) {
	empty := record(ContentHandshake, 0x0301, nil)
	connect := []byte("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	ok := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	for _, tt := range []struct {
		name string
		segs []segment
	}{
		{"alone", []segment{{packet.FromClient, empty}}},
		{"after CONNECT", []segment{{packet.FromClient, connect}, {packet.FromServer, ok}, {packet.FromClient, empty}}},
		{"after CONNECT, one segment", []segment{{packet.FromClient, cat(connect, empty)}, {packet.FromServer, ok}}},
		{"then a FIN after CONNECT and more", []segment{{packet.FromClient, connect}, {packet.FromServer, ok}, {packet.FromClient, empty}, {packet.FromServer, []byte("x")}}},
	} {
		for _, chunk := range []int{0, 1, 2} {
			c := NewConn(DefaultConfig(), &logSink{})
			feedConn(c, tt.segs, chunk)
			if !c.SawTLS() {
				t.Errorf("%s chunk %d: not TLS", tt.name, chunk)
			}
		}
	}
}
