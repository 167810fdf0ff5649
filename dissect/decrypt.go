package dissect

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/keys"
	"github.com/tlsdissect/tlsdissect/packet"
)

// KeyLookup finds a connection's secrets by its ClientHello random, and
// carries the master secrets of TLS 1.2 sessions from the connection that
// established them to those that resume them; a *keys.KeyLog is one. All
// its methods may be called from several Conns at once, and secrets may be
// added to it while they run.
type KeyLookup interface {
	Lookup(clientRandom [32]byte) (keys.Secrets, bool)
	// Loaded reports whether a key log was given at all. While it is not,
	// a connection without secrets is KeysNone, not KeysMissing: a
	// capture whose secrets may come later (pcapng Decryption Secrets
	// Blocks) reads as one without a key log until they do.
	Loaded() bool
	// RememberSession keeps the master secret of a session by the
	// session ID or ticket the server gave it (copied).
	RememberSession(kind keys.SessionKind, id, master []byte)
	// LookupSession returns the master secret remembered for id, shared
	// and read-only.
	LookupSession(kind keys.SessionKind, id []byte) ([]byte, bool)
}

// KeyStatus says what became of decryption for a connection.
type KeyStatus uint8

const (
	KeysNone    KeyStatus = iota // no key log was given
	KeysMissing                  // the key log holds nothing for this connection
	KeysFound                    // its secrets were found and its records opened
	KeysFailed                   // secrets were found but a record did not authenticate, or its suite is not supported
)

func (k KeyStatus) String() string {
	switch k {
	case KeysMissing:
		return "missing"
	case KeysFound:
		return "found"
	case KeysFailed:
		return "failed"
	}
	return ""
}

// maxCiphertext bounds the record body buffered for opening: the largest
// ciphertext RFC 8446 5.2 and RFC 5246 6.2.3 allow.
const maxCiphertext = 1<<14 + 2048

// Records of application data longer than peekOnlyAbove, once a side's
// handshake is over, are peeked at from their last peekTail bytes (the
// last keystream blocks and the tag) instead of being copied whole; the
// shorter ones that may carry a NewSessionTicket or a KeyUpdate are opened.
const (
	peekOnlyAbove = 4096
	peekTail      = 64
)

// crypt is a connection's decryption state. The openers are indexed by
// role (packet.FromClient, packet.FromServer), not by wire direction.
type crypt struct {
	lookup  KeyLookup
	sec     keys.Secrets
	have    bool
	status  KeyStatus
	random  [2][]byte // client and server random of the handshake in force
	open    [2]keys.Opener
	pending [2]keys.Opener // TLS 1.2: taken over at that side's ChangeCipherSpec
	// next13 are the application traffic openers each side moves to
	// after its Finished (TLS 1.3).
	next13 [2]keys.Opener
	// early is the client's 0-RTT opener, kept while the client may still
	// be sending early data; handshake is the one that follows it.
	early, handshake keys.Opener
	decrypting       bool // the Events being emitted come from an opened record
	// compressed: the ServerHello chose DEFLATE; inflate is set per side
	// at its ChangeCipherSpec.
	compressed bool
	inflate    [2]*inflater
	stream     bool // a stream cipher (RC4): every record is opened, none peeked
	// master is the TLS 1.0-1.2 master secret in force, from the key log
	// or carried over from the session resumed; shared with the lookup.
	master []byte
	// offerID and offerTicket are copies of the session ID and ticket the
	// ClientHello presented, kept when the key log had nothing for it.
	offerID, offerTicket []byte
	// tentative: the pending openers come from the ticket the client
	// offered, and the server has not yet shown that it resumed (no
	// session ID to echo): a Certificate from it undoes them.
	tentative bool
}

// setStatus moves the status on; failed is final.
func (k *crypt) setStatus(s KeyStatus) {
	if k.status != KeysFailed {
		k.status = s
	}
}

// keysForClientHello looks the client's secrets up.
func (c *Conn) keysForClientHello(ch *ClientHello) {
	k := &c.keys
	if k.lookup == nil || len(ch.Random) != 32 {
		return
	}
	var cr [32]byte
	copy(cr[:], ch.Random)
	k.random[0] = append(k.random[0][:0], ch.Random...)
	k.sec, k.have = k.lookup.Lookup(cr)
	k.master, k.tentative = nil, false
	k.offerID, k.offerTicket = k.offerID[:0], k.offerTicket[:0]
	if !k.have {
		// A renegotiation the log has no secrets for does not undo what
		// the first handshake's opened.
		if !k.lookup.Loaded() {
			return // no key log yet: nothing to look for
		}
		if k.status == KeysNone {
			k.status = KeysMissing
		}
		// The session it presents may be one whose master secret an
		// earlier connection of the capture had (keysForResumption).
		k.offerID = append(k.offerID, ch.SessionID...)
		k.offerTicket = append(k.offerTicket, ch.SessionTicket...)
		return
	}
	k.setStatus(KeysFound)
	if ch.EarlyData && len(k.sec.ClientEarlyTraffic) > 0 {
		// 0-RTT records are protected with the early traffic secret, under
		// the suite of the PSK; the first offered TLS 1.3 suite is the
		// usual one and the ServerHello confirms it.
		for _, s := range ch.CipherSuites {
			if s>>8 == 0x13 {
				if o, err := keys.NewTLS13Opener(s, k.sec.ClientEarlyTraffic); err == nil {
					k.early = o
					k.open[0] = o
				}
				break
			}
		}
	}
}

