package reassembly

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// sink is a Handler that only counts: what the hot path costs without a
// consumer.
type sink struct {
	bytes  [2]uint64
	gaps   [2]int
	closes int
}

func (s *sink) Data(d packet.Dir, _ time.Time, b []byte) { s.bytes[d] += uint64(len(b)) }
func (s *sink) Gap(d packet.Dir, _ time.Time, n int)     { s.gaps[d] += n }
func (s *sink) Anomaly(Anomaly)                          {}
func (s *sink) Close(CloseInfo)                          { s.closes++ }

// sinkFactory hands every connection the same sink, so that creating a
// connection costs the factory nothing.
type sinkFactory struct{ s sink }

func (f *sinkFactory) New(ConnInfo) Handler { return &f.s }

// established returns an Assembler with one connection past its handshake
// (client ISN 1000, server ISN 5000).
func established(tb testing.TB, cfg Config) (*driven, *sinkFactory) {
	f := &sinkFactory{}
	a := drive(cfg, f)
	for _, s := range handshake {
		a.Add(s.segment(cli, srv))
	}
	if a.Open() != 1 {
		tb.Fatalf("Open() = %d after the handshake", a.Open())
	}
	return a, f
}

func TestInOrderDoesNotAllocate(t *testing.T) {
	a, f := established(t, Config{})
	payload := make([]byte, 1448)
	c2s := &packet.Segment{Src: cli, Dst: srv, Seq: 1001, Ack: 5001, Flags: fPA, Window: 65535, Payload: payload}
	s2c := &packet.Segment{Src: srv, Dst: cli, Seq: 5001, Ack: 1001, Flags: fPA, Window: 65535, Payload: payload}
	ts := t0
	allocs := testing.AllocsPerRun(2000, func() {
		// Capture time advances too, so the amortised Tick runs now and then.
		ts = ts.Add(time.Millisecond)
		c2s.Timestamp, s2c.Timestamp = ts, ts
		a.Add(c2s)
		c2s.Seq += uint32(len(payload))
		s2c.Ack = c2s.Seq
		a.Add(s2c)
		s2c.Seq += uint32(len(payload))
		c2s.Ack = s2c.Seq
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per in-order segment pair, want 0", allocs)
	}
	if f.s.bytes[0] == 0 || f.s.bytes[0] != f.s.bytes[1] || f.s.gaps != [2]int{} {
		t.Errorf("delivered %v, gaps %v", f.s.bytes, f.s.gaps)
	}
}

// TestSYNFlood: a flood of SYNs to distinct 4-tuples keeps the table at
// MaxConns and memory within a bound per tracked connection.
func TestSYNFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("flood in -short")
	}
	const maxConns = 100_000
	heap := flood(t, 200_000, maxConns)
	t.Logf("heap grew by %d bytes, %d per tracked connection", heap, heap/maxConns)
	// A tracked connection costs its struct and its table slot: about
	// 1 KiB leaves room for the map's growth, and fails if anything per
	// connection leaks (a handler, a buffer) or the table does not bound.
	if limit := uint64(maxConns) * 1024; heap > limit {
		t.Errorf("heap grew by %d bytes for %d connections, limit %d", heap, maxConns, limit)
	}
}

// flood adds n SYNs from distinct sources and returns how much the live
// heap grew.
func flood(tb testing.TB, n, maxConns int) uint64 {
	f := &sinkFactory{}
	a := drive(Config{MaxConns: maxConns}, f)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	seg := &packet.Segment{Dst: srv, Flags: packet.FlagSYN, Window: 65535}
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 24), byte(i >> 16), byte(i >> 8)})
		seg.Src = netip.AddrPortFrom(ip, uint16(1024+i&0xff))
		seg.Seq = uint32(i) * 2654435761
		seg.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		a.Add(seg)
		if a.Open() > maxConns {
			tb.Fatalf("Open() = %d after %d SYNs, MaxConns %d", a.Open(), i+1, maxConns)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	s := a.Stats()
	if want := uint64(n - maxConns); s.Evicted != want || f.s.closes != int(want) || s.Connections != uint64(n) {
		tb.Errorf("evicted %d, closed %d, connections %d; want %d evicted of %d", s.Evicted, f.s.closes, s.Connections, want, n)
	}
	if a.Open() != maxConns {
		tb.Errorf("Open() = %d, want %d", a.Open(), maxConns)
	}
	runtime.KeepAlive(a)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}

