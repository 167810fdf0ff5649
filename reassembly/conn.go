package reassembly

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly/seqnum"
)

// connKey names a connection whichever way a packet travels: the two
// endpoints in a fixed order, so that both directions find the same entry.
// It is comparable and hashes without allocating.
type connKey struct{ lo, hi netip.AddrPort }

func keyOf(a, b netip.AddrPort) connKey {
	if a.Compare(b) <= 0 {
		return connKey{a, b}
	}
	return connKey{b, a}
}

// ChunkOverhead is what each buffered piece of out-of-order data costs in
// the budgets on top of its bytes: the bookkeeping around it. Without it a
// flood of one-byte segments would hold far more memory than the byte budget
// says.
const ChunkOverhead = 64

// chunk is a piece of one direction's stream held ahead of a hole. The
// assembler owns data (a copy); nil data means the bytes are known to be
// missing (the snap length cut them off) and are delivered as a gap.
type chunk struct {
	seq  seqnum.Value
	n    uint32 // length in sequence space
	data []byte // nil, or exactly n bytes
	ts   time.Time
}

func (c *chunk) end() seqnum.Value { return c.seq.Add(seqnum.Size(c.n)) }

// cost is what the chunk holds: its buffer's capacity (a merged chunk
// grows by doubling) and the overhead.
func (c *chunk) cost() int { return cap(c.data) + ChunkOverhead }

// chunkQueue holds chunks sorted by sequence number, never overlapping, all
// at or after the direction's next expected byte. Popping from the front is
// O(1); inserting is a binary search and a copy of the tail.
type chunkQueue struct {
	s    []chunk
	head int
}

func (q *chunkQueue) len() int        { return len(q.s) - q.head }
func (q *chunkQueue) at(i int) *chunk { return &q.s[q.head+i] }
func (q *chunkQueue) front() *chunk   { return &q.s[q.head] }
func (q *chunkQueue) back() *chunk    { return &q.s[len(q.s)-1] }
func (q *chunkQueue) empty() bool     { return q.head == len(q.s) }
func (q *chunkQueue) live() []chunk   { return q.s[q.head:] }
func (q *chunkQueue) removeBack() chunk {
	c := q.s[len(q.s)-1]
	q.s[len(q.s)-1] = chunk{}
	q.s = q.s[:len(q.s)-1]
	q.settle()
	return c
}

func (q *chunkQueue) popFront() chunk {
	c := q.s[q.head]
	q.s[q.head] = chunk{} // let the data go
	q.head++
	q.settle()
	return c
}

// settle rewinds an empty queue, and gives back a large array once the
// burst that needed it is over, so an idle connection holds little.
func (q *chunkQueue) settle() {
	if q.head < len(q.s) {
		return
	}
	if cap(q.s) > 64 {
		q.s = nil
	} else {
		q.s = q.s[:0]
	}
	q.head = 0
}

