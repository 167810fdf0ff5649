package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// Caps on what one connection keeps, whatever the traffic.
const (
	maxMessages       = 1024
	maxAlerts         = 64
	maxAnomalyDetails = 64
	maxChain          = 16
)

// conn is the handler of one TCP connection and the dissect.Sink of its
// dissect.Conn. It gathers evidence as events arrive and builds the Record
// when the connection closes.
type conn struct {
	t    *Tracker
	info reassembly.ConnInfo
	uid  string
	dc   *dissect.Conn

	swapped bool // the ClientHello came the other way: endpoints swapped
	closed  bool
	sawTLS  bool

	rec      Record
	history  []byte
	kinds    map[string]bool // anomaly kinds already listed
	msgDrops int             // messages not kept past maxMessages

	// Handshake evidence.
	ch           *dissect.ClientHello
	sh           *dissect.ServerHello
	hrr          bool
	ske          *dissect.ServerKeyExchange
	sslv2        bool   // an SSLv2 ServerHello: SSL 2.0 was negotiated
	sslv2At      [2]int // records per direction when it came
	sslv2Hit     bool   // its SESSION-ID-HIT: a resumed SSL 2.0 session
	chain        [][]byte
	chainSums    [][32]byte // SHA-256 of chain[i], made once (chainSum)
	cchain       [][]byte
	clientCrt    bool // the client sent a Certificate message in clear
	cchainUnread bool // ... which did not parse
	serverCrt    bool // the server sent a Certificate message in clear (parsed or not)
	clientKX     bool // the client sent a ClientKeyExchange or its Finished
	heartbleed   bool
	certReq      bool // the server sent a CertificateRequest in clear
	certTS       time.Time

	ccs       [2]bool      // ChangeCipherSpec seen per direction
	finished  [2]bool      // Finished seen or inferred per direction
	encAfter  [2]int       // encrypted records after this direction's CCS / the 1.3 ServerHello
	appData   [2]bool      // application data seen after the handshake keys
	lastTLS   [2]time.Time // time of the last TLS event per direction
	lastDir   packet.Dir   // direction of the last TLS event
	srvFlight bool         // the server answered the ClientHello (any record)
	earlyRecs int          // client records between ClientHello and ServerHello (0-RTT)
	eoedSeen  bool

	established bool
	inReneg     bool

	// Alerts as they came; fatal is the first fatal (or encrypted before
	// the handshake completed) alert, the one that ended the handshake.
	fatal     *alertFact
	lastAlert *alertFact
	malformed bool // our own parser said a handshake or record was malformed
	gapSeen   [2]bool
	probAlert [2]*probable
	recs      [2]int // TLS records (events) per direction
	pendingHR bool   // a HelloRequest waits for its ClientHello

	sidEcho      bool   // the ServerHello echoed the client's session ID
	resumedFrom  string // uid of the connection whose session or ticket this one presented
	clientFinMsg int    // TLS 1.3: index of the client's Finished-position record

	// Lineage questions, answered when the Record is built.
	seq     uint64          // lineage facts and questions so far (order.seq)
	ticketQ *ticketQuestion // the ticket or PSK identity presented
	sidKey  string          // the echoed session ID (hex) ...
	sidAt   order           // ... and when
	closeAt order           // the close: the question of the leaf per SNI
}

// now places a lineage fact or question of c (see order).
func (c *conn) now() order {
	t := c.t
	if !t.placed {
		t.pos++
	}
	c.seq++
	return order{pos: t.pos, conn: c.info.ID, seq: c.seq}
}

// alertFact is an alert as the diagnosis sees it.
type alertFact struct {
	from      packet.Dir
	ts        time.Time
	level     uint8
	desc      uint8
	encrypted bool
	// sslv2 is the code of an SSL 2.0 ERROR message standing in for an
	// alert (1 no-cipher, 2 no-certificate, 4 bad-certificate, 6
	// unsupported-certificate-type); 0 for a TLS alert.
	sslv2 uint16
}

