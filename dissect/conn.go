package dissect

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// Record limits (RFC 5246 6.2.3: a TLSCiphertext fragment is at most
// 2^14+2048 bytes).
const (
	recordHeaderLen = 5
	maxRecordLen    = 1<<14 + 2048
)

// mode is what a direction's bytes are being read as.
type mode uint8

const (
	modeStart   mode = iota // nothing decided yet: TLS, SSLv2, a plaintext prelude or mid-stream
	modeRecords             // framing records
	modeScan                // looking for a record header (prelude, mid-stream, after a gap)
	modeNotTLS              // given up: bytes are counted only
)

// bodyKind is what is done with the bytes of the record being read.
type bodyKind uint8

const (
	bodySkip      bodyKind = iota // counted and skipped: application data, ciphertext
	bodyHandshake                 // plaintext handshake: joined into messages
	bodyPrefix                    // only the first bytes are kept: alert, CCS, heartbeat
	bodySSLv2                     // an SSLv2 hello, buffered whole
	bodyOpen                      // ciphertext with known keys: buffered whole, then opened
	bodyPeek                      // bulk ciphertext with known keys: only its tail is kept, to peek at its type
)

// startBytes is how many bytes decide how a stream begins: an SSLv2 hello
// needs its 2- or 3-byte header and the 9 bytes of CLIENT-HELLO fields.
const startBytes = 12

// hsPrealloc is the least buffer a handshake message spanning pieces is
// joined in at first, unless the message is shorter; more than that only
// when the piece in hand holds more. It grows as the bytes come.
const hsPrealloc = 4 << 10

// half is one direction's framer. It holds only what an unfinished record
// header, a small record prefix or a handshake message being joined needs.
type half struct {
	wire    packet.Dir
	mode    mode
	hdr     [recordHeaderLen]byte
	hdrN    int
	inBody  bool
	sslv2   bool // the direction began with SSLv2: its records may have SSLv2 headers
	v2rec   bool // the current record has an SSLv2 header
	v2count int  // SSLv2 records seen
	kind    bodyKind
	damaged bool // part of the current record was lost to a gap

	recType    ContentType
	recVersion Version
	recLen     int
	remaining  int

	pre  [8]byte // first bytes of an alert/CCS/heartbeat record
	preN int

	hs         []byte    // handshake message being joined (header included); hsHdr or its own buffer
	hsHdr      [4]byte   // hs's storage while it holds no more than a header
	hsTS       time.Time // when its first byte came
	hsSkip     int       // bytes of an oversized handshake message still to skip
	hsSkipType HandshakeType
	hsSkipLen  int
	hsSkipSaid bool // the skipped message's Event was already emitted (oversized)

	v2buf []byte // the SSLv2 record being buffered, header included

	ct    []byte                // the ciphertext record being buffered to open (bodyOpen), at most maxCiphertext
	ctHdr [recordHeaderLen]byte // its header

	scan      []byte // bytes held while deciding or scanning; at most MaxPrelude
	scanPos   int    // next offset of scan to try
	prelude   bool   // the scan is of the stream's start: maybe a STARTTLS prelude (else a resync)
	skipped   int    // bytes lost or discarded since the last record, for AnomalyResync
	replay    []byte // bytes taken back from scan, to be framed before new input
	head      []byte // the start of a plaintext prelude, kept to name the protocol
	records   int    // records framed
	anomalies int    // anomalies reported, up to maxAnomalies

	ccs   bool // a ChangeCipherSpec went this way (TLS 1.2 and before)
	encHS int  // encrypted handshake records since that CCS
	// afterCCS: a ChangeCipherSpec went this way that switched nothing
	// yet (a client's before any ServerHello, having offered TLS 1.3) or
	// a CCS record whose header did not parse. The next handshake record
	// is read only if it begins like the one plaintext message that may
	// follow such a CCS, a second ClientHello; else it is ciphertext (the
	// Finished of a TLS 1.2 handshake whose ServerHello was not seen) and
	// the direction is switched then.
	afterCCS bool

	lastHeartbeat  int  // length of the last heartbeat record this way
	heartbleedSaid bool // AnomalyHeartbleed was reported for this direction

	// lastApp describes the last record if it was application data, for
	// the probable encrypted alert at End.
	lastAppLen int
	lastAppTS  time.Time
	lastIsApp  bool
}

// Conn dissects the two byte streams of one connection. It is not safe for
// concurrent use; the reassembly layer calls it from one goroutine.
//
// What it cannot read it labels, and says so with Event.Encrypted:
//
//   - TLS 1.2 and before: after a ChangeCipherSpec in a direction, its first
//     handshake record is that direction's Finished; later ones are
//     encrypted_handshake (a renegotiation). Alerts longer than 8 bytes are
//     ciphertext. A CCS before any ServerHello switches nothing when the
//     client offered TLS 1.3 (the compatibility CCS before a second
//     ClientHello); offering TLS 1.2 at most, it means the ServerHello was
//     not captured. With a NULL cipher the records stay readable.
//   - TLS 1.3 (a ServerHello choosing 0x0304 or a draft, or an HRR): every
//     record after the ServerHello is ciphertext. The server's
//     application_data records until the client's Finished are its
//     encrypted handshake flight. The client's first application_data
//     record after the ServerHello is its Finished, except 0-RTT data sent
//     before the server's flight arrived (early data offered), an
//     EndOfEarlyData (exactly 4+1+tag bytes, after an accepted PSK), and a
//     record too short to be a Finished (an alert, most likely: End says).
//     A client that sends Certificate and CertificateVerify in records of
//     their own has the first of them labelled Finished: nothing on the
//     wire tells them apart.
//   - Application data is never marked Encrypted: its type is the one the
//     record says. A direction's last record of an alert's size in TLS 1.3
//     is reported by End as AnomalyProbableAlert.
type Conn struct {
	cfg  Config
	sink Sink
	h    [2]half
	ev   Event // reused for every Event: the Sink sees it only during the call

	swapped    bool // wire direction 0 is the server's (RolesInferred)
	rolesFixed bool // a ClientHello settled the roles
	sawTLS     bool
	startTLS   bool // StartTLS was reported

	// What the hellos said, for labelling ciphertext.
	earlyData      bool // the ClientHello offered early_data
	shDone         bool // a (non-HRR) ServerHello was seen
	tls13          bool // TLS 1.3 (supported_versions or an HRR)
	pskAccepted    bool
	version        Version
	cipherSuite    CipherSuite
	clientETM      bool  // the ClientHello offered encrypt_then_mac
	keys           crypt // decryption with a key log (decrypt.go)
	clientFinished bool  // the client's (TLS 1.3) Finished was labelled
	eoedSeen       bool
	serverEncRecs  int  // server application_data records after a TLS 1.3 ServerHello
	chSeen         bool // a ClientHello was seen
	chOffered13    bool // the client offered TLS 1.3 (supported_versions)
	nullCipher     bool // the suite has no encryption: "ciphertext" is clear text and a MAC
	clientAlerted  bool // the client sent an alert record after the ServerHello

	st State // the story so far (state.go)

	// How the transport ended (SetEnds): each wire direction's first FIN
	// and a reset, zero when not captured.
	finAt [2]time.Time
	rstAt time.Time

	// A datagram transport's front end (datagram.go), nil over TCP.
	quic *quicFront
	dtls *dtlsFront
}

