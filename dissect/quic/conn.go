package quic

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// AnomalyKind names something wrong or unusual in a QUIC flow. The names
// go into the record's anomalies list.
type AnomalyKind uint8

const (
	AnomalyMalformedPacket    AnomalyKind = iota + 1 // a header that does not parse
	AnomalyUnsupportedVersion                        // a long header of a version without known keys
	AnomalyMidstream                                 // packets before any client Initial: no Initial keys
	AnomalyDecryptFailed                             // an AEAD tag did not verify
	AnomalyDecryptLimit                              // too many failures: decryption given up
	AnomalyPacketLimit                               // Config.MaxPackets reached: the rest is not parsed
	AnomalyMalformedFrame                            // a frame that does not parse
	AnomalyUnknownFrame                              // a frame type unknown: the rest of the packet skipped
	AnomalyFrameNotAllowed                           // a frame type not permitted at its level (RFC 9000 12.4)
	AnomalyCryptoOverflow                            // a CRYPTO frame beyond the buffer
	AnomalyCryptoConflict                            // CRYPTO bytes that differ from bytes already received
	AnomalyCryptoLimit                               // Config.MaxCryptoBytes reached
	AnomalyRetryIntegrity                            // a Retry whose integrity tag does not verify
	AnomalyReservedBits                              // reserved header bits not zero after unprotection
	AnomalyCoalescedDCID                             // a coalesced packet with another DCID (RFC 9000 12.2)
	AnomalyTrailingBytes                             // bytes after the last packet that are not zero padding
	AnomalyEmptyPayload                              // a packet without frames
	AnomalyPendingDropped                            // a packet waiting for keys dropped: the queue was full
	AnomalyUnexpectedPacket                          // a packet type the sender must not send (Retry from a client)
)

func (k AnomalyKind) String() string {
	switch k {
	case AnomalyMalformedPacket:
		return "quic_malformed_packet"
	case AnomalyUnsupportedVersion:
		return "quic_unsupported_version"
	case AnomalyMidstream:
		return "quic_midstream"
	case AnomalyDecryptFailed:
		return "quic_decrypt_failed"
	case AnomalyDecryptLimit:
		return "quic_decrypt_limit"
	case AnomalyPacketLimit:
		return "quic_packet_limit"
	case AnomalyMalformedFrame:
		return "quic_malformed_frame"
	case AnomalyUnknownFrame:
		return "quic_unknown_frame"
	case AnomalyFrameNotAllowed:
		return "quic_frame_not_allowed"
	case AnomalyCryptoOverflow:
		return "quic_crypto_overflow"
	case AnomalyCryptoConflict:
		return "quic_crypto_conflict"
	case AnomalyCryptoLimit:
		return "quic_crypto_limit"
	case AnomalyRetryIntegrity:
		return "quic_retry_integrity"
	case AnomalyReservedBits:
		return "quic_reserved_bits"
	case AnomalyCoalescedDCID:
		return "quic_coalesced_dcid"
	case AnomalyTrailingBytes:
		return "quic_trailing_bytes"
	case AnomalyEmptyPayload:
		return "quic_empty_payload"
	case AnomalyPendingDropped:
		return "quic_pending_dropped"
	case AnomalyUnexpectedPacket:
		return "quic_unexpected_packet"
	}
	return "quic_anomaly(" + strconv.Itoa(int(k)) + ")"
}

// PacketInfo summarises one packet for Sink.Packet. Its slices alias the
// datagram and are valid only during the call.
type PacketInfo struct {
	Time    time.Time
	Type    PacketType
	Level   Level
	Version Version
	Size    int // bytes of this packet in its datagram
	DCID    []byte
	SCID    []byte
	// Decrypted says the payload was opened; PN is then its packet number.
	Decrypted bool
	PN        uint64
	// Pending says there were no keys for the packet yet: it is kept and
	// its frames are reported if SetTrafficSecret installs them (no second
	// Packet call is made).
	Pending bool
	// Restart marks the client's first Initial after a Retry or a
	// Version Negotiation: the Initial CRYPTO streams of both directions
	// start again at offset 0 with this packet (a new ClientHello follows).
	Restart bool
}

