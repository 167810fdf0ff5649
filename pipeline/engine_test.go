package pipeline

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// dissect runs a capture through an Engine of n shards and returns the
// JSON lines and the counters.
func dissect(t testing.TB, path string, n int, rcfg reassembly.Config) (string, reassembly.Stats, flows.Stats) {
	return dissectRetained(t, path, n, rcfg, false)
}

// dissectRetained is dissect, optionally with the Source's buffers
// retained: payloads go to the shards uncopied, as cmd/tlsdissect does.
func dissectRetained(t testing.TB, path string, n int, rcfg reassembly.Config, retain bool) (string, reassembly.Stats, flows.Stats) {
	t.Helper()
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if retain {
		src.Retain()
	}
	var out bytes.Buffer
	w, err := output.New("json", &out, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(engineConfig{workers: n, reassembly: rcfg, flows: flows.Config{ReportNonTLS: true}, ordered: true}, func(r *flows.Record) {
		if err := w.Write(r); err != nil {
			t.Error(err)
		}
	})
	var p packet.Packet
	var last time.Time
	for {
		err := src.NextPacket(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A damaged capture is dissected as far as it goes, here too.
			break
		}
		e.AddPacket(&p, src.Retained())
		src.Done(e.Done())
		last = p.Timestamp()
	}
	e.Close(last)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	as, _, fs := e.Stats()
	return out.String(), as, fs
}

// captures returns the committed captures and, when TLSDISSECT_CONFORMANCE
// names them, the peer captures.
func captures(t *testing.T) []string {
	files, err := filepath.Glob("../testdata/captures/*.pcap")
	ng, _ := filepath.Glob("../testdata/captures/*.pcapng")
	udp, _ := filepath.Glob("../testdata/captures/udp/*.pcap")
	files = append(append(files, ng...), udp...)
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed captures (%v)", err)
	}
	if dir := os.Getenv("TLSDISSECT_CONFORMANCE"); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("TLSDISSECT_CONFORMANCE=%s: %v", dir, err)
		}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".pcap" || ext == ".pcapng" || ext == ".cap") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestShardsAgree: whatever the number of shards, every capture gives the
// same Records, byte for byte, in the same order, and the same counters.
// The peer captures bring lineage, renegotiation, mid-stream starts, loss
// and reordering; multi.pcap brings resumption across connections that
// land on different shards.
func TestShardsAgree(t *testing.T) {
	files := captures(t)
	checked := 0
	for _, f := range files {
		if src, err := capture.OpenFile(f, capture.Options{}); err != nil {
			continue // e.g. a link type we do not read; main's tests cover that
		} else {
			src.Close()
		}
		want, wantA, wantF := dissect(t, f, 1, reassembly.Config{})
		for _, n := range []int{2, 3, 8} {
			got, gotA, gotF := dissect(t, f, n, reassembly.Config{})
			if got != want {
				t.Errorf("%s: %d shards differ from one:\n%s", f, n, firstDiff(want, got))
				continue
			}
			wantA.Open, gotA.Open = 0, 0
			if gotA != wantA {
				t.Errorf("%s: %d shards: reassembly counters %+v, want %+v", f, n, gotA, wantA)
			}
			if gotF.Records != wantF.Records || gotF.TLS != wantF.TLS || gotF.Established != wantF.Established || gotF.Failed != wantF.Failed {
				t.Errorf("%s: %d shards: flows counters %+v, want %+v", f, n, gotF, wantF)
			}
		}
		checked++
	}
	t.Logf("%d captures agree over 1, 2, 3 and 8 shards", checked)
}

// TestShardsRetained: a capture of many read buffers, dissected with the
// buffers retained and recycled as the shards finish with them, gives what
// one shard gives from copies. A buffer reused too early shows as damaged
// handshakes.
func TestShardsRetained(t *testing.T) {
	path := bigCapture(t, "../testdata/captures/multi.pcap", 300)
	want, _, wantF := dissect(t, path, 1, reassembly.Config{})
	if wantF.Records < 3000 {
		t.Fatalf("only %d records from the big capture", wantF.Records)
	}
	for _, n := range []int{2, 3} {
		got, _, _ := dissectRetained(t, path, n, reassembly.Config{}, true)
		if got != want {
			t.Fatalf("%d shards, retained buffers: differs from one shard:\n%s", n, firstDiff(want, got))
		}
	}
}