type nopSink struct{}

func (nopSink) Event(*Event)    {}
func (nopSink) Anomaly(Anomaly) {}
func (nopSink) StartTLS(string) {}
func (nopSink) RolesSwapped()   {}

// NewConn returns a Conn that reports to sink. Zero caps in cfg take the
// DefaultConfig values.
func NewConn(cfg Config, sink Sink) *Conn {
	def := DefaultConfig()
	if cfg.MaxHandshake <= 0 {
		cfg.MaxHandshake = def.MaxHandshake
	}
	if cfg.MaxPrelude <= 0 {
		cfg.MaxPrelude = def.MaxPrelude
	}
	if sink == nil {
		sink = nopSink{}
	}
	c := &Conn{cfg: cfg, sink: sink}
	c.keys.lookup = cfg.Keys
	c.st.clientFinMsg = -1
	c.h[0].wire = 0
	c.h[1].wire = 1
	c.h[0].hs = c.h[0].hsHdr[:0]
	c.h[1].hs = c.h[1].hsHdr[:0]
	return c
}

// SawTLS reports whether anything TLS was recognised on this connection: a
// valid record header or an SSLv2 hello.
func (c *Conn) SawTLS() bool { return c.sawTLS }

// State returns what the state machine knows of the connection; final
// once End has returned. It stays owned by the Conn.
func (c *Conn) State() *State { return &c.st }

// emit takes e into the State and hands it to the Sink.
func (c *Conn) emit(e *Event) {
	c.observe(e)
	c.sink.Event(e)
}

// role is the logical direction of a wire direction.
func (c *Conn) role(wire packet.Dir) packet.Dir {
	if c.swapped {
		return wire ^ 1
	}
	return wire
}

// maxAnomalies caps what one direction reports: hostile input can make an
// anomaly every few bytes, and the Sink keeps them.
const maxAnomalies = 64

// quiet reports whether d has reported all the anomalies it may.
func (c *Conn) quiet(d *half) bool { return d.anomalies >= maxAnomalies }

func (c *Conn) anomaly(d *half, ts time.Time, kind string, n int, detail string) {
	d.anomalies++
	if d.anomalies > maxAnomalies {
		return
	}
	if d.anomalies == maxAnomalies {
		detail += "; later anomalies of this direction are not reported"
	}
	switch kind {
	case AnomalyMalformedRecord, AnomalyMalformedHandshake:
		c.st.Malformed = true
	case AnomalyHeartbleed:
		c.st.Heartbleed = true
	}
	c.sink.Anomaly(Anomaly{Kind: kind, Dir: c.role(d.wire), Timestamp: ts, Bytes: n, Detail: detail})
}

// event fills the reused Event; the caller sets the parsed message and
// calls c.sink.Event.
func (c *Conn) event(d *half, ts time.Time, t MsgType, length int, encrypted bool) *Event {
	c.ev = Event{
		Timestamp:     ts,
		Dir:           c.role(d.wire),
		Type:          t,
		Length:        length,
		Encrypted:     encrypted,
		Decrypted:     c.keys.decrypting,
		RecordVersion: d.recVersion,
	}
	return &c.ev
}

// Data feeds the next contiguous bytes of dir. b is only read during the call.
func (c *Conn) Data(dir packet.Dir, ts time.Time, b []byte) {
	if dir > 1 {
		return
	}
	d := &c.h[dir]
	for {
		for len(d.replay) > 0 {
			r := d.replay
			d.replay = nil
			n := c.step(d, ts, r, true)
			if n < len(r) {
				// New replay bytes (from a scan that found a header inside
				// r) go first, then the rest of r. Replay bytes are owned
				// and never written to, so the rest can be kept as is.
				if d.replay == nil {
					d.replay = r[n:]
				} else {
					d.replay = append(d.replay, r[n:]...)
				}
			}
		}
		if len(b) == 0 {
			return
		}
		n := c.step(d, ts, b, false)
		b = b[n:]
	}
}

// step consumes bytes in the direction's current mode and returns how many.
// It stops early only when the mode changed, so the caller goes on.
// owned says b is the Conn's own (replayed bytes), which a scan may adopt
// instead of copying.
func (c *Conn) step(d *half, ts time.Time, b []byte, owned bool) int {
	switch d.mode {
	case modeRecords:
		return c.records(d, ts, b)
	case modeStart:
		return c.start(d, ts, b)
	case modeScan:
		return c.scanStep(d, ts, b, owned)
	}
	return len(b) // modeNotTLS: counted only
}

// start gathers the first bytes of a direction and decides what they are.
func (c *Conn) start(d *half, ts time.Time, b []byte) int {
	n := startBytes - len(d.scan)
	if n > len(b) {
		n = len(b)
	}
	d.scan = append(d.scan, b[:n]...)
	s := d.scan
	if len(s) >= 3 && plausibleHeader(s) {
		d.mode = modeRecords
		d.replay, d.scan = s, nil
		return n
	}
	if ok, need := looksSSLv2Hello(s); ok {
		d.mode = modeRecords
		d.sslv2 = true
		d.replay, d.scan = s, nil
		return n
	} else if need && len(s) < startBytes {
		return n
	}
	if len(s) < 3 && len(s) < startBytes {
		return n
	}
	// Not a record: a plaintext prelude (STARTTLS) or a stream picked up in
	// the middle. Both are scanned for the first record header.
	d.mode = modeScan
	d.prelude = true
	d.scan = nil
	d.scanPos = 0
	d.replay = s
	return n
}

