package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// piece is a fragment to send: [start, end) of the fragmentable part,
// optionally with its bytes altered, at a capture time offset.
type piece struct {
	start, end int // end -1: to the end
	alter      bool
	at         time.Duration
	id         uint32 // 0: the default identification
}

func TestIPv4Fragments(t *testing.T) {
	spec := defaultSpec(false, strings.Repeat("0123456789abcdef", 190)) // 3040 bytes of payload
	spec.ipID = 0x4242
	tests := []struct {
		name        string
		pieces      []piece
		reassembled bool
		dropped     bool // FragmentsDropped > 0
	}{
		{"in order", []piece{{0, 1200, false, 0, 0}, {1200, 2400, false, 0, 0}, {2400, -1, false, 0, 0}}, true, false},
		{"reversed", []piece{{2400, -1, false, 0, 0}, {1200, 2400, false, 0, 0}, {0, 1200, false, 0, 0}}, true, false},
		{"last first, then first", []piece{{2400, -1, false, 0, 0}, {0, 1200, false, 0, 0}, {1200, 2400, false, 0, 0}}, true, false},
		{"overlap, same bytes", []piece{{0, 1600, false, 0, 0}, {1200, 2400, false, 0, 0}, {800, 2000, false, 0, 0}, {2400, -1, false, 0, 0}}, true, false},
		{"duplicate", []piece{{0, 1200, false, 0, 0}, {0, 1200, false, 0, 0}, {1200, -1, false, 0, 0}}, true, false},
		{"overlap, different bytes", []piece{{0, 1600, false, 0, 0}, {1200, 2400, true, 0, 0}, {2400, -1, false, 0, 0}}, false, true},
		{"timeout", []piece{{0, 1200, false, 0, 0}, {1200, 2400, false, 31 * time.Second, 0}, {2400, -1, false, 31 * time.Second, 0}}, false, true},
		{"within timeout", []piece{{0, 1200, false, 0, 0}, {1200, 2400, false, 29 * time.Second, 0}, {2400, -1, false, 29 * time.Second, 0}}, true, false},
		{"other datagram", []piece{{0, 1200, false, 0, 0}, {1200, 2400, false, 0, 7}, {2400, -1, false, 0, 0}}, false, false},
		{"unaligned middle", []piece{{0, 1201, false, 0, 0}, {1201, -1, false, 0, 0}}, false, true},
	}
	transport := spec.transport(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []rec
			for _, p := range tc.pieces {
				end := p.end
				if end < 0 {
					end = len(transport)
				}
				data := bytes.Clone(transport[p.start:end])
				if p.alter {
					data[0] ^= 0xff // inside the overlap
				}
				sp := spec
				if p.id != 0 {
					sp.ipID = uint16(p.id)
				}
				frag := sp.v4Fragment(t, p.start, end < len(transport), data)
				recs = append(recs, rec{ts: t0.Add(p.at), data: frameFor(t, LinkTypeEthernet, "", frag)})
			}
			segs, st, err := readAll(t, pcapBytes(LinkTypeEthernet, pcapOpts{}, recs...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Fragments != uint64(len(tc.pieces)) {
				t.Errorf("Fragments %d, want %d", st.Fragments, len(tc.pieces))
			}
			if tc.reassembled {
				if len(segs) != 1 || st.Reassembled != 1 {
					t.Fatalf("%d segments, Reassembled %d; want 1, 1 (stats %+v)", len(segs), st.Reassembled, st)
				}
				wantSeg(t, segs[0], spec, segs[0].Timestamp)
			} else if len(segs) != 0 || st.Reassembled != 0 {
				t.Errorf("%d segments, Reassembled %d; want none", len(segs), st.Reassembled)
			}
			if (st.FragmentsDropped > 0) != tc.dropped {
				t.Errorf("FragmentsDropped %d, want dropped=%v", st.FragmentsDropped, tc.dropped)
			}
		})
	}
}

func TestIPv4FragmentsNotTCP(t *testing.T) {
	ip := &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolUDP, Flags: layers.IPv4MoreFragments,
		SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	frame := frameFor(t, LinkTypeEthernet, "", serialize(t, ip, gopacket.Payload(make([]byte, 800))))
	_, st, err := readAll(t, pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame}), Options{})
	if err != nil || st.NonTCP != 1 || st.Fragments != 1 {
		t.Errorf("stats %+v, %v: want one non-TCP fragment", st, err)
	}
}