func BenchmarkSYNFlood(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		heap := flood(b, 1_000_000, 100_000)
		b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/SYN")
}

// BenchmarkInOrder: one long connection, full-size segments both ways.
func BenchmarkInOrder(b *testing.B) {
	a, _ := established(b, Config{})
	payload := make([]byte, 1448)
	c2s := &packet.Segment{Src: cli, Dst: srv, Seq: 1001, Ack: 5001, Flags: fPA, Window: 65535, Payload: payload}
	ts := t0
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		ts = ts.Add(10 * time.Microsecond)
		c2s.Timestamp = ts
		a.Add(c2s)
		c2s.Seq += uint32(len(payload))
	}
}

// BenchmarkInOrderManyConns: 10,000 connections interleaved, so the table
// lookup and the activity list work on a cold cache.
func BenchmarkInOrderManyConns(b *testing.B) {
	const n = 10_000
	f := &sinkFactory{}
	a := drive(Config{}, f)
	payload := make([]byte, 1448)
	segs := make([]packet.Segment, n)
	for i := range segs {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 40000)
		a.Add(&packet.Segment{Timestamp: t0, Src: src, Dst: srv, Flags: packet.FlagSYN, Seq: 1000})
		a.Add(&packet.Segment{Timestamp: t0, Src: srv, Dst: src, Flags: packet.FlagSYN | packet.FlagACK, Seq: 5000, Ack: 1001})
		segs[i] = packet.Segment{Timestamp: t0, Src: src, Dst: srv, Seq: 1001, Ack: 5001, Flags: fPA, Window: 65535, Payload: payload}
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &segs[i]
		a.Add(s)
		s.Seq += uint32(len(payload))
		if i++; i == n {
			i = 0
		}
	}
}

// impairedStream returns a connection's data segments, client to server,
// with about rate of them swapped with a later neighbour or duplicated.
func impairedStream(r *rand.Rand, src netip.AddrPort, nseg, size int, rate float64) (segs []packet.Segment, bytes int) {
	payload := make([]byte, size)
	for i := range nseg {
		segs = append(segs, packet.Segment{Timestamp: t0, Src: src, Dst: srv, Seq: 1001 + uint32(i*size), Ack: 5001, Flags: fPA, Window: 65535, Payload: payload})
	}
	bytes = nseg * size
	for i := 0; i < len(segs)-3; i++ {
		if r.Float64() >= rate {
			continue
		}
		if r.IntN(2) == 0 {
			j := i + 1 + r.IntN(3)
			segs[i], segs[j] = segs[j], segs[i]
		} else {
			segs = append(segs[:i+1], append([]packet.Segment{segs[i]}, segs[i+1:]...)...)
			i++
		}
	}
	return segs, bytes
}

// BenchmarkImpaired2pct: streams with 2% of segments reordered or
// duplicated; each op is one whole connection of 1,000 segments.
func BenchmarkImpaired2pct(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const nseg, size = 1000, 1448
	f := &sinkFactory{}
	a := drive(Config{}, f)
	var streams [16][]packet.Segment
	var total int
	for i := range streams {
		streams[i], total = impairedStream(r, cli, nseg, size, 0.02)
	}
	syn := &packet.Segment{Src: cli, Dst: srv, Flags: packet.FlagSYN, Seq: 1000}
	synack := &packet.Segment{Src: srv, Dst: cli, Flags: packet.FlagSYN | packet.FlagACK, Seq: 5000, Ack: 1001}
	rst := &packet.Segment{Src: srv, Dst: cli, Flags: packet.FlagRST, Seq: 5001}
	segments := 0
	b.SetBytes(int64(total))
	b.ReportAllocs()
	ts := t0
	k := 0
	for b.Loop() {
		ts = ts.Add(time.Millisecond)
		syn.Timestamp, synack.Timestamp, rst.Timestamp = ts, ts, ts
		// A new ISN each round, so the SYN reuses the closed 4-tuple.
		syn.Seq += 1 << 24
		synack.Ack = syn.Seq + 1
		a.Add(syn)
		a.Add(synack)
		base := syn.Seq + 1 - 1001
		for i := range streams[k] {
			s := streams[k][i]
			s.Seq += base
			s.Timestamp = ts
			a.Add(&s)
		}
		segments += len(streams[k])
		a.Add(rst)
		k = (k + 1) % len(streams)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(segments), "ns/segment")
	if f.s.gaps != [2]int{} {
		b.Fatalf("gaps %v in a stream with nothing missing", f.s.gaps)
	}
}