// plausibleHeader reports whether b begins like a TLS record header:
// content type 20-25, major version 3, minor 0-4.
func plausibleHeader(b []byte) bool {
	return b[0] >= 20 && b[0] <= 25 && b[1] == 3 && b[2] <= 4
}

// fullHeaderOK adds the length check to plausibleHeader.
func fullHeaderOK(b []byte) bool {
	return plausibleHeader(b) && int(b[3])<<8|int(b[4]) <= maxRecordLen
}

// scanStep buffers bytes (up to MaxPrelude) and looks for a record header.
// When one is found the bytes from it on are handed back for framing.
func (c *Conn) scanStep(d *half, ts time.Time, b []byte, owned bool) int {
	room := c.cfg.MaxPrelude - len(d.scan)
	n := len(b)
	if n > room {
		n = room
	}
	if n < 0 {
		n = 0
	}
	if owned && len(d.scan) == 0 {
		// Our own bytes (taken back from an earlier scan): scanned where
		// they are, so that repeated resyncs do not copy them again.
		d.scan = b[:n:n]
	} else {
		d.scan = append(d.scan, b[:n]...)
	}
	full := len(d.scan) >= c.cfg.MaxPrelude
	k, found := findHeader(d.scan, d.scanPos, full)
	if !found {
		d.scanPos = k
		if full {
			c.giveUp(d, ts)
			return len(b) // what did not fit is counted, not parsed
		}
		return n
	}
	c.foundHeader(d, ts, k)
	return n
}

// findHeader returns the first offset from pos where a record header starts
// that is plausible and, when the bytes are there, followed by another
// plausible header (or by the end of the data exactly). A handshake record
// starting a ClientHello or ServerHello, or a two-byte alert, is accepted on
// its own. When a candidate cannot be decided yet, findHeader returns it with
// found false (the scan waits there), unless force.
func findHeader(buf []byte, pos int, force bool) (int, bool) {
	for k := pos; k+recordHeaderLen <= len(buf); k++ {
		h := buf[k:]
		if !fullHeaderOK(h) {
			continue
		}
		ln := int(h[3])<<8 | int(h[4])
		switch ContentType(h[0]) {
		case ContentHandshake:
			if len(h) >= 9 && (h[5] == 1 || h[5] == 2) {
				hl := int(h[6])<<16 | int(h[7])<<8 | int(h[8])
				if hl >= 38 && (hl+4 <= ln || ln >= 1<<14) {
					return k, true
				}
			}
		case ContentAlert:
			if ln == 2 && len(h) >= 7 && (h[5] == 1 || h[5] == 2) {
				return k, true
			}
		}
		end := recordHeaderLen + ln
		switch {
		case len(h) >= end+recordHeaderLen:
			// The next header need not pass the length check: an
			// oversized record is still a record.
			if plausibleHeader(h[end:]) {
				return k, true
			}
			continue
		case len(h) == end:
			return k, true // the data ends exactly at this record's end
		}
		if force {
			return k, true
		}
		return k, false
	}
	if len(buf) >= recordHeaderLen {
		return len(buf) - recordHeaderLen + 1, false
	}
	return pos, false
}

// foundHeader leaves scanning: the bytes before k are reported (STARTTLS or
// resync) and the rest is framed.
func (c *Conn) foundHeader(d *half, ts time.Time, k int) {
	skipped := d.skipped + k
	if d.prelude {
		c.keepHead(d, d.scan[:k])
		proto := ""
		if skipped > 0 {
			proto = c.preludeProtocol()
		}
		switch {
		case proto != "" && !c.startTLS:
			c.startTLS = true
			c.sink.StartTLS(proto)
		case proto != "":
		case skipped > 0:
			c.anomaly(d, ts, AnomalyResync, skipped, "bytes before the first record header, not a known STARTTLS prelude")
		}
	} else if skipped > 0 {
		c.anomaly(d, ts, AnomalyResync, skipped, "bytes skipped to the next plausible record header")
	}
	d.replay = d.scan[k:]
	d.scan = nil
	d.scanPos = 0
	d.skipped = 0
	d.prelude = false
	d.mode = modeRecords
}

// keepHead keeps the start of a direction's prelude to name the protocol.
func (c *Conn) keepHead(d *half, p []byte) {
	const maxHead = 4096
	if len(d.head) >= maxHead {
		return
	}
	if len(p) > maxHead-len(d.head) {
		p = p[:maxHead-len(d.head)]
	}
	d.head = append(d.head, p...)
}

// preludeProtocol names the STARTTLS protocol from both directions' preludes.
func (c *Conn) preludeProtocol() string {
	var pre [2][]byte
	for i := range c.h {
		d := &c.h[i]
		pre[c.role(d.wire)] = d.head
		if d.mode == modeScan && d.prelude && len(d.head) == 0 {
			pre[c.role(d.wire)] = d.scan
		}
	}
	if p := startTLSProtocol(pre[packet.FromClient], pre[packet.FromServer]); p != "" {
		return p
	}
	return startTLSProtocol(pre[packet.FromServer], pre[packet.FromClient])
}

func (c *Conn) giveUp(d *half, ts time.Time) {
	detail := "no record header within the scan limit"
	if d.prelude {
		c.keepHead(d, d.scan)
		detail = "plaintext prelude without a TLS upgrade within the limit"
	}
	c.anomaly(d, ts, AnomalyNotTLS, d.skipped+len(d.scan), detail)
	d.mode = modeNotTLS
	d.scan = nil
	d.replay = nil
}

// resync leaves record framing for scanning; skipped counts the bytes
// already lost.
func (c *Conn) resync(d *half, skipped int) {
	d.mode = modeScan
	d.prelude = false
	d.inBody = false
	d.hdrN = 0
	d.hs = d.hs[:0]
	d.hsSkip = 0
	d.v2buf = nil
	d.scan = nil
	d.scanPos = 0
	d.skipped = skipped
}

