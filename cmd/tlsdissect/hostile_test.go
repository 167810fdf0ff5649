package main

import (
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// TestDamagedCaptures damages every committed capture in the ways real
// files get damaged and checks the binary ends by itself with exit 0 (and
// whatever it could dissect) or exit 1 with a one-line error: never a panic.
func TestDamagedCaptures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	type variant struct {
		name string
		data []byte
	}
	var variants []variant
	for _, file := range committedCaptures(t) {
		good, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(file)
		// Cut in the middle of a packet, at a few places.
		for i := 0; i < 3; i++ {
			cut := 24 + rng.IntN(len(good)-24)
			variants = append(variants, variant{fmt.Sprintf("%s.cut%d", base, cut), good[:cut]})
		}
		// Random byte flips anywhere, headers included.
		for i := 0; i < 4; i++ {
			d := append([]byte(nil), good...)
			for j := 0; j < 1+rng.IntN(20); j++ {
				d[rng.IntN(len(d))] ^= byte(1 + rng.IntN(255))
			}
			variants = append(variants, variant{fmt.Sprintf("%s.flip%d", base, i), d})
		}
		// A corrupted file header.
		d := append([]byte(nil), good...)
		d[0] ^= 0x5a
		variants = append(variants, variant{base + ".badmagic", d})
		// Every packet cut to 64 bytes as a small snaplen would.
		if snapped, ok := snaplenPcap(good, 64); ok {
			variants = append(variants, variant{base + ".snap64", snapped})
		}
		// Record headers with absurd lengths: every TLS record length
		// field in the file set to 0xffff.
		variants = append(variants, variant{base + ".biglen", absurdRecordLengths(good)})
	}
	for _, v := range variants {
		path := filepath.Join(dir, v.name)
		if err := os.WriteFile(path, v.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r := runBin(t, nil, "-q", "-F", "json", "-r", filepath.Join(dir, v.name))
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("panic: %s", r.stderr)
			}
			switch r.code {
			case 0:
			case 1:
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], progName+": ") || !strings.Contains(lines[0], v.name) {
					t.Errorf("want one error line naming the file, got %q", r.stderr)
				}
			default:
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if line != "" && !json.Valid([]byte(line)) {
					t.Fatalf("invalid JSON line %q", line)
				}
			}
		})
	}
}

// snaplenPcap rewrites a classic pcap so that no packet keeps more than
// snap bytes, as a capture taken with a small -s would.
func snaplenPcap(in []byte, snap uint32) ([]byte, bool) {
	if len(in) < 24 {
		return nil, false
	}
	var bo bin.ByteOrder
	switch bin.LittleEndian.Uint32(in) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = bin.LittleEndian
	default:
		if bin.BigEndian.Uint32(in) != 0xa1b2c3d4 && bin.BigEndian.Uint32(in) != 0xa1b23c4d {
			return nil, false
		}
		bo = bin.BigEndian
	}
	out := append([]byte(nil), in[:24]...)
	bo.PutUint32(out[16:], snap)
	for p := 24; p+16 <= len(in); {
		incl := bo.Uint32(in[p+8:])
		if int(incl) > len(in)-p-16 {
			break
		}
		keep := min(incl, snap)
		hdr := append([]byte(nil), in[p:p+16]...)
		bo.PutUint32(hdr[8:], keep)
		out = append(out, hdr...)
		out = append(out, in[p+16:p+16+int(keep)]...)
		p += 16 + int(incl)
	}
	return out, true
}

// absurdRecordLengths sets the length of everything that looks like a TLS
// record header to 0xffff.
func absurdRecordLengths(in []byte) []byte {
	d := append([]byte(nil), in...)
	for i := 0; i+5 <= len(d); i++ {
		if d[i] >= 20 && d[i] <= 23 && d[i+1] == 3 && d[i+2] <= 4 {
			d[i+3], d[i+4] = 0xff, 0xff
			i += 4
		}
	}
	return d
}

// inproc is reassembly feeding flows, in process, for the flood tests:
// one Assembler and one Tracker, driven as a pipeline worker drives them.
type inproc struct {
	asm      *reassembly.Assembler
	tracker  *flows.Tracker
	records  []*flows.Record
	now      time.Time
	index    uint64
	lastTick time.Time
	every    time.Duration
}

