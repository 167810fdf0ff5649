package testgen

import (
	"time"
)

// TCP header flags (RFC 9293 section 3.1), same values as package capture.
const (
	FlagFIN uint8 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
)

// Packet is one TCP segment of a generated connection, before link, IP and
// TCP headers are laid out.
type Packet struct {
	Time     time.Time
	From     Dir
	Flags    uint8
	Seq, Ack uint32
	Window   uint16
	MSS      uint16 // non-zero: an MSS option (SYN, SYN-ACK)
	Payload  []byte
}

// Windows advertised by each side: typical Linux values.
const (
	clientWindow = 64240
	serverWindow = 65160
)

// segmenter turns a conversation log into TCP packets: the three-way
// handshake, data cut into MSS-sized segments with PSH on the last segment
// of each write, an ACK from the receiver after every second segment, ACKs
// piggybacked on data when the direction changes, FIN/ACK or RST, and the
// final ACK. It streams: each packet goes to emit as soon as it is known.
type segmenter struct {
	mss    int
	timing Timing
	emit   func(Packet)

	t       time.Time
	started bool
	prev    Dir // sender of the previous packet that counts for timing
	seq     [2]uint32
	unacked [2]int // segments (or FIN) from d the peer has not acknowledged
	rst     bool
}

func newSegmenter(c *Conn, start time.Time, emit func(Packet)) *segmenter {
	s := &segmenter{mss: c.mss(), timing: c.Timing.withDefaults(), emit: emit, t: start}
	s.seq[ClientToServer] = uint32(subSeed(c.Seed, "isn/client"))
	s.seq[ServerToClient] = uint32(subSeed(c.Seed, "isn/server"))
	return s
}

// clock advances the time for a packet sent by from. inFlight marks a
// delayed ACK sent while the peer's flight goes on: it neither costs a
// round trip nor changes who "has the floor".
func (s *segmenter) clock(from Dir, inFlight bool) time.Time {
	switch {
	case !s.started:
		s.started = true
		s.prev = from
		return s.t
	case inFlight || from == s.prev:
		s.t = s.t.Add(s.timing.Step)
	case from == ClientToServer:
		s.t = s.t.Add(s.timing.Think)
	default:
		s.t = s.t.Add(s.timing.RTT)
	}
	if !inFlight {
		s.prev = from
	}
	return s.t
}

func (s *segmenter) window(d Dir) uint16 {
	if d == ClientToServer {
		return clientWindow
	}
	return serverWindow
}

// handshake emits SYN, SYN-ACK, ACK.
func (s *segmenter) handshake() {
	c, sv := ClientToServer, ServerToClient
	s.emit(Packet{Time: s.clock(c, false), From: c, Flags: FlagSYN, Seq: s.seq[c], Window: s.window(c), MSS: uint16(s.mss)})
	s.seq[c]++
	s.emit(Packet{Time: s.clock(sv, false), From: sv, Flags: FlagSYN | FlagACK, Seq: s.seq[sv], Ack: s.seq[c], Window: s.window(sv), MSS: uint16(s.mss)})
	s.seq[sv]++
	s.emit(Packet{Time: s.clock(c, false), From: c, Flags: FlagACK, Seq: s.seq[c], Ack: s.seq[sv], Window: s.window(c)})
}

func (s *segmenter) pureACK(from Dir, inFlight bool) {
	s.emit(Packet{Time: s.clock(from, inFlight), From: from, Flags: FlagACK, Seq: s.seq[from], Ack: s.seq[from.peer()], Window: s.window(from)})
	s.unacked[from.peer()] = 0
}

func (s *segmenter) event(ev Event) {
	if s.rst {
		return
	}
	d := ev.From
	switch ev.Kind {
	case EventData:
		b := ev.Data
		for len(b) > 0 {
			n := min(len(b), s.mss)
			flags := FlagACK
			if n == len(b) {
				flags |= FlagPSH
			}
			s.emit(Packet{Time: s.clock(d, false), From: d, Flags: flags, Seq: s.seq[d], Ack: s.seq[d.peer()], Window: s.window(d), Payload: b[:n]})
			s.seq[d] += uint32(n)
			s.unacked[d.peer()] = 0
			s.unacked[d]++
			b = b[n:]
			if s.unacked[d] >= 2 {
				s.pureACK(d.peer(), true)
			}
		}
	case EventFIN:
		s.emit(Packet{Time: s.clock(d, false), From: d, Flags: FlagFIN | FlagACK, Seq: s.seq[d], Ack: s.seq[d.peer()], Window: s.window(d)})
		s.seq[d]++
		s.unacked[d.peer()] = 0
		s.unacked[d]++
	case EventRST:
		s.emit(Packet{Time: s.clock(d, false), From: d, Flags: FlagRST | FlagACK, Seq: s.seq[d], Ack: s.seq[d.peer()], Window: 0})
		s.rst = true
	}
}

// finish acknowledges whatever is still unacknowledged.
func (s *segmenter) finish() {
	if s.rst {
		return
	}
	for _, d := range []Dir{s.prev, s.prev.peer()} {
		if s.unacked[d] > 0 {
			s.pureACK(d.peer(), false)
		}
	}
}

// Packets records the connection and returns its packets, the first (the
// SYN) at start, impairments applied.
func (c *Conn) Packets(start time.Time) ([]Packet, Outcome, error) {
	var pkts []Packet
	out, _, err := c.Stream(start, func(p Packet) { pkts = append(pkts, p) })
	if err != nil {
		return nil, out, err
	}
	return c.Impair.apply(pkts, c.Timing.withDefaults()), out, nil
}

// Stream records the connection and hands each packet to emit as soon as
// it is known, without impairments and without keeping the packets: memory
// stays bounded however much data the connection carries. The payload of a
// packet is valid only during the call. It returns the time of the last
// packet.
func (c *Conn) Stream(start time.Time, emit func(Packet)) (Outcome, time.Time, error) {
	s := newSegmenter(c, start, emit)
	s.handshake()
	out, err := c.Record(start.Add(s.timing.RTT), s.event)
	if err != nil {
		return out, s.t, err
	}
	s.finish()
	return out, s.t, nil
}
