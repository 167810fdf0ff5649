package keys

import (
	"crypto/sha256"
	"strconv"
	"sync"
)

// SessionKind says by what a TLS 1.2 session is presented for resumption.
type SessionKind uint8

const (
	SessionByID     SessionKind = iota + 1 // the session_id of the ServerHello (RFC 5246 7.4.1.2)
	SessionByTicket                        // the ticket of a NewSessionTicket (RFC 5077 3.3)
)

func (s SessionKind) String() string {
	switch s {
	case SessionByID:
		return "session_id"
	case SessionByTicket:
		return "ticket"
	}
	return "SessionKind(" + strconv.Itoa(int(s)) + ")"
}

// masterSecretLen is the length of a TLS 1.0-1.2 master secret (RFC 5246
// 8.1).
const masterSecretLen = 48

// sessionCache remembers master secrets by session ID or ticket, as a
// server's cache would, so that an abbreviated handshake whose client
// random the key log does not hold can still be opened. Entries are named
// by the SHA-256 of kind and identifier, so a ticket of any length costs
// the same; the oldest entry goes first once max are held.
type sessionCache struct {
	mu    sync.Mutex
	on    bool // CarrySessions
	max   int
	m     map[[32]byte][]byte
	ring  [][32]byte // insertion order, len <= max
	next  int        // the ring slot to reuse once full
	count uint64     // sessions remembered, forgotten ones included
}

func sessionKey(kind SessionKind, id []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(kind)})
	h.Write(id)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// CarrySessions turns the session cache on or off (off in a new KeyLog).
// What it finds depends on the order connections are dissected in: when
// several goroutines dissect connections at once, a resumption may be
// looked up before the connection that established its session was seen,
// and the same capture reads differently from run to run. Turn it on when
// one goroutine dissects the capture in order.
func (k *KeyLog) CarrySessions(on bool) {
	k.sessions.mu.Lock()
	k.sessions.on = on
	k.sessions.mu.Unlock()
}

// RememberSession keeps the master secret of a session the server named
// by id (a session ID or a ticket), for LookupSession. An empty id or a
// master secret of another length than 48 bytes is ignored. id and master
// are copied; a session already known keeps its first master secret.
func (k *KeyLog) RememberSession(kind SessionKind, id, master []byte) {
	if len(id) == 0 || len(master) != masterSecretLen || k.sessions.max <= 0 {
		return
	}
	key := sessionKey(kind, id)
	c := &k.sessions
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	if c.m == nil {
		c.m = make(map[[32]byte][]byte)
	}
	if _, ok := c.m[key]; ok {
		return
	}
	if len(c.ring) < c.max {
		c.ring = append(c.ring, key)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = key
		c.next = (c.next + 1) % len(c.ring)
	}
	c.m[key] = append([]byte(nil), master...)
	c.count++
}

// LookupSession returns the master secret remembered for a session ID or
// ticket. The slice is shared: read it, never write it.
func (k *KeyLog) LookupSession(kind SessionKind, id []byte) ([]byte, bool) {
	if len(id) == 0 {
		return nil, false
	}
	key := sessionKey(kind, id)
	c := &k.sessions
	c.mu.Lock()
	defer c.mu.Unlock()
	ms, ok := c.m[key]
	return ms, ok
}

// Sessions returns how many sessions are remembered now, and how many
// were remembered in all.
func (k *KeyLog) Sessions() (held int, remembered uint64) {
	c := &k.sessions
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.count
}
