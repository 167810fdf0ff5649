package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/tlsdissect/tlsdissect/internal/testgen"
	"github.com/tlsdissect/tlsdissect/packet"
)

// wrote is one packet a mixed capture was written with.
type wrote struct {
	udp      bool
	src, dst netip.AddrPort
	ts       time.Time
	payload  []byte
	seq      uint32
}

// mixedCapture writes, with testgen's PacketWriter, a capture that
// interleaves TCP segments and UDP datagrams of two conversations (a QUIC
// one on UDP 443 and a TLS one on TCP 443), and returns what it wrote in
// order.
func mixedCapture(t testing.TB, f testgen.Format, l testgen.LinkType, v6 bool, n int) ([]byte, []wrote) {
	t.Helper()
	client, server := netip.AddrPortFrom(cli4, 50000), netip.AddrPortFrom(srv4, 443)
	if v6 {
		client, server = netip.AddrPortFrom(cli6, 50000), netip.AddrPortFrom(srv6, 443)
	}
	var buf bytes.Buffer
	pw, err := testgen.NewPacketWriter(&buf, f, l)
	if err != nil {
		t.Fatal(err)
	}
	var out []wrote
	for i := range n {
		from := testgen.Dir(i % 2)
		src, dst := client, server
		if from == testgen.ServerToClient {
			src, dst = server, client
		}
		p := &testgen.Packet{Time: t0.Add(time.Duration(i) * time.Millisecond), From: from,
			Payload: fmt.Appendf(nil, "packet %d %s", i, bytes.Repeat([]byte{'q'}, i*37%1200))}
		udp := i%3 != 2 // two datagrams for every segment
		if udp {
			err = pw.WriteUDP(client, server, p)
		} else {
			p.Seq, p.Ack, p.Flags, p.Window = uint32(1000+i), 77, testgen.FlagACK|testgen.FlagPSH, 512
			err = pw.Write(client, server, p)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, wrote{udp: udp, src: src, dst: dst, ts: p.Time, payload: p.Payload, seq: p.Seq})
	}
	if err := pw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), out
}

// TestNextPacketMixedFile reads testgen's captures back: NextPacket
// returns every datagram and segment in order with its frame number, Next
// exactly the segments.
func TestNextPacketMixedFile(t *testing.T) {
	for _, f := range []testgen.Format{testgen.FormatPcap, testgen.FormatPcapng} {
		for _, l := range []testgen.LinkType{testgen.LinkEthernet, testgen.LinkVLAN, testgen.LinkSLL, testgen.LinkRaw} {
			for _, v6 := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%v/v6=%v", f, l, v6), func(t *testing.T) {
					file, want := mixedCapture(t, f, l, v6, 60)
					s, err := openReader(bytes.NewReader(file), "mixed", Options{})
					if err != nil {
						t.Fatal(err)
					}
					var udps, tcps uint64
					for i, w := range want {
						var p packet.Packet
						if err := s.NextPacket(&p); err != nil {
							t.Fatalf("packet %d: %v", i, err)
						}
						if p.Frame != uint64(i+1) {
							t.Errorf("packet %d: frame %d", i, p.Frame)
						}
						if w.udp {
							udps++
							d := p.Datagram
							if p.Transport != packet.UDP || d.Src != w.src || d.Dst != w.dst || !bytes.Equal(d.Payload, w.payload) ||
								!d.Timestamp.Equal(w.ts) || d.Truncated != 0 {
								t.Fatalf("packet %d: %v %v -> %v %q at %v; want UDP %v -> %v %q at %v",
									i, p.Transport, d.Src, d.Dst, d.Payload, d.Timestamp, w.src, w.dst, w.payload, w.ts)
							}
						} else {
							tcps++
							g := p.Segment
							if p.Transport != packet.TCP || g.Src != w.src || g.Dst != w.dst || g.Seq != w.seq ||
								!bytes.Equal(g.Payload, w.payload) || !g.Timestamp.Equal(w.ts) {
								t.Fatalf("packet %d: %v %v -> %v seq %d %q; want TCP %v -> %v seq %d %q",
									i, p.Transport, g.Src, g.Dst, g.Seq, g.Payload, w.src, w.dst, w.seq, w.payload)
							}
						}
					}
					var p packet.Packet
					if err := s.NextPacket(&p); err != io.EOF {
						t.Fatalf("after the last packet: %v", err)
					}
					st := s.Stats()
					if st.UDPDatagrams != udps || st.TCPSegments != tcps || st.NonTCP != 0 || st.Packets != uint64(len(want)) {
						t.Errorf("stats %+v, want %d datagrams and %d segments", st, udps, tcps)
					}

					segs, st, err := readAll(t, file, Options{})
					if err != nil {
						t.Fatal(err)
					}
					j := 0
					for _, w := range want {
						if w.udp {
							continue
						}
						if j >= len(segs) || segs[j].Seq != w.seq || !bytes.Equal(segs[j].Payload, w.payload) {
							t.Fatalf("Next: segment %d differs from the written one", j)
						}
						j++
					}
					if j != len(segs) || st.TCPSegments != tcps || st.UDPDatagrams != 0 || st.Skipped[SkipUDP] != udps || st.NonTCP != udps {
						t.Errorf("Next: %d segments, stats %+v; want %d and %d UDP skipped", len(segs), st, tcps, udps)
					}
				})
			}
		}
	}
}