// probable is a pending dissect.AnomalyProbableAlert: it becomes an alert
// only if nothing else follows in its direction before the close.
type probable struct {
	a   dissect.Anomaly
	msg int // index in rec.Messages of the record it names, -1 if not known yet
}

func newConn(t *Tracker, info reassembly.ConnInfo) *conn {
	c := &conn{t: t, info: info, uid: makeUID(info), clientFinMsg: -1}
	cfg := t.cfg.Dissect
	cfg.RolesInferred = info.RolesInferred
	c.dc = dissect.NewConn(cfg, sinkAdapter{c})
	c.rec.Messages = make([]Message, 0, 16)
	if info.RolesInferred {
		c.addAnomaly(reassembly.AnomalyMidstream, "", info.Start, 0, "the start of the connection was not captured; roles were inferred")
	}
	return c
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
	c.dc.Data(packet.Dir(dir), ts, data)
}

// Gap implements reassembly.Handler.
func (c *conn) Gap(dir packet.Dir, ts time.Time, n int) {
	if c.closed {
		return
	}
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

// Close implements reassembly.Handler: the Record is built and handed on.
func (c *conn) Close(info reassembly.CloseInfo) {
	if c.closed {
		return
	}
	c.dc.End(info.Timestamp)
	c.closed = true
	c.closeAt = c.now()
	c.rememberLeaf()
	if c.t.placed || c.t.cfg.Deferred {
		// Built when its place is complete (Tracker.At), or when asked.
		c.t.pending = append(c.t.pending, closing{c: c, info: info})
		return
	}
	c.t.finish(c.info.ID, c.record(info))
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
func (c *conn) StartTLS(protocol string) { c.rec.StartTLS = protocol }

// Anomaly of the dissector (dissect.Sink).
func (c *conn) dissectAnomaly(a dissect.Anomaly) {
	switch a.Kind {
	case dissect.AnomalyRolesSwapped:
		c.swapped = !c.swapped
	case dissect.AnomalyProbableAlert:
		p := &probable{a: a, msg: -1}
		// The anomaly may name the record just reported.
		if i := c.lastMsgFrom(a.Dir); i >= 0 && c.lastTLS[a.Dir&1].Equal(a.Timestamp) &&
			(c.rec.Messages[i].Encrypted || c.rec.Messages[i].Type == "application_data") {
			p.msg = i
		}
		c.probAlert[a.Dir&1] = p
		return
	case dissect.AnomalyMalformedRecord, dissect.AnomalyMalformedHandshake:
		c.malformed = true
	case dissect.AnomalyHeartbleed:
		c.heartbleed = true
	}
	c.addAnomaly(a.Kind, a.Dir.String(), a.Timestamp, a.Bytes, a.Detail)
}

func (c *conn) addAnomaly(kind, from string, ts time.Time, n int, detail string) {
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

func (c *conn) lastMsgFrom(d packet.Dir) int {
	from := d.String()
	for i := len(c.rec.Messages) - 1; i >= 0; i-- {
		if c.rec.Messages[i].From == from {
			return i
		}
	}
	return -1
}

// sinkAdapter lets conn be a dissect.Sink without exporting a second
// Anomaly method next to reassembly.Handler's.
type sinkAdapter struct{ c *conn }

func (s sinkAdapter) Event(e *dissect.Event)    { s.c.event(e) }
func (s sinkAdapter) Anomaly(a dissect.Anomaly) { s.c.dissectAnomaly(a) }
func (s sinkAdapter) StartTLS(protocol string)  { s.c.StartTLS(protocol) }

// chainSum returns the SHA-256 of the server's certificate i, computed
// once per connection: the certificate summary, the leaf facts and the
// leaf per SNI all key on it.
func (c *conn) chainSum(i int) [32]byte {
	if len(c.chainSums) != len(c.chain) {
		c.chainSums = make([][32]byte, len(c.chain))
		for j, der := range c.chain {
			c.chainSums[j] = sha256.Sum256(der)
		}
	}
	return c.chainSums[i]
}

// leafSHA256 is the hex SHA-256 of the server's leaf.
func (c *conn) leafSHA256() string {
	s := c.chainSum(0)
	return hex.EncodeToString(s[:])
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
