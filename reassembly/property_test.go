package reassembly

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// connScript is one whole connection: handshake, both streams cut into
// segments, a FIN each.
type connScript struct {
	cISN, sISN uint32
	streams    [2][]byte
	handshake  []*packet.Segment
	rest       []*packet.Segment // data and FINs, in order
}

func randomConn(r *rand.Rand, c, s netip.AddrPort) *connScript {
	cs := &connScript{cISN: r.Uint32(), sISN: r.Uint32()}
	if r.IntN(4) == 0 {
		cs.cISN = 0xffffffff - uint32(r.IntN(3000)) // the stream crosses the wrap
	}
	for d := range 2 {
		cs.streams[d] = make([]byte, r.IntN(12000))
		for i := range cs.streams[d] {
			cs.streams[d][i] = byte(r.Uint32())
		}
	}
	at := t0
	mk := func(d packet.Dir, flags uint8, seq, ack uint32, payload []byte) *packet.Segment {
		src, dst := c, s
		if d == packet.FromServer {
			src, dst = s, c
		}
		return &packet.Segment{Timestamp: at, Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: flags, Window: 65535, Payload: payload}
	}
	isn := [2]uint32{cs.cISN, cs.sISN}
	cs.handshake = []*packet.Segment{
		mk(packet.FromClient, packet.FlagSYN, cs.cISN, 0, nil),
		mk(packet.FromServer, packet.FlagSYN|packet.FlagACK, cs.sISN, cs.cISN+1, nil),
	}
	cs.rest = append(cs.rest, mk(packet.FromClient, packet.FlagACK, cs.cISN+1, cs.sISN+1, nil))
	// Acknowledgements stay at the peer's ISN+1: a permutation breaks the
	// causality real ACKs carry, and an ACK of unseen data would rightly
	// declare a gap.
	for d := range packet.Dir(2) {
		data := cs.streams[d]
		for off := 0; off < len(data); {
			n := min(1+r.IntN(1460), len(data)-off)
			cs.rest = append(cs.rest, mk(d, packet.FlagACK|packet.FlagPSH, isn[d]+1+uint32(off), isn[1-d]+1, data[off:off+n]))
			off += n
		}
		cs.rest = append(cs.rest, mk(d, packet.FlagFIN|packet.FlagACK, isn[d]+1+uint32(len(data)), isn[1-d]+1, nil))
	}
	return cs
}

