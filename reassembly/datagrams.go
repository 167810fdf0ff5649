package reassembly

import (
	"net/netip"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// DatagramHandler receives one UDP flow's datagrams. Its methods are called
// from the goroutine that calls Datagrams.Add, never concurrently.
type DatagramHandler interface {
	// Datagram hands over one datagram's payload, valid only during the
	// call, with the direction relative to ConnInfo's client.
	Datagram(dir packet.Dir, ts time.Time, payload []byte)
	// Close is called exactly once, last.
	Close(info CloseInfo)
}

// DatagramFactory decides which UDP flows are followed.
type DatagramFactory interface {
	// NewDatagram is asked, with its first datagram, about a flow not
	// followed yet; info.Client is that datagram's sender, and the
	// factory swaps Client and Server when it knows better (a server's
	// datagram first). A nil Handler leaves the flow alone: the question
	// comes again with its next datagram (a flow need not be claimed by
	// its first: DNS before QUIC on one port pair, STUN before DTLS).
	NewDatagram(info *ConnInfo, first []byte) DatagramHandler
}

// DatagramStats counts a Datagrams table's work over its life.
type DatagramStats struct {
	Datagrams uint64 // datagrams added
	Flows     uint64 // flows followed
	Open      int    // flows open now
	Ignored   uint64 // datagrams of flows no Handler claimed
	Evicted   uint64 // flows closed early to keep within MaxConns
}

// Add adds o's counters to s.
func (s *DatagramStats) Add(o DatagramStats) {
	s.Datagrams += o.Datagrams
	s.Flows += o.Flows
	s.Open += o.Open
	s.Ignored += o.Ignored
	s.Evicted += o.Evicted
}

// Datagrams is the flow table of UDP: it has no streams to rebuild, only
// flows to recognise by their endpoints, time out and bound. QUIC and DTLS
// put their own order on the datagrams (packet numbers, message_seq);
// the table hands them over in capture order.
type Datagrams struct {
	cfg   Config
	idle  time.Duration
	f     DatagramFactory
	flows map[connKey]*dgFlow
	// The open flows from the least recently active, in two lists: those
	// only one side has spoken in (a client's Initial no server answered,
	// a flood of them) time out after DatagramOneSidedIdle; the others
	// after idle. Idle ones close from each head; an eviction takes the
	// one-sided list's head first.
	lists [2]dgList // [0]: one side has spoken, [1]: both
	stats DatagramStats
}

type dgList struct{ head, tail *dgFlow }

// DefaultDatagramIdle is how long a UDP flow may be quiet before it is
// closed: a QUIC idle timeout is typically 30 s, DTLS retransmission
// back-off reaches 60 s (RFC 6347 4.2.4.1).
const DefaultDatagramIdle = time.Minute

// DatagramOneSidedIdle is the quiet time of a flow only one side has
// spoken in: an answer comes within a few round trips or not at all, and
// a spoofed flood must not hold a minute of state.
const DatagramOneSidedIdle = 10 * time.Second

type dgFlow struct {
	key        connKey
	client     netip.AddrPort
	h          DatagramHandler
	last       time.Time
	info       CloseInfo
	both       bool // both sides have spoken: in lists[1]
	prev, next *dgFlow
}

// NewDatagrams returns a table that asks f about new flows. cfg.MaxConns
// bounds the flows open at once, and cfg.IdleTimeout, when shorter than
// DefaultDatagramIdle, their quiet time.
func NewDatagrams(cfg Config, f DatagramFactory) *Datagrams {
	cfg = cfg.withDefaults()
	return &Datagrams{cfg: cfg, idle: min(cfg.IdleTimeout, DefaultDatagramIdle), f: f, flows: map[connKey]*dgFlow{}}
}

// Add takes the next datagram, at place p. dg.Payload is read only during
// the call.
func (t *Datagrams) Add(dg *packet.Datagram, p Place) {
	t.stats.Datagrams++
	k := keyOf(dg.Src, dg.Dst)
	fl := t.flows[k]
	if fl == nil {
		info := ConnInfo{ID: p.Index, Client: dg.Src, Server: dg.Dst, Start: dg.Timestamp, RolesInferred: true}
		h := t.f.NewDatagram(&info, dg.Payload)
		if h == nil {
			t.stats.Ignored++
			return
		}
		if len(t.flows) >= t.cfg.MaxConns {
			v := t.lists[0].head
			if v == nil {
				v = t.lists[1].head
			}
			t.stats.Evicted++
			t.close(v, CloseEvicted, v.last)
		}
		fl = &dgFlow{key: k, client: info.Client, h: h}
		t.flows[k] = fl
		t.stats.Flows++
		t.pushBack(fl)
	} else {
		t.unlink(fl)
	}
	dir := packet.FromClient
	if dg.Src != fl.client {
		dir = packet.FromServer
	}
	if fl.info.Packets[dir] == 0 && fl.info.Packets[dir^1] > 0 {
		fl.both = true // the other side answered
	}
	if fl.info.Packets[0]+fl.info.Packets[1] > 0 {
		t.pushBack(fl)
	}
	if dg.Timestamp.After(fl.last) {
		fl.last = dg.Timestamp
	}
	fl.info.Packets[dir]++
	fl.info.Delivered[dir] += uint64(len(dg.Payload))
	fl.h.Datagram(dir, dg.Timestamp, dg.Payload)
}

// Tick closes the flows quiet for their idle timeout at capture time now.
func (t *Datagrams) Tick(now time.Time) {
	for i, idle := range [2]time.Duration{min(t.idle, DatagramOneSidedIdle), t.idle} {
		l := &t.lists[i]
		for l.head != nil && now.Sub(l.head.last) >= idle {
			t.close(l.head, CloseIdle, l.head.last)
		}
	}
}

// CloseAll closes every open flow, in the order they were last active:
// the capture ended at now.
func (t *Datagrams) CloseAll(now time.Time) {
	for {
		a, b := t.lists[0].head, t.lists[1].head
		switch {
		case a == nil && b == nil:
			return
		case b == nil || (a != nil && !b.last.Before(a.last)):
			t.close(a, CloseEndOfInput, a.last)
		default:
			t.close(b, CloseEndOfInput, b.last)
		}
	}
}

// Open returns the flows open now.
func (t *Datagrams) Open() int { return len(t.flows) }

// Stats returns the counters so far.
func (t *Datagrams) Stats() DatagramStats {
	s := t.stats
	s.Open = len(t.flows)
	return s
}

func (t *Datagrams) close(fl *dgFlow, why CloseReason, ts time.Time) {
	t.unlink(fl)
	delete(t.flows, fl.key)
	fl.info.Reason, fl.info.Timestamp = why, ts
	fl.h.Close(fl.info)
}

func (t *Datagrams) list(fl *dgFlow) *dgList {
	if fl.both {
		return &t.lists[1]
	}
	return &t.lists[0]
}

func (t *Datagrams) pushBack(fl *dgFlow) {
	l := t.list(fl)
	fl.prev, fl.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = fl
	} else {
		l.head = fl
	}
	l.tail = fl
}

func (t *Datagrams) unlink(fl *dgFlow) {
	l := t.list(fl)
	if fl.prev != nil {
		fl.prev.next = fl.next
	} else {
		l.head = fl.next
	}
	if fl.next != nil {
		fl.next.prev = fl.prev
	} else {
		l.tail = fl.prev
	}
	fl.prev, fl.next = nil, nil
}