func newPipeline(cfg reassembly.Config) *inproc {
	p := &inproc{now: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC), every: cfg.TickEvery()}
	p.tracker = flows.NewTracker(flows.Config{}, func(r *flows.Record) { p.records = append(p.records, r) })
	p.asm = reassembly.New(cfg, p.tracker)
	return p
}

var (
	floodClient = netip.MustParseAddrPort("192.0.2.1:40000")
	floodServer = netip.MustParseAddrPort("198.51.100.1:443")
)

func (p *inproc) seg(src, dst netip.AddrPort, seq, ack uint32, flags uint8, payload []byte) {
	p.now = p.now.Add(time.Microsecond)
	p.index++
	p.tracker.At(p.index)
	if p.now.Sub(p.lastTick) >= p.every {
		p.asm.Tick(p.now)
		p.lastTick = p.now
		p.tracker.Flush()
	}
	p.asm.Add(&packet.Segment{Timestamp: p.now, Src: src, Dst: dst, Seq: seq, Ack: ack, Flags: flags, Window: 65535, Payload: payload},
		reassembly.Place{Index: p.index, Clock: p.now})
}

// open makes a three-way handshake and returns the next sequence numbers.
func (p *inproc) open() (cseq, sseq uint32) {
	p.seg(floodClient, floodServer, 1000, 0, packet.FlagSYN, nil)
	p.seg(floodServer, floodClient, 5000, 1001, packet.FlagSYN|packet.FlagACK, nil)
	p.seg(floodClient, floodServer, 1001, 5001, packet.FlagACK, nil)
	return 1001, 5001
}

// serverFlightReset opens a connection from client, sends flight from the
// server in MSS-sized segments, and has the client reset it.
func (p *inproc) serverFlightReset(client netip.AddrPort, flight []byte) {
	p.seg(client, floodServer, 1000, 0, packet.FlagSYN, nil)
	p.seg(floodServer, client, 5000, 1001, packet.FlagSYN|packet.FlagACK, nil)
	seq := uint32(5001)
	for len(flight[seq-5001:]) > 0 {
		n := min(len(flight[seq-5001:]), 1460)
		p.seg(floodServer, client, seq, 1001, packet.FlagACK, flight[seq-5001:seq-5001+uint32(n)])
		seq += uint32(n)
	}
	p.seg(client, floodServer, 1001, seq, packet.FlagRST|packet.FlagACK, nil)
}