// records frames TLS (and SSLv2) records. It is the hot path: application
// data bodies are counted and skipped without copying or allocating.
func (c *Conn) records(d *half, ts time.Time, b []byte) int {
	total := len(b)
	for len(b) > 0 && d.mode == modeRecords {
		if d.inBody {
			n := d.remaining
			if n > len(b) {
				n = len(b)
			}
			switch d.kind {
			case bodyHandshake:
				c.handshakeBytes(d, ts, b[:n])
			case bodyPrefix:
				if d.preN < len(d.pre) {
					d.preN += copy(d.pre[d.preN:], b[:n])
				}
			case bodySSLv2:
				d.v2buf = append(d.v2buf, b[:n]...)
			case bodyOpen:
				if d.preN < len(d.pre) {
					d.preN += copy(d.pre[d.preN:], b[:n])
				}
				d.ct = append(d.ct, b[:n]...)
			case bodyPeek:
				if pos, tail := d.recLen-d.remaining, d.recLen-peekTail; pos+n > tail {
					from := max(tail-pos, 0)
					copy(d.ct[pos+from:], b[from:n])
				}
			}
			d.remaining -= n
			b = b[n:]
			if d.remaining == 0 {
				c.endRecord(d, ts)
			}
			continue
		}
		// Header. The common case takes it in one piece.
		start, whole := b, d.hdrN == 0
		if d.hdrN == 0 && len(b) >= recordHeaderLen && !d.sslv2 {
			copy(d.hdr[:], b[:recordHeaderLen])
			d.hdrN = recordHeaderLen
			b = b[recordHeaderLen:]
		} else {
			need := recordHeaderLen
			if d.sslv2 && (d.hdrN > 0 || len(b) > 0) {
				first := b[0]
				if d.hdrN > 0 {
					first = d.hdr[0]
				}
				if first&0x80 != 0 {
					need = 2
				} else if first < 20 {
					need = 3
				}
			}
			if d.hdrN < need {
				m := copy(d.hdr[d.hdrN:need], b)
				d.hdrN += m
				b = b[m:]
			}
			if d.hdrN < need {
				break
			}
			if need < recordHeaderLen {
				c.beginSSLv2(d, ts, need)
				continue
			}
		}
		if !c.beginRecord(d, ts) {
			// Not a header: scan again from its second byte. When the
			// header came from b, those bytes are given back; else they
			// are copied (a header split across calls: 4 bytes at most).
			if whole {
				b = start[1:]
			} else {
				d.replay = append([]byte(nil), d.hdr[1:]...)
			}
		}
	}
	return total - len(b)
}

// beginRecord checks a complete 5-byte header and sets up its body. When
// the header cannot be one, it switches to scanning and returns false.
func (c *Conn) beginRecord(d *half, ts time.Time) bool {
	h := d.hdr[:]
	d.hdrN = 0
	typ := ContentType(h[0])
	if typ < ContentChangeCipherSpec || typ > ContentTLS12CID {
		if !c.quiet(d) { // the detail is built only when it is reported
			c.anomaly(d, ts, AnomalyUnknownContentType, recordHeaderLen, "record content type "+strconv.Itoa(int(typ)))
		}
		c.resync(d, 1)
		return false
	}
	if h[1] != 3 || h[2] > 4 {
		if typ == ContentChangeCipherSpec && !c.tls13 {
			// A CCS record with a damaged header still says the
			// direction changed keys: what follows is not read as
			// plaintext on trust.
			d.afterCCS = true
		}
		if !c.quiet(d) {
			c.anomaly(d, ts, AnomalyMalformedRecord, recordHeaderLen, "record version "+hex4(uint16(h[1])<<8|uint16(h[2])))
		}
		c.resync(d, 1)
		return false
	}
	c.sawTLS = true
	d.records++
	d.v2rec = false
	d.recType = typ
	d.recVersion = Version(uint16(h[1])<<8 | uint16(h[2]))
	d.recLen = int(h[3])<<8 | int(h[4])
	d.remaining = d.recLen
	d.preN = 0
	d.damaged = false
	if d.recLen > maxRecordLen {
		c.anomaly(d, ts, AnomalyOversizedRecord, d.recLen, "record longer than 2^14+2048")
	}
	switch typ {
	case ContentHandshake:
		switch {
		case c.encrypted(d) && c.nullCipher:
			d.kind = bodyPrefix // in clear, followed by a MAC
		case c.encrypted(d):
			d.kind = bodySkip
		default:
			d.kind = bodyHandshake
		}
	case ContentChangeCipherSpec, ContentAlert, ContentHeartbeat:
		d.kind = bodyPrefix
	default:
		d.kind = bodySkip
	}
	if c.canOpen(d, typ) {
		d.kind = bodyOpen
		d.ct = d.ct[:0]
		d.ctHdr = d.hdr
		if typ == ContentApplicationData && d.recLen > peekOnlyAbove && c.peekable(c.role(d.wire)) {
			// Bulk data: its type and size come from its last bytes, so
			// only they are copied; the rest of the buffer is not read.
			d.kind = bodyPeek
			if cap(d.ct) < d.recLen {
				d.ct = make([]byte, 0, maxCiphertext)
			}
			d.ct = d.ct[:d.recLen]
		}
	}
	d.inBody = true
	if d.remaining == 0 {
		c.endRecord(d, ts)
	}
	return true
}

// beginSSLv2 sets up an SSLv2 record from its 2- or 3-byte header.
func (c *Conn) beginSSLv2(d *half, ts time.Time, hdrLen int) {
	_, n, _ := sslv2Header(d.hdr[:hdrLen])
	d.hdrN = 0
	d.records++
	d.v2rec = true
	d.recType = 0
	d.recVersion = VersionSSL2
	d.recLen = n
	d.remaining = n
	d.damaged = false
	d.inBody = true
	if d.v2count == 0 && n <= c.cfg.MaxHandshake {
		d.kind = bodySSLv2
		d.v2buf = append(d.v2buf[:0], d.hdr[:hdrLen]...)
	} else {
		d.kind = bodyPrefix
		d.preN = 0
	}
	if n == 0 {
		c.endRecord(d, ts)
	}
}

// encrypted reports whether records in d's direction are ciphertext.
func (c *Conn) encrypted(d *half) bool {
	return d.ccs || c.tls13 && c.shDone
}

