package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// maxAnomalyDetails caps the anomalies one Record details.
const maxAnomalyDetails = 64

// conn is the handler of one TCP connection and the dissect.Sink of its
// dissect.Conn. The dissect.Conn's State tells the TLS story; conn adds
// the TCP facts, the memory across connections, and builds the Record
// when the connection closes.
type conn struct {
	t    *Tracker
	info reassembly.ConnInfo
	uid  string
	dc   *dissect.Conn
	// transport is what carries the TLS: a TCP stream (Data, Gap) or UDP
	// datagrams (Datagram).
	transport dissect.Transport
	// A datagram connection's open paths (5-tuples; QUIC may have
	// several, see quicpath.go), what the closed ones counted, and the
	// QUIC connection IDs it is indexed by.
	paths     int
	pathsSeen int
	pathInfo  reassembly.CloseInfo
	quicCIDs  [2]string

	swapped bool // the ClientHello came the other way: endpoints swapped
	closed  bool

	// rec is the Record being built; nil until the connection carried
	// something (start), so that a SYN nobody answers costs little.
	rec     *Record
	kinds   map[string]bool // anomaly kinds already listed
	gapSeen [2]bool

	chainSums   [][32]byte   // SHA-256 of the server chain's certificates, made once (chainSum)
	chainHex    []string     // ... in hex (chainSHA256)
	chain       []*leafFacts // the chain's facts for the diagnosis, made once (chainFacts)
	resumedFrom string       // uid of the connection whose session or ticket this one presented

	// Lineage questions, answered when the Record is built.
	seq     uint64          // lineage facts and questions so far (order.seq)
	ticketQ *ticketQuestion // the ticket or PSK identity presented
	sidKey  string          // the echoed session ID (hex) ...
	sidAt   order           // ... and when
	closeAt order           // the close: the question of the leaf per SNI
}

// now places a lineage fact or question of c (see order).
func (c *conn) now() order {
	c.seq++
	return order{pos: c.t.pos, conn: c.info.ID, seq: c.seq}
}

func newConn(t *Tracker, info reassembly.ConnInfo) *conn {
	c := &conn{t: t, info: info, uid: t.uid(info)}
	if info.RolesInferred {
		c.addAnomaly(reassembly.AnomalyMidstream, "", info.Start, 0, "the start of the connection was not captured; roles were inferred")
	}
	return c
}

// start makes the dissector and the Record of a TCP connection, on its
// first bytes (or anomaly): a connection that never carries any (a SYN
// flood, a port scan) costs its small conn only.
func (c *conn) start() {
	if c.rec == nil {
		c.rec = &Record{}
	}
	if c.dc == nil {
		cfg := c.t.cfg.Dissect
		cfg.RolesInferred = c.info.RolesInferred
		c.dc = dissect.NewConn(cfg, sinkAdapter{c})
	}
}

// newDatagramConn makes the handler of a UDP flow that carries tr.
func newDatagramConn(t *Tracker, info reassembly.ConnInfo, tr dissect.Transport) *conn {
	c := &conn{t: t, info: info, uid: t.uid(info), transport: tr, paths: 1, pathsSeen: 1, rec: &Record{}}
	cfg := t.cfg.Dissect
	cfg.RolesInferred = info.RolesInferred
	c.dc = dissect.NewDatagramConn(cfg, sinkAdapter{c}, tr)
	return c
}

// Datagram implements reassembly.DatagramHandler.
func (c *conn) Datagram(dir packet.Dir, ts time.Time, payload []byte) {
	if c.closed {
		return
	}
	c.dc.Datagram(dir, ts, payload)
	if c.transport == dissect.TransportQUIC {
		c.t.learnQUIC(c)
	}
}

// dirOf maps a reassembly direction to the TLS one, after a role swap.
func (c *conn) dirOf(d packet.Dir) packet.Dir {
	if c.swapped {
		return packet.Dir(d) ^ 1
	}
	return packet.Dir(d)
}

// Data implements reassembly.Handler.
func (c *conn) Data(dir packet.Dir, ts time.Time, data []byte) {
	if c.closed {
		return
	}
	if c.dc == nil {
		c.start()
	}
	c.dc.Data(packet.Dir(dir), ts, data)
}