// stream sends data from the client in MSS-sized segments, in order.
func (p *inproc) stream(seq uint32, data []byte) uint32 {
	for len(data) > 0 {
		n := min(len(data), 1460)
		p.seg(floodClient, floodServer, seq, 5001, packet.FlagACK|packet.FlagPSH, data[:n])
		seq += uint32(n)
		data = data[n:]
	}
	return seq
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// tlsRecord frames body as TLS records of at most max bytes each.
func tlsRecords(ct byte, body []byte, max int) []byte {
	var out []byte
	for len(body) > 0 {
		n := min(len(body), max)
		out = append(out, ct, 3, 3, byte(n>>8), byte(n))
		out = append(out, body[:n]...)
		body = body[n:]
	}
	return out
}

// TestFloodHugeClientHello: a ClientHello that claims 16 MB and sends it.
// The dissector must not buffer it: memory stays near its handshake cap.
func TestFloodHugeClientHello(t *testing.T) {
	p := newPipeline(reassembly.Config{})
	before := heapInUse()
	seq, _ := p.open()
	const claimed = 1<<24 - 1
	chunk := make([]byte, 1<<16)
	hdr := []byte{1, 0xff, 0xff, 0xff}
	seq = p.stream(seq, tlsRecords(22, hdr, 16384))
	peak := uint64(0)
	for sent := 0; sent < claimed; sent += len(chunk) {
		seq = p.stream(seq, tlsRecords(22, chunk, 16384))
		if sent%(4<<20) == 0 {
			peak = max(peak, heapInUse())
		}
	}
	p.asm.CloseAll(p.now)
	p.tracker.Flush()
	if grew := int64(peak) - int64(before); grew > 8<<20 {
		t.Errorf("heap grew by %d MiB for a 16 MB ClientHello", grew>>20)
	}
	if len(p.records) != 1 || !contains(p.records[0].Anomalies, "handshake_too_large") {
		t.Fatalf("want one record with handshake_too_large, got %+v", p.records)
	}
}

// TestFloodOneByteRecords: a handshake message of the largest length the
// cap allows, split into one-byte records. Memory stays near the cap and the
// time stays linear (millions of records are just counted).
func TestFloodOneByteRecords(t *testing.T) {
	p := newPipeline(reassembly.Config{})
	before := heapInUse()
	seq, _ := p.open()
	n := 200 << 10 // under the dissector's default handshake cap
	msg := make([]byte, 4+n)
	msg[0], msg[1], msg[2], msg[3] = 11, byte(n>>16), byte(n>>8), byte(n)
	var buf bytes.Buffer
	for i, b := range msg {
		buf.Write([]byte{22, 3, 3, 0, 1, b})
		if buf.Len() > 1<<20 || i == len(msg)-1 {
			seq = p.stream(seq, buf.Bytes())
			buf.Reset()
		}
	}
	peak := heapInUse()
	p.asm.CloseAll(p.now)
	p.tracker.Flush()
	if grew := int64(peak) - int64(before); grew > 16<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
	if len(p.records) != 1 {
		t.Fatalf("want one record, got %d", len(p.records))
	}
}

// TestFloodOutOfOrder: a million out-of-order segments that never fill
// their gap stay within the reassembly budget.
func TestFloodOutOfOrder(t *testing.T) {
	const budget = 4 << 20
	p := newPipeline(reassembly.Config{MaxBufferedPerConn: budget, MaxBufferedTotal: budget})
	seq, _ := p.open()
	before := heapInUse()
	payload := make([]byte, 100)
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	peak := uint64(0)
	for i := 0; i < n; i++ {
		// Always beyond a one-byte hole at seq: never deliverable in order.
		p.seg(floodClient, floodServer, seq+1+uint32(i*100), 5001, packet.FlagACK, payload)
		if i%200_000 == 0 {
			peak = max(peak, heapInUse())
		}
		if st := p.asm.Stats(); st.BufferedBytes > budget {
			t.Fatalf("buffered %d bytes, budget %d", st.BufferedBytes, budget)
		}
	}
	peak = max(peak, heapInUse())
	p.asm.CloseAll(p.now)
	p.tracker.Flush()
	if grew := int64(peak) - int64(before); grew > 3*budget {
		t.Errorf("heap grew by %d MiB with a %d MiB budget", grew>>20, budget>>20)
	}
}

// TestFloodSYNs: SYNs to distinct ports, four times the table's size, keep the connection table
// within MaxConns.
func TestFloodSYNs(t *testing.T) {
	const maxConns = 50_000
	p := newPipeline(reassembly.Config{MaxConns: maxConns})
	n := 200_000 // the million is reassembly's BenchmarkSYNFlood
	if testing.Short() {
		n = 60_000
	}
	for i := 0; i < n; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		p.seg(src, floodServer, uint32(i), 0, packet.FlagSYN, nil)
		if p.asm.Open() > maxConns {
			t.Fatalf("%d connections open, budget %d", p.asm.Open(), maxConns)
		}
	}
	p.asm.CloseAll(p.now)
	p.tracker.Flush()
	if len(p.records) != 0 {
		t.Errorf("SYN-only connections reported as TLS: %d records", len(p.records))
	}
}