// keysForServerHello derives the openers the ServerHello makes possible.
func (c *Conn) keysForServerHello(sh *ServerHello) {
	k := &c.keys
	if sh.IsHelloRetryRequest {
		return
	}
	if !k.have {
		c.keysForResumption(sh)
		return
	}
	k.random[1] = append(k.random[1][:0], sh.Random...)
	suite := uint16(sh.CipherSuite)
	if sh.Version().IsTLS13() {
		fail := func(err error) bool {
			if err != nil {
				k.setStatus(KeysFailed)
				return true
			}
			return false
		}
		var err error
		var ch, sv, ca, sa *keys.TLS13Opener
		if len(k.sec.ClientHandshakeTraffic) > 0 {
			ch, err = keys.NewTLS13Opener(suite, k.sec.ClientHandshakeTraffic)
			if fail(err) {
				return
			}
		}
		if len(k.sec.ServerHandshakeTraffic) > 0 {
			sv, err = keys.NewTLS13Opener(suite, k.sec.ServerHandshakeTraffic)
			if fail(err) {
				return
			}
		}
		if len(k.sec.ClientTraffic0) > 0 {
			ca, err = keys.NewTLS13Opener(suite, k.sec.ClientTraffic0)
			if fail(err) {
				return
			}
		}
		if len(k.sec.ServerTraffic0) > 0 {
			sa, err = keys.NewTLS13Opener(suite, k.sec.ServerTraffic0)
			if fail(err) {
				return
			}
		}
		if sv != nil {
			k.open[1] = sv
		}
		if sa != nil {
			k.next13[1] = sa
		}
		if ca != nil {
			k.next13[0] = ca
		}
		if ch != nil {
			k.handshake = ch
			if k.early == nil || !sh.HasPreSharedKey {
				// No early data can have been accepted: the client's next
				// records are its handshake.
				k.open[0] = ch
				k.early = nil
			}
		}
		return
	}
	c.keysFromMaster(sh, k.sec.MasterSecret)
}

// keysFromMaster derives a TLS 1.0-1.2 handshake's pending openers from
// its master secret, and remembers the session the ServerHello names.
func (c *Conn) keysFromMaster(sh *ServerHello, master []byte) bool {
	k := &c.keys
	if len(master) == 0 || len(k.random[0]) != 32 || len(sh.Random) != 32 {
		return false
	}
	cl, sv, err := keys.NewTLS12Openers(keys.Params{
		Suite: uint16(sh.CipherSuite), Version: uint16(sh.Version().tlsEquivalent()), ClientRandom: k.random[0], ServerRandom: sh.Random,
		EncryptThenMAC: sh.EncryptThenMAC && c.clientETM,
	}, master)
	if err != nil {
		k.setStatus(KeysFailed)
		return false
	}
	k.pending = [2]keys.Opener{cl, sv}
	k.stream = cl.Suite().Cipher.Stream()
	k.compressed = sh.CompressionMethod == 1 // DEFLATE (RFC 3749)
	k.master = master
	// A server that names the session may be asked to resume it by that
	// name (RFC 5246 7.4.1.3); an abbreviated handshake keeps the master
	// secret, so remembering it again is harmless.
	k.lookup.RememberSession(keys.SessionByID, sh.SessionID, master)
	return true
}

// keysForResumption opens an abbreviated TLS 1.0-1.2 handshake whose client
// random the key log lacks with the master secret of the session it
// resumes, as an earlier connection of the capture established it: the
// session ID the ServerHello echoes (RFC 5246 7.4.1.2), or the ticket the
// client presented (RFC 5077 3.1). A server that accepts a ticket echoes a
// non-empty session ID (RFC 5077 3.4); when the client sent none, only the
// server's next message tells (keysAfterMessage): a Certificate means a
// full handshake after all.
func (c *Conn) keysForResumption(sh *ServerHello) {
	k := &c.keys
	if k.lookup == nil || sh.Version().tlsEquivalent().IsTLS13() || len(k.random[0]) != 32 {
		return
	}
	echoed := len(sh.SessionID) > 0 && bytes.Equal(sh.SessionID, k.offerID)
	var ms []byte
	var ok, tentative bool
	if len(k.offerTicket) > 0 && (echoed || len(k.offerID) == 0) {
		ms, ok = k.lookup.LookupSession(keys.SessionByTicket, k.offerTicket)
		tentative = ok && !echoed
	}
	if !ok && echoed {
		ms, ok = k.lookup.LookupSession(keys.SessionByID, k.offerID)
	}
	if !ok {
		return
	}
	k.random[1] = append(k.random[1][:0], sh.Random...)
	if c.keysFromMaster(sh, ms) {
		k.setStatus(KeysFound)
		k.tentative = tentative
	}
}