// endRecord emits the record-level Event of a finished record.
func (c *Conn) endRecord(d *half, ts time.Time) {
	d.inBody = false
	d.lastIsApp = false
	if d.v2rec {
		c.endSSLv2(d, ts)
		return
	}
	if (d.kind == bodyOpen || d.kind == bodyPeek) && c.openRecord(d, ts) {
		return
	}
	switch d.recType {
	case ContentHandshake:
		if d.kind == bodyHandshake {
			return // messages were emitted as they completed
		}
		if d.kind == bodyPrefix && d.preN >= 4 {
			// A NULL cipher: the message is in clear, a MAC follows it.
			ml := int(d.pre[1])<<16 | int(d.pre[2])<<8 | int(d.pre[3])
			if ml+4 < d.recLen {
				d.encHS++
				c.emit(c.event(d, ts, HandshakeMsg(HandshakeType(d.pre[0])), ml, false))
				return
			}
		}
		t := HandshakeMsg(TypeFinished)
		if d.encHS > 0 {
			t = MsgEncryptedHandshake // renegotiation under the old keys
		}
		d.encHS++
		c.emit(c.event(d, ts, t, d.recLen, true))
	case ContentChangeCipherSpec:
		c.emit(c.event(d, ts, MsgChangeCipherSpec, d.recLen, false))
		if !c.tls13 && !c.shDone && c.chSeen && c.chOffered13 && !d.ccs {
			// The compatibility no-op, or a TLS 1.2 server's answer we
			// did not capture: the next handshake record says which.
			d.afterCCS = true
		}
		if !c.tls13 && (c.shDone || !c.chSeen || !c.chOffered13) {
			// Before TLS 1.3 the CCS switches this direction to the new
			// keys; in TLS 1.3 it is a middlebox-compatibility no-op. A
			// CCS after a ClientHello that offered TLS 1.3 but before any
			// ServerHello is that no-op (sent before a second ClientHello,
			// RFC 8446 D.4); after a ClientHello offering TLS 1.2 at most
			// it means keys were agreed in a ServerHello we did not
			// capture (a one-sided capture), and what follows is
			// ciphertext. A stream picked up mid-way has seen neither.
			c.switchAtCCS(d)
		}
	case ContentAlert:
		if c.role(d.wire) == packet.FromClient && c.shDone {
			// A client's alert ends the server's handshake flight.
			c.clientAlerted = true
		}
		// An alert record of two bytes is plaintext whatever the state: no
		// cipher leaves an alert that short, and no cipher makes one
		// shorter than 10 bytes (2 + an 8-byte tag). A few alerts may
		// share a plaintext record before TLS 1.3.
		if d.recLen == 2 || !c.encrypted(d) && d.recLen >= 2 && d.recLen <= 8 && d.recLen%2 == 0 && !d.damaged ||
			c.encrypted(d) && c.nullCipher && d.recLen > 2 && !d.damaged {
			ev := c.event(d, ts, MsgAlert, d.recLen, false)
			if !d.damaged {
				if a, err := ParseAlert(d.pre[:2]); err == nil {
					ev.Alert = a
				}
			}
			c.emit(ev)
			return
		}
		c.emit(c.event(d, ts, MsgAlert, d.recLen, true))
	case ContentHeartbeat:
		if c.encrypted(d) || d.damaged {
			c.emit(c.event(d, ts, MsgHeartbeat, d.recLen, c.encrypted(d)))
			// Encrypted, a heartbleed shows in sizes: a response far
			// larger than the request it answers (the padding allows a
			// little slack, not kilobytes).
			other := &c.h[d.wire^1]
			if c.encrypted(d) && other.lastHeartbeat > 0 && d.recLen >= 1024 && d.recLen > 2*other.lastHeartbeat && !d.heartbleedSaid {
				d.heartbleedSaid = true
				c.anomaly(d, ts, AnomalyHeartbleed, d.recLen, "encrypted heartbeat of "+strconv.Itoa(d.recLen)+" bytes answering one of "+strconv.Itoa(other.lastHeartbeat))
			}
			d.lastHeartbeat = d.recLen
			return
		}
		ev := c.event(d, ts, MsgHeartbeat, d.recLen, false)
		hb, err := heartbeatFrom(d.pre[:d.preN], d.recLen)
		if err == nil {
			ev.Heartbeat = hb
		}
		c.emit(ev)
		if hb != nil && hb.Heartbleed {
			c.anomaly(d, ts, AnomalyHeartbleed, hb.PayloadLength, "heartbeat payload_length "+strconv.Itoa(hb.PayloadLength)+
				" with its 3-byte header and 16 bytes of padding does not fit its record of "+strconv.Itoa(d.recLen)+" bytes")
		}
	case ContentApplicationData:
		t, enc := c.labelAppData(d)
		c.emit(c.event(d, ts, t, d.recLen, enc))
		if t == MsgApplicationData {
			d.lastIsApp = true
			d.lastAppLen = d.recLen
			d.lastAppTS = ts
		}
	case ContentTLS12CID:
		c.emit(c.event(d, ts, MsgTLS12CID, d.recLen, true))
	}
}

// maxServerFlightRecords bounds the TLS 1.3 server records labelled as its
// encrypted handshake flight when the client's Finished is not seen.
const maxServerFlightRecords = 10

// aeadTag is the authentication tag length of the TLS 1.3 suite in use.
func (c *Conn) aeadTag() int { return aeadTagLen(c.cipherSuite) }

// alertRecordMax is the largest TLS 1.3 record that is more likely an alert
// than anything else: 2 bytes of alert, 1 of inner content type, the tag,
// and up to 16 bytes of padding. A Finished is at least 4+32+1+tag.
func (c *Conn) alertRecordMax() int { return 2 + 1 + c.aeadTag() + 16 }

// labelAppData says what an application_data record must be. Before TLS
// 1.3 it is what it says. In TLS 1.3 the handshake flights after the
// ServerHello travel in application_data records too: the server's first
// flight (until the client's Finished) is labelled encrypted_handshake; the
// client's first record after the ServerHello is its Finished, except 0-RTT
// data still in flight, an EndOfEarlyData (4+1+tag bytes) when early data
// was accepted, and a record too short to be a Finished (likely an alert).
func (c *Conn) labelAppData(d *half) (MsgType, bool) {
	if !c.tls13 || !c.shDone {
		return MsgApplicationData, false
	}
	if c.role(d.wire) == packet.FromServer {
		// A server flight is a few records (EncryptedExtensions, maybe
		// CertificateRequest, a Certificate over a few records,
		// CertificateVerify, Finished); more than that without a word from
		// the client is application data (a capture of one direction).
		if !c.clientFinished && !c.clientAlerted && c.serverEncRecs < maxServerFlightRecords {
			c.serverEncRecs++
			return MsgEncryptedHandshake, true
		}
		return MsgApplicationData, false
	}
	if c.clientFinished {
		return MsgApplicationData, false
	}
	if c.earlyData && c.serverEncRecs == 0 {
		return MsgApplicationData, false // 0-RTT data sent before the server's flight
	}
	if d.recLen <= c.alertRecordMax() {
		// EndOfEarlyData only follows accepted early data, which needs an
		// accepted PSK.
		if c.earlyData && c.pskAccepted && !c.eoedSeen && d.recLen == 4+1+c.aeadTag() {
			c.eoedSeen = true
			return HandshakeMsg(TypeEndOfEarlyData), true
		}
		return MsgApplicationData, false
	}
	c.clientFinished = true
	return HandshakeMsg(TypeFinished), true
}

