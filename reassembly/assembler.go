package reassembly

// How the Assembler works, in short.
//
// Connections live in a map keyed by the 4-tuple in a fixed order, and on an
// intrusive list ordered by last activity: a packet moves its connection to
// the tail in O(1), and idle expiry pops from the head. Connections closed
// by FIN or RST stay in the map for TimeWait on a second list, so that late
// packets do not start bogus connections.
//
// Each direction keeps next, the first byte not yet handed over. A segment
// at next is handed to the Handler straight from the caller's buffer; one
// beyond next is copied into a queue of chunks sorted by sequence number
// (the first copy of a byte wins; differing copies are counted). Whatever
// becomes contiguous is handed over at once, so both directions reach the
// Handler in the capture order of the packets that completed them.
//
// A hole becomes a gap (Handler.Gap) when the peer acknowledges bytes beyond
// it (they reached the peer, so the capture lost them), when the data
// beyond it waited GapTimeout, when a budget needs the memory, or at close.
//
// Ownership: packet.Segment.Payload belongs to the caller and is read only during
// Add; chunks own their copies; the bytes passed to Handler.Data are valid
// only during that call.

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly/seqnum"
)

// Limits that come from TCP itself rather than from the budgets.
const (
	// maxAhead: data further than this beyond the next expected byte is in
	// no receive window (RFC 7323 section 2.3 caps windows at 2^30): it is
	// dropped rather than buffered or waited for.
	maxAhead = 1 << 30
	// maxChunksPerDir bounds the pieces one direction holds, so that an
	// insertion into the sorted queue stays cheap whatever the input.
	maxChunksPerDir = 4096
	// maxClaimed caps the bytes a truncated segment may claim beyond what
	// was captured. Without jumbograms an IP packet carries at most 64 KiB;
	// 256 KiB leaves room for captures of offloaded (GRO/TSO) super-segments.
	// The claim only sizes a gap, but a gap must not be a lie of 2 GiB.
	maxClaimed = 1 << 18
	// maxReports caps how often one anomaly kind is reported per
	// connection; the rest are still counted in Stats.
	maxReports = 8
	// maxPooled caps the closed connection structs kept for reuse, so that
	// memory returns after a flood.
	maxPooled = 1024
)

// Assembler rebuilds TCP connections from segments. It is not safe for
// concurrent use: one goroutine calls Add, Tick and CloseAll, and the
// handlers are called from it. A Handler must not call back into the
// Assembler.
type Assembler struct {
	cfg     Config
	factory Factory
	conns   map[connKey]*conn
	lru     connList // open connections, least recently active first
	// halfOpen holds, instead of lru, the connections only a client's SYN
	// (and its retries) opened: unanswered, they time out after
	// Config.HalfOpenTimeout and are evicted first, so that a SYN flood
	// costs a short while of little state.
	halfOpen connList
	// forcing is set while a budget forces holes closed: their bytes are
	// counted in Stats.BudgetGapBytes too.
	forcing  bool
	tombs    connList // closed by FIN/RST, in TimeWait, oldest first
	waiting  connList // open connections holding data or a FIN beyond a hole
	free     *conn
	nfree    int
	clock    time.Time // the latest capture time seen; never goes back
	index    uint64    // place in the capture of the segment being added
	bufTotal int
	stats    Stats
	last     *conn // the connection of the previous segment, or nil
}

// New returns an Assembler with the budgets of cfg; zero (or negative)
// fields take the values of DefaultConfig.
func New(cfg Config, f Factory) *Assembler {
	cfg = cfg.withDefaults()
	return &Assembler{
		cfg:     cfg,
		factory: f,
		conns:   make(map[connKey]*conn),
		waiting: connList{buf: true},
	}
}

// Config returns the budgets in force, defaults filled in.
func (a *Assembler) Config() Config { return a.cfg }

// Open returns the number of connections open now.
func (a *Assembler) Open() int { return a.lru.n + a.halfOpen.n }

// Stats returns the counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.Open = a.lru.n + a.halfOpen.n
	s.BufferedBytes = a.bufTotal
	return s
}

// Add takes the next segment in capture order. seg.Payload is read only
// during the call: what must wait is copied. at says where the segment
// stands in the whole capture, so that connections are named and time is
// kept the same however the capture's connections are shared among
// Assemblers: a connection's ID is the Index of the segment that created
// it, and timeouts run on the capture's clock. The Assembler never ticks
// itself: the driver calls Tick every Config.TickEvery of capture time.
func (a *Assembler) Add(seg *packet.Segment, at Place) {
	p := at
	a.stats.Segments++
	a.index = p.Index
	if p.Clock.After(a.clock) {
		a.clock = p.Clock
	}
	key := keyOf(seg.Src, seg.Dst)
	c := a.last
	if c == nil || c.key != key {
		// Bulk transfers send runs of segments on one connection: the
		// comparison saves the hash.
		c = a.conns[key]
		a.last = c
	}
	if c != nil && c.closed {
		if !reusesClosed(c, seg) {
			a.stats.Ignored++
			return
		}
		a.forget(c)
		c = nil
	}
	if c != nil && a.clock.Sub(c.lastSeen) >= a.cfg.IdleTimeout {
		// Expired but not yet swept by Tick: close it first; after so
		// long a quiet, this packet starts afresh.
		a.close(c, idleReason(c), a.clock)
		if c.inTomb {
			a.forget(c)
		}
		c = nil
	}
	if c != nil && seg.Flags&(packet.FlagSYN|packet.FlagACK|packet.FlagRST) == packet.FlagSYN {
		switch act, reason := a.synOnOpen(c, seg); act {
		case synIgnore:
			a.touch(c, seg)
			return
		case synReuse:
			a.finish(c, reason, seg.Timestamp)
			a.forget(c)
			c = nil
		}
	}
	if c == nil {
		if c = a.create(seg); c == nil {
			a.stats.Ignored++
			return
		}
		a.last = c
	}
	a.segment(c, seg)
}

