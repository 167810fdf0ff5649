package dissect

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// This file is the connection's story as the state machine tells it: every
// Event the Conn emits is also taken into its State, which is final once
// End has returned. The State is the one place where a record's meaning is
// decided (a Finished inferred from its position, a short record taken for
// an encrypted alert, the handshake established or not); the layers above
// read it and never re-derive it.

// Caps on what one connection's State keeps, whatever the traffic.
const (
	MaxMessages = 1024
	MaxAlerts   = 64
	// MaxChain is the longest certificate chain kept: real chains are a
	// handful long; thousands are an attack on whoever summarises them.
	MaxChain = 16
)

// initialMessages is the capacity a State's message list starts with.
const initialMessages = 16

// Message is one entry of a connection's message sequence.
type Message struct {
	Timestamp time.Time
	From      packet.Dir
	Type      MsgType
	Length    int  // handshake: body length; records: record length
	Encrypted bool // seen only as ciphertext; Type is what it must be
	Decrypted bool // read from a record opened with the key log's secrets
	// Count and Bytes fold a run of application data in one direction:
	// Count records, Bytes in all. 1 and Length for other entries.
	Count int
	Bytes int
}

// AlertEvent is one alert as the state machine saw it.
type AlertEvent struct {
	Timestamp time.Time
	From      packet.Dir
	// Level and Description are those of a readable alert; zero (and not
	// meaningful) when Encrypted.
	Level       AlertLevel
	Description AlertDescription
	Encrypted   bool
	// Probable marks an alert inferred at the end of a TLS 1.3 connection
	// from the size of a direction's last encrypted record; no record said
	// it was an alert, so a diagnosis built on it is at most likely.
	Probable bool
	// SSLv2Error is the code of an SSL 2.0 ERROR message standing in for
	// an alert (1 no-cipher, 2 no-certificate, 4 bad-certificate, 6
	// unsupported-certificate-type); 0 for a TLS alert.
	SSLv2Error uint16
}

// EarlyData is what became of 0-RTT data (RFC 8446 4.2.10).
type EarlyData uint8

const (
	EarlyDataNone     EarlyData = iota // not offered
	EarlyDataOffered                   // offered; its fate cannot be told
	EarlyDataAccepted                  // an EndOfEarlyData followed
	EarlyDataRejected                  // HelloRetryRequest, or the first PSK was not accepted
)

func (e EarlyData) String() string {
	switch e {
	case EarlyDataOffered:
		return "offered"
	case EarlyDataAccepted:
		return "accepted"
	case EarlyDataRejected:
		return "rejected"
	}
	return ""
}

// Resumption says how an earlier session was resumed.
type Resumption uint8

const (
	ResumptionNone      Resumption = iota
	ResumptionSessionID            // an echoed session ID and an abbreviated handshake
	ResumptionTicket               // an RFC 5077 ticket and an abbreviated handshake
	ResumptionPSK                  // TLS 1.3: the server accepted a pre_shared_key
)

func (r Resumption) String() string {
	switch r {
	case ResumptionSessionID:
		return "session_id"
	case ResumptionTicket:
		return "ticket"
	case ResumptionPSK:
		return "psk"
	}
	return ""
}

