package quic

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

type recSink struct {
	crypto  [2][numLevels][]byte
	packets []PacketInfo
	closes  []Frame
	anoms   []string
}

func (s *recSink) Packet(dir packet.Dir, p *PacketInfo) { s.packets = append(s.packets, *p) }
func (s *recSink) Crypto(dir packet.Dir, l Level, b []byte) {
	s.crypto[dir][l] = append(s.crypto[dir][l], b...)
}
func (s *recSink) ConnectionClose(dir packet.Dir, l Level, f *Frame) { s.closes = append(s.closes, *f) }
func (s *recSink) Anomaly(k AnomalyKind, d string)                   { s.anoms = append(s.anoms, k.String()+": "+d) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestConnRFC(t *testing.T) {
	s := &recSink{}
	c := NewConn(s, Config{})
	c.Datagram(packet.FromClient, t0, rfcClientInitial)
	c.Datagram(packet.FromServer, t0, rfcServerInitial)
	if len(s.anoms) != 0 {
		t.Fatal(s.anoms)
	}
	if ch := s.crypto[packet.FromClient][LevelInitial]; !bytes.Equal(ch, rfcClientCrypto[4:]) {
		t.Errorf("client crypto %d bytes: %x", len(ch), ch[:8])
	}
	if sh := s.crypto[packet.FromServer][LevelInitial]; len(sh) != 90 || sh[0] != 2 {
		t.Errorf("server crypto %x", sh)
	}
	if len(s.packets) != 2 || !s.packets[0].Decrypted || s.packets[0].PN != 2 || s.packets[1].PN != 1 {
		t.Errorf("packets %+v", s.packets)
	}
	if !bytes.Equal(c.OriginalDCID(), rfcDCID) || !bytes.Equal(c.ConnID(packet.FromServer), unhex("f067a5502a4262b5")) || c.Version() != Version1 {
		t.Error("ids / version")
	}
	// The same datagram again: CRYPTO is not delivered twice.
	c.Datagram(packet.FromClient, t0, rfcClientInitial)
	if len(s.crypto[packet.FromClient][LevelInitial]) != len(rfcClientCrypto)-4 {
		t.Error("duplicate delivered")
	}
}

func TestConnRetryAndVN(t *testing.T) {
	s := &recSink{}
	c := NewConn(s, Config{})
	c.Datagram(packet.FromClient, t0, rfcClientInitial)
	c.Datagram(packet.FromServer, t0, rfcRetry)
	scid, token, ok := c.Retry()
	if !ok || string(token) != "token" || !bytes.Equal(scid, unhex("f067a5502a4262b5")) || len(s.anoms) != 0 {
		t.Fatalf("retry: %v %q %x %v", ok, token, scid, s.anoms)
	}
	// An Initial the client sent before it saw the Retry still opens with
	// the keys of the original DCID.
	c.Datagram(packet.FromClient, t0, rfcClientInitial)
	if last := s.packets[len(s.packets)-1]; !last.Decrypted || last.Restart || len(s.anoms) != 0 {
		t.Errorf("pre-retry initial: %+v %v", last, s.anoms)
	}
	// Initials with the Retry's SCID use new keys: the A.2 packet
	// rewritten with that DCID (same length) does not open.
	moved := append([]byte(nil), rfcClientInitial...)
	copy(moved[6:14], scid)
	c.Datagram(packet.FromClient, t0, moved)
	if !strings.Contains(strings.Join(s.anoms, ","), "quic_decrypt_failed") || !s.packets[len(s.packets)-1].Restart {
		t.Errorf("post-retry initial: %+v %v", s.packets[len(s.packets)-1], s.anoms)
	}
	// A Retry whose tag does not verify is refused.
	s2 := &recSink{}
	c2 := NewConn(s2, Config{})
	c2.Datagram(packet.FromClient, t0, rfcClientInitial)
	bad := append([]byte(nil), rfcRetry...)
	bad[len(bad)-1] ^= 1
	c2.Datagram(packet.FromServer, t0, bad)
	if _, _, ok := c2.Retry(); ok || len(s2.anoms) != 1 {
		t.Errorf("bad retry accepted: %v", s2.anoms)
	}
	// Version Negotiation.
	c2.Datagram(packet.FromServer, t0, unhex("80000000000008f067a5502a4262b5"+"6b3343cf"))
	if vs := c2.NegotiationVersions(); len(vs) != 1 || vs[0] != Version2 {
		t.Errorf("vn %v", vs)
	}
	c2.Datagram(packet.FromClient, t0, rfcV2ClientInitial)
	if c2.Version() != Version2 || len(s2.crypto[packet.FromClient][LevelInitial]) != 2*(len(rfcClientCrypto)-4) {
		t.Errorf("after vn: %v %d", c2.Version(), len(s2.crypto[packet.FromClient][LevelInitial]))
	}
}

func TestConnCoalescedAndLimits(t *testing.T) {
	// A server Initial followed by zero padding, then by garbage.
	s := &recSink{}
	c := NewConn(s, Config{MaxDecryptFailures: 2})
	c.Datagram(packet.FromClient, t0, rfcClientInitial)
	c.Datagram(packet.FromServer, t0, append(append([]byte(nil), rfcServerInitial...), 0, 0, 0))
	if len(s.anoms) != 0 {
		t.Errorf("padding flagged: %v", s.anoms)
	}
	c.Datagram(packet.FromServer, t0, append(append([]byte(nil), rfcServerInitial...), 0x01, 0x02))
	if len(s.anoms) != 1 || !strings.HasPrefix(s.anoms[0], "quic_trailing_bytes") {
		t.Errorf("garbage: %v", s.anoms)
	}
	// Corrupted packets: two failures end decryption.
	for i := 0; i < 3; i++ {
		bad := append([]byte(nil), rfcClientInitial...)
		bad[100] ^= 1
		c.Datagram(packet.FromClient, t0, bad)
	}
	if st := c.Stats(); st.DecryptFailures != 2 || !c.noDecrypt {
		t.Errorf("stats %+v", st)
	}
	// Midstream: a server Initial with no client Initial seen.
	s3 := &recSink{}
	c3 := NewConn(s3, Config{MaxPackets: 1})
	c3.Datagram(packet.FromServer, t0, rfcServerInitial)
	c3.Datagram(packet.FromServer, t0, rfcServerInitial)
	if len(s3.anoms) != 2 || !strings.HasPrefix(s3.anoms[0], "quic_midstream") || !strings.HasPrefix(s3.anoms[1], "quic_packet_limit") {
		t.Errorf("midstream: %v", s3.anoms)
	}
}

func TestConnPendingKeys(t *testing.T) {
	// A 1-RTT packet (RFC 9001 A.5) before its keys: kept, then opened
	// when SetTrafficSecret installs them.
	s := &recSink{}
	c := NewConn(s, Config{})
	c.cid[packet.FromClient] = nil // zero-length connection ID, as in A.5
	c.largest[packet.FromServer][2] = 654360563
	c.Datagram(packet.FromServer, t0, rfcChaChaPacket)
	if len(s.packets) != 1 || !s.packets[0].Pending {
		t.Fatalf("packets %+v", s.packets)
	}
	if err := c.SetTrafficSecret(packet.FromServer, Level1RTT, TLS_CHACHA20_POLY1305_SHA256, rfcChaChaSecret); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Decrypted != 1 || len(c.pending) != 0 || len(s.anoms) != 0 {
		t.Errorf("stats %+v %v", st, s.anoms)
	}
	if err := c.SetTrafficSecret(packet.FromServer, LevelInitial, TLS_AES_128_GCM_SHA256, rfcChaChaSecret); err == nil {
		t.Error("initial secret accepted")
	}
}