func TestIPv6Fragments(t *testing.T) {
	spec := defaultSpec(true, strings.Repeat("v6-fragmented!", 200))
	// The fragmentable part starts with a destination options header.
	part := append(extHeader(ipProtoTCP, 2), spec.transport(t)...)
	hbh := extHeader(ipProtoFragment, 1) // unfragmentable part: hop-by-hop
	tests := []struct {
		name   string
		pre    []byte
		pieces []piece
		want   bool
	}{
		{"in order", nil, []piece{{0, 1232, false, 0, 0}, {1232, -1, false, 0, 0}}, true},
		{"reversed, hop-by-hop first", hbh, []piece{{1232, 2464, false, 0, 0}, {2464, -1, false, 0, 0}, {0, 1232, false, 0, 0}}, true},
		{"overlap, different bytes", nil, []piece{{0, 1600, false, 0, 0}, {1232, -1, true, 0, 0}}, false},
		{"two ids", nil, []piece{{0, 1232, false, 0, 0}, {1232, -1, false, 0, 9}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []rec
			for _, p := range tc.pieces {
				end := p.end
				if end < 0 {
					end = len(part)
				}
				data := bytes.Clone(part[p.start:end])
				if p.alter {
					data[0] ^= 0xff
				}
				id := uint32(0xabcdef)
				if p.id != 0 {
					id = p.id
				}
				frag := spec.v6Fragment(t, tc.pre, ipProtoHopByHop, ipProtoDstOpts, id, p.start, end < len(part), data)
				recs = append(recs, rec{ts: t0, data: frameFor(t, LinkTypeLinuxSLL2, "", frag)})
			}
			segs, st, err := readAll(t, pcapBytes(LinkTypeLinuxSLL2, pcapOpts{}, recs...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Fragments != uint64(len(tc.pieces)) {
				t.Errorf("Fragments %d, want %d", st.Fragments, len(tc.pieces))
			}
			if !tc.want {
				if len(segs) != 0 {
					t.Errorf("%d segments, want none", len(segs))
				}
				return
			}
			if len(segs) != 1 || st.Reassembled != 1 {
				t.Fatalf("%d segments, stats %+v", len(segs), st)
			}
			wantSeg(t, segs[0], spec, t0)
		})
	}
}

// checkReassembler verifies the budget and the bookkeeping.
func checkReassembler(t testing.TB, r *reassembler) {
	t.Helper()
	if r.held > r.max {
		t.Fatalf("held %d bytes, over the budget of %d", r.held, r.max)
	}
	sum, n := 0, 0
	for dg := r.oldest; dg != nil; dg = dg.newer {
		if r.pending[dg.key] != dg {
			t.Fatalf("datagram on the list but not in the map")
		}
		if dg.cost != datagramOverhead+cap(dg.buf) {
			t.Fatalf("cost %d, want %d", dg.cost, datagramOverhead+cap(dg.buf))
		}
		if len(dg.have) > maxFragsPerDatagram || cap(dg.buf) > maxDatagram {
			t.Fatalf("datagram over its limits: %d spans, %d bytes", len(dg.have), cap(dg.buf))
		}
		for i, s := range dg.have {
			if s.start >= s.end || s.end > len(dg.buf) || (i > 0 && dg.have[i-1].end >= s.start) {
				t.Fatalf("bad span list %v (len %d)", dg.have, len(dg.buf))
			}
		}
		sum += dg.cost
		n++
	}
	if sum != r.held || n != len(r.pending) {
		t.Fatalf("held %d, sum of costs %d; %d on the list, %d in the map", r.held, sum, n, len(r.pending))
	}
}

func TestFragmentBudget(t *testing.T) {
	var st Stats
	const budget = 5 * (datagramOverhead + 1500)
	r := newReassembler(budget, time.Minute, &st)
	data := make([]byte, 1480)
	for i := range 50 {
		key := fragKey{id: uint32(i), proto: ipProtoTCP}
		if _, _, ok := r.add(key, t0, 0, true, data, ipProtoTCP); ok {
			t.Fatal("a first fragment completed a datagram")
		}
		checkReassembler(t, &r)
	}
	if len(r.pending) != 5 {
		t.Errorf("%d datagrams pending, want the 5 newest", len(r.pending))
	}
	if st.FragmentsDropped != 45 {
		t.Errorf("FragmentsDropped %d, want 45", st.FragmentsDropped)
	}
	// The newest still completes.
	payload, inner, ok := r.add(fragKey{id: 49, proto: ipProtoTCP}, t0, 1480, false, []byte("end"), ipProtoTCP)
	if !ok || len(payload) != 1483 || inner != ipProtoTCP {
		t.Errorf("completion: ok=%v len=%d inner=%d", ok, len(payload), inner)
	}
	checkReassembler(t, &r)
	// A fragment that cannot fit even alone is refused.
	small := newReassembler(1000, time.Minute, &st)
	if _, _, ok := small.add(fragKey{id: 1}, t0, 0, true, data, ipProtoTCP); ok || len(small.pending) != 0 {
		t.Error("fragment larger than the budget was kept")
	}
	checkReassembler(t, &small)
	// Beyond 65535 bytes: refused.
	if _, _, ok := r.add(fragKey{id: 99}, t0, 65528, false, make([]byte, 16), ipProtoTCP); ok || r.pending[fragKey{id: 99}] != nil {
		t.Error("datagram beyond 65535 bytes was kept")
	}
	checkReassembler(t, &r)
}

func TestFragmentLimits(t *testing.T) {
	var st Stats
	r := newReassembler(1<<20, time.Minute, &st)
	key := fragKey{id: 5}
	// Tiny fragments with holes between them: the fragment count limit
	// abandons the datagram.
	for i := range maxFragsPerDatagram + 1 {
		r.add(key, t0, i*16, true, make([]byte, 8), ipProtoTCP)
		checkReassembler(t, &r)
	}
	if r.pending[key] != nil {
		t.Error("datagram with too many fragments kept")
	}
	// Two different ends: abandoned.
	r.add(key, t0, 0, false, make([]byte, 8), ipProtoTCP)
	r.add(key, t0, 0, false, make([]byte, 16), ipProtoTCP)
	if r.pending[key] != nil {
		t.Error("datagram with two lengths kept")
	}
	checkReassembler(t, &r)
}

func TestAddSpan(t *testing.T) {
	tests := []struct {
		have []span
		add  span
		want []span
	}{
		{nil, span{0, 8}, []span{{0, 8}}},
		{[]span{{16, 24}}, span{0, 8}, []span{{0, 8}, {16, 24}}},
		{[]span{{0, 8}}, span{16, 24}, []span{{0, 8}, {16, 24}}},
		{[]span{{0, 8}, {16, 24}}, span{8, 16}, []span{{0, 24}}},
		{[]span{{0, 8}, {16, 24}, {32, 40}}, span{4, 36}, []span{{0, 40}}},
		{[]span{{0, 8}, {16, 24}, {48, 56}}, span{20, 30}, []span{{0, 8}, {16, 30}, {48, 56}}},
	}
	for _, tc := range tests {
		got := addSpan(tc.have, tc.add)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("addSpan(%v, %v) = %v, want %v", tc.have, tc.add, got, tc.want)
		}
	}
}

// FuzzFragments feeds sequences of fragments to a reassembler with a small
// budget and checks that the budget and the bookkeeping hold after every
// one, and that a completed datagram is exactly as long as announced.
func FuzzFragments(f *testing.F) {
	// Each 6-byte op: key(1) offset/8(2) length/8(1) flags(1) fill(1).
	// flags bit 0: more fragments; bits 1-7: seconds to advance.
	f.Add([]byte{1, 0, 0, 10, 1, 'a', 1, 0, 10, 10, 0, 'b'})
	f.Add([]byte{1, 0, 10, 10, 0, 'b', 1, 0, 0, 10, 1, 'a'})
	f.Add([]byte{1, 0, 0, 20, 1, 'a', 1, 0, 10, 10, 0, 'a', 2, 0, 0, 1, 0x41, 'c'})
	f.Add([]byte{3, 0x1f, 0xff, 0xff, 0, 'x', 3, 0, 0, 0xff, 1, 'y'})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var st Stats
		r := newReassembler(8*(datagramOverhead+1024), 30*time.Second, &st)
		now := t0
		for len(ops) >= 6 {
			op := ops[:6]
			ops = ops[6:]
			key := fragKey{id: uint32(op[0] % 8), proto: ipProtoTCP, v6: op[0]&0x80 != 0}
			offset := int(binary.BigEndian.Uint16(op[1:3])) * 8
			length := int(op[3]) * 8
			more := op[4]&1 != 0
			if !more && op[5]&1 != 0 {
				length += int(op[5] % 8) // a last fragment may have any length
			}
			now = now.Add(time.Duration(op[4]>>1) * time.Second)
			payload, _, ok := r.add(key, now, offset, more, bytes.Repeat(op[5:6], length), ipProtoTCP)
			if ok && (len(payload) < offset+length || (!more && len(payload) != offset+length) || len(payload) > maxDatagram) {
				t.Fatalf("completed datagram of %d bytes by fragment [%d, %d) more=%v", len(payload), offset, offset+length, more)
			}
			if ok && r.pending[key] != nil {
				t.Fatal("completed datagram still pending")
			}
			checkReassembler(t, &r)
		}
	})
}