// Tick expires, by capture time, holes that waited GapTimeout, connections
// idle for IdleTimeout and closed connections past TimeWait. The driver
// calls it every Config.TickEvery of capture time, and when packets are
// scarce (a live capture) so that idle connections still end.
func (a *Assembler) Tick(now time.Time) {
	if now.After(a.clock) {
		a.clock = now
	}
	now = a.clock
	for c := a.waiting.head; c != nil; {
		next := a.waiting.next(c)
		a.checkTimeouts(c, now)
		if c.d[0].finDone && c.d[1].finDone {
			a.close(c, CloseFIN, now)
		}
		c = next
	}
	for c := a.lru.head; c != nil && now.Sub(c.lastSeen) >= a.cfg.IdleTimeout; c = a.lru.head {
		a.close(c, idleReason(c), now)
	}
	for c := a.halfOpen.head; c != nil && now.Sub(c.lastSeen) >= a.cfg.HalfOpenTimeout; c = a.halfOpen.head {
		a.stats.HalfOpenExpired++
		a.close(c, CloseIdle, now)
	}
	for c := a.tombs.head; c != nil && now.Sub(c.lastSeen) >= a.cfg.TimeWait; c = a.tombs.head {
		a.forget(c)
	}
}

// CloseAll ends the input: every open connection releases what it holds
// (holes become gaps) and closes with CloseEndOfInput, least recently
// active first. The Assembler is empty afterwards and may be reused.
func (a *Assembler) CloseAll(ts time.Time) {
	if ts.After(a.clock) {
		a.clock = ts
	}
	for {
		c := a.lru.head
		if h := a.halfOpen.head; h != nil && (c == nil || h.lastSeen.Before(c.lastSeen)) {
			c = h
		}
		if c == nil {
			break
		}
		a.finish(c, CloseEndOfInput, ts)
		a.forget(c)
	}
	for c := a.tombs.head; c != nil; c = a.tombs.head {
		a.forget(c)
	}
}

func idleReason(c *conn) CloseReason {
	if c.finAny() {
		return CloseFIN // one FIN, and the other side went quiet
	}
	return CloseIdle
}

// reusesClosed reports whether seg, arriving for a connection in TimeWait,
// starts a new connection: only a SYN with a new initial sequence number
// does; anything else is a late packet of the old one.
func reusesClosed(c *conn, seg *packet.Segment) bool {
	if seg.Flags&(packet.FlagSYN|packet.FlagACK|packet.FlagRST) != packet.FlagSYN {
		return false
	}
	h := &c.d[c.dirOf(seg.Src)]
	return !h.synSeen || seqnum.Value(seg.Seq) != h.isn
}

type synAction uint8

const (
	synProcess synAction = iota
	synIgnore
	synReuse
)

// synOnOpen decides what a SYN (without ACK) means on an open connection:
// a retransmission of the SYN that opened it, an in-window SYN that the
// endpoint answers with a challenge ACK (RFC 5961 section 4) and that
// changes nothing, or a new connection on the same 4-tuple.
func (a *Assembler) synOnOpen(c *conn, seg *packet.Segment) (synAction, CloseReason) {
	d := c.dirOf(seg.Src)
	h, o := &c.d[d], &c.d[1-d]
	seq := seqnum.Value(seg.Seq)
	switch {
	case !h.synced:
		return synProcess, 0 // the first SYN of this side (simultaneous open)
	case h.synSeen && seq == h.isn:
		return synProcess, 0 // retransmitted
	case !h.synSeen && seq.Add(1) == h.next:
		return synProcess, 0 // the SYN we had only learned of from an ACK
	case c.finAny() || c.rstSeen:
		return synReuse, CloseFIN
	case seq.Add(1).InWindow(h.next, rcvWindow(o)):
		return synIgnore, 0
	}
	return synReuse, CloseReused
}

// rcvWindow estimates how far beyond the next expected byte the receiver
// side o would accept data. The window scale option is not visible here
// (packet.Segment carries no options), so the advertised window is taken at a
// scale of 2^8, which covers the scales common stacks choose.
func rcvWindow(o *half) seqnum.Size {
	if !o.winSeen {
		return 1 << 20
	}
	return max(seqnum.Size(o.win)<<8, 1<<16)
}

