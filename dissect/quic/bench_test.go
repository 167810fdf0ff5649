package quic

import (
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// BenchmarkInitialDecrypt removes protection from the RFC 9001 client
// Initial with keys already derived: the per-packet cost.
func BenchmarkInitialDecrypt(b *testing.B) {
	ck, _, _ := InitialKeys(Version1, rfcDCID)
	p := make([]byte, len(rfcClientInitial))
	dst := make([]byte, 0, len(rfcClientInitial))
	b.SetBytes(int64(len(rfcClientInitial)))
	b.ReportAllocs()
	for b.Loop() {
		copy(p, rfcClientInitial)
		h, _ := ParsePacket(p, 0)
		pn, n, err := ck.Unprotect(p[:h.Len], h.PNOffset, true, -1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ck.Decrypt(dst, p[:h.Len], n, pn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnClientInitial is a Conn's first datagram: key derivation,
// decryption, frames, reassembly.
func BenchmarkConnClientInitial(b *testing.B) {
	b.SetBytes(int64(len(rfcClientInitial)))
	b.ReportAllocs()
	s := &countSink{}
	for b.Loop() {
		c := NewConn(s, Config{})
		c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial)
	}
}

// BenchmarkConnDatagram is a steady-state datagram of a known flow (the
// same Initial again, its CRYPTO a duplicate).
func BenchmarkConnDatagram(b *testing.B) {
	s := &countSink{}
	c := NewConn(s, Config{MaxPackets: 1 << 30})
	c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial)
	b.SetBytes(int64(len(rfcClientInitial)))
	b.ReportAllocs()
	for b.Loop() {
		c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial)
	}
}

func TestConnDatagramAllocs(t *testing.T) {
	s := &countSink{t: t}
	c := NewConn(s, Config{MaxPackets: 1 << 30})
	c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial)
	if n := testing.AllocsPerRun(50, func() { c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial) }); n > 0 {
		t.Errorf("%.1f allocations per datagram", n)
	}
}
