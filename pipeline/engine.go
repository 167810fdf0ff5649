// The engine is the middle of the pipeline, TCP reassembly and the TLS
// flows, on one goroutine per worker: connections are sharded by a hash of
// their endpoints, each worker owns an Assembler and a Tracker, and the
// Records come out exactly as one Assembler and one Tracker fed the whole
// capture would give them, in the same order. One worker is the same path
// with n = 1.
//
// Three things make that exact:
//
//   - Every segment carries its place in the whole capture
//     (reassembly.Place): connection IDs, and so uids, are the index of
//     the opening segment, and each worker's clock is the capture's clock.
//     The dispatcher decides when timeouts are checked
//     (reassembly.Config.TickEvery) and tells every worker at the same
//     place.
//   - Lineage across connections (tickets, sessions, leaves per server
//     name) lives in one flows.Lineage shared by the workers, where a
//     question asks only about facts placed before it (see flows.order).
//   - Segments go out in epochs, a slice of the capture sent to every
//     worker at once. A connection that closed in an epoch is built only
//     when every worker has finished that epoch, so every fact placed
//     before its questions is known; finished Records are released in
//     connection-ID order once no worker holds a smaller ID (or, live, in
//     the order the connections closed).
//
// What differs with more workers: the budgets (MaxConns and
// MaxBufferedTotal) are divided among them, so a capture that hits them may
// be evicted differently, and the lineage maps may forget at their cap in a
// different order.
package pipeline