// bigCapture writes copies of an Ethernet/IPv4 pcap one after another,
// each later in time and with the second byte of every address moved on,
// so that each copy is a new set of connections.
func bigCapture(t *testing.T, path string, copies int) string {
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const hdr, rec = 24, 16
	le := binary.LittleEndian
	if le.Uint32(in) != 0xa1b2c3d4 || le.Uint32(in[20:]) != 1 {
		t.Fatal("want a little-endian microsecond Ethernet pcap")
	}
	type record struct {
		sec, usec uint32
		frame     []byte
	}
	var recs []record
	for b := in[hdr:]; len(b) >= rec; {
		n := int(le.Uint32(b[8:]))
		recs = append(recs, record{le.Uint32(b), le.Uint32(b[4:]), b[rec : rec+n]})
		b = b[rec+n:]
	}
	span := recs[len(recs)-1].sec - recs[0].sec + 2
	out := append([]byte(nil), in[:hdr]...)
	for k := range copies {
		for _, r := range recs {
			f := bytes.Clone(r.frame)
			if len(f) < 34 || f[12] != 0x08 || f[13] != 0x00 {
				t.Fatal("want plain Ethernet IPv4 frames")
			}
			f[14+12+1] += byte(k)
			f[14+16+1] += byte(k)
			out = le.AppendUint32(out, r.sec+uint32(k)*span)
			out = le.AppendUint32(out, r.usec)
			out = le.AppendUint32(out, uint32(len(f)))
			out = le.AppendUint32(out, uint32(len(f)))
			out = append(out, f...)
		}
	}
	p := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShardsLineage checks the capture where lineage crosses shards: each
// resumed connection names the connection that issued its ticket.
func TestShardsLineage(t *testing.T) {
	out, _, _ := dissect(t, "../testdata/captures/multi.pcap", 3, reassembly.Config{})
	if n := strings.Count(out, `"issued_by":"C`); n == 0 {
		t.Fatalf("no ticket traced to its issuer with 3 shards:\n%s", out)
	}
	if n := strings.Count(out, `"resumed_from":"C`); n == 0 {
		t.Fatalf("no resumption traced with 3 shards")
	}
}

// TestShardsBudgets: each shard gets its part of the connection budget, so
// that the total stays within it.
func TestShardsBudgets(t *testing.T) {
	e := newEngine(engineConfig{workers: 4, reassembly: reassembly.Config{MaxConns: 8}, flows: flows.Config{ReportNonTLS: true}, ordered: false}, func(*flows.Record) {})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		seg := packet.Segment{
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Seq:       uint32(i),
			Flags:     packet.FlagSYN,
		}
		seg.Src = addrPort(10, uint16(1024+i))
		seg.Dst = addrPort(20, 443)
		e.Add(&seg, false)
		if o := e.Open(); o > 8 {
			t.Fatalf("after %d SYNs %d connections open, budget 8", i+1, o)
		}
	}
	e.Close(base.Add(time.Hour))
	as, _, fs := e.Stats()
	if as.Connections != 1000 || fs.Connections != 1000 {
		t.Errorf("connections %d / %d, want 1000", as.Connections, fs.Connections)
	}
	if as.Evicted < 1000-8 {
		t.Errorf("evicted %d, want at least %d", as.Evicted, 1000-8)
	}
}

// TestShardsEmptyAndTick: no segment at all, and a live-style tick, end
// cleanly.
func TestShardsEmptyAndTick(t *testing.T) {
	var got []*flows.Record
	e := newEngine(engineConfig{workers: 3, reassembly: reassembly.Config{}, flows: flows.Config{}, ordered: false}, func(r *flows.Record) { got = append(got, r) })
	e.Tick(time.Now())
	e.Tick(time.Now())
	e.Close(time.Now())
	e.Close(time.Now()) // a second Close is harmless
	if len(got) != 0 {
		t.Fatalf("%d records from nothing", len(got))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + "\n want: " + x + "\n  got: " + y
		}
	}
	return "(no line differs)"
}

func addrPort(host byte, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, host}), port)
}

