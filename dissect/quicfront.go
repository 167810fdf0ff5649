package dissect

import (
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/quic"
	"github.com/tlsdissect/tlsdissect/packet"
)

// QUICFacts is what a QUIC connection's packets told beyond its TLS
// handshake. The slices are owned by the State.
type QUICFacts struct {
	Version quic.Version // of the last long header; the one in use
	// ClientCID and ServerCID are the Source Connection IDs each side
	// chose; OriginalDCID the client's first Destination Connection ID,
	// from which the Initial keys come (RFC 9001 5.2).
	ClientCID, ServerCID, OriginalDCID []byte
	Retry                              bool           // the server sent a Retry (address validation)
	VersionNegotiation                 []quic.Version // the versions a Version Negotiation offered
	Packets                            [2]int         // QUIC packets per direction (coalesced ones counted apart)
	// Close is the first CONNECTION_CLOSE that could be read.
	Close *QUICClose
	// ClientTransportParameters are the client's quic_transport_parameters
	// (RFC 9000 18), decoded; the server's travel in EncryptedExtensions.
	ClientTransportParameters []quic.TransportParameter
	ServerTransportParameters []quic.TransportParameter
}

// QUICClose is a CONNECTION_CLOSE frame (RFC 9000 19.19).
type QUICClose struct {
	From      packet.Dir
	Timestamp time.Time
	// Application is a close of type 0x1d: the code is the application's
	// (HTTP/3's, say), not QUIC's.
	Application bool
	ErrorCode   uint64
	FrameType   uint64 // the frame that triggered a transport error, 0 if unknown
	Reason      string // the reason phrase, as sent (escaped on output)
	// TLSAlert: the code is a CRYPTO_ERROR (0x0100 + a TLS alert, RFC
	// 9001 4.8); Alert is that alert.
	TLSAlert bool
	Alert    AlertDescription
}

// maxReason caps the reason phrase kept from a CONNECTION_CLOSE.
const maxReason = 256

// quicFront is the QUIC layer of a datagram Conn: the quic.Conn finds
// packets and CRYPTO bytes, the front end turns them into the Conn's
// handshake messages and record-level events.
type quicFront struct {
	c  *Conn
	qc *quic.Conn
	ts time.Time // capture time of the packet being reported
	// levels joins the CRYPTO streams of the Handshake and 1-RTT levels
	// per direction; the Initial level joins in the Conn's own halves.
	levels [2][2]*half
	// hsPackets counts a direction's Handshake packets seen only as
	// ciphertext: the server's are its encrypted flight, the client's
	// first is its Finished.
	hsPackets [2]int
	dir       packet.Dir // of the datagram being read, for anomalies
	early     bool       // the 0-RTT secret was installed
	secrets   bool       // the handshake and application secrets were installed
}

func newQUICFront(c *Conn, cfg Config) *quicFront {
	f := &quicFront{c: c}
	f.qc = quic.NewConn(f, quic.Config{CryptoBuffer: cfg.MaxHandshake, MaxCryptoBytes: 4 * cfg.MaxHandshake,
		NoKeys: cfg.Keys == nil}) // without a key log nothing waits for keys
	c.st.QUIC = &QUICFacts{}
	// Handshake bytes come in messages, never records: the halves only
	// join messages (End reports one left unfinished).
	c.h[0].mode, c.h[1].mode = modeRecords, modeRecords
	return f
}

// half returns the joiner of one direction's CRYPTO stream at level.
func (f *quicFront) half(dir packet.Dir, level quic.Level) *half {
	i := -1
	switch level {
	case quic.LevelHandshake:
		i = 0
	case quic.Level1RTT:
		i = 1
	}
	if i < 0 {
		return &f.c.h[dir] // Initial (0-RTT carries no CRYPTO frames)
	}
	h := f.levels[dir][i]
	if h == nil {
		h = &half{wire: dir, mode: modeRecords}
		f.levels[dir][i] = h
	}
	return h
}

// Packet implements quic.Sink.
func (f *quicFront) Packet(dir packet.Dir, p *quic.PacketInfo) {
	c, q := f.c, f.c.st.QUIC
	f.ts = p.Time
	q.Packets[dir]++
	if p.Version != 0 && p.Type != quic.PacketVersionNegotiation {
		q.Version = p.Version
	}
	d := &c.h[dir]
	switch p.Type {
	case quic.PacketRetry:
		q.Retry = true
		c.emit(c.event(d, p.Time, MsgRetry, p.Size, false))
		return
	case quic.PacketVersionNegotiation:
		q.VersionNegotiation = append(q.VersionNegotiation[:0], f.qc.NegotiationVersions()...)
		c.emit(c.event(d, p.Time, MsgVersionNegotiation, p.Size, false))
		return
	}
	if p.Restart {
		// After a Retry or a Version Negotiation the client starts its
		// Initial CRYPTO stream again: a new ClientHello follows.
		for i := range c.h {
			c.h[i].hs = c.h[i].hs[:0]
			c.h[i].hsSkip = 0
		}
	}
	switch p.Type {
	case quic.PacketHandshake:
		if p.Decrypted || p.Pending && c.keys.have {
			return // its CRYPTO frames tell what it holds
		}
		f.hsPackets[dir]++
		if c.role(dir) == packet.FromServer {
			if f.hsPackets[dir] <= maxServerFlightRecords && f.hsPackets[dir^1] == 0 {
				c.emit(c.event(d, p.Time, MsgEncryptedHandshake, p.Size, true))
			}
			return
		}
		if f.hsPackets[dir] == 1 && c.shDone {
			c.clientFinished = true
			c.emit(c.event(d, p.Time, HandshakeMsg(TypeFinished), p.Size, true))
		}
	case quic.Packet0RTT, quic.Packet1RTT:
		ev := c.event(d, p.Time, MsgApplicationData, p.Size, false)
		ev.Decrypted = p.Decrypted
		c.emit(ev)
	}
}

