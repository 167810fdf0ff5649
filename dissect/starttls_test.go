package dissect

import (
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Hand-built preludes of each upgrade, as the two sides send them, followed
// by a ClientHello and a ServerHello.
type preludeCase struct {
	proto string
	steps []segment
}

func preludeCases() []preludeCase {
	s := func(dir packet.Dir, text string) segment { return segment{dir, []byte(text)} }
	ldapReq := append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, ldapStartTLSOID...)
	ldapResp := []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	mysqlGreeting := func() []byte {
		p := []byte{0x0a}
		p = append(p, "8.0.36\x00"...)
		p = append(p, 1, 0, 0, 0)                          // thread id
		p = append(p, "abcdefgh"...)                       // auth data part 1
		p = append(p, 0)                                   // filler
		p = append(p, 0xff, 0xff)                          // capabilities (lower), CLIENT_SSL included
		p = append(p, 0x21, 0x02, 0x00, 0xff, 0xdf, 21)    // charset, status, upper caps, auth length
		p = append(p, make([]byte, 10)...)                 // reserved
		p = append(p, "ijklmnopqrst\x00"...)               // auth data part 2
		p = append(p, "mysql_native_password\x00"...)      // plugin
		return append([]byte{byte(len(p)), 0, 0, 0}, p...) // 3-byte length, sequence 0
	}()
	mysqlSSL := append([]byte{32, 0, 0, 1, 0x05, 0xae, 0x0f, 0x00, 0, 0, 0, 1, 0x21}, make([]byte, 23)...)
	return []preludeCase{
		{"smtp", []segment{
			s(packet.FromServer, "220 mail.example.com ESMTP ready\r\n"),
			s(packet.FromClient, "EHLO client.example\r\n"),
			s(packet.FromServer, "250-mail.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
			s(packet.FromClient, "STARTTLS\r\n"),
			s(packet.FromServer, "220 2.0.0 Ready to start TLS\r\n"),
		}},
		{"imap", []segment{
			s(packet.FromServer, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
			s(packet.FromClient, "a001 STARTTLS\r\n"),
			s(packet.FromServer, "a001 OK Begin TLS negotiation now\r\n"),
		}},
		{"pop3", []segment{
			s(packet.FromServer, "+OK POP3 ready\r\n"),
			s(packet.FromClient, "STLS\r\n"),
			s(packet.FromServer, "+OK Begin TLS\r\n"),
		}},
		{"ftp", []segment{
			s(packet.FromServer, "220 FTP server ready\r\n"),
			s(packet.FromClient, "AUTH TLS\r\n"),
			s(packet.FromServer, "234 AUTH TLS successful\r\n"),
		}},
		{"xmpp", []segment{
			s(packet.FromClient, "<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
			s(packet.FromServer, "<?xml version='1.0'?><stream:stream from='example.com' id='1' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"),
			s(packet.FromClient, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
			s(packet.FromServer, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
		}},
		{"ldap", []segment{{packet.FromClient, ldapReq}, {packet.FromServer, ldapResp}}},
		{"postgresql", []segment{{packet.FromClient, postgresSSLRequest}, s(packet.FromServer, "S")}},
		{"mysql", []segment{{packet.FromServer, mysqlGreeting}, {packet.FromClient, mysqlSSL}}},
		{"http-connect", []segment{
			s(packet.FromClient, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
			s(packet.FromServer, "HTTP/1.1 200 Connection established\r\n\r\n"),
		}},
	}
}

func TestStartTLS(t *testing.T) {
	ch, sh := helloRecords()
	for _, tc := range preludeCases() {
		t.Run(tc.proto, func(t *testing.T) {
			segs := append(append([]segment{}, tc.steps...), segment{packet.FromClient, ch}, segment{packet.FromServer, sh})
			want := []string{"starttls " + tc.proto, "C client_hello", "S server_hello"}
			for _, chunk := range []int{0, 1, 3} {
				sink := feed(DefaultConfig(), segs, chunk)
				sameLines(t, "chunk "+itoa(chunk), sink, want)
			}
			// The ClientHello in the same segment as the upgrade command.
			joined := append([]segment{}, tc.steps...)
			for i := len(joined) - 1; i >= 0; i-- {
				if joined[i].dir == packet.FromClient {
					joined[i] = segment{packet.FromClient, cat(joined[i].data, ch)}
					break
				}
			}
			joined = append(joined, segment{packet.FromServer, sh})
			sameLines(t, "coalesced", feed(DefaultConfig(), joined, 0), want)
		})
	}
}

// A prelude that is not a known upgrade is reported as skipped bytes.
func TestUnknownPrelude(t *testing.T) {
	ch, _ := helloRecords()
	sink := feed(DefaultConfig(), []segment{{packet.FromClient, cat([]byte("HELLO THERE\r\n"), ch)}}, 0)
	sameLines(t, "unknown", sink, []string{"C !resync", "C client_hello"})
	if sink.anomalies[0].Bytes != 13 {
		t.Errorf("skipped %d, want 13", sink.anomalies[0].Bytes)
	}
}

// A refused upgrade stays plaintext: not TLS once the prelude limit is hit.
func TestRefusedStartTLS(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPrelude = 512
	segs := []segment{
		{packet.FromServer, []byte("220 mail ESMTP\r\n")},
		{packet.FromClient, []byte("STARTTLS\r\n")},
		{packet.FromServer, []byte("454 TLS not available\r\n")},
		{packet.FromClient, []byte(strings.Repeat("MAIL FROM:<a@example.com>\r\n", 30))},
	}
	sink := feed(cfg, segs, 0)
	sameLines(t, "refused", sink, []string{"C !not_tls"})
	if len(sink.starttls) != 0 {
		t.Error("StartTLS reported without TLS")
	}
}

func TestStartTLSProtocolNames(t *testing.T) {
	for _, tc := range []struct{ client, server, want string }{
		{"EHLO x\r\nSTARTTLS\r\n", "220 hi\r\n", "smtp"},
		{"starttls\r\n", "", "smtp"},
		{"a1 STARTTLS\r\n", "* OK\r\n", "imap"},
		{"STLS\r\n", "+OK\r\n", "pop3"},
		{"AUTH SSL\r\n", "234 ok\r\n", "ftp"},
		{"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n", ""},
		{"", "", ""},
	} {
		if got := startTLSProtocol([]byte(tc.client), []byte(tc.server)); got != tc.want {
			t.Errorf("%q/%q: got %q, want %q", tc.client, tc.server, got, tc.want)
		}
	}
}
