package quic

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

func FuzzParsePacket(f *testing.F) {
	for _, s := range [][]byte{rfcClientInitial, rfcServerInitial, rfcRetry, rfcV2Retry, rfcV2ClientInitial[:300], rfcChaChaPacket,
		unhex("80000000000008f067a5502a4262b50000000100000002")} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, short uint8) {
		h, err := ParsePacket(b, int(short%24))
		if err != nil {
			return
		}
		// A parsed header lies within its input and within its Len.
		if h.Len < 1 || h.Len > len(b) || h.PNOffset > h.Len || len(h.DCID) > 255 || len(h.SCID) > 255 {
			t.Fatalf("header %+v of %d bytes", h, len(b))
		}
		if h.Long && h.Type != PacketVersionNegotiation && (len(h.DCID) > MaxConnIDLen || len(h.SCID) > MaxConnIDLen) {
			t.Fatalf("long cid in %+v", h)
		}
		if h.Type == PacketVersionNegotiation && len(h.SupportedVersions())*4 != len(h.Versions) {
			t.Fatal("versions")
		}
		// Unprotecting and decrypting with the Initial keys never panics.
		ck, _, err := InitialKeys(Version1, h.DCID)
		if err != nil {
			return
		}
		p := append([]byte(nil), b[:h.Len]...)
		if pn, n, err := ck.Unprotect(p, h.PNOffset, h.Long, -1); err == nil && h.PNOffset > 0 {
			if n > len(p) || n <= h.PNOffset {
				t.Fatalf("header length %d", n)
			}
			_, _ = ck.Decrypt(nil, p, n, pn)
		}
	})
}

// FuzzCryptoReassembly cuts a fixed stream into frames the fuzzer chooses
// (offset and length pairs) and checks that what the stream delivers is a
// prefix of the stream, exactly as long as the prefix the frames cover.
func FuzzCryptoReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 10, 0, 20, 0})
	f.Add([]byte{0, 50, 0, 20, 0, 0, 0, 60, 0, 10, 0, 30})
	f.Add([]byte{1, 0, 0, 5, 0, 0, 0, 1, 0, 200, 0, 255})
	stream := streamBytes(1 << 12)
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 1024
		s := NewCryptoStream(limit)
		var got []byte
		covered := make([]bool, len(stream))
		var next int // the reference: first offset not covered by accepted frames
		for ; len(b) >= 4; b = b[4:] {
			off := int(binary.BigEndian.Uint16(b)) % len(stream)
			n := int(binary.BigEndian.Uint16(b[2:])) % 600
			if off+n > len(stream) {
				n = len(stream) - off
			}
			_, err := s.Add(uint64(off), stream[off:off+n], func(d []byte) { got = append(got, d...) })
			fits := off+n <= next+limit
			if err != nil {
				if fits && len(s.segs) < maxSegments-2 {
					t.Fatalf("frame %d+%d refused at next %d: %v", off, n, next, err)
				}
				continue
			}
			for i := off; i < off+n; i++ {
				covered[i] = true
			}
			for next < len(stream) && covered[next] {
				next++
			}
		}
		if !bytes.Equal(got, stream[:len(got)]) {
			t.Fatal("delivered bytes are not the stream")
		}
		if len(got) != next || s.Next() != uint64(next) {
			t.Fatalf("delivered %d, reference prefix %d", len(got), next)
		}
		total := 0
		for _, sg := range s.segs {
			total += len(sg.data)
			if sg.off <= s.Next() {
				t.Fatal("a piece at or before the prefix")
			}
		}
		if total != s.Buffered() || total > limit {
			t.Fatalf("buffered %d, counted %d", s.Buffered(), total)
		}
	})
}

func FuzzTransportParameters(f *testing.F) {
	f.Add(unhex("0408ffffffffffffffff05048000ffff07048000ffff08011001048000753009011" +
		"00f088394c8f03e51570806048000ffff"))
	f.Add(unhex("1108000000016b3343cf" + "2ab200" + "1b00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParseTransportParameters(b)
		seen := map[TransportParameterID]bool{}
		size := 0
		for _, p := range ps {
			if seen[p.ID] {
				t.Fatal("duplicate returned")
			}
			seen[p.ID] = true
			size += len(p.Value) + 2
			if p.IsInt {
				if v, n := ReadVarint(p.Value); n != len(p.Value) || v != p.Int {
					t.Fatal("integer")
				}
			}
		}
		if size > len(b) {
			t.Fatal("values larger than the input")
		}
		if err == nil {
			// Re-encoding the list gives back the input's length or less
			// (non-minimal varints shrink).
			var out []byte
			for _, p := range ps {
				out = AppendVarint(out, uint64(p.ID))
				out = AppendVarint(out, uint64(len(p.Value)))
				out = append(out, p.Value...)
			}
			if len(out) > len(b) {
				t.Fatal("re-encoding grew")
			}
			if again, err := ParseTransportParameters(out); err != nil || len(again) != len(ps) {
				t.Fatalf("re-encoded list: %v", err)
			}
		}
	})
}

type countSink struct {
	crypto int
	t      *testing.T
}

func (s *countSink) Packet(dir packet.Dir, p *PacketInfo) {
	if p.Size <= 0 {
		s.t.Fatal("packet size")
	}
}
func (s *countSink) Crypto(dir packet.Dir, l Level, b []byte)          { s.crypto += len(b) }
func (s *countSink) ConnectionClose(dir packet.Dir, l Level, f *Frame) {}
func (s *countSink) Anomaly(k AnomalyKind, d string)                   {}

// FuzzConnDatagram feeds a Conn the RFC client Initial and then fuzzed
// datagrams, alternating directions, and checks its budgets hold.
func FuzzConnDatagram(f *testing.F) {
	f.Add(rfcServerInitial, rfcRetry)
	f.Add(append(append([]byte(nil), rfcServerInitial...), rfcServerInitial...), rfcChaChaPacket)
	f.Add(unhex("80000000000008f067a5502a4262b500000001"), rfcV2ClientInitial)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		s := &countSink{t: t}
		cfg := Config{CryptoBuffer: 2048, MaxCryptoBytes: 4096, MaxPending: 2, MaxPendingBytes: 3000}
		c := NewConn(s, cfg)
		c.Datagram(packet.FromClient, time.Time{}, rfcClientInitial)
		for i := 0; i < 3; i++ {
			c.Datagram(packet.FromServer, time.Time{}, a)
			c.Datagram(packet.Dir(i&1), time.Time{}, b)
		}
		_ = c.SetTrafficSecret(packet.FromServer, LevelHandshake, TLS_AES_128_GCM_SHA256, rfcServerInitialSecret)
		if len(c.pending) > cfg.MaxPending || c.pendingBytes > cfg.MaxPendingBytes {
			t.Fatalf("%d pending, %d bytes", len(c.pending), c.pendingBytes)
		}
		for d := range c.streams {
			for l, st := range c.streams[d] {
				if st != nil && st.Buffered() > cfg.CryptoBuffer {
					t.Fatal("crypto buffer")
				}
				if c.stats.CryptoBytes[d][l] > uint64(cfg.MaxCryptoBytes) {
					t.Fatal("crypto bytes")
				}
			}
		}
		if s.crypto < len(rfcClientCrypto)-4 {
			t.Fatal("the client hello was lost")
		}
	})
}
