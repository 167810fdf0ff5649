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
	// head and tail list the open flows from the least recently active:
	// idle ones close from the head, an eviction takes the head.
	head, tail *dgFlow
	stats      DatagramStats
}

// DefaultDatagramIdle is how long a UDP flow may be quiet before it is
// closed: a QUIC idle timeout is typically 30 s, DTLS retransmission
// back-off reaches 60 s (RFC 6347 4.2.4.1).
const DefaultDatagramIdle = time.Minute

type dgFlow struct {
	key        connKey
	client     netip.AddrPort
	h          DatagramHandler
	last       time.Time
	info       CloseInfo
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
		if len(t.flows) >= t.cfg.MaxConns && t.head != nil {
			t.stats.Evicted++
			t.close(t.head, CloseEvicted, t.head.last)
		}
		fl = &dgFlow{key: k, client: info.Client, h: h}
		t.flows[k] = fl
		t.stats.Flows++
		t.pushBack(fl)
	} else {
		t.unlink(fl)
		t.pushBack(fl)
	}
	dir := packet.FromClient
	if dg.Src != fl.client {
		dir = packet.FromServer
	}
	if dg.Timestamp.After(fl.last) {
		fl.last = dg.Timestamp
	}
	fl.info.Packets[dir]++
	fl.info.Delivered[dir] += uint64(len(dg.Payload))
	fl.h.Datagram(dir, dg.Timestamp, dg.Payload)
}

// Tick closes the flows quiet for the idle timeout at capture time now.
func (t *Datagrams) Tick(now time.Time) {
	for t.head != nil && now.Sub(t.head.last) >= t.idle {
		t.close(t.head, CloseIdle, t.head.last)
	}
}

// CloseAll closes every open flow: the capture ended at now.
func (t *Datagrams) CloseAll(now time.Time) {
	for t.head != nil {
		t.close(t.head, CloseEndOfInput, t.head.last)
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

func (t *Datagrams) pushBack(fl *dgFlow) {
	fl.prev, fl.next = t.tail, nil
	if t.tail != nil {
		t.tail.next = fl
	} else {
		t.head = fl
	}
	t.tail = fl
}

func (t *Datagrams) unlink(fl *dgFlow) {
	if fl.prev != nil {
		fl.prev.next = fl.next
	} else {
		t.head = fl.next
	}
	if fl.next != nil {
		fl.next.prev = fl.prev
	} else {
		t.tail = fl.prev
	}
	fl.prev, fl.next = nil, nil
}