// create starts a connection for seg, or returns nil when seg is a stray
// that must not create one: a RST, a FIN, or a segment without payload or
// SYN.
func (a *Assembler) create(seg *packet.Segment) *conn {
	f := seg.Flags
	var client, server netip.AddrPort
	inferred := false
	switch {
	case f&packet.FlagRST != 0:
		return nil
	case f&packet.FlagSYN != 0:
		if f&packet.FlagACK == 0 {
			client, server = seg.Src, seg.Dst
		} else {
			client, server = seg.Dst, seg.Src
		}
	case f&packet.FlagFIN != 0, len(seg.Payload) == 0 && seg.Truncated <= 0:
		return nil
	default:
		// The start was not captured: the roles are guessed from the
		// ports (see ServerSide).
		inferred = true
		if ServerSide(seg.Src.Port(), seg.Dst.Port()) {
			client, server = seg.Dst, seg.Src
		} else {
			client, server = seg.Src, seg.Dst
		}
	}
	for a.lru.n+a.halfOpen.n+a.tombs.n >= a.cfg.MaxConns {
		if t := a.tombs.head; t != nil {
			a.forget(t)
			continue
		}
		v := a.halfOpen.head // an unanswered SYN goes first
		if v == nil {
			v = a.lru.head
		}
		a.stats.Evicted++
		a.forcing = true
		a.finish(v, CloseEvicted, a.clock)
		a.forcing = false
		a.forget(v)
	}
	c := a.alloc()
	c.key = keyOf(seg.Src, seg.Dst)
	c.id, c.client = a.index, client
	info := ConnInfo{ID: a.index, Client: client, Server: server, Start: seg.Timestamp, RolesInferred: inferred}
	c.lastSeen = a.clock
	c.lastTs = seg.Timestamp
	a.conns[c.key] = c
	if f&(packet.FlagSYN|packet.FlagACK) == packet.FlagSYN && len(seg.Payload) == 0 {
		c.inHalf = true
		a.halfOpen.pushBack(c)
	} else {
		a.lru.pushBack(c)
	}
	a.stats.Connections++
	if a.factory != nil {
		c.h = a.factory.New(info)
	}
	if c.h == nil {
		c.h = nopHandler{}
	}
	if inferred {
		a.report(c, kindMidstream, c.dirOf(seg.Src), seg.Timestamp, 0, "start of connection not captured; roles guessed from ports")
	}
	return c
}

// ServerSide guesses whether the source port of a packet is the server's:
// a port of a well-known TLS service wins, then a system port (below 1024),
// then the lower port (ephemeral ports are high, though some stacks start
// them at 1025); on a tie the destination is taken for the server.
func ServerSide(src, dst uint16) bool {
	rs, rd := portRank(src), portRank(dst)
	if rs != rd {
		return rs > rd
	}
	return src < dst
}

func portRank(p uint16) int {
	switch p {
	case 443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, // IANA "over TLS" ports
		2376, 3269, 4433, 5061, 5223, 5986, 6443, 6697, 8443, 8883, 9443, 10443:
		return 2
	}
	if p < 1024 {
		return 1
	}
	return 0
}

func (a *Assembler) alloc() *conn {
	if c := a.free; c != nil {
		a.free = c.freeNext
		c.freeNext = nil
		a.nfree--
		return c
	}
	return new(conn)
}

// forget removes a closed connection from the table and recycles it.
func (a *Assembler) forget(c *conn) {
	if a.conns[c.key] == c {
		delete(a.conns, c.key)
	}
	if c.inTomb {
		a.tombs.remove(c)
	}
	if a.last == c {
		a.last = nil
	}
	*c = conn{}
	if a.nfree < maxPooled {
		c.freeNext = a.free
		a.free = c
		a.nfree++
	}
}

// close ends c. A connection closed by FIN or RST stays in the table for
// TimeWait to absorb late packets; any other is forgotten at once.
func (a *Assembler) close(c *conn, reason CloseReason, ts time.Time) {
	a.finish(c, reason, ts)
	if reason == CloseFIN || reason == CloseRST {
		c.lastSeen = a.clock // from now on: when it closed
		c.inTomb = true
		a.tombs.pushBack(c)
		return
	}
	a.forget(c)
}

// finish releases what c holds (holes become gaps), reports the counted
// anomalies and calls Close, exactly once.
func (a *Assembler) finish(c *conn, reason CloseReason, ts time.Time) {
	if c.closed {
		return
	}
	for d := range packet.Dir(2) {
		a.flushDir(c, d, ts)
	}
	// Retransmissions and reordering are normal in small numbers: each is
	// reported once per connection, with its counts, not per segment.
	a.summarise(c, AnomalyRetransmission, c.d[0].retransSegs, c.d[1].retransSegs, uint64(c.d[0].retransBytes)+uint64(c.d[1].retransBytes))
	a.summarise(c, AnomalyOutOfOrder, c.d[0].oooSegs, c.d[1].oooSegs, uint64(c.d[0].oooBytes)+uint64(c.d[1].oooBytes))
	info := CloseInfo{Reason: reason, Timestamp: c.lastTs, SynAt: c.synAt, SynAckAt: c.synAckAt}
	if c.rstSeen {
		info.RstAt, info.RstFrom = c.rstAt, c.rstFrom
	}
	for d := range 2 {
		if c.d[d].finSeen {
			info.FinAt[d] = c.d[d].finTs
		}
		info.Delivered[d] = c.d[d].delivered
		info.Missing[d] = c.d[d].missing
		info.Packets[d] = c.packets[d]
		// flushDir released everything; this only guards the budgets.
		a.bufTotal -= c.d[d].buffered
		c.d[d].buffered = 0
		c.d[d].q.reset()
	}
	h := c.h
	c.h = nil
	c.closed = true
	if c.inHalf {
		a.halfOpen.remove(c)
		c.inHalf = false
	} else {
		a.lru.remove(c)
	}
	if c.inBuf {
		a.waiting.remove(c)
		c.inBuf = false
	}
	h.Close(info)
}

