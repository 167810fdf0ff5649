package flows

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
)

// is13 reports TLS 1.3 or one of its drafts (0x7fNN).
func is13(v dissect.Version) bool { return v == dissect.VersionTLS13 || v>>8 == 0x7f }

// tls13 reports that the ServerHello chose TLS 1.3.
func (c *conn) tls13() bool { return c.sh != nil && is13(c.sh.Version()) }

// eoedMaxLen is the largest ciphertext record an EndOfEarlyData alone can
// make: a 4-byte handshake header, the inner content type and a 16-byte
// AEAD tag (RFC 8446 5.2), with a little padding allowed.
const eoedMaxLen = 4 + 1 + 16 + 3

// alertRecordMax is the largest TLS 1.3 record more likely an alert than a
// Finished: 2 bytes of alert, the inner content type, a 16-byte tag and up
// to 16 bytes of padding; a Finished is at least 4+32+1+16.
const alertRecordMax = 2 + 1 + 16 + 16

// event takes one dissect.Event. The Event is valid only during the call;
// the parsed messages it points to are owned by it and may be kept.
func (c *conn) event(e *dissect.Event) {
	if c.closed {
		return
	}
	c.sawTLS = true
	d := e.Dir & 1
	// A probable encrypted alert stands only if nothing follows it in its
	// direction; the record it names may be reported just after it.
	naming := false
	if p := c.probAlert[d]; p != nil {
		if p.msg < 0 && (e.Encrypted || e.Type == dissect.MsgApplicationData) && e.Timestamp.Equal(p.a.Timestamp) {
			naming = true
		} else {
			c.probAlert[d] = nil
		}
	}
	c.history = appendHistory(c.history, e)
	idx := c.addMessage(e)
	if naming {
		c.probAlert[d].msg = idx
	}
	c.recs[d]++
	c.lastTLS[d] = e.Timestamp
	c.lastDir = d
	if d == packet.FromServer && c.ch != nil {
		c.srvFlight = true
	}

	switch e.Type {
	case dissect.HandshakeMsg(dissect.TypeClientHello), dissect.MsgSSLv2ClientHello:
		if d == packet.FromClient {
			c.clientHello(e)
		}
	case dissect.HandshakeMsg(dissect.TypeHelloRequest):
		if d == packet.FromServer && c.ch != nil && !e.Encrypted {
			c.rec.Renegotiations++
			c.pendingHR = true
		}
	case dissect.HandshakeMsg(dissect.TypeServerHello), dissect.MsgHelloRetryRequest:
		if d == packet.FromServer && e.ServerHello != nil {
			c.serverHello(e)
		} else if e.Type == dissect.MsgHelloRetryRequest {
			c.hrr = true
		}
	case dissect.MsgSSLv2ServerHello:
		if d == packet.FromServer && !c.sslv2 {
			c.sslv2 = true
			c.sslv2At = c.recs
			if v2 := e.SSLv2ServerHello; v2 != nil {
				c.sslv2Hit = v2.SessionIDHit
				if len(v2.Certificate) > 0 && c.chain == nil {
					c.chain = [][]byte{v2.Certificate}
					c.certTS = e.Timestamp
				}
			}
		}
	case dissect.MsgSSLv2Error:
		if e.SSLv2Error != nil && c.fatal == nil && !c.established {
			c.fatal = &alertFact{from: d, ts: e.Timestamp, level: 2, sslv2: e.SSLv2Error.Code}
		}
	case dissect.MsgSSLv2Other:
		// SSL 2.0 is established once, after the server's hello, the
		// client has sent its key (or finished) and the server its
		// verify and finished messages.
		if c.sslv2 && c.recs[0]-c.sslv2At[0] >= 1 && c.recs[1]-c.sslv2At[1] >= 2 && !c.established {
			c.established = true
		}
	case dissect.HandshakeMsg(dissect.TypeClientKeyExchange):
		if d == packet.FromClient {
			c.clientKX = true
		}
	case dissect.HandshakeMsg(dissect.TypeCertificate):
		if d == packet.FromServer && !e.Encrypted {
			c.serverCrt = true
		}
		if e.Certificate != nil {
			chain := e.Certificate.Chain
			if len(chain) > maxChain {
				// Real chains are a handful long; thousands are an attack on
				// whoever summarises them. Keep the first, say so.
				c.addAnomaly("long_certificate_chain", d.String(), e.Timestamp, len(chain),
					"certificate chain of "+strconv.Itoa(len(chain))+" entries; the first "+strconv.Itoa(maxChain)+" kept")
				chain = chain[:maxChain]
			}
			if d == packet.FromServer {
				if c.chain == nil {
					c.chain = chain
					c.certTS = e.Timestamp
				}
			} else {
				c.clientCrt = true
				if c.cchain == nil {
					c.cchain = chain
				}
			}
		} else if d == packet.FromClient && !e.Encrypted {
			// A client Certificate that did not parse: sent, contents
			// unknown (not taken for an empty one).
			c.clientCrt = true
			c.cchainUnread = true
		}
	case dissect.HandshakeMsg(dissect.TypeServerKeyExchange):
		if e.ServerKeyExchange != nil && c.ske == nil {
			c.ske = e.ServerKeyExchange
		}
	case dissect.HandshakeMsg(dissect.TypeCertificateRequest):
		if d == packet.FromServer && !e.Encrypted {
			c.certReq = true
		}
	case dissect.HandshakeMsg(dissect.TypeNewSessionTicket):
		if d == packet.FromServer && e.NewSessionTicket != nil {
			c.newSessionTicket(e)
		}
	case dissect.MsgChangeCipherSpec:
		c.ccs[d] = true
	case dissect.HandshakeMsg(dissect.TypeFinished):
		if d == packet.FromClient && c.tls13() && !c.finished[0] {
			c.clientFinMsg = idx
			c.encAfter[0]++
		}
		c.finished[d] = true
		if d == packet.FromClient {
			c.clientKX = true
		}
		c.checkEstablished(e)
	case dissect.HandshakeMsg(dissect.TypeEndOfEarlyData):
		c.eoedSeen = true
	case dissect.MsgEncryptedHandshake:
		c.encrypted(e, false)
	case dissect.MsgApplicationData:
		c.encrypted(e, true)
	case dissect.MsgAlert:
		c.alert(e)
	}
}

