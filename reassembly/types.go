// Package reassembly rebuilds the two byte streams of each TCP connection.
//
// Segments go in through Assembler.Add in capture order; contiguous bytes come
// out through a Handler, one per connection, with both directions delivered in
// capture order. Roles come from SYN/SYN-ACK when the start was captured.
// Memory is bounded by the budgets in Config, whatever the input.
//
// It imports nothing of gopacket: a test keeps it so.
package reassembly

import (
	"net/netip"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Place is where a segment stands in the whole capture. Its driver (the
// pipeline) counts the segments and keeps the capture's clock, so that an
// Assembler fed only some of a capture's connections names and times them
// exactly as one fed them all.
type Place struct {
	// Index numbers the capture's segments from 1, in capture order.
	Index uint64
	// Clock is the capture time reached at this segment: the latest
	// timestamp of all segments up to it, whichever Assembler took them.
	Clock time.Time
}

// ConnInfo describes a connection when it is first seen.
type ConnInfo struct {
	// ID numbers connections in the order they were first seen, from 1.
	ID     uint64
	Client netip.AddrPort
	Server netip.AddrPort
	Start  time.Time
	// RolesInferred is true when no SYN or SYN-ACK told who the client is and
	// the roles were guessed (from ports). The handler may learn better from
	// the content (a ClientHello) and swap them.
	RolesInferred bool
}

// CloseReason says why a connection ended.
type CloseReason uint8

const (
	CloseFIN        CloseReason = iota + 1 // both sides sent FIN (or one FIN and the other went quiet)
	CloseRST                               // a reset within the window
	CloseIdle                              // no packet for Config.IdleTimeout of capture time
	CloseEvicted                           // dropped to keep within Config.MaxConns or memory budgets
	CloseEndOfInput                        // the capture ended while it was open
	// CloseReused: a SYN with a new initial sequence number took the 4-tuple
	// over before the old connection was seen to end (its FIN or RST was not
	// captured, or its host restarted).
	CloseReused
)

func (r CloseReason) String() string {
	switch r {
	case CloseFIN:
		return "fin"
	case CloseRST:
		return "rst"
	case CloseIdle:
		return "idle"
	case CloseEvicted:
		return "evicted"
	case CloseEndOfInput:
		return "end_of_input"
	case CloseReused:
		return "reused"
	}
	return "unknown"
}

// Anomaly kinds reported to Handler.Anomaly.
const (
	AnomalyMidstream       = "midstream"        // start of connection not captured
	AnomalyOverlapConflict = "overlap_conflict" // retransmitted bytes differ from the first copy
	AnomalyRetransmission  = "retransmission"   // data already delivered seen again (counted)
	AnomalyOutOfOrder      = "out_of_order"     // segment arrived ahead of a hole
	AnomalyBudget          = "budget_exceeded"  // a buffer was flushed as a gap to keep memory bounded
	AnomalyTruncated       = "truncated"        // snap length cut a segment short
	AnomalyBadRST          = "rst_out_of_window"
)

// Anomaly is something odd about a connection's TCP layer.
type Anomaly struct {
	Kind      string
	Dir       packet.Dir
	Timestamp time.Time
	Bytes     int    // bytes concerned, where that applies
	Detail    string // free text, from us, never from the wire
}

// CloseInfo is passed to Handler.Close.
type CloseInfo struct {
	Reason    CloseReason
	Timestamp time.Time // capture time of the last packet of the connection
	// Bytes delivered, and bytes declared missing, per direction (index packet.Dir).
	Delivered [2]uint64
	Missing   [2]uint64
	Packets   [2]uint64
	// The TCP handshake and ends as captured (zero when not seen): the
	// client's SYN and the server's SYN-ACK, each side's FIN, and the
	// reset that ended the connection (RstAt zero when none) with its
	// sender, so that who closed is told by the packets, not guessed.
	SynAt, SynAckAt time.Time
	FinAt           [2]time.Time
	RstAt           time.Time
	RstFrom         packet.Dir
}

// Handler receives one connection's streams. Its methods are called from the
// goroutine that calls Assembler.Add, never concurrently.
type Handler interface {
	// Data hands over the next contiguous bytes of one direction. data is
	// valid only during the call. ts is the capture time of the segment
	// that carried the first of them (bytes held behind a hole keep their
	// own time when the hole is filled).
	Data(dir packet.Dir, ts time.Time, data []byte)
	// Gap says n bytes of dir are missing and will never come; the next Data
	// of dir continues after them.
	Gap(dir packet.Dir, ts time.Time, n int)
	// Anomaly reports TCP-level oddities.
	Anomaly(a Anomaly)
	// Close is called exactly once, last.
	Close(info CloseInfo)
}

// Factory makes a Handler for each new connection.
type Factory interface {
	New(info ConnInfo) Handler
}

// Config holds the budgets. Zero values take the defaults of DefaultConfig.
type Config struct {
	MaxBufferedPerConn int           // out-of-order bytes held per connection
	MaxBufferedTotal   int           // out-of-order bytes held over all connections
	MaxConns           int           // connections tracked at once; the oldest idle is evicted past it
	IdleTimeout        time.Duration // capture time without packets before a connection is closed
	// GapTimeout is how long (capture time) a hole may wait for its data
	// before it is declared a gap. Data beyond a hole is released then.
	GapTimeout time.Duration
	// TimeWait is how long (capture time) the 4-tuple of a connection closed
	// by FIN or RST keeps absorbing late packets (retransmissions, final
	// ACKs) so that they do not start a bogus mid-stream connection. A SYN
	// with a new initial sequence number ends it at once. It is capped at
	// IdleTimeout.
	TimeWait time.Duration
	// HalfOpenTimeout is how long (capture time) a connection only a
	// client's SYN opened waits for an answer before it is closed; it is
	// capped at IdleTimeout.
	HalfOpenTimeout time.Duration
}

// DefaultConfig returns budgets fit for a sensor on a busy link.
func DefaultConfig() Config {
	return Config{
		MaxBufferedPerConn: 1 << 20,
		MaxBufferedTotal:   64 << 20,
		MaxConns:           1 << 20,
		IdleTimeout:        5 * time.Minute,
		GapTimeout:         2 * time.Second,
		TimeWait:           15 * time.Second,
		HalfOpenTimeout:    30 * time.Second,
	}
}

// withDefaults fills zero (or negative) fields from DefaultConfig.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if c.MaxBufferedPerConn <= 0 {
		c.MaxBufferedPerConn = def.MaxBufferedPerConn
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = def.MaxBufferedTotal
	}
	if c.MaxConns <= 0 {
		c.MaxConns = def.MaxConns
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = def.IdleTimeout
	}
	if c.GapTimeout <= 0 {
		c.GapTimeout = def.GapTimeout
	}
	if c.TimeWait <= 0 {
		c.TimeWait = def.TimeWait
	}
	if c.HalfOpenTimeout <= 0 {
		c.HalfOpenTimeout = def.HalfOpenTimeout
	}
	c.TimeWait = min(c.TimeWait, c.IdleTimeout)
	c.HalfOpenTimeout = min(c.HalfOpenTimeout, c.IdleTimeout)
	return c
}

