package flows

import (
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/quic"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// A QUIC connection outlives its addresses (RFC 9000 9): a client behind a
// NAT that rebinds, or one that migrates, goes on from a new address and
// port with the same connection IDs. The UDP flow table knows 5-tuples
// only; the Tracker knows the connection IDs each open QUIC connection's
// sides chose, and hands a new 5-tuple whose first packet carries one of
// them to the connection that owns it, as one more path.

// quicPaths indexes open QUIC connections by the connection IDs their sides
// chose.
type quicPaths struct {
	byCID map[string]quicOwner
	lens  [quic.MaxConnIDLen + 1]int // how many indexed IDs have each length
}

type quicOwner struct {
	c    *conn
	side packet.Dir // the side that chose the ID: packets carrying it are sent to it
}

// learn indexes the connection IDs c's sides have chosen so far.
func (t *Tracker) learnQUIC(c *conn) {
	for side := packet.FromClient; side <= packet.FromServer; side++ {
		id := c.dc.QUICConnID(side)
		if len(id) == 0 || len(id) > quic.MaxConnIDLen || c.quicCIDs[side] == string(id) {
			continue
		}
		p := &t.paths
		if p.byCID == nil {
			p.byCID = map[string]quicOwner{}
		}
		if old := c.quicCIDs[side]; old != "" && p.byCID[old].c == c {
			delete(p.byCID, old)
			p.lens[len(old)]--
		}
		if _, taken := p.byCID[string(id)]; taken {
			continue // another connection chose it first; keep that one
		}
		c.quicCIDs[side] = string(id)
		p.byCID[string(id)] = quicOwner{c: c, side: side}
		p.lens[len(id)]++
	}
}

// forgetQUIC removes a closed connection's IDs.
func (t *Tracker) forgetQUIC(c *conn) {
	for side, id := range c.quicCIDs {
		if id != "" && t.paths.byCID[id].c == c {
			delete(t.paths.byCID, id)
			t.paths.lens[len(id)]--
		}
		c.quicCIDs[side] = ""
	}
}

// routeQUIC finds the open connection a datagram of a new 5-tuple belongs
// to by the Destination Connection ID of its first packet, and orients
// info: the packet goes to the side that chose the ID.
func (t *Tracker) routeQUIC(info *reassembly.ConnInfo, b []byte) *conn {
	p := &t.paths
	if len(p.byCID) == 0 || len(b) < 1 {
		return nil
	}
	if b[0]&0x80 != 0 {
		// A long header names its Destination Connection ID's length.
		h, err := quic.ParsePacket(b, 0)
		if err != nil {
			return nil
		}
		if o, ok := p.byCID[string(h.DCID)]; ok {
			return t.orient(info, o)
		}
		return nil
	}
	for n := quic.MaxConnIDLen; n > 0; n-- {
		// Short header: the DCID's length is the receiver's choice, not
		// on the wire; try the lengths in use.
		if p.lens[n] == 0 || len(b) < 1+n {
			continue
		}
		if o, ok := p.byCID[string(b[1:1+n])]; ok {
			return t.orient(info, o)
		}
	}
	return nil
}

func (t *Tracker) orient(info *reassembly.ConnInfo, o quicOwner) *conn {
	if o.c.closed {
		return nil
	}
	if o.side == packet.FromClient {
		// Sent to the client: the sender is the server.
		info.Client, info.Server = info.Server, info.Client
	}
	info.RolesInferred = false
	o.c.paths++
	o.c.pathsSeen++
	return o.c
}

// quicPath is a further path of a QUIC connection: its datagrams go to
// the connection, and its close is one path fewer.
type quicPath struct{ c *conn }

func (p quicPath) Datagram(dir packet.Dir, ts time.Time, payload []byte) {
	p.c.Datagram(dir, ts, payload)
}

func (p quicPath) Close(info reassembly.CloseInfo) { p.c.closePath(info) }

// closePath ends one path of a datagram connection; the connection closes
// with its last, its counters the sum of its paths'.
func (c *conn) closePath(info reassembly.CloseInfo) {
	c.paths--
	for d := range 2 {
		c.pathInfo.Delivered[d] += info.Delivered[d]
		c.pathInfo.Packets[d] += info.Packets[d]
	}
	if info.Timestamp.After(c.pathInfo.Timestamp) {
		c.pathInfo.Timestamp = info.Timestamp
	}
	c.pathInfo.Reason = info.Reason
	if c.paths > 0 {
		return
	}
	c.t.forgetQUIC(c)
	c.Close(c.pathInfo)
}