// State is what the state machine knows of one connection. The Conn
// updates it as records arrive; it is final after End. Everything it
// points to is owned by it.
type State struct {
	// Keys says whether the key log opened this connection's records
	// (KeysNone without a key log).
	Keys KeyStatus
	// Transport is what carried the TLS; QUIC what a QUIC connection's
	// packets told (nil over TCP and DTLS).
	Transport Transport
	QUIC      *QUICFacts
	DTLS      *DTLSFacts // nil over TCP and QUIC
	// EncryptedExtensions is the server's, when it could be read.
	EncryptedExtensions *EncryptedExtensions
	// ClientHello is the first ClientHello (TLS or SSLv2-compatible);
	// ServerHello the first that is not a HelloRetryRequest.
	ClientHello       *ClientHello
	ServerHello       *ServerHello
	HelloRetryRequest bool
	// HelloRetryGroup is the key_share group the first HelloRetryRequest
	// asked for (0 when it asked for none: a cookie round only).
	HelloRetryGroup   NamedGroup
	ServerKeyExchange *ServerKeyExchange // the first

	// SSL 2.0 was negotiated (an SSLv2 SERVER-HELLO); SSLv2SessionIDHit is
	// its SESSION-ID-HIT, a resumed session.
	SSLv2             bool
	SSLv2SessionIDHit bool

	// ServerChain is the server's chain (DER, wire order, at most
	// MaxChain), ServerChainAt when it came. ServerCertificate: the server
	// sent a Certificate message in clear, parsed or not.
	ServerChain       [][]byte
	ServerChainAt     time.Time
	ServerCertificate bool
	// ClientChain is the client's chain; ClientCertificate: the client
	// sent a Certificate message in clear (ClientChainUnread: it did not
	// parse, and its contents are unknown).
	ClientChain        [][]byte
	ClientCertificate  bool
	ClientChainUnread  bool
	CertificateRequest bool // the server sent a CertificateRequest in clear
	ClientKeyExchange  bool // the client sent a ClientKeyExchange or its Finished

	Heartbleed bool // a heartbeat of the CVE-2014-0160 pattern was reported
	Malformed  bool // a record or handshake message did not parse (reported)

	ChangeCipherSpec [2]bool // per direction
	Finished         [2]bool // seen or inferred, per direction
	Established      bool    // both Finished, or application data both ways
	// Renegotiation lists the attempts to renegotiate after the first
	// handshake (at most MaxAlerts), in order; Renegotiations counts
	// those that happened (both sides changed cipher spec again).
	Renegotiation  []Renegotiation
	Renegotiations int

	// Messages is the message sequence; MessagesDropped counts those past
	// MaxMessages that were not kept.
	Messages        []Message
	MessagesDropped int
	// Alerts lists the alerts in order (at most MaxAlerts). Fatal is the
	// one that ended the handshake: the first fatal alert (or encrypted
	// one) before it completed; LastAlert the latest.
	Alerts    []AlertEvent
	Fatal     *AlertEvent
	LastAlert *AlertEvent

	// History is Zeek's ssl_history of the sequence (see historyLetter),
	// without the "^" of swapped roles.
	History []byte
	// LastFrom is the direction of the last record; LastAt the time of
	// the last record per direction; Records counts records per direction.
	LastFrom packet.Dir
	LastAt   [2]time.Time
	Records  [2]int
	// ServerAnswered: the server sent a record after the ClientHello.
	ServerAnswered bool

	// Bookkeeping of the inference.
	encAfter     [2]int // encrypted records after a direction's CCS / the 1.3 ServerHello
	appData      [2]bool
	eoedSeen     bool // an EndOfEarlyData was seen or inferred
	inReneg      bool // a burst of renegotiation handshake records (application data ends it)
	renegOpen    bool // the last Renegotiation is not yet done
	pendingHR    bool // a HelloRequest waits for its ClientHello
	sslv2At      [2]int
	clientFinMsg int  // TLS 1.3: index of the client's Finished-position record, -1 if none
	restart      bool // the server asked for the ClientHello again (cookie, Retry, Version Negotiation)
	probable     [2]*probableAlert
}

// Renegotiation is one attempt to renegotiate (RFC 5246 7.4.1.1, 7.4.1.2).
type Renegotiation struct {
	Timestamp time.Time
	// By is who asked: the server with a HelloRequest, the client with a
	// ClientHello. Under encryption it is the side of the first
	// encrypted handshake record after the first handshake.
	By packet.Dir
	// Done: it happened, both sides sent a ChangeCipherSpec after it
	// began. A refused one (a no_renegotiation alert, or no answer) is
	// not done.
	Done bool
	ccs  [2]bool
}

// probableAlert is a TLS 1.3 direction's last record, of the size of an
// encrypted alert: at End it becomes an alert.
type probableAlert struct {
	ts     time.Time
	len    int
	msg    int  // index in Messages of the record, -1 if not kept
	closed bool // its direction's FIN, or a reset, came after it
}

// TLS13 reports that the ServerHello chose TLS 1.3 or one of its drafts.
func (s *State) TLS13() bool { return s.ServerHello != nil && s.ServerHello.Version().IsTLS13() }

// SessionIDEchoed reports that the ServerHello of a TLS 1.2 or older
// handshake echoed the session ID the client offered: the server agreed to
// resume that session.
func (s *State) SessionIDEchoed() bool {
	sh := s.ServerHello
	return sh != nil && !sh.Version().IsTLS13() && len(sh.SessionID) > 0 &&
		s.ClientHello != nil && bytes.Equal(sh.SessionID, s.ClientHello.SessionID)
}