// switchAtCCS makes d's later records ciphertext.
func (c *Conn) switchAtCCS(d *half) {
	d.ccs = true
	d.afterCCS = false
	d.encHS = 0
	d.hs = d.hs[:0]
	d.hsSkip = 0
	c.keysAtCCS(c.role(d.wire))
}

// plainAfterCCS reports whether a handshake message header read right
// after a CCS that switched nothing (half.afterCCS) can be true: only a
// client's second ClientHello (RFC 8446 D.4) of a plausible size. An
// encrypted Finished read as a header names a random type and length.
func (c *Conn) plainAfterCCS(d *half, hdr []byte) bool {
	ml := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
	return c.role(d.wire) == packet.FromClient && HandshakeType(hdr[0]) == TypeClientHello &&
		ml >= 38 && ml <= c.cfg.MaxHandshake && (ml+4 <= d.recLen || d.recLen >= 1<<14)
}

// handshakeBytes joins plaintext handshake bytes into messages and splits
// coalesced ones (RFC 8446 5.1). A message larger than MaxHandshake is
// reported and its bytes skipped.
func (c *Conn) handshakeBytes(d *half, ts time.Time, p []byte) {
	if d.damaged {
		return
	}
	for len(p) > 0 {
		if d.hsSkip > 0 {
			n := d.hsSkip
			if n > len(p) {
				n = len(p)
			}
			d.hsSkip -= n
			p = p[n:]
			if d.hsSkip == 0 && !d.hsSkipSaid {
				c.emit(c.event(d, d.hsTS, HandshakeMsg(d.hsSkipType), d.hsSkipLen, false))
			}
			continue
		}
		if len(d.hs) < 4 {
			if len(d.hs) == 0 {
				// A message is timed by the piece that carried its first
				// byte, not the one that completed it.
				d.hsTS = ts
			}
			n := 4 - len(d.hs)
			if n > len(p) {
				n = len(p)
			}
			d.hs = append(d.hs, p[:n]...)
			p = p[n:]
			if len(d.hs) < 4 {
				return
			}
			if d.afterCCS {
				if !c.plainAfterCCS(d, d.hs) {
					// Ciphertext: the rest of the record is skipped and
					// endRecord labels it (a Finished).
					c.switchAtCCS(d)
					d.kind = bodySkip
					return
				}
				d.afterCCS = false
			}
			ml := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
			if ml > c.cfg.MaxHandshake {
				c.anomaly(d, ts, AnomalyHandshakeTooLarge, ml, HandshakeType(d.hs[0]).String()+" of "+strconv.Itoa(ml)+" bytes over the limit of "+strconv.Itoa(c.cfg.MaxHandshake))
				d.hsSkip, d.hsSkipType, d.hsSkipLen, d.hsSkipSaid = ml, HandshakeType(d.hs[0]), ml, true
				// The message takes its place in the sequence where its
				// header was seen, unparsed (no body pointer): what follows
				// in either direction then comes after it, as on the wire.
				c.emit(c.event(d, d.hsTS, HandshakeMsg(d.hsSkipType), d.hsSkipLen, false))
				d.hs = d.hs[:0]
				continue
			}
		}
		ml := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		if len(d.hs) == 4 && len(p) >= ml {
			// The whole body is in this piece: parse it in place.
			typ := HandshakeType(d.hs[0])
			d.hs = d.hs[:0]
			c.handshakeMessage(d, ts, typ, p[:ml], false)
			p = p[ml:]
			continue
		}
		if len(d.hs) == 4 {
			// The body spans pieces: join it in a buffer of its own, which
			// the parsed message then keeps instead of a copy. It is sized
			// by what came, not by what the header claims: at most
			// hsPrealloc up front, however little was sent (a flood of
			// bare headers must not hold a record's worth each).
			nb := make([]byte, 4, min(4+ml, max(4+len(p), hsPrealloc)))
			copy(nb, d.hs)
			d.hs = nb
		}
		n := 4 + ml - len(d.hs)
		if n > len(p) {
			n = len(p)
		}
		d.hs = append(d.hs, p[:n]...)
		p = p[n:]
		if len(d.hs) == 4+ml {
			typ := HandshakeType(d.hs[0])
			body := d.hs[4:]
			d.hs = d.hsHdr[:0] // the message owns body now
			c.handshakeMessage(d, d.hsTS, typ, body, true)
		}
	}
}