// TestFloodDistinctLargeChains: connections whose chains are all distinct
// and large (60 KB certificates) keep the certificate caches within their
// byte bounds, whatever their entry counts allow (4096 x 60 KB would be
// 240 MB per cache).
func TestFloodDistinctLargeChains(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 500
	}
	p := newPipeline(reassembly.Config{})
	before := heapInUse()
	var peak uint64
	for c := 0; c < n; c++ {
		der := []byte{0x30, 0x82, 0xea, 0x5c, byte(c >> 8), byte(c)} // a DER SEQUENCE header, then junk
		der = append(der, make([]byte, 60000-len(der))...)
		list := append([]byte{byte(len(der) >> 16), byte(len(der) >> 8), byte(len(der))}, der...)
		body := append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
		msg := append([]byte{11, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
		flight := tlsRecords(22, msg, 16384)
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + c%200)}), uint16(30000+c))
		p.serverFlightReset(client, flight)
		if c%100 == 99 {
			p.tracker.Flush()         // the pipeline builds closed connections each epoch
			p.records = p.records[:0] // and the writer sends the records out
			peak = max(peak, heapInUse())
		}
	}
	grew := int64(peak) - int64(before)
	t.Logf("heap grew by %d MiB over %d connections with distinct 60 KB certificates", grew>>20, n)
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MiB; the caches' byte bounds allow about 32 MiB", grew>>20)
	}
}

// TestFloodSYNsCheap: an unanswered SYN costs little until data comes
// (the dissector and the Record are made on the first bytes), and goes
// after the half-open timeout, not the idle one.
func TestFloodSYNsCheap(t *testing.T) {
	p := newPipeline(reassembly.Config{})
	n := 100_000
	if testing.Short() {
		n = 30_000
	}
	before := heapInUse()
	for i := 0; i < n; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		p.seg(src, floodServer, uint32(i), 0, packet.FlagSYN, nil)
	}
	if open := p.asm.Open(); open != n {
		t.Fatalf("%d open, want all %d (within the half-open timeout)", open, n)
	}
	per := int64(heapInUse()-before) / int64(n)
	// The assembler's connection, the flows conn, its uid and their map
	// entries: 1.6 KiB measured (5.5 KiB when the dissector and the
	// Record were made with the SYN; they now come with data).
	if per > 2048 {
		t.Errorf("%d bytes of heap per open SYN, want at most 2048", per)
	}
	p.now = p.now.Add(31 * time.Second)
	p.asm.Tick(p.now)
	if open, exp := p.asm.Open(), p.asm.Stats().HalfOpenExpired; open != 0 || exp != uint64(n) {
		t.Errorf("after the half-open timeout: %d open, %d expired", open, exp)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// TestFloodLongChain: a Certificate message of thousands of entries, again
// and again on many connections. Memory stays bounded (summaries are cached
// and capped, the record keeps a bounded chain), and each connection's
// record says what it dropped.
func TestFloodLongChain(t *testing.T) {
	const entries = 5000
	var body []byte
	list := make([]byte, 0, entries*43)
	for i := 0; i < entries; i++ {
		der := []byte{0x30, 0x26, byte(i >> 8), byte(i)} // a DER SEQUENCE header, then junk
		der = append(der, make([]byte, 36)...)
		list = append(list, 0, 0, byte(len(der)))
		list = append(list, der...)
	}
	body = append(body, byte(len(list)>>16), byte(len(list)>>8), byte(len(list)))
	body = append(body, list...)
	msg := append([]byte{11, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	flight := tlsRecords(22, msg, 16384)

	p := newPipeline(reassembly.Config{})
	before := heapInUse()
	var peak uint64
	for c := 0; c < 40; c++ {
		client := netip.AddrPortFrom(floodClient.Addr(), uint16(30000+c))
		p.serverFlightReset(client, flight)
		if c%10 == 9 {
			peak = max(peak, heapInUse())
		}
	}
	p.asm.CloseAll(p.now)
	p.tracker.Flush()
	if grew := int64(peak) - int64(before); grew > 64<<20 {
		t.Errorf("heap grew by %d MiB over 40 connections with %d-entry chains", grew>>20, entries)
	}
	if len(p.records) != 40 {
		t.Fatalf("%d records, want 40", len(p.records))
	}
	r := p.records[0]
	if n := len(r.Certificates); n == 0 || n > 100 {
		t.Errorf("record keeps %d certificates of a %d-entry chain; want a bounded, non-empty chain", n, entries)
	}
	if !contains(r.Anomalies, "long_certificate_chain") {
		t.Errorf("anomalies %v: the dropped part of the chain is not reported", r.Anomalies)
	}
	t.Logf("heap growth %d KiB, certificates kept %d, anomalies %v", (int64(peak)-int64(before))>>10, len(r.Certificates), r.Anomalies)
}