import (
	"container/heap"
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/certs"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// Epochs end after this many segments, or when they carry this many
// payload bytes: small enough that what is in flight stays a few MiB,
// large enough that the handovers cost nothing per segment.
const (
	epochSegments = 2048
	epochBytes    = 1 << 20
	queueDepth    = 3 // batches waiting per shard
)

const (
	kindSegment = iota
	kindDatagram
	kindTick
	kindClose
)

// entry is one step of a shard: a segment, a datagram (in seg: its
// endpoints, time and payload), a Tick, or the end of input.
// A segment's payload is the caller's, retained, or a copy in the batch's
// arena (from off to end; arenas grow, so slices are made on arrival).
type entry struct {
	kind     uint8
	inArena  bool
	seg      packet.Segment
	off, end int
	place    reassembly.Place
}

// batch is one shard's part of an epoch.
type batch struct {
	epoch   uint64
	last    uint64 // index of the epoch's last segment
	final   bool   // the end of input
	entries []entry
	arena   []byte
}

// result is what a shard reports after each batch.
type result struct {
	shard int
	epoch uint64
	// last: the epoch is the end of input; final: the shard has built
	// and sent everything and stops.
	last, final bool
	records     []*flows.Record
	// low is the smallest key (see engine.key) the shard may still
	// emit: its oldest unfinished connection (files) or earliest unbuilt
	// close (live), or else just past the epoch's last index.
	low uint64
}

type engine struct {
	shards  []*worker
	ordered bool
	maxHeld int
	every   time.Duration // reassembly.Config.TickEvery
	emit    func(*flows.Record)

	// The dispatcher's side (the caller's goroutine).
	index    uint64
	clock    time.Time
	lastTick time.Time
	epoch    uint64
	inEpoch  int // segments in the current epoch
	epochLen int // ... and their payload bytes
	cur      []*batch
	closed   bool
	ends     []epochEnd // epochs not yet known to be resolved
	done     uint64     // segments every shard is finished with

	lastEnds  [2]netip.AddrPort // endpoints of the previous segment ...
	lastShard int               // ... and their shard

	results  chan result
	resolved atomic.Uint64 // every shard has finished epochs up to this
	allDone  chan struct{} // closed when the final epoch is resolved
	merged   chan struct{} // closed when the merger has emitted everything
	held     recHeap       // the merger's Records waiting for their turn
	records  uint64        // Records emitted
}

// worker is one shard: an Assembler, a UDP flow table and a Tracker of
// its own.
type worker struct {
	id      int
	asm     *reassembly.Assembler
	udp     *reassembly.Datagrams
	tracker *flows.Tracker
	in      chan *batch
	free    chan *batch
	out     []*flows.Record // Records built in the current batch
	open    atomic.Int64
	// marks counts, per finished epoch not yet resolved, the closed
	// connections waiting in the Tracker (in close order).
	marks []mark
}

type mark struct {
	epoch uint64
	n     int
}

// epochEnd is the index of an epoch's last segment.
type epochEnd struct {
	epoch, last uint64
}

// engineConfig is what the engine needs of Config.
type engineConfig struct {
	workers    int
	reassembly reassembly.Config
	flows      flows.Config
	// ordered releases Records in connection-start order (files);
	// otherwise in the order connections closed (live).
	ordered bool
	// maxHeld caps the Records held for an earlier connection; past it
	// the oldest go out anyway. 0 means 10000.
	maxHeld int
}

// newEngine starts the workers and the merger. emit receives each Record,
// from the merger's goroutine, until close returns.
func newEngine(cfg engineConfig, emit func(*flows.Record)) *engine {
	n := max(cfg.workers, 1)
	rcfg, fcfg := cfg.reassembly, cfg.flows
	def := reassembly.DefaultConfig()
	if rcfg.MaxConns <= 0 {
		rcfg.MaxConns = def.MaxConns
	}
	if rcfg.MaxBufferedTotal <= 0 {
		rcfg.MaxBufferedTotal = def.MaxBufferedTotal
	}
	rcfg.MaxConns = max(rcfg.MaxConns/n, 1)
	rcfg.MaxBufferedTotal = max(rcfg.MaxBufferedTotal/n, 1)
	if fcfg.Lineage == nil {
		fcfg.Lineage = flows.NewLineage(fcfg.MaxLineage)
	}
	if fcfg.Certs == nil {
		// One certificate cache for all workers, bounded in bytes: a
		// busy server's chain is parsed once, and more workers do not
		// multiply what it holds.
		fcfg.Certs = certs.NewCache(4096)
	}
	s := &engine{
		ordered: cfg.ordered,
		maxHeld: cfg.maxHeld,
		every:   rcfg.TickEvery(),
		emit:    emit,
		results: make(chan result, 2*n),
		allDone: make(chan struct{}),
		merged:  make(chan struct{}),
		cur:     make([]*batch, n),
	}
	if s.maxHeld <= 0 {
		s.maxHeld = 10000
	}
	// Each worker's Tracker emits as it builds; the merger orders.
	for i := range n {
		w := &worker{
			id:   i,
			in:   make(chan *batch, queueDepth),
			free: make(chan *batch, queueDepth+2),
		}
		w.tracker = flows.NewTracker(fcfg, func(r *flows.Record) { w.out = append(w.out, r) })
		w.asm = reassembly.New(rcfg, w.tracker)
		w.udp = reassembly.NewDatagrams(rcfg, w.tracker)
		s.shards = append(s.shards, w)
		s.cur[i] = w.batch()
		go w.run(s)
	}
	go s.merge()
	return s
}

// shardOf picks the shard of a segment's connection: the same for both
// directions. Bulk transfers send runs of segments on one connection: the
// comparison with the previous segment's endpoints saves the hash.
func (s *engine) shardOf(seg *packet.Segment) int {
	if len(s.shards) == 1 {
		return 0
	}
	if (seg.Src == s.lastEnds[0] && seg.Dst == s.lastEnds[1]) || (seg.Src == s.lastEnds[1] && seg.Dst == s.lastEnds[0]) {
		return s.lastShard
	}
	h := endpointHash(seg.Src) ^ endpointHash(seg.Dst)
	s.lastEnds = [2]netip.AddrPort{seg.Src, seg.Dst}
	s.lastShard = int(h % uint64(len(s.shards)))
	return s.lastShard
}

// udpShardOf picks the shard of a datagram's flow: by the endpoint of the
// lower port, the server's as a rule, so that a client whose NAT binding
// (its address or port) changes mid-connection stays on the shard that
// knows its connection IDs.
func (s *engine) udpShardOf(src, dst netip.AddrPort) int {
	ep := src
	if dst.Port() < src.Port() || (dst.Port() == src.Port() && dst.Addr().Less(src.Addr())) {
		ep = dst
	}
	return int(endpointHash(ep) % uint64(len(s.shards)))
}

// AddPacket takes the next packet: a TCP segment or a UDP datagram, as
// p.Transport says. Payloads are as for Add.
func (s *engine) AddPacket(p *packet.Packet, retained bool) {
	if p.Transport == packet.UDP {
		dg := &p.Datagram
		seg := packet.Segment{Timestamp: dg.Timestamp, Src: dg.Src, Dst: dg.Dst, Payload: dg.Payload, Truncated: dg.Truncated}
		s.add(kindDatagram, &seg, s.udpShardOf(dg.Src, dg.Dst), retained)
		return
	}
	s.Add(&p.Segment, retained)
}

// Add takes the next segment. seg.Payload is read only during the call,
// unless retained: then it must stay valid and unchanged until Done has
// passed the segment (a Source that retains its buffers saves a copy of
// every payload).
func (s *engine) Add(seg *packet.Segment, retained bool) {
	s.add(kindSegment, seg, -1, retained)
}

// add queues a segment or datagram for shard (-1: the segment's).
func (s *engine) add(kind uint8, seg *packet.Segment, shard int, retained bool) {
	s.index++
	if seg.Timestamp.After(s.clock) {
		s.clock = seg.Timestamp
	}
	if s.clock.Sub(s.lastTick) >= s.every {
		// Timeouts are due: every worker ticks here, before the segment,
		// at the same place.
		s.broadcast(kindTick, s.clock, s.index)
	}
	if shard < 0 {
		shard = s.shardOf(seg)
	}
	b := s.cur[shard]
	// Filled in place: an entry is large, and copying it in costs.
	b.entries = append(b.entries, entry{})
	e := &b.entries[len(b.entries)-1]
	e.kind, e.seg, e.place = kind, *seg, reassembly.Place{Index: s.index, Clock: s.clock}
	if !retained {
		if b.arena == nil {
			b.arena = make([]byte, 0, 64<<10)
		}
		e.inArena, e.off = true, len(b.arena)
		b.arena = append(b.arena, seg.Payload...)
		e.end = len(b.arena)
		e.seg.Payload = nil
	}
	s.inEpoch++
	s.epochLen += len(seg.Payload)
	if s.inEpoch >= epochSegments || s.epochLen >= epochBytes {
		s.endEpoch(false)
	}
}

// Done returns how many segments (counted by Add) the engine no longer
// needs the payloads of: the last segment of the newest epoch every
// shard has finished.
func (s *engine) Done() uint64 {
	r := s.resolved.Load()
	for len(s.ends) > 0 && s.ends[0].epoch <= r {
		s.done = s.ends[0].last
		s.ends = s.ends[1:]
	}
	return s.done
}

// Tick moves the capture's clock on when packets are scarce (live).
func (s *engine) Tick(now time.Time) {
	if now.After(s.clock) {
		s.clock = now
	}
	s.index++ // a place of its own, as in serial
	s.broadcast(kindTick, s.clock, s.index)
	// A quiet live link: what closed should be reported now.
	s.endEpoch(false)
}

// Flush hands on what has been added so far, so that the Records of
// connections that closed are not held back by a slow trickle of segments
// (live: call it every fraction of a second).
func (s *engine) Flush() {
	if !s.closed {
		s.endEpoch(false)
	}
}

// Close ends the input at ts: every connection is closed and every Record
// emitted before it returns. The engine is done afterwards.
func (s *engine) Close(ts time.Time) {
	if s.closed {
		return
	}
	s.closed = true
	if ts.After(s.clock) {
		s.clock = ts
	}
	s.broadcast(kindClose, s.clock, s.index+1)
	s.endEpoch(true)
	for _, w := range s.shards {
		close(w.in)
	}
	<-s.merged
}

// broadcast adds a Tick or the end of input to every shard's batch, at
// place index: the segment it comes before (or with, for a Tick that Add
// makes).
func (s *engine) broadcast(kind uint8, now time.Time, index uint64) {
	if kind == kindTick {
		s.lastTick = now
	}
	p := reassembly.Place{Index: index, Clock: now}
	for _, b := range s.cur {
		b.entries = append(b.entries, entry{kind: kind, place: p})
	}
}

// endEpoch hands every shard its batch.
func (s *engine) endEpoch(final bool) {
	s.epoch++
	for i, w := range s.shards {
		b := s.cur[i]
		b.epoch, b.last, b.final = s.epoch, s.index, final
		w.in <- b
		if !final {
			s.cur[i] = w.batch()
		}
	}
	s.ends = append(s.ends, epochEnd{epoch: s.epoch, last: s.index})
	s.inEpoch, s.epochLen = 0, 0
}

// Open returns the connections open now (approximate while running).
func (s *engine) Open() int {
	n := 0
	for _, w := range s.shards {
		n += int(w.open.Load())
	}
	return n
}

// Stats returns the counters; exact once Close has returned.
func (s *engine) Stats() (reassembly.Stats, reassembly.DatagramStats, flows.Stats) {
	var rs reassembly.Stats
	var ds reassembly.DatagramStats
	var fs flows.Stats
	for _, w := range s.shards {
		rs.Add(w.asm.Stats())
		ds.Add(w.udp.Stats())
		fs.Add(w.tracker.Stats())
	}
	// The merger, not the shards, emits and holds Records.
	fs.Records = s.records
	fs.Held = len(s.held)
	return rs, ds, fs
}

// batch returns an empty batch, reusing one the shard has finished.
func (w *worker) batch() *batch {
	select {
	case b := <-w.free:
		b.entries, b.arena = b.entries[:0], b.arena[:0]
		return b
	default:
		// Sized for a whole epoch at once (it would grow to that anyway);
		// the arena only when a payload is not retained (files retain).
		return &batch{entries: make([]entry, 0, epochSegments+8)}
	}
}

// run is the shard's goroutine.
func (w *worker) run(s *engine) {
	for b := range w.in {
		for i := range b.entries {
			e := &b.entries[i]
			w.tracker.At(e.place.Index)
			switch e.kind {
			case kindSegment:
				if e.inArena {
					e.seg.Payload = b.arena[e.off:e.end:e.end]
				}
				w.asm.Add(&e.seg, e.place)
				e.seg.Payload = nil
			case kindDatagram:
				if e.inArena {
					e.seg.Payload = b.arena[e.off:e.end:e.end]
				}
				dg := packet.Datagram{Timestamp: e.seg.Timestamp, Src: e.seg.Src, Dst: e.seg.Dst, Payload: e.seg.Payload, Truncated: e.seg.Truncated}
				w.udp.Add(&dg, e.place)
				e.seg.Payload = nil
			case kindTick:
				w.asm.Tick(e.place.Clock)
				w.udp.Tick(e.place.Clock)
			case kindClose:
				w.asm.CloseAll(e.place.Clock)
				w.udp.CloseAll(e.place.Clock)
			}
		}
		w.open.Store(int64(w.asm.Open() + w.udp.Open()))
		w.marks = append(w.marks, mark{epoch: b.epoch, n: w.tracker.Pending()})
		if b.final {
			// Every shard must have closed everything before the last
			// connections are built.
			w.send(s, b, true, false)
			<-s.allDone
			w.build(b.epoch)
			w.send(s, b, true, true)
		} else {
			w.build(s.resolved.Load())
			w.send(s, b, false, false)
		}
		select {
		case w.free <- b:
		default:
		}
	}
}

// build builds the connections that closed in epochs up to resolved.
func (w *worker) build(resolved uint64) {
	n, keep := 0, 0
	for _, m := range w.marks {
		if m.epoch <= resolved {
			n = m.n
			keep++
		}
	}
	if n == 0 {
		w.marks = w.marks[keep:]
		return
	}
	w.tracker.BuildClosed(n)
	w.marks = w.marks[keep:]
	for i := range w.marks {
		w.marks[i].n -= n
	}
}

func (w *worker) send(s *engine, b *batch, last, final bool) {
	r := result{shard: w.id, epoch: b.epoch, last: last, final: final, records: w.out, low: b.last + 1}
	if s.ordered {
		if id, ok := w.tracker.Oldest(); ok {
			r.low = id
		}
	} else if pos, ok := w.tracker.FirstPending(); ok {
		r.low = pos
	}
	w.out = nil
	s.results <- r
}

// merge is the merger's goroutine: it counts finished epochs and releases
// Records in order.
func (s *engine) merge() {
	n := len(s.shards)
	done := make(map[uint64]int) // epoch -> shards that finished it
	low := make([]uint64, n)
	finals := 0
	var next uint64 = 1  // the next epoch to resolve
	var lastEpoch uint64 // the end of input's epoch, once known
	for finals < n {
		r := <-s.results
		switch {
		case r.final:
			finals++
		default:
			if r.last {
				lastEpoch = r.epoch
			}
			done[r.epoch]++
			for done[next] == n {
				delete(done, next)
				s.resolved.Store(next)
				if next == lastEpoch {
					close(s.allDone)
				}
				next++
			}
		}
		low[r.shard] = r.low
		for _, rec := range r.records {
			heap.Push(&s.held, held{key: s.key(rec), rec: rec})
		}
		bound := low[0]
		for _, l := range low[1:] {
			bound = min(bound, l)
		}
		for len(s.held) > 0 && (s.held[0].key < bound || len(s.held) > s.maxHeld) {
			s.release(heap.Pop(&s.held).(held).rec)
		}
	}
	for len(s.held) > 0 {
		s.release(heap.Pop(&s.held).(held).rec)
	}
	close(s.merged)
}

func (s *engine) release(r *flows.Record) {
	s.records++
	s.emit(r)
}

// key orders the Records the merger releases: connection start (ID) for
// files, close for a live capture, as one Tracker emits them.
func (s *engine) key(r *flows.Record) uint64 {
	if s.ordered {
		return r.ConnID()
	}
	return r.ClosedAt()
}

// held is a Record waiting for its turn; ties (connections closed at the
// same place) go by ID.
type held struct {
	key uint64
	rec *flows.Record
}

type recHeap []held

func (h recHeap) Len() int { return len(h) }
func (h recHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].rec.ConnID() < h[j].rec.ConnID()
}
func (h recHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)   { *h = append(*h, x.(held)) }
func (h *recHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = held{}
	*h = old[:len(old)-1]
	return x
}

// endpointHash mixes an address and port (the SplitMix64 finaliser over
// the address's two words); shardOf XORs both ends so that the two
// directions agree.
func endpointHash(ap netip.AddrPort) uint64 {
	a := ap.Addr().As16()
	h := binary.LittleEndian.Uint64(a[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(a[8:]) ^ uint64(ap.Port())<<17
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
