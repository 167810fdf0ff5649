//go:debug cryptocustomrand=1

package quicgen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tlsdissect/tlsdissect/dissect/quic"
	"github.com/tlsdissect/tlsdissect/packet"
)

// sink records what a quic.Conn reports, and installs key log secrets as
// soon as the hellos tell the client random and the cipher suite: the way
// the integration in dissect is meant to work.
type sink struct {
	t       *testing.T
	conn    *quic.Conn
	secrets map[string][]byte // label -> secret, for the one client random
	crypto  [2][4][]byte
	closes  []quic.Frame
	types   map[quic.PacketType]int
	anoms   []string
	suite   quic.Suite

	restarts, restartAt int
}

func (s *sink) Packet(dir packet.Dir, p *quic.PacketInfo) {
	s.types[p.Type]++
	if p.Restart {
		s.restarts++
		s.restartAt = len(s.crypto[packet.FromClient][quic.LevelInitial])
	}
}

func (s *sink) Crypto(dir packet.Dir, level quic.Level, data []byte) {
	s.crypto[dir][level] = append(s.crypto[dir][level], data...)
	if level != quic.LevelInitial || dir != packet.FromServer || s.suite != 0 {
		return
	}
	sh := s.crypto[dir][level]
	// ServerHello: type, length(3), version(2), random(32), session id.
	if len(sh) < 39 || sh[0] != 2 || len(sh) < 39+int(sh[38])+2 {
		return
	}
	s.suite = quic.Suite(binary.BigEndian.Uint16(sh[39+int(sh[38]):]))
	for _, k := range []struct {
		label string
		dir   packet.Dir
		level quic.Level
	}{
		{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", packet.FromClient, quic.LevelHandshake},
		{"SERVER_HANDSHAKE_TRAFFIC_SECRET", packet.FromServer, quic.LevelHandshake},
		{"CLIENT_TRAFFIC_SECRET_0", packet.FromClient, quic.Level1RTT},
		{"SERVER_TRAFFIC_SECRET_0", packet.FromServer, quic.Level1RTT},
	} {
		if sec := s.secrets[k.label]; sec != nil {
			if err := s.conn.SetTrafficSecret(k.dir, k.level, s.suite, sec); err != nil {
				s.t.Errorf("%s: %v", k.label, err)
			}
		}
	}
}

func (s *sink) ConnectionClose(dir packet.Dir, level quic.Level, f *quic.Frame) {
	c := *f
	c.Reason = append([]byte(nil), f.Reason...)
	s.closes = append(s.closes, c)
}

func (s *sink) Anomaly(kind quic.AnomalyKind, detail string) {
	s.anoms = append(s.anoms, kind.String()+": "+detail)
}

func readKeyLog(t *testing.T, path string) map[string][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		sec, err := hex.DecodeString(f[2])
		if err != nil {
			t.Fatal(err)
		}
		out[f[0]] = sec
	}
	return out
}

// readPcap returns the UDP payloads of a pcap with their direction.
func readPcap(t *testing.T, path string) (dirs []packet.Dir, payloads [][]byte) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			t.Fatal("not a UDP packet")
		}
		d := packet.FromClient
		if uint16(u.SrcPort) == ServerAddr.Port() {
			d = packet.FromServer
		}
		dirs = append(dirs, d)
		payloads = append(payloads, append([]byte(nil), u.Payload...))
	}
	return dirs, payloads
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	results, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(Scenarios()) {
		t.Fatalf("%d results", len(results))
	}
	for _, res := range results {
		name := res.Scenario.Name
		t.Run(name, func(t *testing.T) {
			dirs, payloads := readPcap(t, filepath.Join(dir, name+".pcap"))
			if len(payloads) != len(res.Datagrams) || len(payloads) < 3 {
				t.Fatalf("%d datagrams in the pcap, %d recorded", len(payloads), len(res.Datagrams))
			}
			if !quic.LooksLikeClientInitial(payloads[0]) || dirs[0] != packet.FromClient {
				t.Errorf("first datagram is not a client Initial")
			}
			s := &sink{t: t, secrets: readKeyLog(t, filepath.Join(dir, name+".keys")), types: map[quic.PacketType]int{}}
			s.conn = quic.NewConn(s, quic.Config{})
			for i := range payloads {
				s.conn.Datagram(dirs[i], Start.Add(time.Duration(i)*time.Millisecond), payloads[i])
			}
			check(t, res.Scenario, s)
		})
	}
}