// Resumption says whether, and how, the server agreed to resume an earlier
// session (even if the handshake then did not complete).
func (s *State) Resumption() Resumption {
	switch {
	case s.TLS13():
		if s.ServerHello.HasPreSharedKey {
			return ResumptionPSK
		}
	case s.SSLv2:
		if s.SSLv2SessionIDHit {
			return ResumptionSessionID
		}
	case s.ServerHello != nil:
		// An abbreviated handshake: the server went from its hello to
		// ChangeCipherSpec with no Certificate and no key exchange.
		abbreviated := s.ServerChain == nil && s.ServerKeyExchange == nil && (s.ChangeCipherSpec[1] || s.Finished[1])
		if !abbreviated {
			break
		}
		switch {
		case s.ClientHello != nil && len(s.ClientHello.SessionTicket) > 0:
			return ResumptionTicket
		case s.SessionIDEchoed():
			return ResumptionSessionID
		}
	}
	return ResumptionNone
}

// EarlyData says what became of 0-RTT data offered. The server's answer is
// in its encrypted EncryptedExtensions, so it is inferred:
//   - rejected: the server answered with a HelloRetryRequest, or did not
//     accept a PSK, or accepted another than the first identity (early data
//     is only ever sent under the first);
//   - accepted: the PSK was accepted and, after the server's flight, the
//     client's first encrypted record is no larger than an EndOfEarlyData,
//     which a client sends only when early data was accepted;
//   - accepted or rejected as the server's EncryptedExtensions says, when
//     it could be read;
//   - offered: otherwise (we cannot tell).
func (s *State) EarlyData() EarlyData {
	if s.ClientHello == nil || !s.ClientHello.EarlyData {
		return EarlyDataNone
	}
	if s.HelloRetryRequest && s.ServerHello != nil {
		return EarlyDataRejected
	}
	if s.ServerHello == nil {
		return EarlyDataOffered
	}
	if !s.ServerHello.Version().IsTLS13() || !s.ServerHello.HasPreSharedKey || s.ServerHello.SelectedIdentity != 0 {
		return EarlyDataRejected
	}
	if ee := s.EncryptedExtensions; ee != nil {
		// Read with keys (or in QUIC, which has no EndOfEarlyData, RFC
		// 9001 8.3): the server's early_data extension says it.
		if ee.EarlyData {
			return EarlyDataAccepted
		}
		return EarlyDataRejected
	}
	if s.eoedSeen {
		return EarlyDataAccepted
	}
	return EarlyDataOffered
}

// ClientAnswered reports whether the client sent a handshake message (or
// ChangeCipherSpec, or an encrypted record) after the server's first record.
func (s *State) ClientAnswered() bool {
	seenServer := false
	for _, m := range s.Messages {
		switch {
		case m.From == packet.FromServer:
			seenServer = true
		case seenServer && m.Type != MsgAlert:
			// A TLS 1.3 client's compatibility ChangeCipherSpec is no answer.
			if m.Type == MsgChangeCipherSpec && s.TLS13() {
				continue
			}
			return true
		}
	}
	return false
}

// ClientFlightLen13 adds up the client's TLS 1.3 records from the server's
// first encrypted record to the client's Finished: its Certificate (empty
// or not), CertificateVerify and Finished travel there.
func (s *State) ClientFlightLen13() int {
	n := 0
	started := false
	for i, m := range s.Messages {
		switch {
		case m.From == packet.FromServer && m.Encrypted:
			started = true
		case m.From == packet.FromClient && started && m.Type != MsgChangeCipherSpec && m.Type != MsgAlert:
			n += m.Bytes
		}
		if s.clientFinMsg >= 0 && i >= s.clientFinMsg {
			break
		}
	}
	return n
}