// impair permutes segs and adds duplicates, some cut at other boundaries.
func impair(r *rand.Rand, cs *connScript, segs []*packet.Segment) []*packet.Segment {
	out := append([]*packet.Segment(nil), segs...)
	ndup := r.IntN(len(segs)/2 + 2)
	for range ndup {
		orig := segs[r.IntN(len(segs))]
		dup := *orig
		if len(orig.Payload) > 2 && r.IntN(2) == 0 {
			// A retransmission with other boundaries, same content.
			from := r.IntN(len(orig.Payload) - 1)
			to := from + 1 + r.IntN(len(orig.Payload)-from-1)
			dup.Payload = orig.Payload[from:to]
			dup.Seq = orig.Seq + uint32(from)
			dup.Flags &^= packet.FlagFIN
		}
		out = append(out, &dup)
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestPermutationProperty: any permutation and duplication of a
// connection's segments, within the budgets, yields the streams that
// in-order delivery yields.
func TestPermutationProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cfg := Config{MaxBufferedPerConn: 1 << 22, MaxBufferedTotal: 1 << 24, GapTimeout: time.Hour, IdleTimeout: 2 * time.Hour}
	for trial := range 400 {
		cs := randomConn(r, cli, srv)
		segs := cs.handshake
		if trial > 0 {
			segs = append(append([]*packet.Segment(nil), cs.handshake...), impair(r, cs, cs.rest)...)
		} else {
			segs = append(segs, cs.rest...)
		}
		f := &recFactory{t: t, nolog: true}
		a := drive(cfg, f)
		for _, s := range segs {
			// Add must not keep the payload: scribble on a copy after.
			p := append([]byte(nil), s.Payload...)
			seg := *s
			seg.Payload = p
			a.Add(&seg)
			clear(p)
		}
		a.CloseAll(t0.Add(time.Minute))
		if len(f.conns) != 1 {
			t.Fatalf("trial %d: %d connections", trial, len(f.conns))
		}
		rc := f.conns[0]
		for d := range 2 {
			if !bytes.Equal(rc.streams[d], cs.streams[d]) {
				t.Fatalf("trial %d dir %d: stream of %d bytes differs from the %d sent (gaps %v)", trial, d, len(rc.streams[d]), len(cs.streams[d]), rc.gaps)
			}
		}
		if rc.gaps != [2]int{} || rc.closed != 1 || rc.close.Reason != CloseFIN {
			t.Fatalf("trial %d: gaps %v, closed %d, reason %v", trial, rc.gaps, rc.closed, rc.close.Reason)
		}
		if _, bad := rc.anomaly(AnomalyOverlapConflict); bad {
			t.Fatalf("trial %d: overlap conflict on identical retransmissions", trial)
		}
		if s := a.Stats(); s.BufferedBytes != 0 || s.GapBytes != 0 {
			t.Fatalf("trial %d: stats %+v", trial, s)
		}
	}
}

// FuzzAssembler decodes the input into segments over four 4-tuples with
// tiny budgets and timeouts, and checks after every segment that the
// budgets hold and the bookkeeping agrees; the recorder fails the test on
// Data/Gap/Anomaly after Close or a second Close.
//
// Each segment takes 8 bytes:
//
//	0: flags (low 6 bits), 0x40 from the server, 0x80 a far sequence jump
//	1: connection (low 2 bits), 0x04 payload is noise not the pattern,
//	   bits 3-4 truncated bytes / 7
//	2-3: sequence delta from the side's high-water mark (int16)
//	4: payload length
//	5: ack delta from the peer's high-water mark (int8)
//	6: capture time advance, 10 ms units (0xff: back 1 s)
//	7: window
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{
		packet.FlagSYN, 0, 0, 0, 0, 0, 1, 0xff,
		packet.FlagSYN | packet.FlagACK | 0x40, 0, 0, 0, 0, 1, 1, 0xff,
		packet.FlagACK, 0, 0, 1, 0, 1, 1, 0xff,
		packet.FlagACK | packet.FlagPSH, 0, 0, 0, 200, 0, 1, 0xff,
		packet.FlagACK | packet.FlagPSH | 0x40, 0, 0, 0, 100, 0, 1, 0xff,
		packet.FlagACK | packet.FlagPSH, 0, 0, 100, 50, 0, 1, 0xff, // a hole of 100
		packet.FlagACK | packet.FlagPSH, 0x04, 0, 50, 80, 0, 1, 0xff, // overlap, noise
		packet.FlagFIN | packet.FlagACK, 0, 0, 0, 0, 0, 30, 0xff,
		packet.FlagFIN | packet.FlagACK | 0x40, 0, 0, 0, 0, 1, 1, 0xff,
	})
	f.Add([]byte{
		packet.FlagACK | packet.FlagPSH, 1, 0, 0, 255, 0, 0, 3,
		packet.FlagACK | packet.FlagPSH | 0x40, 1, 1, 0, 255, 0, 0, 3,
		packet.FlagACK | packet.FlagPSH, 0x19, 0, 0x80, 255, 0, 0, 3,
		packet.FlagRST | 0x40, 1, 0x7f, 0xff, 0, 0, 0, 3,
		packet.FlagSYN, 1, 0, 0, 0, 0, 0, 3,
		packet.FlagSYN | 0x80, 1, 0x12, 0x34, 0, 0, 0, 0,
		packet.FlagACK | packet.FlagPSH, 2, 0xff, 0x00, 255, 0, 250, 0,
	})
	f.Fuzz(fuzzAssembler)
}

func fuzzAssembler(t *testing.T, in []byte) {
	{
		cfg := Config{MaxBufferedPerConn: 600, MaxBufferedTotal: 1000, MaxConns: 3,
			IdleTimeout: 2 * time.Second, GapTimeout: 300 * time.Millisecond, TimeWait: time.Second}
		fac := &recFactory{t: t, nolog: true}
		a := drive(cfg, fac)
		var high [4][2]uint32
		var pattern, noise [256]byte
		for i := range pattern {
			pattern[i] = byte(i * 7)
			noise[i] = byte(i*13 + 5)
		}
		now := t0
		for len(in) >= 8 {
			b := in[:8]
			in = in[8:]
			ci := int(b[1] & 3)
			d := packet.Dir(0)
			if b[0]&0x40 != 0 {
				d = 1
			}
			seq := high[ci][d] + uint32(int32(int16(uint16(b[2])<<8|uint16(b[3]))))
			if b[0]&0x80 != 0 {
				seq = uint32(b[2])<<24 | uint32(b[3])<<16
			}
			n := int(b[4])
			payload := pattern[:n]
			if b[1]&0x04 != 0 {
				payload = noise[:n]
			}
			if b[6] == 0xff {
				now = now.Add(-time.Second)
			} else {
				now = now.Add(time.Duration(b[6]) * 10 * time.Millisecond)
			}
			client := netip.AddrPortFrom(cli.Addr(), uint16(40000+ci))
			server := srv
			if ci == 3 {
				server = netip.AddrPortFrom(srv.Addr(), 40003) // a port tie
			}
			src, dst := client, server
			if d == 1 {
				src, dst = server, client
			}
			seg := &packet.Segment{Timestamp: now, Src: src, Dst: dst, Seq: seq,
				Ack: high[ci][1-d] + uint32(int8(b[5])), Flags: b[0] & 0x3f, Window: uint16(b[7]) << 4,
				Payload: append([]byte(nil), payload...), Truncated: int(b[1]>>3&3) * 7}
			if end := seq + uint32(n); int32(end-high[ci][d]) > 0 {
				high[ci][d] = end
			}
			a.Add(seg)
			clear(seg.Payload) // the assembler must have copied what it kept
			checkInvariants(t, a.Assembler)
		}
		a.CloseAll(now)
		checkInvariants(t, a.Assembler)
		if a.Open() != 0 || a.Stats().BufferedBytes != 0 || len(a.conns) != 0 {
			t.Fatalf("after CloseAll: open %d, buffered %d, table %d", a.Open(), a.Stats().BufferedBytes, len(a.conns))
		}
		if got := a.Stats().Connections; got != uint64(len(fac.conns)) {
			t.Fatalf("Connections = %d, handlers made %d", got, len(fac.conns))
		}
		for _, r := range fac.conns {
			if r.closed != 1 {
				t.Fatalf("conn %d closed %d times", r.info.ID, r.closed)
			}
			for d := range 2 {
				if uint64(len(r.streams[d])) != r.close.Delivered[d] || uint64(r.gaps[d]) != r.close.Missing[d] {
					t.Fatalf("conn %d dir %d: delivered %d/%d, missing %d/%d", r.info.ID, d,
						len(r.streams[d]), r.close.Delivered[d], r.gaps[d], r.close.Missing[d])
				}
			}
		}
	}
}