// addMessage appends e to the message sequence, folding runs of application
// data in one direction, and returns its index (-1 when over the cap).
func (c *conn) addMessage(e *dissect.Event) int {
	from := e.Dir.String()
	msgs := c.rec.Messages
	if e.Type == dissect.MsgApplicationData && len(msgs) > 0 {
		last := &msgs[len(msgs)-1]
		if last.Type == "application_data" && last.From == from && last.Encrypted == e.Encrypted {
			last.Count++
			last.Bytes += e.Length
			return len(msgs) - 1
		}
	}
	if len(msgs) >= maxMessages {
		c.msgDrops++
		return -1
	}
	typ := msgTypeName(e.Type)
	if e.ServerHello != nil && e.ServerHello.IsHelloRetryRequest {
		typ = "hello_retry_request"
	}
	c.rec.Messages = append(msgs, Message{
		TS: Time{e.Timestamp}, From: from, Type: typ, Length: e.Length,
		Encrypted: e.Encrypted, Count: 1, Bytes: e.Length,
	})
	return len(c.rec.Messages) - 1
}

func (c *conn) clientHello(e *dissect.Event) {
	if e.Encrypted || e.ClientHello == nil {
		// An encrypted ClientHello is a renegotiation under the keys.
		if c.established {
			c.renegotiation()
		}
		return
	}
	ch := e.ClientHello
	switch {
	case c.ch == nil:
		c.ch = ch
		c.offer(e)
	case c.hrr && c.sh == nil:
		// The second ClientHello after a HelloRetryRequest: same
		// handshake. Its offer is what the server will judge.
	default:
		if c.pendingHR {
			c.pendingHR = false
		} else {
			c.rec.Renegotiations++
		}
	}
}

// offer records the ticket or PSK identity presented and links it to the
// connection that was issued it.
func (c *conn) offer(e *dissect.Event) {
	ch := e.ClientHello
	var id []byte
	switch {
	case len(ch.SessionTicket) > 0:
		id = ch.SessionTicket
	case len(ch.PSKIdentities) > 0:
		id = ch.PSKIdentities[0].Identity
	}
	if len(id) == 0 {
		return
	}
	st := &c.rec.SessionTicket
	st.Offered = true
	st.OfferedLength = len(id)
	st.OfferedSHA256 = hexSHA256(id)
	// Who presented it first, and who was issued it, is answered when the
	// Record is built (resolveLineage): by then every earlier connection,
	// whichever Tracker holds it, has said what it saw.
	q := &ticketQuestion{at: c.now(), ts: e.Timestamp, len: len(id)}
	c.ticketQ = q
	c.t.lineage.note(c.t.lineage.presented, st.OfferedSHA256, fact{at: q.at, uid: c.uid})
}