// observe takes one Event into the State, just before the Sink sees it.
func (c *Conn) observe(e *Event) {
	s := &c.st
	d := e.Dir & 1
	c.sawTLS = true
	// A probable encrypted alert stands only if nothing follows it in its
	// direction.
	s.probable[d] = nil
	s.History = appendHistory(s.History, e)
	idx := s.addMessage(e)
	s.Records[d]++
	s.LastAt[d] = e.Timestamp
	s.LastFrom = d
	if d == packet.FromServer && s.ClientHello != nil {
		s.ServerAnswered = true
	}

	switch e.Type {
	case HandshakeMsg(TypeClientHello), MsgSSLv2ClientHello:
		if d == packet.FromClient {
			s.clientHello(e)
			// Completed after the server's answer arrived (see addMessage):
			// that answer came after it.
			if idx >= 0 && s.ClientHello != nil && slices.ContainsFunc(s.Messages[idx+1:], func(m Message) bool { return m.From == packet.FromServer }) {
				s.ServerAnswered = true
			}
		}
	case HandshakeMsg(TypeHelloRequest):
		if d == packet.FromServer && s.ClientHello != nil && !e.Encrypted {
			s.renegotiation(d, e.Timestamp)
			s.pendingHR = true
		}
	case HandshakeMsg(TypeServerHello), MsgHelloRetryRequest:
		switch {
		case d == packet.FromServer && e.ServerHello != nil:
			if e.ServerHello.IsHelloRetryRequest || e.Type == MsgHelloRetryRequest {
				if !s.HelloRetryRequest {
					s.HelloRetryGroup = e.ServerHello.KeyShareGroup
				}
				s.HelloRetryRequest = true
			} else if s.ServerHello == nil {
				s.ServerHello = e.ServerHello // a renegotiation's ServerHello does not replace it
			}
		case e.Type == MsgHelloRetryRequest:
			s.HelloRetryRequest = true
		}
	case MsgSSLv2ServerHello:
		if d == packet.FromServer && !s.SSLv2 {
			s.SSLv2 = true
			s.sslv2At = s.Records
			if v2 := e.SSLv2ServerHello; v2 != nil {
				s.SSLv2SessionIDHit = v2.SessionIDHit
				if len(v2.Certificate) > 0 && s.ServerChain == nil {
					s.ServerChain = [][]byte{v2.Certificate}
					s.ServerChainAt = e.Timestamp
				}
			}
		}
	case MsgSSLv2Error:
		if e.SSLv2Error != nil && s.Fatal == nil && !s.Established {
			s.Fatal = &AlertEvent{From: d, Timestamp: e.Timestamp, Level: AlertFatal, SSLv2Error: e.SSLv2Error.Code}
		}
	case MsgSSLv2Other:
		// SSL 2.0 is established once, after the server's hello, the
		// client has sent its key (or finished) and the server its
		// verify and finished messages.
		if s.SSLv2 && s.Records[0]-s.sslv2At[0] >= 1 && s.Records[1]-s.sslv2At[1] >= 2 && !s.Established {
			s.Established = true
		}
	case HandshakeMsg(TypeHelloVerifyRequest), MsgRetry, MsgVersionNegotiation:
		if d == packet.FromServer && s.ServerHello == nil {
			s.restart = true
		}
	case HandshakeMsg(TypeClientKeyExchange):
		if d == packet.FromClient {
			s.ClientKeyExchange = true
		}
	case HandshakeMsg(TypeCertificate):
		c.certificate(e, d)
	case HandshakeMsg(TypeEncryptedExtensions):
		if d == packet.FromServer && e.EncryptedExtensions != nil && s.EncryptedExtensions == nil {
			s.EncryptedExtensions = e.EncryptedExtensions
		}
	case HandshakeMsg(TypeServerKeyExchange):
		if e.ServerKeyExchange != nil && s.ServerKeyExchange == nil {
			s.ServerKeyExchange = e.ServerKeyExchange
		}
	case HandshakeMsg(TypeCertificateRequest):
		if d == packet.FromServer && !e.Encrypted {
			s.CertificateRequest = true
		}
	case MsgChangeCipherSpec:
		s.ChangeCipherSpec[d] = true
		if s.renegOpen {
			r := &s.Renegotiation[len(s.Renegotiation)-1]
			r.ccs[d] = true
			if r.ccs[0] && r.ccs[1] {
				r.Done = true
				s.renegOpen = false
				s.Renegotiations++
			}
		}
	case HandshakeMsg(TypeFinished):
		if d == packet.FromClient && s.TLS13() && !s.Finished[0] {
			s.clientFinMsg = idx
			s.encAfter[0]++
		}
		s.Finished[d] = true
		if d == packet.FromClient {
			s.ClientKeyExchange = true
		}
		s.checkEstablished()
	case HandshakeMsg(TypeEndOfEarlyData):
		s.eoedSeen = true
	case MsgEncryptedHandshake:
		s.encrypted(e, false)
	case MsgApplicationData:
		s.encrypted(e, true)
	case MsgAlert:
		a := &AlertEvent{From: d, Timestamp: e.Timestamp, Encrypted: e.Encrypted || e.Alert == nil}
		if !a.Encrypted {
			a.Level, a.Description = e.Alert.Level, e.Alert.Description
		}
		if !a.Encrypted && a.Level == AlertFatal && d == packet.FromServer && s.TLS13() && s.Established && !s.appData[1] {
			// A TLS 1.3 server checks the client's flight (its
			// certificate, RFC 8446 4.4.2.4) after the client's Finished:
			// a fatal alert before any data of its own is the handshake
			// failing, not the connection closing. Readable only with keys.
			s.Established = false
		}
		s.addAlert(a)
	}
}