// TestUDPLengths: the UDP length field trims trailing bytes, 0 means the
// captured bytes, and a snap-cut datagram says how much is missing.
func TestUDPLengths(t *testing.T) {
	src, dst := netip.AddrPortFrom(cli4, 4433), netip.AddrPortFrom(srv4, 443)
	payload := bytes.Repeat([]byte("0123456789"), 30)
	ip, _ := udpPacket(t, src, dst, payload)
	// The UDP length says 100 payload bytes although IP carries 300.
	short := bytes.Clone(ip)
	binary.BigEndian.PutUint16(short[20+4:], 8+100)
	zero := bytes.Clone(ip)
	binary.BigEndian.PutUint16(zero[20+4:], 0)
	ip6, _ := udpPacket(t, netip.AddrPortFrom(cli6, 4433), netip.AddrPortFrom(srv6, 443), payload)
	tests := []struct {
		name      string
		frame     []byte
		wire      int
		payload   []byte
		truncated int
	}{
		{"whole", ip, 0, payload, 0},
		{"udp length shorter than ip", short, 0, payload[:100], 0},
		{"udp length zero", zero, 0, payload, 0},
		{"snap cut v4", ip[:20+8+50], len(ip), payload[:50], 250},
		{"snap cut v6", ip6[:40+8+50], len(ip6), payload[:50], 250},
		{"snap cut, udp length short", short[:20+8+50], len(short), payload[:50], 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := pcapBytes(LinkTypeRaw, pcapOpts{}, rec{ts: t0, data: tc.frame, wireLen: tc.wire})
			s, err := openReader(bytes.NewReader(file), "udp", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var p packet.Packet
			if err := s.NextPacket(&p); err != nil {
				t.Fatal(err)
			}
			if p.Transport != packet.UDP || !bytes.Equal(p.Datagram.Payload, tc.payload) || p.Datagram.Truncated != tc.truncated {
				t.Errorf("%v: %d payload bytes, %d truncated; want %d and %d", p.Transport, len(p.Datagram.Payload), p.Datagram.Truncated, len(tc.payload), tc.truncated)
			}
			if want := uint64(min(tc.truncated, 1)); s.Stats().Truncated != want {
				t.Errorf("Stats.Truncated %d, want %d", s.Stats().Truncated, want)
			}
		})
	}
}

// TestUDPFragments: NextPacket reassembles fragmented datagrams of IPv4
// and IPv6 (QUIC Initials and DTLS flights are often large); Next skips
// their fragments without reassembling them, as it always did.
func TestUDPFragments(t *testing.T) {
	payload := bytes.Repeat([]byte("fragmented datagram "), 150) // 3000 bytes
	for _, v6 := range []bool{false, true} {
		src, dst := netip.AddrPortFrom(cli4, 4433), netip.AddrPortFrom(srv4, 443)
		if v6 {
			src, dst = netip.AddrPortFrom(cli6, 4433), netip.AddrPortFrom(srv6, 443)
		}
		_, tr := udpPacket(t, src, dst, payload)
		var recs []rec
		for off := 0; off < len(tr); off += 1232 {
			end := min(off+1232, len(tr))
			more := end < len(tr)
			var ip []byte
			if v6 {
				fh := []byte{ipProtoUDP, 0, 0, 0, 0, 0, 0x12, 0x34}
				of := uint16(off)
				if more {
					of |= 1
				}
				binary.BigEndian.PutUint16(fh[2:4], of)
				ip = serialize(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
					SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}, gopacket.Payload(append(fh, tr[off:end]...)))
			} else {
				ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: 0x1234, FragOffset: uint16(off / 8),
					SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
				if more {
					ip4.Flags = layers.IPv4MoreFragments
				}
				ip = serialize(t, ip4, gopacket.Payload(tr[off:end]))
			}
			recs = append(recs, rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", ip)})
		}
		file := pcapBytes(LinkTypeEthernet, pcapOpts{}, recs...)
		s, err := openReader(bytes.NewReader(file), "frag", Options{})
		if err != nil {
			t.Fatal(err)
		}
		var p packet.Packet
		if err := s.NextPacket(&p); err != nil {
			t.Fatalf("v6=%v: %v; stats %+v", v6, err, s.Stats())
		}
		if p.Transport != packet.UDP || !bytes.Equal(p.Datagram.Payload, payload) || p.Datagram.Src != src || p.Frame != uint64(len(recs)) {
			t.Errorf("v6=%v: %v frame %d, %d payload bytes from %v", v6, p.Transport, p.Frame, len(p.Datagram.Payload), p.Datagram.Src)
		}
		if s.Retained() {
			t.Error("a reassembled payload claims to be retained")
		}
		if st := s.Stats(); st.Fragments != uint64(len(recs)) || st.Reassembled != 1 || st.UDPDatagrams != 1 {
			t.Errorf("v6=%v: stats %+v", v6, st)
		}

		segs, st, err := readAll(t, file, Options{})
		if err != nil || len(segs) != 0 || st.Reassembled != 0 || st.Skipped[SkipUDP] != uint64(len(recs)) {
			t.Errorf("Next, v6=%v: %d segments, %v, stats %+v", v6, len(segs), err, st)
		}
	}
}