// summarise reports a counted anomaly once: Dir is the direction with more
// segments, Bytes the total, Detail the segments of each direction.
func (a *Assembler) summarise(c *conn, kind string, client, server uint32, bytes uint64) {
	if client+server == 0 {
		return
	}
	d := packet.FromClient
	if server > client {
		d = packet.FromServer
	}
	c.h.Anomaly(Anomaly{Kind: kind, Dir: d, Timestamp: c.lastTs, Bytes: int(min(bytes, 1<<62)),
		Detail: strconv.FormatUint(uint64(client), 10) + " client, " + strconv.FormatUint(uint64(server), 10) + " server segments"})
}

// touch records a packet of c and returns its direction.
func (a *Assembler) touch(c *conn, seg *packet.Segment) packet.Dir {
	d := c.dirOf(seg.Src)
	c.packets[d]++
	c.lastTs = seg.Timestamp
	c.lastSeen = a.clock
	switch {
	case !c.inHalf:
		a.lru.moveToBack(c)
	case d == packet.FromServer || len(seg.Payload) > 0:
		// Answered (or carrying data): an open connection now.
		a.halfOpen.remove(c)
		c.inHalf = false
		a.lru.pushBack(c)
	default:
		a.halfOpen.moveToBack(c) // a SYN retry
	}
	c.d[d].win = seg.Window
	c.d[d].winSeen = true
	return d
}

// segment handles seg on its open connection c.
func (a *Assembler) segment(c *conn, seg *packet.Segment) {
	ts := seg.Timestamp
	d := a.touch(c, seg)
	h, o := &c.d[d], &c.d[1-d]
	f := seg.Flags
	if f&packet.FlagRST != 0 {
		a.rst(c, d, seg)
		return
	}
	start := seqnum.Value(seg.Seq)
	if f&packet.FlagSYN != 0 {
		if f&packet.FlagACK == 0 && d == packet.FromClient && c.synAt.IsZero() {
			c.synAt = ts
		} else if f&packet.FlagACK != 0 && d == packet.FromServer && c.synAckAt.IsZero() {
			c.synAckAt = ts
		}
		switch {
		case !h.synced:
			h.syncAt(start.Add(1))
			h.isn, h.synSeen = start, true
		case !h.synSeen && start.Add(1) == h.next:
			h.isn, h.synSeen = start, true
		case h.synSeen && start != h.isn:
			h.altISN, h.altSeen = start, true // see the ACK case below
		}
		start = start.Add(1) // the SYN takes one sequence number; data (TCP Fast Open) follows it
	}
	if f&packet.FlagACK != 0 {
		ack := seqnum.Value(seg.Ack)
		if !o.synced {
			// Mid-stream, or the peer's SYN was not captured: the peer's
			// next byte is what this side acknowledges.
			o.syncAt(ack)
		} else if o.altSeen && ack == o.altISN.Add(1) && f&packet.FlagSYN == 0 &&
			o.delivered == 0 && o.missing == 0 && o.q.empty() && !o.finSeen {
			// The peer answered with SYNs of different ISNs (a server that
			// lost its half-open state, a TCP Fast Open retry) and sent
			// nothing yet: the ISN this side acknowledges is the one the
			// peer's data will follow.
			o.isn, o.altISN = o.altISN, o.isn
			o.syncAt(ack)
		} else if dist := o.next.Diff(ack); dist > 0 && dist < maxAhead {
			// The peer acknowledged bytes that were never captured: they
			// reached the peer, so they will not come again. What waits
			// beyond them is released now, before this segment's own
			// data, to keep capture order (Zeek reasons the same way).
			a.advance(c, 1-d, seqnum.Min(ack, o.high), ts)
		}
	}
	trunc := min(max(seg.Truncated, 0), maxClaimed)
	if len(seg.Payload) > 0 || trunc > 0 || f&packet.FlagFIN != 0 {
		if !h.synced {
			h.syncAt(start)
		}
		a.ingest(c, d, span{seq: start, data: seg.Payload, missing: trunc}, f&packet.FlagFIN != 0, ts)
	}
	a.checkTimeouts(c, a.clock)
	if c.d[0].finDone && c.d[1].finDone {
		a.close(c, CloseFIN, ts)
	}
}

// rst handles a reset. It is believed only when its sequence number is in
// the window the receiver would accept (RFC 9293 section 3.10.7.4), or,
// for a side whose sequence is unknown, when it acknowledges what the peer
// sent (the answer to a SYN); otherwise it is reported and ignored, so that
// a blind or stray reset cannot end the connection.
func (a *Assembler) rst(c *conn, d packet.Dir, seg *packet.Segment) {
	h, o := &c.d[d], &c.d[1-d]
	seq := seqnum.Value(seg.Seq)
	ok := false
	switch {
	case h.synced:
		ok = seq.InRange(h.next-1, h.next.Add(rcvWindow(o)))
	case seg.Flags&packet.FlagACK != 0 && o.synced:
		ack := seqnum.Value(seg.Ack)
		ok = ack.InRange(o.next-seqnum.Value(rcvWindow(h)), o.high.Add(1))
	}
	if !ok {
		a.stats.DroppedBytes += uint64(len(seg.Payload))
		a.report(c, kindBadRST, d, seg.Timestamp, len(seg.Payload), "reset outside the receive window ignored")
		return
	}
	c.rstSeen = true
	c.rstAt, c.rstFrom = seg.Timestamp, d
	// RFC 9293 section 3.5.3 lets a reset carry data (diagnostics, or a
	// middlebox's block page): in sequence, it is part of what was said.
	if len(seg.Payload) > 0 && h.synced && seq == h.next {
		a.ingest(c, d, span{seq: seq, data: seg.Payload}, false, seg.Timestamp)
	}
	a.close(c, CloseRST, seg.Timestamp)
}

