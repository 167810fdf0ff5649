// Package packet holds the few types every floor of the house shares: a TCP
// segment and a UDP datagram as capture hands them up, and the direction of
// bytes within a connection. It is the bottom floor: it imports only the
// standard library, so that reassembly and dissect can use it without
// reaching gopacket.
package packet

import (
	"errors"
	"net/netip"
	"strconv"
	"time"
)

// Dir is the direction of bytes within a connection: 0 from the client
// to the server, 1 from the server to the client. Arrays indexed by Dir
// ([2]T) hold one value per direction.
type Dir uint8

const (
	FromClient Dir = 0
	FromServer Dir = 1
)

// String returns "client" or "server", the record contract's names for
// the sender of a message.
func (d Dir) String() string {
	if d == FromClient {
		return "client"
	}
	return "server"
}

// MarshalText implements encoding.TextMarshaler: "client" or "server".
func (d Dir) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Dir) UnmarshalText(b []byte) error {
	switch string(b) {
	case "client":
		*d = FromClient
	case "server":
		*d = FromServer
	default:
		return errors.New("packet: direction " + strconv.Quote(string(b)) + " is neither client nor server")
	}
	return nil
}

// Reverse returns the other direction.
func (d Dir) Reverse() Dir { return d ^ 1 }

// TCP header flags (RFC 9293 section 3.1).
const (
	FlagFIN uint8 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
)

// Segment is one TCP segment as it appeared on the wire.
//
// Payload is owned by whoever produced the Segment (capture's Source) and
// is valid only until the producer's next call; whatever outlives that
// must be copied.
type Segment struct {
	Timestamp time.Time
	Src, Dst  netip.AddrPort
	Seq, Ack  uint32
	Flags     uint8 // FlagFIN | FlagSYN | ...
	Window    uint16
	// Payload is the TCP payload as captured.
	Payload []byte
	// Truncated is how many payload bytes the snap length cut off (the
	// segment claimed more than was captured).
	Truncated int
}

// Datagram is one UDP datagram as it appeared on the wire. Payload has
// the ownership of Segment.Payload.
type Datagram struct {
	Timestamp time.Time
	Src, Dst  netip.AddrPort
	Payload   []byte
	// Truncated is how many payload bytes the snap length cut off.
	Truncated int
}

// Transport names the layer-4 protocol of a Packet.
type Transport uint8

const (
	TCP Transport = iota + 1
	UDP
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "unknown"
}

// Packet is what a packet source hands up: a TCP segment or a UDP
// datagram, whichever Transport says; the other half is stale. Frame
// numbers the packet in its capture from 1, as tshark's frame.number
// does, so that a connection's packets can be found again in the file.
type Packet struct {
	Transport Transport
	Frame     uint64
	Segment   Segment  // Transport == TCP
	Datagram  Datagram // Transport == UDP
}

// Timestamp is when the packet was captured, segment or datagram.
func (p *Packet) Timestamp() time.Time {
	if p.Transport == UDP {
		return p.Datagram.Timestamp
	}
	return p.Segment.Timestamp
}