// Gap implements reassembly.Handler.
func (c *conn) Gap(dir packet.Dir, ts time.Time, n int) {
	if c.closed {
		return
	}
	c.start()
	d := c.dirOf(dir)
	c.gapSeen[d] = true
	c.addAnomaly("gap", d.String(), ts, n, "bytes lost in the capture")
	c.dc.Gap(packet.Dir(dir), ts, n)
}

// Anomaly implements reassembly.Handler.
func (c *conn) Anomaly(a reassembly.Anomaly) {
	if c.closed {
		return
	}
	if a.Kind == reassembly.AnomalyMidstream && c.kinds[a.Kind] {
		return
	}
	c.addAnomaly(a.Kind, c.dirOf(a.Dir).String(), a.Timestamp, a.Bytes, a.Detail)
}

// Close implements reassembly.Handler (and DatagramHandler, for the
// first path of a datagram connection): the Record is built and handed on.
func (c *conn) Close(info reassembly.CloseInfo) {
	if c.closed {
		return
	}
	if c.transport != dissect.TransportTCP && c.paths > 0 {
		c.closePath(info) // the last path closes the connection
		return
	}
	if c.dc != nil {
		c.dc.SetEnds(info.FinAt, info.RstAt)
		c.dc.End(info.Timestamp)
	}
	c.closed = true
	c.closeAt = c.now()
	c.rememberLeaf()
	// Built when the driver knows every fact placed before the close
	// (Tracker.BuildClosed).
	c.t.pending = append(c.t.pending, closing{c: c, info: info})
}

// record builds the Record and notes where the connection closed.
func (c *conn) record(info reassembly.CloseInfo) *Record {
	r := c.build(info)
	if r != nil {
		r.closedAt = c.closeAt.pos
	}
	return r
}

// StartTLS implements dissect.Sink.
func (c *conn) StartTLS(protocol string) { c.start(); c.rec.StartTLS = protocol }

// Anomaly of the dissector (dissect.Sink).
func (c *conn) dissectAnomaly(a dissect.Anomaly) {
	c.addAnomaly(a.Kind, a.Dir.String(), a.Timestamp, a.Bytes, a.Detail)
}

func (c *conn) addAnomaly(kind, from string, ts time.Time, n int, detail string) {
	if c.rec == nil {
		c.rec = &Record{}
	}
	if c.kinds == nil {
		c.kinds = make(map[string]bool, 4)
	}
	if !c.kinds[kind] {
		c.kinds[kind] = true
		c.rec.Anomalies = append(c.rec.Anomalies, kind)
	}
	if len(c.rec.AnomalyDetails) < maxAnomalyDetails {
		c.rec.AnomalyDetails = append(c.rec.AnomalyDetails, Anomaly{Kind: kind, From: from, TS: Time{ts}, Bytes: n, Detail: detail})
	}
}

// sinkAdapter lets conn be a dissect.Sink without exporting a second
// Anomaly method next to reassembly.Handler's.
type sinkAdapter struct{ c *conn }

func (s sinkAdapter) Event(e *dissect.Event)    { s.c.event(e) }
func (s sinkAdapter) Anomaly(a dissect.Anomaly) { s.c.dissectAnomaly(a) }
func (s sinkAdapter) StartTLS(protocol string)  { s.c.StartTLS(protocol) }
func (s sinkAdapter) RolesSwapped()             { s.c.swapped = !s.c.swapped }

// chainSum returns the SHA-256 of the server's certificate i, computed
// once per connection: the certificate summary, the leaf facts and the
// leaf per SNI all key on it.
func (c *conn) chainSum(i int) [32]byte {
	chain := c.dc.State().ServerChain
	if len(c.chainSums) != len(chain) {
		c.chainSums = make([][32]byte, len(chain))
		for j, der := range chain {
			c.chainSums[j] = c.t.certSum(der)
		}
	}
	return c.chainSums[i]
}

// chainSHA256 is the hex SHA-256 of the server's certificate i, made once.
func (c *conn) chainSHA256(i int) string {
	n := len(c.dc.State().ServerChain)
	if len(c.chainHex) != n {
		c.chainHex = make([]string, n)
	}
	if c.chainHex[i] == "" {
		s := c.chainSum(i)
		c.chainHex[i] = hex.EncodeToString(s[:])
	}
	return c.chainHex[i]
}

// leafSHA256 is the hex SHA-256 of the server's leaf.
func (c *conn) leafSHA256() string { return c.chainSHA256(0) }

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
