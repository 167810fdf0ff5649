package dissect

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

type countSink struct{ events, anomalies, bytes int }

func (s *countSink) Event(e *Event)  { s.events++; s.bytes += e.Length }
func (s *countSink) Anomaly(Anomaly) { s.anomalies++ }
func (s *countSink) StartTLS(string) {}
func (s *countSink) RolesSwapped()   {}

// bulkConn returns a Conn past a TLS 1.2 handshake and a stream of
// application-data records, as TCP segments of 1460 bytes would carry them.
func bulkConn(tb testing.TB) (*Conn, *countSink, [][]byte) {
	sink := &countSink{}
	c := NewConn(DefaultConfig(), sink)
	ts := time.Unix(1, 0)
	for _, s := range exchange(tb, tls.VersionTLS12, nil) {
		c.Data(s.dir, ts, s.data)
	}
	var stream []byte
	for i := 0; i < 64; i++ {
		stream = append(stream, record(ContentApplicationData, 0x0303, make([]byte, 1<<14+24))...)
	}
	var segs [][]byte
	for b := stream; len(b) > 0; {
		n := min(1460, len(b))
		segs = append(segs, b[:n])
		b = b[n:]
	}
	return c, sink, segs
}

func BenchmarkFramerApplicationData(b *testing.B) {
	c, sink, segs := bulkConn(b)
	total := 0
	for _, s := range segs {
		total += len(s)
	}
	ts := time.Unix(2, 0)
	b.ReportAllocs()
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range segs {
			c.Data(packet.FromServer, ts, s)
		}
	}
	if sink.anomalies != 0 {
		b.Fatalf("%d anomalies in clean bulk data", sink.anomalies)
	}
}

// The hot path must not allocate: application data is counted, not copied.
func TestApplicationDataFramingDoesNotAllocate(t *testing.T) {
	c, sink, segs := bulkConn(t)
	before := sink.events
	ts := time.Unix(2, 0)
	allocs := testing.AllocsPerRun(20, func() {
		for _, s := range segs {
			c.Data(packet.FromServer, ts, s)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per 64 application-data records", allocs)
	}
	if got := sink.events - before; got != 21*64 {
		t.Errorf("%d events, want %d", got, 21*64)
	}
	// Segments lost inside records (not touching a header) are stepped over
	// exactly: no resync, no allocation, every record still reported.
	const recLen = 5 + 1<<14 + 24
	lost := make([]bool, len(segs))
	off, nlost := 0, 0
	for i, s := range segs {
		start, end := off, off+len(s)
		off = end
		if i%3 == 1 && start/recLen == (end-1)/recLen && start%recLen >= 5 {
			lost[i] = true
			nlost++
		}
	}
	if nlost < 100 {
		t.Fatalf("only %d segments lost", nlost)
	}
	before = sink.events
	allocs = testing.AllocsPerRun(20, func() {
		for i, s := range segs {
			if lost[i] {
				c.Gap(packet.FromServer, ts, len(s))
				continue
			}
			c.Data(packet.FromServer, ts, s)
		}
	})
	if allocs != 0 || sink.anomalies != 0 {
		t.Errorf("%v allocations, %d anomalies with gaps inside records", allocs, sink.anomalies)
	}
	if got := sink.events - before; got != 21*64 {
		t.Errorf("%d events with gaps, want %d", got, 21*64)
	}
}

func BenchmarkParseClientHello(b *testing.B) {
	spec, _ := chromeLikeHello()
	body := buildClientHello(spec)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseClientHello(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConnHandshake(b *testing.B) {
	for _, v := range []struct {
		name    string
		version uint16
	}{{"TLS12", tls.VersionTLS12}, {"TLS13", tls.VersionTLS13}} {
		b.Run(v.name, func(b *testing.B) {
			segs := exchange(b, v.version, nil)
			total := 0
			for _, s := range segs {
				total += len(s.data)
			}
			ts := time.Unix(1, 0)
			sink := &countSink{}
			b.ReportAllocs()
			b.SetBytes(int64(total))
			for i := 0; i < b.N; i++ {
				c := NewConn(DefaultConfig(), sink)
				for _, s := range segs {
					c.Data(s.dir, ts, s.data)
				}
				c.End(ts)
			}
		})
	}
}

// Hostile input that makes the framer resynchronise every 15 bytes: two
// valid empty records, then a header with a bad version. The cost must stay
// linear in the input.
func BenchmarkResyncHostile(b *testing.B) {
	unit := []byte{23, 3, 3, 0, 0, 23, 3, 3, 0, 0, 23, 3, 9, 0, 0}
	var in []byte
	for len(in) < 1<<20 {
		in = append(in, unit...)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for i := 0; i < b.N; i++ {
		c := NewConn(DefaultConfig(), &countSink{})
		for p := in; len(p) > 0; {
			n := min(1460, len(p))
			c.Data(packet.FromClient, time.Unix(1, 0), p[:n])
			p = p[n:]
		}
	}
}