// TestNextPacketRetained: retained datagrams and segments stay intact
// until Done, and Done counts both.
func TestNextPacketRetained(t *testing.T) {
	file, want := mixedCapture(t, testgen.FormatPcapng, testgen.LinkEthernet, false, 400)
	for _, release := range []bool{false, true} {
		s, err := openReader(bytes.NewReader(file), "retain", Options{chunk: 4096})
		if err != nil {
			t.Fatal(err)
		}
		s.Retain()
		var kept [][]byte
		for i := range want {
			var p packet.Packet
			if err := s.NextPacket(&p); err != nil {
				t.Fatal(err)
			}
			pl := p.Segment.Payload
			if p.Transport == packet.UDP {
				pl = p.Datagram.Payload
			}
			if !s.Retained() {
				t.Fatal("not retained")
			}
			kept = append(kept, pl)
			if release && i >= 10 {
				// Keep the last ten: all before may be reused.
				s.Done(uint64(i - 10))
				kept[i-10] = nil
			}
		}
		for i, pl := range kept {
			if pl != nil && !bytes.Equal(pl, want[i].payload) {
				t.Fatalf("release=%v: payload %d overwritten", release, i)
			}
		}
		if release && len(s.file.br.held) > 3 {
			t.Errorf("%d chunks held although released as we went", len(s.file.br.held))
		}
	}
}

func TestPacketTransportUnchangedOnError(t *testing.T) {
	s, err := openReader(bytes.NewReader(pcapBytes(LinkTypeEthernet, pcapOpts{})), "empty", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := packet.Packet{Transport: packet.TCP, Frame: 9}
	if err := s.NextPacket(&p); !errors.Is(err, io.EOF) || p.Frame != 9 {
		t.Errorf("%v, frame %d", err, p.Frame)
	}
}

// udpBenchFile is a capture of QUIC-sized datagrams, IPv4 and IPv6.
func udpBenchFile(tb testing.TB, size int) (file []byte, packets int) {
	var frames [][]byte
	for i, n := range []int{1200, 1252, 45, 1200, 30, 1350} {
		src, dst := netip.AddrPortFrom(cli4, 50000), netip.AddrPortFrom(srv4, 443)
		if i%3 == 1 {
			src, dst = netip.AddrPortFrom(cli6, 50000), netip.AddrPortFrom(srv6, 443)
		}
		ip, _ := udpPacket(tb, src, dst, bytes.Repeat([]byte{byte(i)}, n))
		frames = append(frames, frameFor(tb, LinkTypeEthernet, "", ip))
	}
	var recs []rec
	for total := 0; total < size; packets++ {
		f := frames[packets%len(frames)]
		recs = append(recs, rec{ts: t0.Add(time.Duration(packets) * time.Microsecond), data: f})
		total += len(f) + 16
	}
	return pcapBytes(LinkTypeEthernet, pcapOpts{nanos: true}, recs...), packets
}

// BenchmarkNextPacketUDP reads a ~4 MB capture of UDP datagrams through
// NextPacket. MB/s is capture bytes per second.
func BenchmarkNextPacketUDP(b *testing.B) {
	file, packets := udpBenchFile(b, 4<<20)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	var p packet.Packet
	for b.Loop() {
		s, err := openReader(bytes.NewReader(file), "bench", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if err := s.NextPacket(&p); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != packets {
			b.Fatalf("%d datagrams, want %d", n, packets)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
}

// BenchmarkDecodeUDP decodes one Ethernet/IPv4/UDP frame.
func BenchmarkDecodeUDP(b *testing.B) {
	ip, _ := udpPacket(b, netip.AddrPortFrom(cli4, 50000), netip.AddrPortFrom(srv4, 443), make([]byte, 1200))
	frame := frameFor(b, LinkTypeEthernet, "", ip)
	var st Stats
	d := decoder{stats: &st, frag: newReassembler(DefaultMaxFragmentBytes, DefaultFragmentTimeout, &st)}
	var p packet.Packet
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if d.decode(LinkTypeEthernet, frame, len(frame), t0, &p.Segment, &p.Datagram) != vDatagram {
			b.Fatal("not a datagram")
		}
	}
}

// TestNextPacketDoesNotAllocate guards NextPacket's hot path.
func TestNextPacketDoesNotAllocate(t *testing.T) {
	file, packets := udpBenchFile(t, 2<<20)
	s, err := openReader(bytes.NewReader(file), "allocs", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var p packet.Packet
	for range 20 {
		if err := s.NextPacket(&p); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(min(1000, packets-100), func() {
		if err := s.NextPacket(&p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per datagram, want 0", allocs)
	}
}