func check(t *testing.T, sc Scenario, s *sink) {
	t.Helper()
	ch := s.crypto[packet.FromClient][quic.LevelInitial]
	sh := s.crypto[packet.FromServer][quic.LevelInitial]
	if len(ch) < 4 || ch[0] != 0x01 {
		t.Fatalf("client Initial CRYPTO does not start with a ClientHello: % x", ch[:min(len(ch), 8)])
	}
	if n := int(ch[1])<<16 | int(ch[2])<<8 | int(ch[3]); len(ch) < 4+n {
		t.Errorf("ClientHello of %d bytes, %d delivered", n, len(ch))
	}
	if !bytes.Contains(ch, []byte("www.example.com")) || !bytes.Contains(ch, []byte("h3")) {
		t.Error("ClientHello without SNI or ALPN")
	}
	if want := quic.Version(sc.Version); s.conn.Version() != want {
		t.Errorf("version %v, want %v", s.conn.Version(), want)
	}
	if sc.Retry {
		if s.types[quic.PacketRetry] == 0 {
			t.Errorf("%d Retry packets", s.types[quic.PacketRetry])
		}
		if _, token, ok := s.conn.Retry(); !ok || len(token) == 0 {
			t.Error("retry not recorded")
		}
		// Two ClientHellos, before and after the Retry; the stream
		// restarted once, where the second begins.
		if n := bytes.Count(ch, []byte("www.example.com")); n != 2 {
			t.Errorf("%d ClientHellos, want 2", n)
		}
		if s.restarts != 1 || s.restartAt == 0 || ch[s.restartAt] != 0x01 {
			t.Errorf("%d restarts, at %d", s.restarts, s.restartAt)
		}
	}
	for _, a := range s.anoms {
		t.Errorf("anomaly %s", a)
	}
	if sc.WantFail {
		if len(sh) > 0 {
			t.Errorf("server sent %d bytes of handshake", len(sh))
		}
		found := false
		for _, f := range s.closes {
			if alert, ok := f.TLSAlert(); ok && f.ErrorCode == 0x178 && alert == 120 {
				found = true
			}
		}
		if !found {
			t.Errorf("no CONNECTION_CLOSE 0x178: %+v", s.closes)
		}
		return
	}
	if len(sh) < 4 || sh[0] != 0x02 {
		t.Fatalf("server Initial CRYPTO does not start with a ServerHello: % x", sh[:min(len(sh), 8)])
	}
	if s.suite == 0 {
		t.Fatal("no cipher suite")
	}
	// With the key log, the Handshake level opens: EncryptedExtensions
	// first from the server, Finished (20) from the client.
	if hs := s.crypto[packet.FromServer][quic.LevelHandshake]; len(hs) == 0 || hs[0] != 0x08 {
		t.Errorf("server Handshake CRYPTO: % x", hs[:min(len(hs), 8)])
	}
	if hs := s.crypto[packet.FromClient][quic.LevelHandshake]; len(hs) == 0 || hs[0] != 0x14 {
		t.Errorf("client Handshake CRYPTO: % x", hs[:min(len(hs), 8)])
	}
	// The client closes with application error 0 in a 1-RTT packet.
	found := false
	for _, f := range s.closes {
		if f.Type == quic.FrameConnectionCloseApp && f.ErrorCode == 0 && string(f.Reason) == "done" {
			found = true
		}
	}
	if !found {
		t.Errorf("no application CONNECTION_CLOSE: %+v", s.closes)
	}
	if st := s.conn.Stats(); st.DecryptFailures != 0 || st.Decrypted == 0 {
		t.Errorf("stats %+v", st)
	}
}