// dropTentative undoes openers derived from an offered ticket once the
// server shows a full handshake.
func (k *crypt) dropTentative() {
	k.pending = [2]keys.Opener{}
	k.master, k.tentative = nil, false
	if k.status == KeysFound {
		k.status = KeysMissing
	}
}

// keysAtCCS hands a TLS 1.2 side the opener of the keys just agreed.
func (c *Conn) keysAtCCS(role packet.Dir) {
	k := &c.keys
	if role == packet.FromServer {
		k.tentative = false // the server resumed: its CCS follows its ServerHello
	}
	if p := k.pending[role]; p != nil {
		k.open[role] = p
		k.pending[role] = nil
		if k.compressed {
			k.inflate[role] = &inflater{}
		}
	}
}

// canOpen reports whether the record d is starting will be opened.
func (c *Conn) canOpen(d *half, typ ContentType) bool {
	// A DTLS front end opens its records itself (dtlsfront.go): the
	// records it hands the framer stand for their sizes only.
	if c.dtls != nil || c.keys.open[c.role(d.wire)] == nil || d.recLen > maxCiphertext || d.recLen == 0 {
		return false
	}
	switch typ {
	case ContentHandshake, ContentAlert, ContentApplicationData, ContentHeartbeat:
		return c.encrypted(d) || c.keys.early != nil && c.role(d.wire) == packet.FromClient && typ == ContentApplicationData
	}
	return false
}

// openRecord opens the record buffered in d.ct and emits what it holds.
// It returns false when the record could not be opened: the caller then
// labels it as ciphertext.
func (c *Conn) openRecord(d *half, ts time.Time) bool {
	k := &c.keys
	role := c.role(d.wire)
	o := k.open[role]
	if o == nil || d.damaged || len(d.ct) != d.recLen {
		return false
	}
	if d.kind == bodyPeek {
		typ, n, err := o.Peek(d.ctHdr[:], d.ct)
		if err == nil && typ == uint8(ContentApplicationData) {
			c.emitOpened(d, ts, ContentApplicationData, nil, n)
			return true
		}
		// A long record that is not data (a large post-handshake message)
		// was not kept whole: it is counted as ciphertext; Peek used up
		// its sequence number, as the sender did.
		return false
	}
	hdr := d.ctHdr[:]
	seq := o.Seq()
	var typ uint8
	var pt []byte
	var err error
	bulk := d.recType == ContentApplicationData && c.peekable(role)
	if bulk {
		// Application data is only counted: its type and size come from
		// the record's tail, without authenticating the whole of it.
		var n int
		typ, n, err = o.Peek(hdr, d.ct)
		if err == nil && typ == uint8(ContentApplicationData) {
			c.emitOpened(d, ts, ContentApplicationData, nil, n)
			return true
		}
		o.SetSeq(seq) // not data after all: open it properly
	}
	retry := role == packet.FromClient && o == k.early && k.handshake != nil
	dst := d.ct[:0] // in place: the ciphertext is not needed again
	if retry {
		// A failed Open in place destroys the ciphertext, which the
		// handshake keys may still need: decrypt into a copy (0-RTT only).
		dst = nil
	}
	typ, pt, err = o.Open(dst, hdr, d.ct)
	if err != nil && retry {
		// The server refused the early data: the client moved on to its
		// handshake keys without an EndOfEarlyData.
		k.early = nil
		k.open[0] = k.handshake
		o = k.handshake
		typ, pt, err = o.Open(d.ct[:0], hdr, d.ct)
	}
	if err != nil {
		if errors.Is(err, keys.ErrAuthentication) {
			k.setStatus(KeysFailed)
		}
		// The direction's record numbers are lost: stop opening it.
		k.open[role] = nil
		return false
	}
	if z := k.inflate[role]; z != nil {
		if pt, err = z.record(pt); err != nil {
			k.setStatus(KeysFailed)
			k.open[role] = nil
			return false
		}
	}
	c.emitOpened(d, ts, ContentType(typ), pt, len(pt))
	return true
}