// span is a segment's piece of one direction: data as captured, then
// missing bytes the snap length cut off.
type span struct {
	seq     seqnum.Value
	data    []byte
	missing int
}

func (s *span) len() int              { return len(s.data) + s.missing }
func (s *span) end() seqnum.Value     { return s.seq.Add(seqnum.Size(s.len())) }
func (s *span) dataEnd() seqnum.Value { return s.seq.Add(seqnum.Size(len(s.data))) }

func (s *span) trimFront(k int) {
	if k <= len(s.data) {
		s.data = s.data[k:]
	} else {
		s.missing -= k - len(s.data)
		s.data = s.data[len(s.data):]
	}
	s.seq = s.seq.Add(seqnum.Size(k))
}

func (s *span) trimBack(k int) {
	if k <= s.missing {
		s.missing -= k
	} else {
		s.data = s.data[:len(s.data)-(k-s.missing)]
		s.missing = 0
	}
}

// ingest takes a span (and FIN) of direction d: drops what is outside the
// window or past the FIN, trims what was delivered already, delivers what
// is next, buffers what is beyond a hole.
func (a *Assembler) ingest(c *conn, d packet.Dir, sp span, fin bool, ts time.Time) {
	h := &c.d[d]
	if off := h.next.Diff(sp.seq); off >= maxAhead {
		a.stats.DroppedBytes += uint64(len(sp.data))
		return
	}
	if sp.missing > 0 {
		a.report(c, kindTruncated, d, ts, sp.missing, "snap length cut the segment short")
	}
	// A FIN before bytes already delivered contradicts them: the first
	// story told is kept, the FIN ignored.
	if fin && !h.finSeen && h.next.LessThanEq(sp.end()) {
		h.finSeen = true
		h.fin = sp.end()
		h.finTs = ts
		h.high = seqnum.Max(h.high, h.fin.Add(1))
		a.dropBeyond(c, d, h.fin)
	}
	if h.finSeen && h.fin.LessThan(sp.end()) {
		// Nothing follows a FIN in its direction.
		if h.fin.LessThanEq(sp.seq) {
			a.stats.DroppedBytes += uint64(len(sp.data))
			sp = span{seq: sp.seq}
		} else {
			cut := int(h.fin.Size(sp.end()))
			dataBefore := len(sp.data)
			sp.trimBack(cut)
			a.stats.DroppedBytes += uint64(dataBefore - len(sp.data))
		}
	}
	h.high = seqnum.Max(h.high, sp.end())
	counted := false
	for sp.len() > 0 {
		if sp.seq.LessThan(h.next) {
			old := int(sp.seq.Size(h.next))
			if old >= sp.len() {
				// A keep-alive repeats the byte before next (RFC 9293
				// section 3.8.4): no news, and no retransmission either.
				keepAlive := sp.len() <= 1 && sp.seq.Add(1) == h.next
				if !keepAlive && !counted {
					a.countRetrans(h, sp.len())
				}
				break
			}
			if !counted {
				a.countRetrans(h, old)
				counted = true
			}
			sp.trimFront(old)
		}
		if sp.seq == h.next {
			if ov := a.deliverInOrder(c, d, sp, ts); ov > 0 && !counted {
				a.countRetrans(h, ov)
			}
			break
		}
		cost, pieces := a.plan(h, sp)
		if pieces == 0 {
			// Every byte is held already: a retransmission of buffered data.
			if _, ov := a.store(c, d, sp, ts); ov > 0 && !counted {
				a.countRetrans(h, ov)
			}
			break
		}
		if a.fits(c, cost) && h.q.len()+pieces <= maxChunksPerDir {
			stored, ov := a.store(c, d, sp, ts)
			if ov > 0 && !counted {
				a.countRetrans(h, ov)
			}
			h.oooSegs = satInc(h.oooSegs, 1)
			h.oooBytes = satInc(h.oooBytes, stored)
			a.stats.OutOfOrder++
			break
		}
		a.makeRoom(c, d, sp.seq, cost, pieces, ts)
		// makeRoom made room, or moved next up to sp.seq: go round again.
	}
	a.drain(c, d, ts)
}

func (a *Assembler) countRetrans(h *half, n int) {
	h.retransSegs = satInc(h.retransSegs, 1)
	h.retransBytes = satInc(h.retransBytes, n)
	a.stats.Retransmissions++
}

// satInc adds n to a per-connection counter, stopping at its maximum.
func satInc(v uint32, n int) uint32 {
	if uint64(v)+uint64(n) > 1<<32-1 {
		return 1<<32 - 1
	}
	return v + uint32(n)
}

func (a *Assembler) fits(c *conn, cost int) bool {
	return c.buffered()+cost <= a.cfg.MaxBufferedPerConn && a.bufTotal+cost <= a.cfg.MaxBufferedTotal
}

