package dtlsgen

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tlsdissect/tlsdissect/dissect/dtls"
	"github.com/tlsdissect/tlsdissect/packet"
)

// sink keeps what the dissector reports, as lines.
type sink struct {
	lines   []string
	anoms   []string
	retx    int
	srtp    []dtls.UseSRTP
	sni     bool
	tlsCH   int // ClientHellos ClientHelloMessageTLS converted
	alerts  []string
	lastTS  time.Time
	ordered bool
}

func (s *sink) Handshake(dir packet.Dir, ts time.Time, epoch uint16, typ dtls.HandshakeType, msg []byte, retx bool) {
	line := dir.String() + " " + typ.String()
	if retx {
		line += " (retransmission)"
		s.retx++
	}
	s.lines = append(s.lines, line)
	if retx {
		return
	}
	body := msg[4:]
	if typ == dtls.TypeClientHello || typ == dtls.TypeServerHello {
		if data, ok, err := dtls.FindExtension(body, typ == dtls.TypeClientHello, dtls.ExtUseSRTP); err == nil && ok {
			if u, err := dtls.ParseUseSRTP(data); err == nil {
				s.srtp = append(s.srtp, u)
			}
		}
	}
	if typ == dtls.TypeClientHello {
		if _, ok, _ := dtls.FindExtension(body, true, 0); ok {
			s.sni = true
		}
		if _, _, err := dtls.ClientHelloMessageTLS(nil, msg); err == nil {
			s.tlsCH++
		}
	}
}
func (s *sink) Alert(dir packet.Dir, ts time.Time, epoch uint16, level, desc uint8, enc bool, size int) {
	if enc {
		s.lines = append(s.lines, dir.String()+" alert (encrypted)")
		return
	}
	s.lines = append(s.lines, dir.String()+" alert")
	s.alerts = append(s.alerts, dir.String()+" "+string(rune('0'+level))+"/"+itoa(desc))
}
func (s *sink) ChangeCipherSpec(dir packet.Dir, ts time.Time) {
	s.lines = append(s.lines, dir.String()+" change_cipher_spec")
}
func (s *sink) ApplicationData(dir packet.Dir, ts time.Time, epoch uint16, size int) {
	s.lines = append(s.lines, dir.String()+" application_data")
}
func (s *sink) ACK(packet.Dir, time.Time, uint16, []dtls.RecordNumber, bool, int) {}
func (s *sink) Encrypted(dir packet.Dir, ts time.Time, epoch uint16, typ dtls.ContentType, size int) {
	s.lines = append(s.lines, dir.String()+" encrypted "+typ.String())
}
func (s *sink) Anomaly(a dtls.Anomaly) { s.anoms = append(s.anoms, a.Kind+": "+a.Detail) }

func itoa(v uint8) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}

// parse reads a generated pcap back through dissect/dtls.
func parse(t *testing.T, path string) (*sink, *dtls.Conn) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ordered: true}
	conn := dtls.NewConn(dtls.Config{}, s)
	_, server := Addrs()
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			t.Fatal("a packet without UDP")
		}
		dir := packet.FromClient
		if int(u.SrcPort) == int(server.Port()) {
			dir = packet.FromServer
		}
		if !dtls.LooksLikeDTLS(u.Payload) && !conn.Plausible(dir, u.Payload) {
			t.Errorf("datagram %d not taken for DTLS: % x", len(s.lines), u.Payload[:min(16, len(u.Payload))])
		}
		if dtls.Classify(u.Payload) != dtls.KindDTLS {
			t.Errorf("classified %s", dtls.Classify(u.Payload))
		}
		if ci.Timestamp.Before(s.lastTS) {
			s.ordered = false
		}
		s.lastTS = ci.Timestamp
		conn.Datagram(dir, ci.Timestamp, u.Payload)
	}
	conn.Close()
	return s, conn
}

