package capture

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// benchFile builds an in-memory capture of about size bytes: Ethernet,
// IPv4 and IPv6, TCP segments of mixed sizes, as a TLS connection has.
func benchFile(tb testing.TB, format string, size int) (file []byte, packets int) {
	tb.Helper()
	sizes := []int{0, 517, 1448, 1448, 1448, 90, 0, 1448, 1448, 33}
	var frames [][]byte
	for i, n := range sizes {
		spec := defaultSpec(i%3 == 2, string(bytes.Repeat([]byte{byte('a' + i)}, n)))
		frames = append(frames, frameFor(tb, LinkTypeEthernet, "", spec.ip(tb)))
	}
	var recs []rec
	total := 0
	for i := 0; total < size; i++ {
		f := frames[i%len(frames)]
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Microsecond), data: f})
		total += len(f) + 16
	}
	if format == "pcapng" {
		return pcapngBytes(false, []ngIface{{lt: LinkTypeEthernet, tsres: 9}}, recs...), len(recs)
	}
	return pcapBytes(LinkTypeEthernet, pcapOpts{nanos: true}, recs...), len(recs)
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name  string
		lt    LinkType
		v6    bool
		bytes int
	}{
		{"ethernet-ipv4-1448", LinkTypeEthernet, false, 1448},
		{"ethernet-ipv6-1448", LinkTypeEthernet, true, 1448},
		{"ethernet-ipv4-ack", LinkTypeEthernet, false, 0},
		{"sll2-ipv4-1448", LinkTypeLinuxSLL2, false, 1448},
	} {
		b.Run(tc.name, func(b *testing.B) {
			frame := frameFor(b, tc.lt, "", defaultSpec(tc.v6, string(make([]byte, tc.bytes))).ip(b))
			var st Stats
			d := decoder{stats: &st, frag: newReassembler(DefaultMaxFragmentBytes, DefaultFragmentTimeout, &st)}
			var seg packet.Segment
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if d.decode(tc.lt, frame, len(frame), t0, &seg, nil) != vSegment {
					b.Fatal("not a segment")
				}
			}
		})
	}
}

// BenchmarkReadFile reads a ~4 MB capture from memory through the whole
// Source: file format, link, IP, TCP. MB/s is capture bytes per second.
func BenchmarkReadFile(b *testing.B) {
	for _, tc := range []struct{ format, filter string }{
		{"pcap", ""},
		{"pcapng", ""},
		{"pcap", "tcp port 443"},
	} {
		name := tc.format
		if tc.filter != "" {
			name += "-filtered"
		}
		b.Run(name, func(b *testing.B) {
			file, packets := benchFile(b, tc.format, 4<<20)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			var seg packet.Segment
			for b.Loop() {
				s, err := openReader(bytes.NewReader(file), "bench", Options{Filter: tc.filter})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					if err := s.Next(&seg); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					n++
				}
				if n != packets {
					b.Fatalf("%d segments, want %d", n, packets)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*packets), "ns/packet")
		})
	}
}

// TestNextDoesNotAllocate guards the hot path: once warm, reading and
// decoding Ethernet/IPv4/TCP (and IPv6) packets allocates nothing, from
// pcap and pcapng, with and without a filter.
func TestNextDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct{ format, filter string }{
		{"pcap", ""},
		{"pcapng", ""},
		{"pcap", "tcp port 443"},
	} {
		file, packets := benchFile(t, tc.format, 2<<20)
		s, err := openReader(bytes.NewReader(file), "allocs", Options{Filter: tc.filter})
		if err != nil {
			t.Fatal(err)
		}
		var seg packet.Segment
		for range 20 { // warm up: buffers, filter program
			if err := s.Next(&seg); err != nil {
				t.Fatal(err)
			}
		}
		runs := min(1000, packets-100)
		allocs := testing.AllocsPerRun(runs, func() {
			if err := s.Next(&seg); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s filter=%q: %.2f allocations per packet, want 0", tc.format, tc.filter, allocs)
		}
	}
}