// makeRoom frees budget for cost more bytes of c's direction d, whose next
// hole ends at `at`. First the oldest waiting buffers of other connections
// are flushed as gaps (the total budget), then c's other direction (the
// connection's budget); if that is not enough, d's own hole up to `at` is
// declared a gap, so that the new data no longer needs buffering.
func (a *Assembler) makeRoom(c *conn, d packet.Dir, at seqnum.Value, cost, pieces int, ts time.Time) {
	a.forcing = true // the gaps made here are the budgets', not the capture's
	defer func() { a.forcing = false }()
	h := &c.d[d]
	if cost > a.cfg.MaxBufferedPerConn || cost > a.cfg.MaxBufferedTotal || h.q.len()+pieces > maxChunksPerDir {
		// No flushing elsewhere would make room for this.
		a.report(c, kindBudget, d, ts, h.buffered, "buffer budget reached: hole declared a gap")
		a.advance(c, d, at, ts)
		return
	}
	for a.bufTotal+cost > a.cfg.MaxBufferedTotal {
		v := a.waiting.head
		if v == c {
			v = a.waiting.next(v)
		}
		if v == nil {
			break
		}
		vd := packet.FromClient
		if v.d[1].buffered > v.d[0].buffered {
			vd = packet.FromServer
		}
		a.report(v, kindBudget, vd, ts, v.buffered(), "total buffer budget reached: held data released after a gap")
		a.flushDir(v, packet.FromClient, ts)
		a.flushDir(v, packet.FromServer, ts)
		if v.d[0].finDone && v.d[1].finDone {
			a.close(v, CloseFIN, ts)
		}
	}
	o := &c.d[1-d]
	reported := false
	for c.buffered()+cost > a.cfg.MaxBufferedPerConn && !o.q.empty() {
		if !reported {
			a.report(c, kindBudget, 1-d, ts, o.buffered, "connection buffer budget reached: held data released after a gap")
			reported = true
		}
		a.flushFront(c, 1-d, ts)
	}
	if !a.fits(c, cost) {
		a.report(c, kindBudget, d, ts, h.buffered, "buffer budget reached: hole declared a gap")
		a.advance(c, d, at, ts)
	}
}

// plan returns what buffering sp would cost: the bytes not yet held, with
// the overhead of each new piece, and the number of pieces.
func (a *Assembler) plan(h *half, sp span) (cost, pieces int) {
	i := h.q.search(sp.seq)
	pos, end, dataEnd := sp.seq, sp.end(), sp.dataEnd()
	for pos.LessThan(end) {
		if i < h.q.len() && h.q.at(i).seq.LessThanEq(pos) {
			pos = seqnum.Min(end, h.q.at(i).end())
			i++
			continue
		}
		pieceEnd := end
		if i < h.q.len() && h.q.at(i).seq.LessThan(end) {
			pieceEnd = h.q.at(i).seq
		}
		if pos.LessThan(dataEnd) {
			de := seqnum.Min(pieceEnd, dataEnd)
			cost += int(pos.Size(de)) + ChunkOverhead
			pieces++
		}
		if dataEnd.LessThan(pieceEnd) {
			cost += ChunkOverhead
			pieces++
		}
		pos = pieceEnd
	}
	return cost, pieces
}

// store buffers the bytes of sp that are not held yet (copies: the caller's
// payload does not outlive Add), compares those that are (the first copy
// wins; differences are reported) and returns the bytes stored and the
// bytes that overlapped held data.
func (a *Assembler) store(c *conn, d packet.Dir, sp span, ts time.Time) (stored, overlap int) {
	h := &c.d[d]
	i := h.q.search(sp.seq)
	pos, end, dataEnd := sp.seq, sp.end(), sp.dataEnd()
	conflict := 0
	for pos.LessThan(end) {
		if i < h.q.len() && h.q.at(i).seq.LessThanEq(pos) {
			ch := h.q.at(i)
			ovEnd := seqnum.Min(end, ch.end())
			conflict += compareOverlap(ch, &sp, pos, ovEnd)
			overlap += int(pos.Size(ovEnd))
			pos = ovEnd
			i++
			continue
		}
		pieceEnd := end
		if i < h.q.len() && h.q.at(i).seq.LessThan(end) {
			pieceEnd = h.q.at(i).seq
		}
		if pos.LessThan(dataEnd) {
			de := seqnum.Min(pieceEnd, dataEnd)
			from := int(sp.seq.Size(pos))
			n := int(pos.Size(de))
			data := sp.data[from : from+n]
			switch {
			case i > 0 && a.mergeBack(h, h.q.at(i-1), pos, data):
			case i < h.q.len() && a.mergeFront(h, h.q.at(i), de, pos, data, ts):
			default:
				buf := make([]byte, n)
				copy(buf, data)
				a.hold(c, h, i, chunk{seq: pos, n: uint32(n), data: buf, ts: ts})
				i++
			}
			stored += n
			pos = de
		}
		if pos.LessThan(pieceEnd) {
			a.hold(c, h, i, chunk{seq: pos, n: uint32(pos.Size(pieceEnd)), ts: ts})
			i++
			pos = pieceEnd
		}
	}
	if conflict > 0 {
		a.overlapConflict(c, d, ts, conflict)
	}
	return stored, overlap
}

func (a *Assembler) overlapConflict(c *conn, d packet.Dir, ts time.Time, n int) {
	a.stats.OverlapConflict++
	a.report(c, kindOverlap, d, ts, n, "overlapping bytes differ from the first copy, which was kept")
}