// certificate takes a Certificate message.
func (c *Conn) certificate(e *Event, d packet.Dir) {
	s := &c.st
	if d == packet.FromServer && !e.Encrypted {
		s.ServerCertificate = true
	}
	if e.Certificate == nil {
		if d == packet.FromClient && !e.Encrypted {
			// A client Certificate that did not parse: sent, contents
			// unknown (not taken for an empty one).
			s.ClientCertificate = true
			s.ClientChainUnread = true
		}
		return
	}
	chain := e.Certificate.Chain
	if len(chain) > MaxChain {
		// Keep the first, say so (uncounted: it is not a parse error).
		c.sink.Anomaly(Anomaly{Kind: AnomalyLongChain, Dir: d, Timestamp: e.Timestamp, Bytes: len(chain),
			Detail: "certificate chain of " + strconv.Itoa(len(chain)) + " entries; the first " + strconv.Itoa(MaxChain) + " kept"})
		chain = chain[:MaxChain]
	}
	if d == packet.FromServer {
		if s.ServerChain == nil {
			s.ServerChain = chain
			s.ServerChainAt = e.Timestamp
		}
		return
	}
	s.ClientCertificate = true
	if s.ClientChain == nil {
		s.ClientChain = chain
	}
}

// addMessage appends e to the message sequence, folding runs of application
// data in one direction, and returns its index (-1 when over the cap).
func (s *State) addMessage(e *Event) int {
	msgs := s.Messages
	if e.Type == MsgApplicationData && len(msgs) > 0 {
		last := &msgs[len(msgs)-1]
		if last.Type == MsgApplicationData && last.From == e.Dir && last.Encrypted == e.Encrypted && last.Decrypted == e.Decrypted {
			last.Count++
			last.Bytes += e.Length
			return len(msgs) - 1
		}
	}
	if len(msgs) >= MaxMessages {
		s.MessagesDropped++
		return -1
	}
	typ := e.Type
	if e.ServerHello != nil && e.ServerHello.IsHelloRetryRequest {
		typ = MsgHelloRetryRequest
	}
	m := Message{
		Timestamp: e.Timestamp, From: e.Dir, Type: typ, Length: e.Length,
		Encrypted: e.Encrypted, Decrypted: e.Decrypted, Count: 1, Bytes: e.Length,
	}
	// A message is timed by the segment that carried its first byte; one
	// completed only after the other direction went on (its rest held
	// back by a hole, or lost and stepped over) takes its place among the
	// other side's messages by that time, as on the wire.
	i := len(msgs)
	for i > 0 && msgs[i-1].From != e.Dir && e.Timestamp.Before(msgs[i-1].Timestamp) {
		i--
	}
	if msgs == nil {
		// One allocation for a whole handshake (a full one is 10 to 16
		// entries) rather than growing from one: less to copy and collect.
		msgs = make([]Message, 0, initialMessages)
	}
	if i == len(msgs) {
		s.Messages = append(msgs, m)
		return i
	}
	s.Messages = slices.Insert(msgs, i, m)
	if s.clientFinMsg >= i {
		s.clientFinMsg++
	}
	for _, p := range s.probable {
		if p != nil && p.msg >= i {
			p.msg++
		}
	}
	return i
}