// TickEvery is how often, in capture time, the driver calls Tick: a few
// times per shortest timeout, often enough to be on time to a quarter of
// it, rarely enough to cost nothing per packet.
func (c Config) TickEvery() time.Duration {
	c = c.withDefaults()
	shortest := min(c.GapTimeout, c.IdleTimeout, c.TimeWait, c.HalfOpenTimeout)
	return min(max(shortest/4, time.Millisecond), shortest)
}

// Stats counts the assembler's work over its life.
type Stats struct {
	Segments    uint64
	Connections uint64 // connections created
	Open        int    // connections open now
	// BufferedBytes is the out-of-order data held now, each buffered piece
	// counted with a fixed overhead (ChunkOverhead) so that the budgets bound
	// memory whatever the segment sizes.
	BufferedBytes   int
	Retransmissions uint64 // segments carrying bytes already received
	OutOfOrder      uint64 // segments buffered ahead of a hole
	GapBytes        uint64 // bytes declared missing
	// BudgetGapBytes are the GapBytes a budget forced (a hole closed to
	// make room, an eviction), as opposed to bytes the capture lost.
	BudgetGapBytes  uint64
	OverlapConflict uint64 // segments whose overlap differed from the first copy
	Evicted         uint64
	DroppedBytes    uint64 // bytes thrown away to keep within budgets
	Ignored         uint64 // segments that created no connection (e.g. a stray RST or pure ACK)
	// HalfOpenExpired counts connections closed because their SYN went
	// unanswered for HalfOpenTimeout.
	HalfOpenExpired uint64
}

// Add adds o's counters to s: the totals of several Assemblers that share
// a capture.
func (s *Stats) Add(o Stats) {
	s.Segments += o.Segments
	s.Connections += o.Connections
	s.Open += o.Open
	s.BufferedBytes += o.BufferedBytes
	s.Retransmissions += o.Retransmissions
	s.OutOfOrder += o.OutOfOrder
	s.GapBytes += o.GapBytes
	s.BudgetGapBytes += o.BudgetGapBytes
	s.OverlapConflict += o.OverlapConflict
	s.Evicted += o.Evicted
	s.DroppedBytes += o.DroppedBytes
	s.Ignored += o.Ignored
	s.HalfOpenExpired += o.HalfOpenExpired
}