// checkInvariants checks the budgets and the bookkeeping of every
// connection.
func checkInvariants(t testing.TB, a *Assembler) {
	t.Helper()
	if a.bufTotal > a.cfg.MaxBufferedTotal || a.bufTotal < 0 {
		t.Fatalf("buffered %d, total budget %d", a.bufTotal, a.cfg.MaxBufferedTotal)
	}
	if open := a.lru.n + a.halfOpen.n; open+a.tombs.n > a.cfg.MaxConns || len(a.conns) != open+a.tombs.n {
		t.Fatalf("open %d (%d half-open) + closed %d, table %d, MaxConns %d", open, a.halfOpen.n, a.tombs.n, len(a.conns), a.cfg.MaxConns)
	}
	for c := a.halfOpen.head; c != nil; c = a.halfOpen.next(c) {
		if !c.inHalf || c.closed || c.packets[packet.FromServer] > 0 {
			t.Fatalf("conn %d in the half-open list: inHalf %v, closed %v, %d server packets", c.id, c.inHalf, c.closed, c.packets[packet.FromServer])
		}
	}
	sum, waiting := 0, 0
	for _, c := range a.conns {
		if c.closed {
			if c.h != nil || !c.inTomb || c.buffered() != 0 {
				t.Fatalf("closed conn %d: handler %v, tomb %v, buffered %d", c.id, c.h != nil, c.inTomb, c.buffered())
			}
			continue
		}
		if c.buffered() > a.cfg.MaxBufferedPerConn {
			t.Fatalf("conn %d buffers %d, budget %d", c.id, c.buffered(), a.cfg.MaxBufferedPerConn)
		}
		sum += c.buffered()
		w := false
		for d := range 2 {
			h := &c.d[d]
			cost := 0
			prev := h.next
			for i, ch := range h.q.live() {
				if !prev.LessThan(ch.seq) && !(i > 0 && prev == ch.seq) {
					t.Fatalf("conn %d dir %d: chunk %d at %d not after %d (next %d)", c.id, d, i, ch.seq, prev, h.next)
				}
				if ch.data != nil && len(ch.data) != int(ch.n) || ch.n == 0 {
					t.Fatalf("conn %d dir %d: chunk %d of %d with %d bytes", c.id, d, i, ch.n, len(ch.data))
				}
				if h.finSeen && h.fin.LessThan(ch.end()) {
					t.Fatalf("conn %d dir %d: chunk beyond the FIN", c.id, d)
				}
				prev = ch.end()
				cost += ch.cost()
			}
			if cost != h.buffered || h.q.len() > maxChunksPerDir {
				t.Fatalf("conn %d dir %d: cost %d, accounted %d, %d chunks", c.id, d, cost, h.buffered, h.q.len())
			}
			if h.waiting() {
				w = true
				if h.holeSince.IsZero() {
					t.Fatalf("conn %d dir %d waits with no time", c.id, d)
				}
			}
		}
		if w != c.inBuf {
			t.Fatalf("conn %d: waiting %v, listed %v", c.id, w, c.inBuf)
		}
		if w {
			waiting++
		}
	}
	if sum != a.bufTotal || waiting != a.waiting.n {
		t.Fatalf("buffered %d vs total %d; waiting %d vs list %d", sum, a.bufTotal, waiting, a.waiting.n)
	}
}