// Sink receives what a Conn finds, synchronously, in wire order. Byte
// slices are valid only during the call. A Sink may call
// Conn.SetTrafficSecret (typically from Crypto, once the ServerHello has
// told the cipher suite); it must not call Conn.Datagram.
type Sink interface {
	// Packet is called for each packet, before its frames.
	Packet(dir packet.Dir, p *PacketInfo)
	// Crypto delivers the next bytes of the CRYPTO stream of one level
	// and direction: TLS handshake messages, contiguous and in order. After
	// a Packet with Restart set the Initial streams start again at offset
	// 0: the client sends a new ClientHello.
	Crypto(dir packet.Dir, level Level, data []byte)
	// ConnectionClose reports a CONNECTION_CLOSE frame (types 0x1c and
	// 0x1d); f.TLSAlert tells a TLS alert carried as a CRYPTO_ERROR.
	ConnectionClose(dir packet.Dir, level Level, f *Frame)
	// Anomaly reports something wrong or unusual; detail is for people.
	Anomaly(kind AnomalyKind, detail string)
}

// Config bounds what one Conn spends. Zero fields take the defaults.
type Config struct {
	// CryptoBuffer is how far ahead of its delivered prefix each CRYPTO
	// stream buffers (DefaultCryptoBuffer).
	CryptoBuffer int
	// MaxCryptoBytes caps the bytes delivered per level and direction
	// (1 MiB): a handshake is some kilobytes.
	MaxCryptoBytes int
	// MaxPackets caps the packets parsed; later datagrams are only
	// counted (65536).
	MaxPackets int
	// MaxDecryptFailures is how many AEAD failures end all decryption
	// attempts on the flow (16).
	MaxDecryptFailures int
	// MaxPending caps the packets kept while waiting for keys (32), and
	// MaxPendingBytes their bytes (64 KiB).
	MaxPending      int
	MaxPendingBytes int
	// NoKeys says no traffic secret will be given (no key log): a packet
	// without keys is not kept, and costs nothing.
	NoKeys bool
}

func (cfg Config) withDefaults() Config {
	if cfg.CryptoBuffer <= 0 {
		cfg.CryptoBuffer = DefaultCryptoBuffer
	}
	if cfg.MaxCryptoBytes <= 0 {
		cfg.MaxCryptoBytes = 1 << 20
	}
	if cfg.MaxPackets <= 0 {
		cfg.MaxPackets = 1 << 16
	}
	if cfg.MaxDecryptFailures <= 0 {
		cfg.MaxDecryptFailures = 16
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 32
	}
	if cfg.MaxPendingBytes <= 0 {
		cfg.MaxPendingBytes = 64 << 10
	}
	return cfg
}

// Stats counts what a Conn saw.
type Stats struct {
	Datagrams, Packets uint64
	Decrypted          uint64
	Undecrypted        uint64 // no keys (after waiting, or never)
	DecryptFailures    uint64
	Skipped            uint64 // datagrams past MaxPackets
	CryptoBytes        [2][numLevels]uint64
}

// initialKeys caches the Initial keys of one connection ID and version.
type initialKeys struct {
	v   Version
	cid []byte
	k   [2]*Keys
}

func (ik *initialKeys) get(v Version, cid []byte, dir packet.Dir) *Keys {
	if ik.k[dir] == nil || ik.v != v || !bytes.Equal(ik.cid, cid) {
		ck, sk, err := InitialKeys(v, cid)
		if err != nil {
			return nil
		}
		ik.k, ik.v, ik.cid = [2]*Keys{ck, sk}, v, append(ik.cid[:0], cid...)
	}
	return ik.k[dir]
}

type pendingPkt struct {
	dir  packet.Dir
	ts   time.Time
	data []byte // owned copy
}