func (s *State) clientHello(e *Event) {
	if e.Encrypted || e.ClientHello == nil {
		// An encrypted ClientHello is a renegotiation under the keys.
		if s.Established {
			s.renegotiation(e.Dir&1, e.Timestamp)
		}
		return
	}
	switch {
	case s.ClientHello == nil:
		s.ClientHello = e.ClientHello
	case s.HelloRetryRequest && s.ServerHello == nil, s.restart:
		// The second ClientHello after a HelloRetryRequest, a DTLS
		// HelloVerifyRequest (RFC 6347 4.2.1) or a QUIC Retry or Version
		// Negotiation: same handshake.
		s.restart = false
	default:
		if s.pendingHR {
			s.pendingHR = false // the answer to the server's HelloRequest
		} else {
			s.inReneg = false
			s.renegotiation(packet.FromClient, e.Timestamp)
		}
	}
}

// encrypted takes a record seen only as ciphertext (or application data).
func (s *State) encrypted(e *Event, appData bool) {
	d := e.Dir & 1
	if s.TLS13() || (s.ServerHello == nil && s.ClientHello != nil && d == packet.FromClient && s.ClientHello.EarlyData) {
		s.encrypted13(e)
		return
	}
	if !appData {
		// TLS 1.2 and older: the first encrypted handshake record after
		// a direction's ChangeCipherSpec is its Finished.
		switch {
		case s.ChangeCipherSpec[d] && !s.Finished[d]:
			s.Finished[d] = true
			s.checkEstablished()
		case s.Established:
			s.renegotiation(d, e.Timestamp)
		}
		return
	}
	s.inReneg = false
	s.appData[d] = true
	if s.appData[0] && s.appData[1] && !s.Established {
		s.Established = true
	}
}

// encrypted13 follows a TLS 1.3 handshake, where every record after the
// ServerHello looks like application data.
func (s *State) encrypted13(e *Event) {
	d := e.Dir & 1
	if d == packet.FromServer {
		s.encAfter[1]++
		if s.ServerHello != nil {
			s.Finished[1] = true // the server's flight ends with its Finished
		}
		if s.Established {
			s.appData[1] = true
		}
		return
	}
	// The framer labelled the client's records (Conn.labelAppData): its
	// Finished and EndOfEarlyData came as such; what is left is
	// application data, 0-RTT data, or a record too short to be a
	// Finished (most likely an alert, which End confirms if it is last).
	// Only data after the client's Finished counts; 0-RTT data before
	// the server's flight and a short record are left as they are.
	if s.Finished[0] && s.encAfter[1] > 0 {
		s.encAfter[0]++
		s.appData[0] = true
	}
}

func (s *State) checkEstablished() {
	if s.Finished[0] && s.Finished[1] && !s.Established {
		s.Established = true
	}
}

// renegotiation notes an attempt, one per burst of handshake records after
// the first handshake (application data ends a burst), started by d.
func (s *State) renegotiation(d packet.Dir, ts time.Time) {
	if s.inReneg {
		return
	}
	s.inReneg = true
	if len(s.Renegotiation) >= MaxAlerts {
		s.renegOpen = false
		return
	}
	s.Renegotiation = append(s.Renegotiation, Renegotiation{Timestamp: ts, By: d})
	s.renegOpen = true
}

func (s *State) addAlert(a *AlertEvent) {
	if len(s.Alerts) < MaxAlerts {
		if s.Alerts == nil {
			s.Alerts = make([]AlertEvent, 0, 2) // a close_notify each way, usually
		}
		s.Alerts = append(s.Alerts, *a)
	}
	s.LastAlert = a
	if s.Fatal != nil || s.Established {
		return
	}
	// An encrypted alert ends a handshake we saw begin; with no
	// ClientHello seen it is more likely the close_notify of a connection
	// picked up mid-stream.
	if a.Level == AlertFatal || a.Encrypted && s.ClientHello != nil {
		s.Fatal = a
	}
}

// noteProbableAlert marks a direction's last record, of the size of an
// encrypted alert, for settleProbableAlerts.
func (s *State) noteProbableAlert(d packet.Dir, ts time.Time, n int, closed bool) {
	p := &probableAlert{ts: ts, len: n, msg: -1, closed: closed}
	if i := s.lastMessageFrom(d); i >= 0 && s.LastAt[d&1].Equal(ts) &&
		(s.Messages[i].Encrypted || s.Messages[i].Type == MsgApplicationData) {
		p.msg = i
	}
	s.probable[d&1] = p
}

