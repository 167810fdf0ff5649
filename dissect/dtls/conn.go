package dtls

import (
	"errors"
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Sink receives what a Conn finds, in datagram order. Every byte slice
// handed to it is owned by the Conn and valid only during the call;
// whatever is kept must be copied. Sizes are record fragment lengths
// (ciphertext, with its explicit nonce and tag), not plaintext lengths.
type Sink interface {
	// Handshake is a complete plaintext handshake message (epoch 0) in
	// the TLS layout: msg_type, uint24 length, body; the 8 DTLS-only
	// header bytes (message_seq, fragment_offset, fragment_length) are
	// gone. The body of a ClientHello is still the DTLS one, with its
	// cookie: ClientHelloMessageTLS turns it into a TLS ClientHello.
	//
	// retransmission says the message (same message_seq, msg_type, length
	// and, when the copy came whole, bytes) was delivered before: it is
	// reported, not delivered again. Then msg is the whole message when
	// the copy arrived as one fragment, and only its 4-byte header when
	// it came in pieces.
	Handshake(dir packet.Dir, ts time.Time, epoch uint16, typ HandshakeType, msg []byte, retransmission bool)
	// Alert is an alert record. A plaintext one (epoch 0) is reported
	// once per level/description pair it holds; an encrypted one (epoch
	// above 0) once, with level and description 0 and only its size.
	Alert(dir packet.Dir, ts time.Time, epoch uint16, level, description uint8, encrypted bool, size int)
	// ChangeCipherSpec is a change_cipher_spec record: its sender's next
	// records are in the next epoch (DTLS 1.0 and 1.2).
	ChangeCipherSpec(dir packet.Dir, ts time.Time)
	// ApplicationData is an application_data record.
	ApplicationData(dir packet.Dir, ts time.Time, epoch uint16, size int)
	// ACK is a DTLS 1.3 ACK record (content type 26) with a plain
	// header. One of epoch 0 has its record numbers; an encrypted one
	// has nil and only its size. ACKs inside unified-header records are
	// invisible: they are Encrypted records.
	ACK(dir packet.Dir, ts time.Time, epoch uint16, records []RecordNumber, encrypted bool, size int)
	// Encrypted is a protected record that is none of the above: a
	// handshake record of an epoch above 0 (the Finished of DTLS 1.2), a
	// tls12_cid record (typ ContentTLS12CID), a DTLS 1.3 unified-header
	// record (typ 0: its type is inside the ciphertext; epoch is the
	// whole epoch inferred from the two bits on the wire), a heartbeat.
	Encrypted(dir packet.Dir, ts time.Time, epoch uint16, typ ContentType, size int)
	// Anomaly is something wrong, skipped or guessed.
	Anomaly(a Anomaly)
}

// NopSink does nothing; embed it to implement only part of Sink.
type NopSink struct{}

func (NopSink) Handshake(packet.Dir, time.Time, uint16, HandshakeType, []byte, bool) {}
func (NopSink) Alert(packet.Dir, time.Time, uint16, uint8, uint8, bool, int)         {}
func (NopSink) ChangeCipherSpec(packet.Dir, time.Time)                               {}
func (NopSink) ApplicationData(packet.Dir, time.Time, uint16, int)                   {}
func (NopSink) ACK(packet.Dir, time.Time, uint16, []RecordNumber, bool, int)         {}
func (NopSink) Encrypted(packet.Dir, time.Time, uint16, ContentType, int)            {}
func (NopSink) Anomaly(Anomaly)                                                      {}

// Stats counts what one direction of a Conn carried.
type Stats struct {
	Datagrams, Records, Bytes int
	// Messages is the handshake messages delivered (retransmissions not
	// counted); Retransmissions the messages seen again after delivery.
	Messages, Retransmissions int
	// Fragments is the handshake fragments read; DupFragments those that
	// brought no new byte; LateFragments those of a message_seq passed
	// and forgotten; Dropped those over a cap or disagreeing with their
	// message.
	Fragments, DupFragments, LateFragments, Dropped int
	ChangeCipherSpecs, Alerts, ACKs                 int
	Anomalies                                       int
}

// dirState is one direction of a Conn.
type dirState struct {
	r      reasm
	epoch  uint16 // highest epoch seen on its records
	cidLen int    // CID length on the records it sends, or CIDUnknown
	guess  bool   // cidLen was inferred from framing
	stats  Stats
}

// Conn follows one DTLS association (one UDP 5-tuple) as a passive
// observer: feed it each datagram with its direction and capture time.
// It is not safe for concurrent use.
type Conn struct {
	cfg    Config
	sink   Sink
	opener RecordOpener // the sink, when it can open protected records
	dir    [2]dirState

	version    Version // negotiated: from the ServerHello, else the HelloVerifyRequest
	cookie     []byte  // the HelloVerifyRequest's, owned
	hvr        bool    // a HelloVerifyRequest was seen and no ClientHello since
	clientCID  int     // length of the CID the ClientHello asked for, or CIDUnknown
	handshakes bool    // a handshake message was delivered

	// Per-call context for anomalies raised inside the reassembler.
	now    time.Time
	curDir packet.Dir

	msg  []byte         // scratch: the message in TLS layout
	acks []RecordNumber // scratch for ParseACK
}

// NewConn returns a Conn that reports to sink, with cfg's bounds (zero
// fields take DefaultConfig's).
func NewConn(cfg Config, sink Sink) *Conn {
	if sink == nil {
		sink = NopSink{}
	}
	c := &Conn{cfg: cfg.withDefaults(), sink: sink, clientCID: CIDUnknown}
	c.opener, _ = sink.(RecordOpener)
	for i := range c.dir {
		d := &c.dir[i]
		d.cidLen = CIDUnknown
		d.r.cfg = c.cfg
		dir := packet.Dir(i)
		d.r.report = func(kind string, n int, detail string) { c.anomaly(dir, kind, n, detail) }
	}
	return c
}

// Version returns the negotiated version as far as the hellos tell (the
// ServerHello's, with supported_versions for DTLS 1.3; else the
// HelloVerifyRequest's), or 0.
func (c *Conn) Version() Version { return c.version }

// Epoch returns the highest epoch seen on the records dir sent.
func (c *Conn) Epoch(dir packet.Dir) uint16 { return c.dir[dir&1].epoch }

// Cookie returns the HelloVerifyRequest's cookie, or nil. It is owned by
// the Conn.
func (c *Conn) Cookie() []byte { return c.cookie }

// CIDLen returns the length of the connection IDs on the records dir
// sends, as negotiated or guessed, or CIDUnknown.
func (c *Conn) CIDLen(dir packet.Dir) int { return c.dir[dir&1].cidLen }

// HandshakeSeen reports whether a handshake message was delivered.
func (c *Conn) HandshakeSeen() bool { return c.handshakes }

// Stats returns the counters of dir.
func (c *Conn) Stats(dir packet.Dir) Stats {
	d := &c.dir[dir&1]
	s := d.stats
	s.Fragments, s.DupFragments, s.LateFragments, s.Dropped = d.r.fragments, d.r.dupFragments, d.r.late, d.r.dropped
	return s
}

func (c *Conn) anomaly(dir packet.Dir, kind string, n int, detail string) {
	c.dir[dir&1].stats.Anomalies++
	c.sink.Anomaly(Anomaly{Kind: kind, Dir: dir, Timestamp: c.now, Bytes: n, Detail: detail})
}

// Datagram takes one UDP payload that dir sent, captured at ts, and
// reports its records. The payload is not kept. A record that does not
// parse ends the datagram with an anomaly: the framing after it is lost.
func (c *Conn) Datagram(dir packet.Dir, ts time.Time, payload []byte) {
	dir &= 1
	c.now, c.curDir = ts, dir
	d := &c.dir[dir]
	d.stats.Datagrams++
	d.stats.Bytes += len(payload)
	b := payload
	for len(b) > 0 {
		rec, n, err := ParseRecord(b, d.cidLen)
		if errors.Is(err, ErrCIDLength) {
			if g, ok := guessCID(b); ok {
				d.cidLen, d.guess = g, true
				c.anomaly(dir, AnomalyCIDGuessed, len(b), "connection id of "+strconv.Itoa(g)+" bytes on "+dir.String()+" records")
				rec, n, err = ParseRecord(b, g)
			}
		}
		if err != nil {
			kind := AnomalyMalformedRecord
			if errors.Is(err, ErrTruncated) {
				kind = AnomalyTruncated
			}
			c.anomaly(dir, kind, len(b), err.Error())
			return
		}
		d.stats.Records++
		c.record(dir, ts, &rec)
		b = b[n:]
	}
}

// Close gives up on the messages still being joined, reporting them as
// incomplete (or delivering those complete but behind a gap). Call it
// once the association is over.
func (c *Conn) Close() {
	for i := range c.dir {
		dir := packet.Dir(i)
		c.dir[i].r.flushGaps()
		c.drain(dir, c.now, false)
	}
}

func (c *Conn) record(dir packet.Dir, ts time.Time, r *Record) {
	d := &c.dir[dir]
	epoch := r.Epoch
	if r.Form == FormUnified {
		epoch = reconstructEpoch(d.epoch, r.Epoch)
	}
	d.epoch = max(d.epoch, epoch)
	size := len(r.Fragment)
	if c.opener != nil && r.Form == FormPlain && epoch > 0 && c.opener.OpenRecord(dir, ts, epoch, *r) {
		return // opened and reported by the sink
	}
	switch {
	case r.Form != FormPlain:
		c.sink.Encrypted(dir, ts, epoch, r.Type, size)
	case r.Type == ContentHandshake && epoch == 0:
		c.handshake(dir, ts, r.Fragment)
	case r.Type == ContentChangeCipherSpec:
		d.stats.ChangeCipherSpecs++
		c.sink.ChangeCipherSpec(dir, ts)
	case r.Type == ContentAlert:
		d.stats.Alerts++
		if epoch > 0 {
			c.sink.Alert(dir, ts, epoch, 0, 0, true, size)
			return
		}
		if size == 0 || size%2 != 0 {
			c.anomaly(dir, AnomalyMalformedRecord, size, "alert record of "+strconv.Itoa(size)+" bytes")
		}
		for a := r.Fragment; len(a) >= 2; a = a[2:] {
			c.sink.Alert(dir, ts, epoch, a[0], a[1], false, 2)
		}
	case r.Type == ContentApplicationData:
		c.sink.ApplicationData(dir, ts, epoch, size)
	case r.Type == ContentACK:
		d.stats.ACKs++
		if epoch > 0 {
			c.sink.ACK(dir, ts, epoch, nil, true, size)
			return
		}
		var err error
		c.acks, err = ParseACK(c.acks[:0], r.Fragment)
		if err != nil {
			c.anomaly(dir, AnomalyMalformedRecord, size, err.Error())
			return
		}
		c.sink.ACK(dir, ts, epoch, c.acks, false, size)
	default:
		c.sink.Encrypted(dir, ts, epoch, r.Type, size)
	}
}

// handshake reads the fragments of a plaintext handshake record.
func (c *Conn) handshake(dir packet.Dir, ts time.Time, body []byte) {
	d := &c.dir[dir]
	for len(body) > 0 {
		f, n, err := ParseFragment(body)
		if err != nil {
			kind := AnomalyMalformedHandshake
			if errors.Is(err, ErrTruncated) {
				kind = AnomalyTruncated
			}
			c.anomaly(dir, kind, len(body), err.Error())
			return
		}
		body = body[n:]
		res, _ := d.r.insert(f, 0, ts)
		if res == fragRetx {
			d.stats.Retransmissions++
			c.msg = appendTLSHeader(c.msg[:0], f.Type, f.Length)
			if len(f.Data) == f.Length {
				c.msg = append(c.msg, f.Data...)
			}
			c.sink.Handshake(dir, ts, 0, f.Type, c.msg, true)
		}
		c.drain(dir, ts, true)
	}
}

// drain hands on the messages dir's reassembler delivered. When one of
// them is new and flushPeer is set, the peer's pending messages are
// flushed: dir answered, so the peer's flight was complete at the peer,
// and what the capture still lacks of it is lost.
func (c *Conn) drain(dir packet.Dir, ts time.Time, flushPeer bool) {
	d := &c.dir[dir]
	answered := false
	for len(d.r.ready) > 0 {
		m := d.r.ready[0]
		d.r.ready = d.r.ready[1:]
		if m.gap > 0 {
			c.anomaly(dir, AnomalyHandshakeGap, 0, strconv.Itoa(m.gap)+" message_seq values lost before "+strconv.Itoa(int(m.seq)))
		}
		if m.incomplete {
			c.anomaly(dir, AnomalyIncompleteMessage, m.length-m.have, m.typ.String()+" message_seq "+strconv.Itoa(int(m.seq))+": "+
				strconv.Itoa(m.have)+" of "+strconv.Itoa(m.length)+" bytes")
		} else {
			body := m.buf[:m.length]
			c.inspect(dir, m.typ, body)
			d.stats.Messages++
			c.handshakes = true
			answered = true
			c.msg = appendTLSHeader(c.msg[:0], m.typ, m.length)
			c.msg = append(c.msg, body...)
			c.sink.Handshake(dir, ts, m.epoch, m.typ, c.msg, false)
		}
		d.r.release(m)
	}
	d.r.ready = d.r.ready[:0]
	if answered && flushPeer {
		p := dir.Reverse()
		c.dir[p].r.flushGaps()
		c.drain(p, ts, false)
	}
}

// inspect reads what the Conn itself needs from a hello: the cookie, the
// version, the connection IDs.
func (c *Conn) inspect(dir packet.Dir, typ HandshakeType, body []byte) {
	switch {
	case typ == TypeClientHello && dir == packet.FromClient:
		cookie, err := clientHelloCookie(body)
		if err != nil {
			c.anomaly(dir, AnomalyMalformedHandshake, len(body), err.Error())
			return
		}
		if c.hvr {
			c.hvr = false
			if string(cookie) != string(c.cookie) {
				c.anomaly(dir, AnomalyCookieMismatch, len(cookie), "cookie of "+strconv.Itoa(len(cookie))+" bytes after a HelloVerifyRequest's of "+strconv.Itoa(len(c.cookie)))
			}
		}
		if data, ok, err := FindExtension(body, true, ExtConnectionID); err == nil && ok {
			if cid, err := ParseConnectionID(data); err == nil {
				c.clientCID = len(cid)
			}
		}
	case typ == TypeHelloVerifyRequest && dir == packet.FromServer:
		h, err := ParseHelloVerifyRequest(body)
		if err != nil {
			c.anomaly(dir, AnomalyMalformedHandshake, len(body), err.Error())
			return
		}
		c.cookie = append(c.cookie[:0], h.Cookie...)
		c.hvr = true
		if c.version == 0 {
			c.version = h.ServerVersion
		}
	case typ == TypeServerHello && dir == packet.FromServer:
		if len(body) >= 2 {
			c.version = Version(uint16(body[0])<<8 | uint16(body[1]))
		}
		if data, ok, err := FindExtension(body, false, extSupportedVersions); err == nil && ok && len(data) == 2 {
			c.version = Version(uint16(data[0])<<8 | uint16(data[1]))
		}
		if isHelloRetryRequest(body) {
			return
		}
		data, ok, err := FindExtension(body, false, ExtConnectionID)
		if err != nil {
			c.anomaly(dir, AnomalyMalformedHandshake, len(body), err.Error())
			return
		}
		if !ok {
			return
		}
		cid, err := ParseConnectionID(data)
		if err != nil {
			c.anomaly(dir, AnomalyMalformedHandshake, len(data), err.Error())
			return
		}
		// Each side names the CID it wants to receive (RFC 9146 3): the
		// client's records carry the server's, and the other way round.
		c.dir[packet.FromClient].cidLen, c.dir[packet.FromClient].guess = len(cid), false
		if c.clientCID != CIDUnknown {
			c.dir[packet.FromServer].cidLen, c.dir[packet.FromServer].guess = c.clientCID, false
		}
	}
}

// extSupportedVersions is supported_versions (RFC 8446 4.2.1); a DTLS 1.3
// ServerHello names 0xfefc there.
const extSupportedVersions uint16 = 43

func appendTLSHeader(dst []byte, typ HandshakeType, n int) []byte {
	return append(dst, byte(typ), byte(n>>16), byte(n>>8), byte(n))
}

// reconstructEpoch returns the epoch whose low two bits are bits and that
// is closest to max, the highest seen (RFC 9147 4.2.2), preferring the
// later one on a tie.
func reconstructEpoch(maxEpoch, bits uint16) uint16 {
	base := maxEpoch&^3 | bits&3
	best := base
	dist := func(e uint16) int { return abs(int(e) - int(maxEpoch)) }
	if base >= 4 && dist(base-4) < dist(best) {
		best = base - 4
	}
	if base <= 0xffff-4 && dist(base+4) <= dist(best) {
		best = base + 4
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// maxCIDGuess is the longest CID guessed from framing; real ones are a
// few bytes (RFC 9146 leaves the length to the implementation).
const maxCIDGuess = 32

// guessCID returns the shortest CID length with which b is a sequence of
// records that fills it exactly.
func guessCID(b []byte) (int, bool) {
	for n := 0; n <= maxCIDGuess; n++ {
		if fits(b, n) {
			return n, true
		}
	}
	return 0, false
}

// fits reports whether b is a sequence of records, with CIDs of cidLen
// bytes, that fills it exactly.
func fits(b []byte, cidLen int) bool {
	for len(b) > 0 {
		_, n, err := ParseRecord(b, cidLen)
		if err != nil {
			return false
		}
		b = b[n:]
	}
	return true
}

// Plausible reports whether a datagram dir sent looks like DTLS of this
// association: LooksLikeDTLS, or, once a handshake was seen, records of
// any header form (DTLS 1.3 ciphertext has only unified headers) with
// this direction's CID length.
func (c *Conn) Plausible(dir packet.Dir, b []byte) bool {
	if LooksLikeDTLS(b) {
		return true
	}
	if !c.handshakes || len(b) == 0 || b[0] < 20 || b[0] > 63 {
		return false
	}
	if n := c.dir[dir&1].cidLen; n != CIDUnknown {
		return fits(b, n)
	}
	_, ok := guessCID(b)
	return ok
}
