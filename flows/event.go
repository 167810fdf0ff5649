package flows

import (
	"encoding/hex"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
)

// event takes one dissect.Event. The state machine has already taken it
// into its State; what is left here is the memory across connections,
// which must be noted where the fact arose in the capture (see order).
// The Event is valid only during the call; the parsed messages it points
// to are owned by it and may be kept.
func (c *conn) event(e *dissect.Event) {
	if c.closed {
		return
	}
	st := c.dc.State()
	switch {
	case e.ClientHello != nil && e.ClientHello == st.ClientHello:
		c.offer(e)
	case e.ServerHello != nil && e.ServerHello == st.ServerHello:
		c.serverHello(e.ServerHello)
	case e.NewSessionTicket != nil && e.Dir == packet.FromServer:
		c.newSessionTicket(e)
	}
}

// offer records the ticket or PSK identity presented and links it to the
// connection that was issued it.
func (c *conn) offer(e *dissect.Event) {
	ch := e.ClientHello
	var id []byte
	psk := false
	switch {
	case len(ch.SessionTicket) > 0:
		id = ch.SessionTicket
	case len(ch.PSKIdentities) > 0:
		id, psk = ch.PSKIdentities[0].Identity, true
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
	q := &ticketQuestion{at: c.now(), ts: e.Timestamp, len: len(id), psk: psk}
	c.ticketQ = q
	c.t.lineage.note(c.t.lineage.presented, st.OfferedSHA256, fact{at: q.at, uid: c.uid})
}

// serverHello notes the session ID of a full handshake, or asks who set
// the one the server echoed.
func (c *conn) serverHello(sh *dissect.ServerHello) {
	if sh.Version().IsTLS13() || len(sh.SessionID) == 0 {
		return
	}
	key := hex.EncodeToString(sh.SessionID)
	if c.dc.State().SessionIDEchoed() {
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