func (s *State) lastMessageFrom(d packet.Dir) int {
	for i := len(s.Messages) - 1; i >= 0; i-- {
		if s.Messages[i].From == d {
			return i
		}
	}
	return -1
}

// settleProbableAlerts turns each probable encrypted alert into an alert,
// and the record it names into an alert message.
func (s *State) settleProbableAlerts() {
	// Decide on the sequence as it was which alerts ended the handshake,
	// then rewrite the messages, earlier alert first.
	var ended [2]bool
	for d, p := range s.probable {
		if p != nil && p.msg >= 0 && p.msg < len(s.Messages) && s.TLS13() {
			ended[d] = s.alertEndedHandshake13(packet.Dir(d), p.msg)
		}
		// A record of an alert's size is as likely an HTTP/2 SETTINGS
		// acknowledgement or a short request: it is taken for an alert
		// only where an alert stands, before its side's FIN or a reset,
		// or ending a handshake (before it was established, or as the
		// server's answer to the client's flight).
		if p != nil && !p.closed && !ended[d] && s.Established {
			s.probable[d] = nil
		}
	}
	order := [2]int{0, 1}
	if p0, p1 := s.probable[0], s.probable[1]; p0 != nil && p1 != nil && p1.ts.Before(p0.ts) {
		order = [2]int{1, 0}
	}
	for _, d := range order {
		p := s.probable[d]
		if p == nil {
			continue
		}
		s.probable[d] = nil
		if p.msg >= 0 && p.msg < len(s.Messages) {
			m := &s.Messages[p.msg]
			if m.Count > 1 {
				// The alert was folded into a run: split it off, right
				// after the run.
				m.Count--
				m.Bytes -= p.len
				if len(s.Messages) < MaxMessages {
					al := Message{Timestamp: p.ts, From: m.From, Type: MsgAlert, Length: p.len, Encrypted: true, Count: 1, Bytes: p.len}
					s.Messages = slices.Insert(s.Messages, p.msg+1, al)
					if s.clientFinMsg > p.msg {
						s.clientFinMsg++
					}
					if o := s.probable[d^1]; o != nil && o.msg > p.msg {
						o.msg++
					}
				}
			} else {
				m.Type = MsgAlert
				m.Encrypted = true
			}
		}
		if ended[d] {
			s.Finished[0] = false
			s.Established = false
			s.Fatal = nil // the alert added below is the one that ended it
		}
		s.addAlert(&AlertEvent{From: packet.Dir(d), Timestamp: p.ts, Encrypted: true, Probable: true})
	}
}

// alertEndedHandshake13 reports whether a TLS 1.3 encrypted alert at
// message index i ended the handshake rather than the connection: the
// client's alert stood where its Finished should have been, or the server's
// was its first record after the client's Finished (a server rejecting the
// client's flight, typically its certificate, answers so).
func (s *State) alertEndedHandshake13(d packet.Dir, i int) bool {
	if !s.Finished[0] || s.clientFinMsg < 0 {
		return false
	}
	if d == packet.FromClient {
		return i == s.clientFinMsg && s.encAfter[0] <= 1
	}
	if i <= s.clientFinMsg || s.Messages[i].Count > 1 {
		return false // server records came after the client's Finished
	}
	// A client asked for a certificate answers with a Certificate (empty
	// or not) before its Finished. A flight that is one Finished alone
	// means none was asked for: the alert is then no rejection of the
	// client's flight, only the server closing.
	if s.ClientFlightLen13() <= finishedRecordLen(s.ServerHello.CipherSuite) {
		return false
	}
	for _, m := range s.Messages[s.clientFinMsg+1 : i] {
		if m.From == packet.FromServer {
			return false
		}
	}
	return true
}

// finishedRecordLen is the size of a TLS 1.3 record holding a Finished
// alone: the handshake header, the suite's hash, the inner content type
// and the AEAD tag (RFC 8446 4.4.4, 5.2).
func finishedRecordLen(suite CipherSuite) int {
	hash := 32
	if suite == 0x1302 { // TLS_AES_256_GCM_SHA384
		hash = 48
	}
	return 4 + hash + 1 + aeadTagLen(suite)
}

// aeadTagLen is the authentication tag length of a TLS 1.3 suite.
func aeadTagLen(suite CipherSuite) int {
	if suite == 0x1305 { // TLS_AES_128_CCM_8_SHA256
		return 8
	}
	return 16
}