// Conn follows one QUIC connection seen from the middle: fed every UDP
// datagram of the flow in capture order with its direction, it derives the
// Initial keys from the client's first Destination Connection ID, follows
// Retry and Version Negotiation, learns the connection IDs both sides
// chose, decrypts what it has keys for, and reports packets, CRYPTO
// stream bytes, CONNECTION_CLOSE frames and anomalies to its Sink.
//
// A Conn is not safe for concurrent use.
type Conn struct {
	cfg  Config
	sink Sink

	version  Version // of the latest Initial or Handshake packet
	odcid    []byte  // DCID of the client's first Initial
	keyCID   []byte  // what Initial keys derive from: odcid, or a Retry's SCID
	cid      [2][]byte
	retried  bool
	retry    []byte // SCID of the Retry
	token    []byte // Retry token
	vn       []Version
	midstrm  bool
	retryBad bool

	initial    initialKeys // for keyCID
	preRetry   initialKeys // for prevCID
	prevCID    []byte      // the DCID before a Retry
	restartDue bool        // a Retry or VN was seen; the client's next Initial restarts
	restarted  bool        // ...and it has: packets with prevCID are stale
	stale      bool        // the packet being handled is from before the restart
	keys       [2][numLevels]*Keys
	next1RTT   [2]*Keys
	phase      [2]byte
	largest    [2][3]int64
	streams    [2][numLevels]*CryptoStream

	failures  int
	noDecrypt bool
	limited   bool
	cryptoCap [2][numLevels]bool

	pending      []pendingPkt
	pendingBytes int
	busy         bool
	newKeys      bool

	scratch, plain []byte
	// The CRYPTO frame being delivered, so that deliver is one method
	// value made once rather than a closure per frame.
	curDir   packet.Dir
	curLevel Level
	deliver  func([]byte)
	onFrame  func(*Frame) error
	flagged  bool
	frameBuf Frame
	info     PacketInfo // handed to Sink.Packet; reused

	stats Stats
}

// NewConn returns a Conn reporting to sink.
func NewConn(sink Sink, cfg Config) *Conn {
	c := &Conn{cfg: cfg.withDefaults(), sink: sink}
	for d := range c.largest {
		for s := range c.largest[d] {
			c.largest[d][s] = -1
		}
	}
	c.deliver = c.deliverCrypto
	c.onFrame = c.frame
	return c
}

// Version returns the version of the latest Initial or Handshake packet:
// the negotiated one once the server has answered. Zero before any.
func (c *Conn) Version() Version { return c.version }

// OriginalDCID returns the Destination Connection ID of the client's first
// Initial (nil before one was seen). Do not modify it.
func (c *Conn) OriginalDCID() []byte { return c.odcid }

// ConnID returns the connection ID the given side chose, its Source
// Connection ID (nil until seen). Do not modify it.
func (c *Conn) ConnID(side packet.Dir) []byte { return c.cid[side] }

// Retry returns the Source Connection ID and token of the server's Retry,
// if there was one.
func (c *Conn) Retry() (scid, token []byte, ok bool) { return c.retry, c.token, c.retried }

// NegotiationVersions returns the versions of a Version Negotiation
// packet, nil if none was seen.
func (c *Conn) NegotiationVersions() []Version { return c.vn }

// Stats returns the counters so far.
func (c *Conn) Stats() Stats { return c.stats }

// ErrLevel says keys were offered for a level that has none to install
// (Initial keys are derived, not given).
var ErrLevel = errors.New("quic: no traffic secret for this level")

// SetTrafficSecret installs the keys of one direction and level from a TLS
// traffic secret, as a key log names them: CLIENT_EARLY_TRAFFIC_SECRET
// (client, Level0RTT), CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET
// (LevelHandshake), CLIENT/SERVER_TRAFFIC_SECRET_0 (Level1RTT). suite is
// the ServerHello's cipher suite. Packets that waited for these keys are
// processed now, or, when called from a Sink callback, once the current
// datagram is done. The secret is copied.
func (c *Conn) SetTrafficSecret(dir packet.Dir, level Level, suite Suite, secret []byte) error {
	if level == LevelInitial || level >= numLevels || dir > packet.FromServer ||
		(level == Level0RTT && dir != packet.FromClient) {
		return ErrLevel
	}
	v := c.version
	if v == 0 {
		v = Version1
	}
	k, err := NewKeys(v, suite, secret)
	if err != nil {
		return err
	}
	c.keys[dir][level] = k
	if level == Level1RTT {
		c.next1RTT[dir], c.phase[dir] = nil, 0
	}
	c.newKeys = true
	if !c.busy {
		c.busy = true
		c.drain()
		c.busy = false
	}
	return nil
}