// TestShardBalance: the endpoint hash spreads connections evenly, and
// both directions of one connection land on the same shard.
func TestShardBalance(t *testing.T) {
	for _, n := range []int{2, 3, 4, 8} {
		s := &engine{shards: make([]*worker, n)}
		counts := make([]int, n)
		const conns = 20000
		for i := range conns {
			c := packet.Segment{Src: addrPort(byte(i%200), uint16(1024+i)), Dst: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 7)}), 443)}
			r := packet.Segment{Src: c.Dst, Dst: c.Src}
			a := s.shardOf(&c)
			s.lastEnds = [2]netip.AddrPort{} // hash the reply afresh
			b := s.shardOf(&r)
			if a != b {
				t.Fatalf("%d shards: %v→%v on %d, the reply on %d", n, c.Src, c.Dst, a, b)
			}
			counts[a]++
		}
		for i, c := range counts {
			if share := float64(c) / conns * float64(n); share < 0.9 || share > 1.1 {
				t.Errorf("%d shards: shard %d holds %d of %d connections", n, i, c, conns)
			}
		}
	}
}

// segments reads a capture into memory, payloads copied, repeated copies
// times with the client and server networks shifted so that every copy is
// a different set of connections, later in time.
func segments(tb testing.TB, path string, copies int) ([]packet.Segment, int64) {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var one []packet.Segment
	var seg packet.Segment
	for src.Next(&seg) == nil {
		s := packet.Segment(seg)
		s.Payload = bytes.Clone(seg.Payload)
		one = append(one, s)
	}
	if len(one) == 0 {
		tb.Fatal("no segments")
	}
	span := one[len(one)-1].Timestamp.Sub(one[0].Timestamp) + time.Second
	var all []packet.Segment
	var n int64
	shift := func(ap netip.AddrPort, k int) netip.AddrPort {
		a := ap.Addr().As4()
		a[1] += byte(k)
		return netip.AddrPortFrom(netip.AddrFrom4(a), ap.Port())
	}
	for k := range copies {
		for _, s := range one {
			s.Src, s.Dst = shift(s.Src, k), shift(s.Dst, k)
			s.Timestamp = s.Timestamp.Add(time.Duration(k) * span)
			all = append(all, s)
			n += int64(len(s.Payload))
		}
	}
	return all, n
}

// BenchmarkEngine runs reassembly and flows over 100 copies of multi.pcap
// (1,100 connections: full, resumed and failed handshakes), on one shard
// and on two.
func BenchmarkEngine(b *testing.B) {
	segs, n := segments(b, "../testdata/captures/multi.pcap", 100)
	for _, shards := range []int{1, 2} {
		b.Run("shards="+strconv.Itoa(shards), func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				e := newEngine(engineConfig{workers: shards, reassembly: reassembly.Config{}, flows: flows.Config{}, ordered: true}, func(*flows.Record) {})
				for i := range segs {
					e.Add(&segs[i], true)
				}
				e.Close(segs[len(segs)-1].Timestamp)
			}
		})
	}
}

// TestShardsCloseOrder: unordered (live), Records come out as their
// connections close, whatever the number of shards: the same Records as
// one shard gives, in close order.
func TestShardsCloseOrder(t *testing.T) {
	for _, f := range captures(t) {
		if src, err := capture.OpenFile(f, capture.Options{}); err != nil {
			continue
		} else {
			src.Close()
		}
		one := closeOrder(t, f, 1)
		for _, n := range []int{2, 5} {
			got := closeOrder(t, f, n)
			if len(got) != len(one) {
				t.Fatalf("%s: %d shards emit %d records, one shard %d", f, n, len(got), len(one))
			}
			seen := map[string]int{}
			for i, r := range got {
				if i > 0 && r.ClosedAt() < got[i-1].ClosedAt() {
					t.Errorf("%s: %d shards: record %d closed at %d, before the previous one (%d)", f, n, i, r.ClosedAt(), got[i-1].ClosedAt())
				}
				seen[r.UID]++
			}
			for _, r := range one {
				if seen[r.UID]--; seen[r.UID] < 0 {
					t.Errorf("%s: %d shards: %s missing", f, n, r.UID)
				}
			}
		}
	}
}

func closeOrder(t *testing.T, path string, n int) []*flows.Record {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []*flows.Record
	e := newEngine(engineConfig{workers: n, reassembly: reassembly.Config{}, flows: flows.Config{ReportNonTLS: true}, ordered: false}, func(r *flows.Record) { recs = append(recs, r) })
	var seg packet.Segment
	for src.Next(&seg) == nil {
		e.Add((*packet.Segment)(&seg), false)
		e.Flush()
	}
	e.Close(seg.Timestamp)
	return recs
}