// compareOverlap counts the bytes in [from, to) where sp and the held chunk
// both have data and it differs.
func compareOverlap(ch *chunk, sp *span, from, to seqnum.Value) int {
	if ch.data == nil {
		return 0
	}
	to = seqnum.Min(to, sp.dataEnd())
	if !from.LessThan(to) {
		return 0
	}
	x := ch.data[ch.seq.Size(from):ch.seq.Size(to)]
	y := sp.data[sp.seq.Size(from):sp.seq.Size(to)]
	diff := 0
	for i := range x {
		if x[i] != y[i] {
			diff++
		}
	}
	return diff
}

// Adjacent held pieces are joined, so that a stream sent (or captured) in
// tiny segments ahead of a hole costs its bytes, not a piece per segment,
// and the piece count cap (maxChunksPerDir) is no limit on a message in
// one-byte segments. A piece grows at its end up to maxMergedBack bytes
// (by doubling, as append does); at its front, which copies it, up to
// maxMergedFront.
const (
	maxMergedBack  = 16 << 10
	maxMergedFront = 4 << 10
)

// mergeBack appends data, which starts at pos, to ch when ch holds data
// that ends there, and charges what the buffer grew by.
func (a *Assembler) mergeBack(h *half, ch *chunk, pos seqnum.Value, data []byte) bool {
	if ch.data == nil || ch.end() != pos || len(ch.data)+len(data) > maxMergedBack {
		return false
	}
	before := ch.cost()
	ch.data = append(ch.data, data...)
	ch.n += uint32(len(data))
	grew := ch.cost() - before
	h.buffered += grew
	a.bufTotal += grew
	return true
}

// mergeFront puts data, which runs from pos to end, before ch when ch holds
// data that starts at end: the joined piece starts with the new bytes and
// takes their time (a piece is timed by its first byte's segment).
func (a *Assembler) mergeFront(h *half, ch *chunk, end, pos seqnum.Value, data []byte, ts time.Time) bool {
	if ch.data == nil || ch.seq != end || len(ch.data)+len(data) > maxMergedFront {
		return false
	}
	before := ch.cost()
	buf := make([]byte, len(data)+len(ch.data))
	copy(buf, data)
	copy(buf[len(data):], ch.data)
	ch.data, ch.seq, ch.n, ch.ts = buf, pos, uint32(len(buf)), ts
	grew := ch.cost() - before
	h.buffered += grew
	a.bufTotal += grew
	if ts.Before(h.holeSince) {
		h.holeSince = ts
	}
	return true
}

// hold inserts a chunk at index i of h's queue and charges the budgets.
func (a *Assembler) hold(c *conn, h *half, i int, ch chunk) {
	h.q.insert(i, ch)
	cost := ch.cost()
	h.buffered += cost
	a.bufTotal += cost
	if h.holeSince.IsZero() || ch.ts.Before(h.holeSince) {
		h.holeSince = ch.ts
	}
	if !c.inBuf {
		c.inBuf = true
		a.waiting.pushBack(c)
	}
}

// deliverInOrder hands over sp, which starts at h.next, straight from the
// caller's payload (no copy), interleaved with held chunks it overlaps
// (their first copy wins), then whatever held data became contiguous. It
// returns the bytes that overlapped held data.
func (a *Assembler) deliverInOrder(c *conn, d packet.Dir, sp span, ts time.Time) (overlap int) {
	h := &c.d[d]
	conflict := 0
	for sp.len() > 0 {
		if !h.q.empty() && h.q.front().seq == h.next {
			ch := h.q.front()
			ovEnd := seqnum.Min(sp.end(), ch.end())
			conflict += compareOverlap(ch, &sp, sp.seq, ovEnd)
			k := int(sp.seq.Size(ovEnd))
			overlap += k
			sp.trimFront(k)
			a.popDeliver(c, d, ts)
			continue
		}
		lim := sp.end()
		if !h.q.empty() && h.q.front().seq.LessThan(lim) {
			lim = h.q.front().seq
		}
		k := int(sp.seq.Size(lim))
		nd := min(k, len(sp.data))
		if nd > 0 {
			h.next = h.next.Add(seqnum.Size(nd))
			h.delivered += uint64(nd)
			c.h.Data(d, ts, sp.data[:nd])
		}
		if k > nd {
			h.next = h.next.Add(seqnum.Size(k - nd))
			a.gap(c, d, ts, k-nd)
		}
		sp.trimFront(k)
	}
	if conflict > 0 {
		a.overlapConflict(c, d, ts, conflict)
	}
	a.drain(c, d, ts)
	return overlap
}

// popDeliver hands over the front chunk of d, which starts at h.next.
func (a *Assembler) popDeliver(c *conn, d packet.Dir, ts time.Time) {
	h := &c.d[d]
	ch := h.q.popFront()
	cost := ch.cost()
	h.buffered -= cost
	a.bufTotal -= cost
	h.next = ch.end()
	if ch.data != nil {
		h.delivered += uint64(len(ch.data))
		// Held bytes keep the time they were captured at (their first
		// byte's segment), not the time the hole before them was filled.
		c.h.Data(d, ch.ts, ch.data)
	} else {
		a.gap(c, d, ts, int(ch.n))
	}
}