// firstHandshake is the DTLS 1.2 handshake every successful scenario
// begins with, retransmissions left out.
var firstHandshake = []string{
	"client client_hello",
	"server hello_verify_request",
	"client client_hello",
	"server server_hello",
	"server certificate",
	"server server_key_exchange",
	"server server_hello_done",
	"client client_key_exchange",
	"client change_cipher_spec",
	"client encrypted handshake",
	"server change_cipher_spec",
	"server encrypted handshake",
	"client application_data",
	"server application_data",
	"client alert (encrypted)",
}

func TestGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pion handshakes")
	}
	dir := t.TempDir()
	caps, err := WriteDir(context.Background(), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range caps {
		t.Run(c.Scenario.Name, func(t *testing.T) {
			s, conn := parse(t, filepath.Join(dir, c.Scenario.Name+".pcap"))
			var fresh []string
			for _, l := range s.lines {
				if !strings.Contains(l, "(retransmission)") {
					fresh = append(fresh, l)
				}
			}
			if !s.ordered {
				t.Error("timestamps go backwards")
			}
			switch c.Scenario.Name {
			case "dtls12-ecdhe-ecdsa-aes128gcm", "dtls12-retransmit":
				// Retransmitted encrypted records (a Finished sent again)
				// are not told apart: compare up to the first
				// application data and check the rest is there.
				if len(fresh) < len(firstHandshake) || !slices.Equal(dedupEncrypted(fresh)[:len(firstHandshake)], firstHandshake) {
					t.Fatalf("messages:\n%s\nwant\n%s", strings.Join(fresh, "\n"), strings.Join(firstHandshake, "\n"))
				}
				if conn.Version() != dtls.VersionDTLS12 || len(conn.Cookie()) == 0 || conn.Epoch(packet.FromClient) != 1 || conn.Epoch(packet.FromServer) != 1 {
					t.Errorf("version %s, cookie %d bytes, epochs %d/%d", conn.Version(), len(conn.Cookie()),
						conn.Epoch(packet.FromClient), conn.Epoch(packet.FromServer))
				}
				if len(s.srtp) != 3 || len(s.srtp[2].Profiles) != 1 || s.srtp[2].Profiles[0] != 7 || !s.sni || s.tlsCH != 2 {
					t.Errorf("use_srtp %v, sni %v, ClientHellos converted %d", s.srtp, s.sni, s.tlsCH)
				}
				if st := conn.Stats(packet.FromServer); st.Fragments <= st.Messages {
					t.Errorf("the Certificate was not fragmented: %+v", st)
				}
			case "dtls12-no-shared-cipher":
				if len(fresh) < 2 || fresh[0] != "client client_hello" || !(slices.Contains(s.alerts, "server 2/40") || slices.Contains(s.alerts, "server 2/71")) {
					t.Fatalf("messages:\n%s\nalerts %v", strings.Join(s.lines, "\n"), s.alerts)
				}
			}
			if c.Scenario.Name == "dtls12-retransmit" {
				// pion's server resends its flight on its own timer;
				// what was captured of it the first time is flagged.
				if s.retx == 0 || conn.Stats(packet.FromServer).Retransmissions == 0 {
					t.Errorf("no retransmission flagged:\n%s", strings.Join(s.lines, "\n"))
				}
			} else if s.retx != 0 {
				t.Errorf("%d retransmissions flagged:\n%s", s.retx, strings.Join(s.lines, "\n"))
			}
			for _, a := range s.anoms {
				t.Errorf("anomaly %s", a)
			}
			if c.Scenario.Name == "dtls12-retransmit" && !slices.Contains(s.lines, "server server_hello (retransmission)") {
				t.Errorf("the ServerHello of the lost flight was not flagged")
			}
			if c.Scenario.Name != "dtls12-no-shared-cipher" && !strings.Contains(string(c.KeyLog), "CLIENT_RANDOM ") {
				t.Errorf("key log: %q", c.KeyLog)
			}
		})
	}
}

// dedupEncrypted drops an encrypted handshake record that repeats the one
// before it from the same side (a retransmitted Finished).
func dedupEncrypted(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasSuffix(l, "encrypted handshake") && slices.Contains(out, l) {
			continue
		}
		if strings.HasSuffix(l, "change_cipher_spec") && slices.Contains(out, l) {
			continue
		}
		out = append(out, l)
	}
	return out
}