// inflater undoes TLS DEFLATE compression (RFC 3749) of one direction:
// one zlib stream over the records, each ending on a sync flush, so each
// record is inflated on its own with the stream's last 32 KiB as the
// dictionary.
type inflater struct {
	started bool
	window  []byte
	out     []byte
}

// maxPlaintext bounds a record's inflated content (RFC 5246 6.2.2 allows
// 2^14 bytes, and 1024 more of expansion on the way in).
const maxPlaintext = 1<<14 + 1024

func (z *inflater) record(p []byte) ([]byte, error) {
	if !z.started {
		// The zlib header (RFC 1950): CMF, FLG; no preset dictionary.
		if len(p) < 2 || p[0]&0x0f != 8 || (uint16(p[0])<<8|uint16(p[1]))%31 != 0 || p[1]&0x20 != 0 {
			return nil, errors.New("dissect: compressed record: bad zlib header")
		}
		p = p[2:]
		z.started = true
	}
	r := flate.NewReaderDict(bytes.NewReader(p), z.window)
	z.out = z.out[:0]
	var buf [4096]byte
	for len(z.out) <= maxPlaintext {
		n, err := r.Read(buf[:])
		z.out = append(z.out, buf[:n]...)
		if err != nil {
			// The record ends on a sync flush, not the stream's end: the
			// reader runs out of input there.
			if !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
				return nil, fmt.Errorf("dissect: compressed record: %w", err)
			}
			break
		}
	}
	if len(z.out) > maxPlaintext {
		return nil, errors.New("dissect: compressed record inflates past 2^14+1024 bytes")
	}
	z.window = append(z.window, z.out...)
	if over := len(z.window) - 32<<10; over > 0 {
		z.window = append(z.window[:0], z.window[over:]...)
	}
	return z.out, nil
}

// peekable reports whether a side's application_data records are past
// the handshake, so that one may be peeked at rather than opened: not in
// a compressed stream, which needs every byte, nor under a stream cipher,
// whose keystream runs over every byte and cannot be set back.
func (c *Conn) peekable(role packet.Dir) bool {
	k := &c.keys
	if k.inflate[role] != nil || k.stream {
		return false
	}
	if !c.tls13 {
		return true
	}
	return k.next13[role] == nil && k.open[role] != k.early
}

// emitOpened emits the content of an opened record of inner type typ.
func (c *Conn) emitOpened(d *half, ts time.Time, typ ContentType, pt []byte, n int) {
	k := &c.keys
	k.decrypting = true
	defer func() { k.decrypting = false }()
	switch typ {
	case ContentHandshake:
		c.handshakeBytes(d, ts, pt)
	case ContentAlert:
		ev := c.event(d, ts, MsgAlert, n, false)
		if a, err := ParseAlert(pt); err == nil {
			ev.Alert = a
		}
		c.emit(ev)
	case ContentApplicationData:
		c.emit(c.event(d, ts, MsgApplicationData, n, false))
	case ContentHeartbeat:
		ev := c.event(d, ts, MsgHeartbeat, n, false)
		if hb, err := heartbeatFrom(pt, n); err == nil {
			ev.Heartbeat = hb
		}
		c.emit(ev)
	case ContentChangeCipherSpec:
		c.emit(c.event(d, ts, MsgChangeCipherSpec, n, false))
	default:
		c.emit(c.event(d, ts, MsgUnknownRecord, n, false))
	}
}

// keysAfterMessage moves a side to its next keys after the handshake
// message that ends the current ones (RFC 8446 7.2, 4.5). In TLS 1.0-1.2
// it remembers the sessions tickets name, and settles a tentative ticket
// resumption. nst is the message parsed when it is a NewSessionTicket.
func (c *Conn) keysAfterMessage(role packet.Dir, typ HandshakeType, nst *NewSessionTicket) {
	k := &c.keys
	if !c.tls13 && role == packet.FromServer {
		switch typ {
		case TypeCertificate, TypeServerKeyExchange, TypeCertificateRequest, TypeServerHelloDone:
			if k.tentative {
				k.dropTentative()
			}
		case TypeNewSessionTicket:
			if nst != nil && k.master != nil && k.lookup != nil {
				k.lookup.RememberSession(keys.SessionByTicket, nst.Ticket, k.master)
			}
		}
	}
	if !k.decrypting || !c.tls13 {
		return
	}
	switch typ {
	case TypeFinished:
		if n := k.next13[role]; n != nil {
			k.open[role] = n
			k.next13[role] = nil
		}
	case TypeEndOfEarlyData:
		if role == packet.FromClient && k.handshake != nil {
			k.open[0] = k.handshake
			k.early = nil
		}
	case TypeKeyUpdate:
		if o, ok := k.open[role].(*keys.TLS13Opener); ok && k.next13[role] == nil {
			if err := o.KeyUpdate(); err != nil {
				k.open[role] = nil
			}
		}
	}
}