func (c *conn) serverHello(e *dissect.Event) {
	sh := e.ServerHello
	if sh.IsHelloRetryRequest || e.Type == dissect.MsgHelloRetryRequest {
		c.hrr = true
		return
	}
	if c.sh != nil {
		return // a renegotiation's ServerHello; the first one stands
	}
	c.sh = sh
	if is13(sh.Version()) || len(sh.SessionID) == 0 {
		return
	}
	key := hex.EncodeToString(sh.SessionID)
	if c.ch != nil && bytes.Equal(sh.SessionID, c.ch.SessionID) {
		c.sidEcho = true
		c.sidKey, c.sidAt = key, c.now() // answered in resolveLineage
		return
	}
	c.t.lineage.note(c.t.lineage.sessions, key, fact{at: c.now(), uid: c.uid})
}

func (c *conn) newSessionTicket(e *dissect.Event) {
	nst := e.NewSessionTicket
	if len(nst.Ticket) == 0 {
		return // RFC 5077 3.3: an empty ticket means none after all
	}
	st := &c.rec.SessionTicket
	st.Issued = true
	st.LifetimeHint = nst.LifetimeHint
	st.Length = len(nst.Ticket)
	st.SHA256 = hexSHA256(nst.Ticket)
	c.t.lineage.note(c.t.lineage.tickets, st.SHA256, fact{at: c.now(), uid: c.uid, ts: e.Timestamp, lifetime: nst.LifetimeHint})
}

// encrypted takes a record seen only as ciphertext (or application data).
func (c *conn) encrypted(e *dissect.Event, appData bool) {
	d := e.Dir & 1
	if c.tls13() || (c.sh == nil && c.ch != nil && d == packet.FromClient && c.ch.EarlyData) {
		c.encrypted13(e)
		return
	}
	if !appData {
		// TLS 1.2 and older: the first encrypted handshake record after
		// a direction's ChangeCipherSpec is its Finished.
		switch {
		case c.ccs[d] && !c.finished[d]:
			c.finished[d] = true
			c.checkEstablished(e)
		case c.established:
			c.renegotiation()
		}
		return
	}
	c.inReneg = false
	c.appData[d] = true
	if c.appData[0] && c.appData[1] && !c.established {
		c.established = true
	}
}

// encrypted13 follows a TLS 1.3 handshake, where every record after the
// ServerHello looks like application data.
func (c *conn) encrypted13(e *dissect.Event) {
	d := e.Dir & 1
	if d == packet.FromServer {
		c.encAfter[1]++
		if c.sh != nil {
			c.finished[1] = true // the server's flight ends with its Finished
		}
		if c.established {
			c.appData[1] = true
		}
		return
	}
	switch {
	case c.encAfter[1] == 0:
		// Before the server's flight: 0-RTT data sent on the ClientHello.
		c.earlyRecs++
	case !c.finished[0]:
		if c.earlyRecs > 0 && !c.eoedSeen && e.Length <= eoedMaxLen {
			c.eoedSeen = true
			return
		}
		if e.Length <= alertRecordMax {
			// Too short for a Finished: most likely an alert, which a
			// dissect.AnomalyProbableAlert will confirm if it is last.
			return
		}
		c.finished[0] = true
		c.clientFinMsg = len(c.rec.Messages) - 1
		c.encAfter[0]++
		c.checkEstablished(e)
	default:
		c.encAfter[0]++
		c.appData[0] = true
	}
}

func (c *conn) checkEstablished(e *dissect.Event) {
	if c.finished[0] && c.finished[1] && !c.established {
		c.established = true
	}
}

// renegotiation counts one per burst of encrypted handshake records after
// the handshake; application data ends a burst.
func (c *conn) renegotiation() {
	if c.inReneg {
		return
	}
	c.inReneg = true
	c.rec.Renegotiations++
}

func (c *conn) alert(e *dissect.Event) {
	a := &alertFact{from: e.Dir & 1, ts: e.Timestamp, encrypted: e.Encrypted || e.Alert == nil}
	if !a.encrypted {
		a.level, a.desc = e.Alert.Level, e.Alert.Description
	}
	c.addAlert(a)
}

func (c *conn) addAlert(a *alertFact) {
	if len(c.rec.Alerts) < maxAlerts {
		al := Alert{TS: Time{a.ts}, From: a.from.String(), Code: -1, Encrypted: a.encrypted}
		if !a.encrypted {
			al.Level = alertLevelName(a.level)
			al.Description = alertName(a.desc)
			al.Code = int(a.desc)
		}
		c.rec.Alerts = append(c.rec.Alerts, al)
	}
	c.lastAlert = a
	if c.fatal != nil || c.established {
		return
	}
	// An encrypted alert ends a handshake we saw begin; with no
	// ClientHello seen it is more likely the close_notify of a connection
	// picked up mid-stream.
	if a.level == 2 || a.encrypted && c.ch != nil {
		c.fatal = a
	}
}