// handshakeMessage parses one plaintext handshake message and emits it.
// body is valid only during the call; parsers copy what they keep.
//
// owned says body is the Conn's own buffer, no longer used by it: a parse
// that keeps the bytes may keep body itself rather than a copy.
func (c *Conn) handshakeMessage(d *half, ts time.Time, typ HandshakeType, body []byte, owned bool) {
	var err error
	t := HandshakeMsg(typ)
	var (
		ch   *ClientHello
		sh   *ServerHello
		cert *Certificate
		ske  *ServerKeyExchange
		cr   *CertificateRequest
		nst  *NewSessionTicket
		cs   *CertificateStatus
		ee   *EncryptedExtensions
		raw  []byte
	)
	switch typ {
	case TypeClientHello:
		ch, err = ParseClientHello(body)
		if ch != nil && c.quic != nil && c.st.ClientHello != nil && bytes.Equal(ch.Random, c.st.ClientHello.Random) {
			// After a Retry or a Version Negotiation a QUIC client sends
			// its ClientHello again on a new Initial stream: the same
			// message (RFC 9000 17.2.5.2), told once.
			return
		}
		if ch != nil {
			c.onClientHello(d, ts, ch)
		}
	case TypeServerHello:
		sh, err = ParseServerHello(body)
		if sh != nil {
			if sh.IsHelloRetryRequest {
				t = MsgHelloRetryRequest
			}
			c.onServerHello(sh)
		}
	case typeDraftHelloRetryRequest:
		sh, err = ParseDraftHelloRetryRequest(body)
		if sh != nil {
			t = MsgHelloRetryRequest
			c.onServerHello(sh)
		}
	case TypeCertificate:
		if !owned {
			body = bytes.Clone(body)
		}
		cert, err = parseCertificate(body, c.tls13)
	case TypeServerKeyExchange:
		ske, err = ParseServerKeyExchange(body, c.cipherSuite, c.version)
	case TypeCertificateRequest:
		cr, err = ParseCertificateRequest(body, c.tls13)
	case TypeNewSessionTicket:
		nst, err = ParseNewSessionTicket(body, c.tls13)
	case TypeCertificateStatus:
		cs, err = ParseCertificateStatus(body)
	case TypeEncryptedExtensions:
		ee, err = ParseEncryptedExtensions(body)
		if ee != nil && c.st.QUIC != nil && c.role(d.wire) == packet.FromServer {
			c.st.QUIC.ServerTransportParameters = transportParameters(ee.Extensions)
		}
	default:
		raw = append([]byte(nil), body...)
	}
	if err != nil {
		c.anomaly(d, ts, AnomalyMalformedHandshake, len(body), err.Error())
	}
	ev := c.event(d, ts, t, len(body), false)
	ev.ClientHello, ev.ServerHello, ev.Certificate = ch, sh, cert
	ev.ServerKeyExchange, ev.CertificateRequest = ske, cr
	ev.NewSessionTicket, ev.CertificateStatus = nst, cs
	ev.EncryptedExtensions = ee
	ev.Raw = raw
	c.emit(ev)
	c.keysAfterMessage(c.role(d.wire), typ, nst)
}

// typeDraftHelloRetryRequest is the HelloRetryRequest message of the TLS 1.3
// drafts before 22; later a ServerHello with a special random.
const typeDraftHelloRetryRequest HandshakeType = 6

// onClientHello settles the roles and remembers what labelling needs.
func (c *Conn) onClientHello(d *half, ts time.Time, ch *ClientHello) {
	c.chSeen = true
	if !c.rolesFixed {
		c.rolesFixed = true
		if c.cfg.RolesInferred && c.role(d.wire) == packet.FromServer {
			c.swapped = !c.swapped
			c.sink.RolesSwapped()
			c.anomaly(d, ts, AnomalyRolesSwapped, 0, "the ClientHello came from the side taken for the server")
		}
	}
	if c.role(d.wire) == packet.FromClient {
		if c.st.QUIC != nil && c.st.QUIC.ClientTransportParameters == nil {
			c.st.QUIC.ClientTransportParameters = transportParameters(ch.Extensions)
		}
		c.keysForClientHello(ch)
		c.clientETM = ch.EncryptThenMAC
		c.earlyData = ch.EarlyData
		for _, v := range ch.SupportedVersions {
			if v.IsTLS13() {
				c.chOffered13 = true
			}
		}
	}
}

func (c *Conn) onServerHello(sh *ServerHello) {
	if sh.IsHelloRetryRequest {
		c.tls13 = true
		c.earlyData = false // RFC 8446 4.2.10: early data is rejected after an HRR
	} else {
		c.shDone = true
		c.version = sh.Version().tlsEquivalent()
		c.cipherSuite = sh.CipherSuite
		c.pskAccepted = sh.HasPreSharedKey
		c.tls13 = c.version.IsTLS13()
		// With a NULL bulk cipher (TLS_RSA_WITH_NULL_SHA256 and kin) the
		// records after the CCS are in clear, a MAC appended.
		c.nullCipher = !c.tls13 && strings.Contains(sh.CipherSuite.String(), "_NULL_")
	}
	if c.tls13 {
		// A CCS sent before the ServerHello (compatibility mode with early
		// data) did not switch keys.
		c.h[0].ccs, c.h[1].ccs = false, false
	}
	if !c.nullCipher {
		c.keysForServerHello(sh)
	}
}

// endSSLv2 emits an SSLv2 record: the first one in each direction is parsed
// as a hello (or error); later ones are ciphertext except a client's
// CLIENT-MASTER-KEY.
func (c *Conn) endSSLv2(d *half, ts time.Time) {
	d.v2count++
	if d.kind == bodySSLv2 && !d.damaged {
		rec := d.v2buf
		d.v2buf = nil
		var body []byte
		if h, _, ok := sslv2Header(rec); ok && len(rec) > h {
			body = rec[h:]
		}
		if len(body) > 0 {
			switch body[0] {
			case sslv2MsgClientHello:
				ch, err := ParseSSLv2ClientHello(rec)
				if err != nil {
					c.anomaly(d, ts, AnomalyMalformedHandshake, d.recLen, err.Error())
				}
				if ch != nil {
					c.sawTLS = true
					c.onClientHello(d, ts, ch)
				}
				ev := c.event(d, ts, MsgSSLv2ClientHello, d.recLen, false)
				ev.ClientHello = ch
				c.emit(ev)
				return
			case sslv2MsgServerHello:
				sh, err := ParseSSLv2ServerHello(rec)
				if err != nil {
					c.anomaly(d, ts, AnomalyMalformedHandshake, d.recLen, err.Error())
				}
				c.sawTLS = true
				ev := c.event(d, ts, MsgSSLv2ServerHello, d.recLen, false)
				ev.SSLv2ServerHello = sh
				c.emit(ev)
				return
			case sslv2MsgError:
				e, err := ParseSSLv2Error(rec)
				if err != nil {
					c.anomaly(d, ts, AnomalyMalformedHandshake, d.recLen, err.Error())
				}
				ev := c.event(d, ts, MsgSSLv2Error, d.recLen, false)
				ev.SSLv2Error = e
				c.emit(ev)
				return
			}
		}
	}
	// CLIENT-MASTER-KEY (type 2) is the one later message sent in clear.
	if d.preN > 0 && d.pre[0] == 2 && c.role(d.wire) == packet.FromClient && d.v2count == 2 {
		c.emit(c.event(d, ts, MsgSSLv2ClientMasterKey, d.recLen, false))
		return
	}
	c.emit(c.event(d, ts, MsgSSLv2Other, d.recLen, true))
}