// search returns the index of the first chunk that ends after seq.
func (q *chunkQueue) search(seq seqnum.Value) int {
	live := q.live()
	// Fast path: data mostly arrives in increasing order.
	if len(live) == 0 || live[len(live)-1].end().LessThanEq(seq) {
		return len(live)
	}
	lo, hi := 0, len(live)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if live[m].end().LessThanEq(seq) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (q *chunkQueue) insert(i int, c chunk) {
	if q.head > 0 && len(q.s) == cap(q.s) {
		n := copy(q.s, q.s[q.head:])
		clear(q.s[n:])
		q.s = q.s[:n]
		q.head = 0
	}
	q.s = slices.Insert(q.s, q.head+i, c)
}

func (q *chunkQueue) reset() {
	clear(q.s)
	if cap(q.s) > 64 {
		q.s = nil
	} else {
		q.s = q.s[:0]
	}
	q.head = 0
}

// half is one direction of a connection: the bytes one endpoint sends.
type half struct {
	synced  bool // next is known: from a SYN, an ACK of the peer, or the first data seen
	synSeen bool // isn is from a SYN of this side
	isn     seqnum.Value
	// altISN is another ISN this side's SYNs carried (several SYN-ACKs of
	// different ISNs); the peer's ACK says which one counts.
	altISN  seqnum.Value
	altSeen bool
	next    seqnum.Value // next byte to deliver
	high    seqnum.Value // highest sequence number seen sent (end of data, after FIN)

	finSeen bool
	finDone bool // the FIN was reached: every byte before it is delivered or declared missing
	fin     seqnum.Value
	finTs   time.Time // when a FIN beyond a hole was seen

	win     uint16 // last window this side advertised (how much it would receive)
	winSeen bool

	q         chunkQueue
	buffered  int       // cost of q in the budgets
	holeSince time.Time // when the oldest data still waiting beyond a hole arrived

	delivered, missing uint64
	// Counted for the summary at close; they saturate.
	retransSegs, retransBytes uint32
	oooSegs, oooBytes         uint32
}

// waiting reports whether this direction holds data or a FIN beyond a hole.
func (h *half) waiting() bool {
	return !h.q.empty() || (h.finSeen && !h.finDone)
}

func (h *half) syncAt(v seqnum.Value) {
	h.synced = true
	h.next = v
	h.high = v
}

// links chain a connection into one of the assembler's intrusive lists.
type links struct{ prev, next *conn }

// conn is one TCP connection, open or (for TimeWait) recently closed.
type conn struct {
	key     connKey
	id      uint64         // ConnInfo.ID
	client  netip.AddrPort // ConnInfo.Client
	h       Handler        // nil once closed: nothing is delivered after Close
	d       [2]half
	packets [2]uint64
	lastTs  time.Time // capture time of the last packet
	// lastSeen is the assembler clock at the last packet, or, once closed,
	// at the close; unlike lastTs it never goes backwards, so the activity
	// and TimeWait lists stay sorted by it.
	lastSeen time.Time
	closed   bool
	inHalf   bool // in the half-open list (only the client's SYN so far)
	rstSeen  bool
	reports  [numKinds]uint8
	// When the handshake and the ends were seen (CloseInfo).
	synAt, synAckAt time.Time
	rstAt           time.Time
	rstFrom         packet.Dir

	lru      links // the open list (by activity) or the TimeWait list (by close time)
	buf      links // the list of connections waiting on a hole
	inBuf    bool
	inTomb   bool
	freeNext *conn
}

func (c *conn) dirOf(src netip.AddrPort) packet.Dir {
	if src == c.client {
		return packet.FromClient
	}
	return packet.FromServer
}

func (c *conn) buffered() int { return c.d[0].buffered + c.d[1].buffered }

func (c *conn) finAny() bool { return c.d[0].finSeen || c.d[1].finSeen }

// connList is an intrusive doubly linked list of connections; buf selects
// which links it threads through.
type connList struct {
	head, tail *conn
	n          int
	buf        bool
}

func (l *connList) links(c *conn) *links {
	if l.buf {
		return &c.buf
	}
	return &c.lru
}

func (l *connList) pushBack(c *conn) {
	k := l.links(c)
	k.prev, k.next = l.tail, nil
	if l.tail != nil {
		l.links(l.tail).next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

func (l *connList) remove(c *conn) {
	k := l.links(c)
	if k.prev != nil {
		l.links(k.prev).next = k.next
	} else {
		l.head = k.next
	}
	if k.next != nil {
		l.links(k.next).prev = k.prev
	} else {
		l.tail = k.prev
	}
	k.prev, k.next = nil, nil
	l.n--
}

func (l *connList) moveToBack(c *conn) {
	if l.tail == c {
		return
	}
	l.remove(c)
	l.pushBack(c)
}

func (l *connList) next(c *conn) *conn { return l.links(c).next }

// Anomaly kinds as small numbers, for the per-connection report caps.
const (
	kindMidstream = iota
	kindRetransmission
	kindOutOfOrder
	kindOverlap
	kindBudget
	kindTruncated
	kindBadRST
	numKinds
)

func kindName(k int) string {
	switch k {
	case kindMidstream:
		return AnomalyMidstream
	case kindRetransmission:
		return AnomalyRetransmission
	case kindOutOfOrder:
		return AnomalyOutOfOrder
	case kindOverlap:
		return AnomalyOverlapConflict
	case kindBudget:
		return AnomalyBudget
	case kindTruncated:
		return AnomalyTruncated
	case kindBadRST:
		return AnomalyBadRST
	}
	return "unknown"
}