func (a *Assembler) gap(c *conn, d packet.Dir, ts time.Time, n int) {
	if n <= 0 {
		return
	}
	c.d[d].missing += uint64(n)
	a.stats.GapBytes += uint64(n)
	if a.forcing {
		a.stats.BudgetGapBytes += uint64(n)
	}
	c.h.Gap(d, ts, n)
}

// drain delivers the held chunks that are now contiguous, reaches the FIN
// if everything before it is done, and updates the hole bookkeeping.
func (a *Assembler) drain(c *conn, d packet.Dir, ts time.Time) {
	h := &c.d[d]
	popped := false
	for !h.q.empty() && h.q.front().seq == h.next {
		a.popDeliver(c, d, ts)
		popped = true
	}
	if h.finSeen && !h.finDone && h.next == h.fin {
		h.finDone = true
		h.next = h.fin.Add(1)
		h.high = seqnum.Max(h.high, h.next)
	}
	switch {
	case !h.waiting():
		h.holeSince = time.Time{}
	case popped:
		// The hole now waited on is known since the oldest data beyond it
		// arrived.
		var oldest time.Time
		if h.finSeen && !h.finDone {
			oldest = h.finTs
		}
		for _, ch := range h.q.live() {
			if oldest.IsZero() || ch.ts.Before(oldest) {
				oldest = ch.ts
			}
		}
		h.holeSince = oldest
	case h.holeSince.IsZero():
		h.holeSince = h.finTs // a FIN beyond a hole, nothing held
	}
	w := c.d[0].waiting() || c.d[1].waiting()
	if w && !c.inBuf {
		c.inBuf = true
		a.waiting.pushBack(c)
	} else if !w && c.inBuf {
		c.inBuf = false
		a.waiting.remove(c)
	}
}

// advance declares the bytes of d before target that were never seen a
// gap, delivering held chunks on the way and after it. It never passes the
// FIN.
func (a *Assembler) advance(c *conn, d packet.Dir, target seqnum.Value, ts time.Time) {
	h := &c.d[d]
	if h.finSeen && h.fin.LessThan(target) {
		target = h.fin
	}
	for h.next.LessThan(target) {
		if !h.q.empty() && h.q.front().seq == h.next {
			a.popDeliver(c, d, ts)
			continue
		}
		gapEnd := target
		if !h.q.empty() && h.q.front().seq.LessThan(gapEnd) {
			gapEnd = h.q.front().seq
		}
		n := int(h.next.Size(gapEnd))
		h.next = gapEnd
		a.gap(c, d, ts, n)
	}
	a.drain(c, d, ts)
}

// flushFront declares the first hole of d a gap and delivers what follows.
func (a *Assembler) flushFront(c *conn, d packet.Dir, ts time.Time) {
	h := &c.d[d]
	switch {
	case !h.q.empty():
		a.advance(c, d, h.q.front().seq, ts)
	case h.finSeen && !h.finDone:
		a.advance(c, d, h.fin, ts)
	}
}

// flushDir declares every hole of d a gap and delivers all it holds, up to
// and including its FIN.
func (a *Assembler) flushDir(c *conn, d packet.Dir, ts time.Time) {
	h := &c.d[d]
	switch {
	case h.finSeen && !h.finDone:
		a.advance(c, d, h.fin, ts)
	case !h.q.empty():
		a.advance(c, d, h.q.back().end(), ts)
	}
}

// dropBeyond drops held data at or after a FIN: nothing follows a FIN.
func (a *Assembler) dropBeyond(c *conn, d packet.Dir, fin seqnum.Value) {
	h := &c.d[d]
	for !h.q.empty() && fin.LessThan(h.q.back().end()) {
		b := h.q.back()
		if fin.LessThanEq(b.seq) {
			ch := h.q.removeBack()
			cost := ch.cost()
			h.buffered -= cost
			a.bufTotal -= cost
			a.stats.DroppedBytes += uint64(len(ch.data))
			continue
		}
		keep := b.seq.Size(fin)
		if b.data != nil {
			a.stats.DroppedBytes += uint64(len(b.data)) - uint64(keep)
			// Copied to its new size: the budgets count what is held.
			before := b.cost()
			b.data = append([]byte(nil), b.data[:keep]...)
			freed := before - b.cost()
			h.buffered -= freed
			a.bufTotal -= freed
		}
		b.n = uint32(keep)
		break
	}
}

// checkTimeouts declares the holes of c that waited GapTimeout gaps.
func (a *Assembler) checkTimeouts(c *conn, now time.Time) {
	for d := range packet.Dir(2) {
		h := &c.d[d]
		for h.waiting() && now.Sub(h.holeSince) >= a.cfg.GapTimeout {
			a.flushFront(c, d, now)
		}
	}
}

// report passes an anomaly to c's handler, at most maxReports per kind.
func (a *Assembler) report(c *conn, kind int, d packet.Dir, ts time.Time, n int, detail string) {
	if c.h == nil || c.reports[kind] >= maxReports {
		return
	}
	c.reports[kind]++
	c.h.Anomaly(Anomaly{Kind: kindName(kind), Dir: d, Timestamp: ts, Bytes: n, Detail: detail})
}

// nopHandler stands in when a Factory returns no Handler.
type nopHandler struct{}

func (nopHandler) Data(packet.Dir, time.Time, []byte) {}
func (nopHandler) Gap(packet.Dir, time.Time, int)     {}
func (nopHandler) Anomaly(Anomaly)                    {}
func (nopHandler) Close(CloseInfo)                    {}