// Gap says n bytes of dir are lost; the framer resynchronises after them.
// A gap inside an application-data (or other skipped) record of known length
// is stepped over exactly, and so is one inside any record: only the
// record's content is lost, not the framing.
func (c *Conn) Gap(dir packet.Dir, ts time.Time, n int) {
	if dir > 1 || n <= 0 {
		return
	}
	d := &c.h[dir]
	// Lost records take their sequence numbers with them: the side's
	// records can no longer be opened.
	c.keys.open[c.role(dir)] = nil
	if d.mode == modeScan && len(d.scan) > 0 {
		// A header candidate still waiting for confirmation is taken: its
		// record's length is the best guess of where the gap ends, and
		// the framer resyncs again if the next header is not there.
		if k, found := findHeader(d.scan, d.scanPos, true); found {
			c.foundHeader(d, ts, k)
		}
	}
	switch d.mode {
	case modeNotTLS:
		return
	case modeStart, modeScan:
		// Whatever was gathered no longer lines up with what follows.
		d.skipped += len(d.scan) + n
		d.scan = nil
		d.scanPos = 0
		d.mode = modeScan
		d.prelude = false
		return
	}
	// Bytes queued for framing come before the gap: frame them first.
	if len(d.replay) > 0 {
		c.Data(dir, ts, nil)
		if d.mode != modeRecords {
			d.skipped += n
			return
		}
	}
	if d.inBody && n <= d.remaining {
		d.remaining -= n
		switch {
		case d.kind == bodySkip:
		case d.kind == bodyHandshake && !d.damaged && c.gapInMessage(d, ts, n):
			// The gap ended inside the message being joined, whose
			// header says where it ends: its rest is skipped and the
			// messages after it are read.
		default:
			d.damaged = true
			if d.kind == bodyHandshake {
				// The message being joined is lost; the next handshake
				// record is taken to start a new one.
				d.hs = d.hs[:0]
				d.hsSkip = 0
			}
		}
		if d.remaining == 0 {
			c.endRecord(d, ts)
		}
		return
	}
	if d.inBody {
		n -= d.remaining
		d.remaining = 0
		d.damaged = true
		c.endRecord(d, ts)
	}
	c.resync(d, n)
}

// gapInMessage accounts n lost bytes to the handshake message being joined
// when its header is known and the gap ends inside it (or at its end). The
// message is then reported without its content once its length is passed.
func (c *Conn) gapInMessage(d *half, ts time.Time, n int) bool {
	if d.hsSkip > 0 {
		if n > d.hsSkip {
			return false
		}
		d.hsSkip -= n
		if d.hsSkip == 0 && !d.hsSkipSaid {
			c.emit(c.event(d, d.hsTS, HandshakeMsg(d.hsSkipType), d.hsSkipLen, false))
		}
		return true
	}
	if len(d.hs) < 4 {
		return false
	}
	ml := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
	rest := 4 + ml - len(d.hs)
	if n > rest {
		return false
	}
	d.hsSkipType, d.hsSkipLen, d.hsSkipSaid = HandshakeType(d.hs[0]), ml, false
	d.hsSkip = rest - n
	d.hs = d.hs[:0]
	if d.hsSkip == 0 {
		c.emit(c.event(d, d.hsTS, HandshakeMsg(d.hsSkipType), ml, false))
	}
	return true
}

// SetEnds tells the Conn, before End, how the TCP connection ended: the
// capture time of each wire direction's first FIN and of the reset, zero
// when none was captured. A TLS 1.3 record is taken for an encrypted
// alert from its size alone only where its place says so: its direction's
// last record before that direction's FIN or a reset, or the record that
// ended a handshake. Without SetEnds only the second holds.
func (c *Conn) SetEnds(fin [2]time.Time, rst time.Time) {
	c.finAt, c.rstAt = fin, rst
}

// closedAfter reports whether d's transport was closed (its FIN, or a
// reset from either side) at or after ts.
func (c *Conn) closedAfter(d *half, ts time.Time) bool {
	if f := c.finAt[d.wire&1]; !f.IsZero() && !f.Before(ts) {
		return true
	}
	return !c.rstAt.IsZero() && !c.rstAt.Before(ts)
}

// End says both streams are over; a record cut short is reported, and a
// last short application_data record of a TLS 1.3 direction is reported as
// a probable encrypted alert.
func (c *Conn) End(ts time.Time) {
	for i := range c.h {
		d := &c.h[i]
		// Bytes still waiting for a decision are decided now.
		if d.mode == modeScan && len(d.scan) > 0 {
			if k, found := findHeader(d.scan, d.scanPos, true); found {
				c.foundHeader(d, ts, k)
			}
		}
		if d.mode == modeStart && len(d.scan) >= 3 && plausibleHeader(d.scan) {
			d.mode = modeRecords
			d.replay, d.scan = d.scan, nil
		}
		if len(d.replay) > 0 {
			c.Data(d.wire, ts, nil)
		}
		if d.mode == modeRecords {
			switch {
			case d.inBody:
				c.anomaly(d, ts, AnomalyTruncated, d.remaining, "stream ended "+strconv.Itoa(d.remaining)+" bytes short of the end of a "+d.recType.String()+" record")
			case d.hdrN > 0:
				c.anomaly(d, ts, AnomalyTruncated, recordHeaderLen-d.hdrN, "stream ended inside a record header")
			case d.hsSkip > 0:
				c.anomaly(d, ts, AnomalyTruncated, d.hsSkip, "stream ended inside an oversized handshake message")
			case len(d.hs) >= 4:
				ml := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
				c.anomaly(d, ts, AnomalyTruncated, 4+ml-len(d.hs), "stream ended inside a "+HandshakeType(d.hs[0]).String()+" message")
			case len(d.hs) > 0:
				c.anomaly(d, ts, AnomalyTruncated, 4-len(d.hs), "stream ended inside a handshake message header")
			}
		}
		if d.lastIsApp && c.tls13 && c.shDone && d.lastAppLen >= 2+1+c.aeadTag() && d.lastAppLen <= c.alertRecordMax() {
			c.st.noteProbableAlert(c.role(d.wire), d.lastAppTS, d.lastAppLen, c.closedAfter(d, d.lastAppTS))
			d.lastIsApp = false
		}
		d.inBody = false
		d.hdrN = 0
		d.hs = nil
		d.hsSkip = 0
	}
	c.endDatagram()
	c.st.settleProbableAlerts()
	c.st.Keys = c.keys.status
	if c.keys.lookup != nil && c.st.Keys == KeysNone && c.keys.lookup.Loaded() {
		c.st.Keys = KeysMissing // no ClientHello to look up
	}
}