// Datagram processes one UDP datagram of the flow. The payload is owned by
// the caller and is not modified or kept.
func (c *Conn) Datagram(dir packet.Dir, ts time.Time, payload []byte) {
	dir &= 1
	c.stats.Datagrams++
	if c.stats.Packets >= uint64(c.cfg.MaxPackets) {
		c.stats.Skipped++
		if !c.limited {
			c.limited = true
			c.sink.Anomaly(AnomalyPacketLimit, "stopped parsing after "+strconv.Itoa(c.cfg.MaxPackets)+" packets")
		}
		return
	}
	c.busy = true
	c.datagram(dir, ts, payload, false)
	c.drain()
	c.busy = false
}

func (c *Conn) datagram(dir packet.Dir, ts time.Time, b []byte, replay bool) {
	var firstDCID []byte
	for first := true; len(b) > 0; first = false {
		if !first && allZero(b) {
			return // padding after the last packet (RFC 9000 12.2 allows it)
		}
		// Peers that negotiated grease_quic_bit (RFC 9287) clear the fixed
		// bit at random. A long header names its version, and a short one
		// with a connection ID must carry the first packet's, which
		// garbage does not; a short header without one has nothing but
		// the fixed bit to show it is not garbage.
		h, err := ParsePacket(b, len(c.cid[dir.Reverse()]))
		if err == nil && !first && !h.FixedBit() && h.Type == Packet1RTT && (len(h.DCID) == 0 || !bytes.Equal(h.DCID, firstDCID)) {
			err = &ParseError{Msg: h.Type.String(), Field: "fixed_bit", Err: ErrMalformed}
		}
		if err != nil {
			if isUnsupported(err) {
				c.stats.Packets++
				c.sink.Packet(dir, &PacketInfo{Time: ts, Type: PacketUnknown, Version: h.Version, Size: len(b), DCID: h.DCID, SCID: h.SCID})
				c.sink.Anomaly(AnomalyUnsupportedVersion, "version "+h.Version.String())
			} else if first {
				c.sink.Anomaly(AnomalyMalformedPacket, err.Error())
			} else {
				c.sink.Anomaly(AnomalyTrailingBytes, strconv.Itoa(len(b))+" bytes after the last packet: "+err.Error())
			}
			return
		}
		pkt := b[:h.Len]
		b = b[h.Len:]
		if first {
			firstDCID = h.DCID
		} else if !bytes.Equal(h.DCID, firstDCID) {
			c.sink.Anomaly(AnomalyCoalescedDCID, "coalesced "+h.Type.String()+" packet with another destination connection id")
			continue
		}
		c.stats.Packets++
		c.packet(dir, ts, &h, pkt, replay)
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func (c *Conn) packet(dir packet.Dir, ts time.Time, h *Header, pkt []byte, replay bool) {
	c.info = PacketInfo{Time: ts, Type: h.Type, Level: h.Type.Level(), Version: h.Version, Size: len(pkt), DCID: h.DCID, SCID: h.SCID}
	info := &c.info
	switch h.Type {
	case PacketVersionNegotiation:
		c.sink.Packet(dir, info)
		if dir != packet.FromServer {
			c.sink.Anomaly(AnomalyUnexpectedPacket, "version negotiation from the client")
			return
		}
		c.vn = h.SupportedVersions()
		// The client starts over, perhaps with another DCID.
		c.keyCID, c.odcid, c.prevCID = nil, nil, nil
		c.restartDue = true
		return
	case PacketRetry:
		c.sink.Packet(dir, info)
		c.onRetry(dir, h, pkt)
		return
	}
	c.stale = false
	if h.Long {
		c.learn(dir, h)
	}
	if c.restartDue && dir == packet.FromClient && h.Type == PacketInitial && bytes.Equal(h.DCID, c.keyCID) {
		c.restartDue, c.restarted = false, true
		info.Restart = true
		for d := range c.streams {
			if s := c.streams[d][LevelInitial]; s != nil {
				s.Reset()
			}
			c.cryptoCap[d][LevelInitial] = false
		}
	}
	level := info.Level
	k := c.keysFor(dir, h)
	if k == nil {
		if !replay && level != LevelInitial && !c.noDecrypt && c.queue(dir, ts, pkt) {
			info.Pending = true
		} else {
			c.stats.Undecrypted++
		}
		c.sink.Packet(dir, info)
		return
	}
	payload, pn, ok := c.open(dir, level, k, h, pkt)
	if ok {
		info.Decrypted, info.PN = true, pn
	}
	if !replay {
		c.sink.Packet(dir, info)
	}
	if ok {
		c.frames(dir, level, payload)
	}
}

// learn notes the version and connection IDs of a long header.
func (c *Conn) learn(dir packet.Dir, h *Header) {
	if h.Type == PacketInitial || h.Type == PacketHandshake {
		c.version = h.Version
	}
	if !bytes.Equal(c.cid[dir], h.SCID) {
		c.cid[dir] = append(c.cid[dir][:0], h.SCID...)
	}
	if dir == packet.FromClient && h.Type == PacketInitial && c.keyCID == nil {
		c.odcid = append([]byte(nil), h.DCID...)
		c.keyCID = c.odcid
	}
}

func (c *Conn) onRetry(dir packet.Dir, h *Header, pkt []byte) {
	if dir != packet.FromServer {
		c.sink.Anomaly(AnomalyUnexpectedPacket, "retry from the client")
		return
	}
	if c.retried {
		// RFC 9000 17.2.5.2: a client accepts one Retry at most, the
		// first. A server answers each Initial of a ClientHello that
		// spans several with a Retry (quic-go with a new connection ID
		// each time): later ones are normal and ignored.
		return
	}
	if c.odcid != nil {
		if ok, checked := VerifyRetry(h.Version, c.odcid, pkt); checked && !ok {
			c.sink.Anomaly(AnomalyRetryIntegrity, "retry integrity tag does not verify")
			return
		}
	}
	c.retried = true
	c.retry = append([]byte(nil), h.SCID...)
	c.token = append([]byte(nil), h.Token...)
	// Initials the client sent before it saw the Retry may follow in the
	// capture: they keep the old DCID and its keys.
	c.prevCID = c.keyCID
	c.keyCID = c.retry
	c.cid[packet.FromServer] = append(c.cid[packet.FromServer][:0], h.SCID...)
	c.restartDue = true
}

// keysFor returns the keys of a packet's level and direction, nil when
// there are none (yet).
func (c *Conn) keysFor(dir packet.Dir, h *Header) *Keys {
	switch h.Type {
	case PacketInitial:
		if c.keyCID == nil {
			if !c.midstrm {
				c.midstrm = true
				c.sink.Anomaly(AnomalyMidstream, "initial packets before the client's first initial: no keys")
			}
			return nil
		}
		if dir == packet.FromClient && c.prevCID != nil && bytes.Equal(h.DCID, c.prevCID) && !bytes.Equal(h.DCID, c.keyCID) {
			// Sent before the client saw the Retry. Once the new
			// ClientHello has begun, its CRYPTO belongs to no stream.
			c.stale = c.restarted
			return c.preRetry.get(h.Version, c.prevCID, dir)
		}
		// Keys follow the packet's version: compatible version
		// negotiation (RFC 9368) switches the server's Initials to
		// another version's keys, same DCID.
		return c.initial.get(h.Version, c.keyCID, dir)
	case Packet0RTT:
		if dir != packet.FromClient {
			return nil
		}
		return c.keys[dir][Level0RTT]
	case PacketHandshake:
		return c.keys[dir][LevelHandshake]
	case Packet1RTT:
		return c.keys[dir][Level1RTT]
	}
	return nil
}

// open removes packet protection from a copy of pkt; the plaintext lives
// in c.plain until the next packet.
func (c *Conn) open(dir packet.Dir, level Level, k *Keys, h *Header, pkt []byte) ([]byte, uint64, bool) {
	if c.noDecrypt {
		c.stats.Undecrypted++
		return nil, 0, false
	}
	c.scratch = append(c.scratch[:0], pkt...)
	s := c.scratch
	space := level.space()
	pn, hdrLen, err := k.Unprotect(s, h.PNOffset, h.Long, c.largest[dir][space])
	if err != nil {
		c.sink.Anomaly(AnomalyMalformedPacket, h.Type.String()+": "+err.Error())
		return nil, 0, false
	}
	plain, err := k.Decrypt(c.plain, s, hdrLen, pn)
	if level == Level1RTT && s[0]&0x04>>2 != c.phase[dir] {
		// A key update (RFC 9001 section 6): the other key phase is the
		// next generation of keys; the header protection key stays.
		if c.next1RTT[dir] == nil {
			c.next1RTT[dir], _ = k.NextGeneration()
		}
		if n := c.next1RTT[dir]; n != nil {
			if p2, err2 := n.Decrypt(c.plain, s, hdrLen, pn); err2 == nil {
				plain, err = p2, nil
				c.keys[dir][Level1RTT], c.next1RTT[dir] = n, nil
				c.phase[dir] ^= 1
			}
		}
	}
	if err != nil {
		c.stats.DecryptFailures++
		c.failures++
		c.sink.Anomaly(AnomalyDecryptFailed, dir.String()+" "+h.Type.String()+" packet "+strconv.FormatUint(pn, 10)+": "+err.Error())
		if c.failures >= c.cfg.MaxDecryptFailures {
			c.noDecrypt = true
			c.sink.Anomaly(AnomalyDecryptLimit, "gave up decrypting after "+strconv.Itoa(c.failures)+" failures")
		}
		return nil, 0, false
	}
	c.plain = plain[:0]
	c.stats.Decrypted++
	if int64(pn) > c.largest[dir][space] {
		c.largest[dir][space] = int64(pn)
	}
	reserved := byte(0x18)
	if h.Long {
		reserved = 0x0c
	}
	if s[0]&reserved != 0 {
		c.sink.Anomaly(AnomalyReservedBits, h.Type.String()+" packet "+strconv.FormatUint(pn, 10)+" has reserved bits set")
	}
	if len(plain) == 0 {
		c.sink.Anomaly(AnomalyEmptyPayload, h.Type.String()+" packet "+strconv.FormatUint(pn, 10)+" carries no frames")
	}
	return plain, pn, true
}

func (c *Conn) frames(dir packet.Dir, level Level, payload []byte) {
	c.curDir, c.curLevel, c.flagged = dir, level, false
	if err := parseFrames(payload, &c.frameBuf, c.onFrame); err != nil {
		kind := AnomalyMalformedFrame
		if errors.Is(err, ErrUnsupportedFrame) {
			kind = AnomalyUnknownFrame
		}
		c.sink.Anomaly(kind, level.String()+" packet: "+err.Error())
	}
}

// frame handles one frame of the packet c.curDir and c.curLevel name; a
// method value made once, so that parsing frames allocates nothing.
func (c *Conn) frame(f *Frame) error {
	dir, level := c.curDir, c.curLevel
	if (level == LevelInitial || level == LevelHandshake) && !f.Type.allowedEarly() && !c.flagged {
		c.flagged = true
		c.sink.Anomaly(AnomalyFrameNotAllowed, f.Type.String()+" frame in a "+level.String()+" packet")
	}
	switch f.Type {
	case FrameCrypto:
		if c.stale {
			return nil
		}
		if level == Level0RTT {
			c.sink.Anomaly(AnomalyFrameNotAllowed, "crypto frame in a 0rtt packet")
			return nil
		}
		c.crypto(dir, level, f)
		c.curDir, c.curLevel = dir, level
	case FrameConnectionClose, FrameConnectionCloseApp:
		c.sink.ConnectionClose(dir, level, f)
	}
	return nil
}

func (c *Conn) crypto(dir packet.Dir, level Level, f *Frame) {
	if c.cryptoCap[dir][level] {
		return
	}
	st := c.streams[dir][level]
	if st == nil {
		st = NewCryptoStream(c.cfg.CryptoBuffer)
		c.streams[dir][level] = st
	}
	c.curDir, c.curLevel = dir, level
	r, err := st.Add(f.Offset, f.Data, c.deliver)
	if err != nil {
		c.sink.Anomaly(AnomalyCryptoOverflow, dir.String()+" "+level.String()+" crypto frame at offset "+
			strconv.FormatUint(f.Offset, 10)+" ("+strconv.Itoa(len(f.Data))+" bytes): "+err.Error())
	}
	if r.Conflict {
		c.sink.Anomaly(AnomalyCryptoConflict, dir.String()+" "+level.String()+" crypto data differs from an earlier copy at offset "+strconv.FormatUint(f.Offset, 10))
	}
}

func (c *Conn) deliverCrypto(b []byte) {
	dir, level := c.curDir, c.curLevel
	if c.cryptoCap[dir][level] {
		return
	}
	room := uint64(c.cfg.MaxCryptoBytes) - c.stats.CryptoBytes[dir][level]
	if uint64(len(b)) >= room {
		b = b[:room]
		c.cryptoCap[dir][level] = true
		c.sink.Anomaly(AnomalyCryptoLimit, dir.String()+" "+level.String()+" crypto stream reached "+strconv.Itoa(c.cfg.MaxCryptoBytes)+" bytes")
	}
	c.stats.CryptoBytes[dir][level] += uint64(len(b))
	if len(b) > 0 {
		c.sink.Crypto(dir, level, b)
	}
}

// queue keeps a copy of a packet that has no keys yet.
func (c *Conn) queue(dir packet.Dir, ts time.Time, pkt []byte) bool {
	if c.cfg.NoKeys {
		return false
	}
	if len(c.pending) >= c.cfg.MaxPending || c.pendingBytes+len(pkt) > c.cfg.MaxPendingBytes {
		c.sink.Anomaly(AnomalyPendingDropped, "no room to keep a "+dir.String()+" packet until its keys are known")
		return false
	}
	c.pending = append(c.pending, pendingPkt{dir: dir, ts: ts, data: append([]byte(nil), pkt...)})
	c.pendingBytes += len(pkt)
	return true
}

// NoMoreKeys says no traffic secret will come after all (the key log has
// none for this connection): the packets kept for them are dropped, and no
// more are kept.
func (c *Conn) NoMoreKeys() {
	c.cfg.NoKeys = true
	for i := range c.pending {
		c.pending[i] = pendingPkt{}
	}
	c.pending, c.pendingBytes = nil, 0
}

// drain retries the packets waiting for keys, as long as keys keep
// arriving.
func (c *Conn) drain() {
	for c.newKeys && len(c.pending) > 0 {
		c.newKeys = false
		var keep []pendingPkt
		for i := 0; i < len(c.pending); i++ {
			p := c.pending[i]
			h, err := ParsePacket(p.data, len(c.cid[p.dir.Reverse()]))
			if err != nil || h.Len != len(p.data) {
				continue
			}
			if c.keysFor(p.dir, &h) == nil {
				keep = append(keep, p)
				continue
			}
			c.pendingBytes -= len(p.data)
			c.packet(p.dir, p.ts, &h, p.data, true)
		}
		// Keys installed during the replay may open packets kept again.
		c.pending = append(c.pending[:0], keep...)
		c.pendingBytes = 0
		for _, p := range c.pending {
			c.pendingBytes += len(p.data)
		}
	}
	c.newKeys = false
}