// Crypto implements quic.Sink: the next bytes of a CRYPTO stream are
// handshake messages as TLS over TCP carries them in records.
func (f *quicFront) Crypto(dir packet.Dir, level quic.Level, data []byte) {
	c := f.c
	k := &c.keys
	k.decrypting = level != quic.LevelInitial
	c.handshakeBytes(f.half(dir, level), f.ts, data)
	k.decrypting = false
	f.installSecrets()
}

// installSecrets gives the quic.Conn the key log's traffic secrets once
// the hellos have said which suite protects them (RFC 9001 5.1: QUIC
// keys come from the TLS secrets of the same names).
func (f *quicFront) installSecrets() {
	c := f.c
	k := &c.keys
	if !k.have {
		if k.status == KeysMissing {
			f.qc.NoMoreKeys() // the log has nothing for this ClientHello
		}
		return
	}
	set := func(dir packet.Dir, level quic.Level, suite CipherSuite, secret []byte) {
		if len(secret) == 0 {
			return
		}
		if err := f.qc.SetTrafficSecret(dir, level, quic.Suite(suite), secret); err != nil {
			k.setStatus(KeysFailed)
		}
	}
	if !f.early && c.st.ClientHello != nil && c.st.ClientHello.EarlyData {
		f.early = true
		for _, s := range c.st.ClientHello.CipherSuites {
			if s>>8 == 0x13 { // the PSK's suite: the first TLS 1.3 one offered, as a rule
				set(packet.FromClient, quic.Level0RTT, CipherSuite(s), k.sec.ClientEarlyTraffic)
				break
			}
		}
	}
	if f.secrets || !c.shDone {
		return
	}
	f.secrets = true
	suite := c.cipherSuite
	client, server := packet.FromClient, packet.FromServer
	if c.swapped {
		client, server = server, client
	}
	set(client, quic.LevelHandshake, suite, k.sec.ClientHandshakeTraffic)
	set(server, quic.LevelHandshake, suite, k.sec.ServerHandshakeTraffic)
	set(client, quic.Level1RTT, suite, k.sec.ClientTraffic0)
	set(server, quic.Level1RTT, suite, k.sec.ServerTraffic0)
}

// ConnectionClose implements quic.Sink. A CRYPTO_ERROR carries the TLS
// alert that ended the handshake: it becomes that alert, as if it had come
// in a record.
func (f *quicFront) ConnectionClose(dir packet.Dir, level quic.Level, fr *quic.Frame) {
	c, q := f.c, f.c.st.QUIC
	d := &c.h[dir]
	cl := &QUICClose{
		From: c.role(dir), Timestamp: f.ts, Application: fr.Type == quic.FrameConnectionCloseApp,
		ErrorCode: fr.ErrorCode, FrameType: fr.FrameType,
	}
	r := fr.Reason
	if len(r) > maxReason {
		r = r[:maxReason]
	}
	cl.Reason = string(r)
	if a, ok := fr.TLSAlert(); ok {
		cl.TLSAlert, cl.Alert = true, AlertDescription(a)
	}
	if q.Close == nil {
		q.Close = cl
	}
	k := &c.keys
	k.decrypting = level != quic.LevelInitial
	defer func() { k.decrypting = false }()
	c.emit(c.event(d, f.ts, MsgConnectionClose, len(fr.Reason), false))
	if cl.TLSAlert {
		ev := c.event(d, f.ts, MsgAlert, 2, false)
		ev.Alert = &Alert{Level: AlertFatal, Description: cl.Alert}
		c.emit(ev)
	}
}

// Anomaly implements quic.Sink.
func (f *quicFront) Anomaly(kind quic.AnomalyKind, detail string) {
	c := f.c
	if kind == quic.AnomalyDecryptFailed && f.secrets {
		c.keys.setStatus(KeysFailed)
	}
	c.anomaly(&c.h[f.dir], f.ts, kind.String(), 0, detail)
}

// end takes the last facts from the quic.Conn.
func (f *quicFront) end() {
	q := f.c.st.QUIC
	q.ClientCID = append(q.ClientCID[:0], f.qc.ConnID(packet.FromClient)...)
	q.ServerCID = append(q.ServerCID[:0], f.qc.ConnID(packet.FromServer)...)
	q.OriginalDCID = append(q.OriginalDCID[:0], f.qc.OriginalDCID()...)
	for dir, lv := range f.levels {
		for _, h := range lv {
			if h != nil && len(h.hs) > 0 {
				f.c.anomaly(&f.c.h[dir], f.ts, AnomalyTruncated, len(h.hs), "connection ended inside a "+HandshakeType(h.hs[0]).String()+" message of "+strconv.Itoa(len(h.hs))+" bytes so far")
			}
		}
	}
}

// transportParameters decodes the quic_transport_parameters of a hello or
// EncryptedExtensions (or of the drafts' codepoint).
func transportParameters(exts []Extension) []quic.TransportParameter {
	for _, e := range exts {
		if e.Type == quic.ExtQUICTransportParameters || e.Type == quic.ExtQUICTransportParametersDraft {
			tp, _ := quic.ParseTransportParameters(e.Data)
			return tp
		}
	}
	return nil
}
