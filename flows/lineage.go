package flows

import (
	"slices"
	"sync"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// order places a lineage fact, or a question about earlier facts, in the
// capture: first the segment being processed when it arose, then the
// connection (its ID), then the connection's own count. Every connection
// sees its segments in the same order however connections are shared
// among Trackers, so an order is the same with one Tracker or several,
// and "earlier in the capture" is decided by it, never by which goroutine
// happened to get there first.
type order struct{ pos, conn, seq uint64 }

func (a order) before(b order) bool {
	if a.pos != b.pos {
		return a.pos < b.pos
	}
	if a.conn != b.conn {
		return a.conn < b.conn
	}
	return a.seq < b.seq
}

// fact is what the Lineage keeps of one key: who, and where in the
// capture. Only the fields of its map are set.
type fact struct {
	at       order
	uid      string
	ts       time.Time       // tickets: when it was issued
	lifetime uint32          // tickets: its lifetime hint, seconds
	leaf     string          // sniLeaf: the leaf's SHA-256
	chain    []*leafFacts    // chains: the server chain seen in clear (read-only)
	version  dissect.Version // versions: a version the server negotiated
	sites    []siteFact      // issuerSites: the sites an issuer signed for, earliest first
}

// siteFact is one site an issuer was seen signing a leaf for.
type siteFact struct {
	at   order
	site string
}

// maxIssuerSites caps the sites kept per issuer: the diagnosis asks only
// whether there are "many".
const maxIssuerSites = 8

// Lineage is the memory across connections that ties a later connection
// to an earlier one: tickets issued, ticket and PSK identities presented,
// session IDs of full handshakes, and the leaf first accepted per server
// name. Each map keeps the earliest fact of each key and at most max keys,
// forgetting the oldest. It is safe for concurrent use: Trackers that
// share a capture (sharded by connection) share one Lineage, and a
// question asks only about facts placed before it, so the answers do not
// depend on how far each Tracker has got.
type Lineage struct {
	mu        sync.Mutex
	tickets   *boundedMap[fact] // ticket SHA-256 -> its issue
	presented *boundedMap[fact] // ticket / PSK identity SHA-256 -> first presenter
	sessions  *boundedMap[fact] // server session ID (hex) -> the full handshake
	sniLeaf   *boundedMap[fact] // SNI -> the leaf first accepted for it
	// The diagnosis of failures reads these.
	chains      *boundedMap[fact] // server (SNI, else address) -> its chain first seen in clear
	versions    *boundedMap[fact] // server address -> the first version it negotiated
	issuerSites *boundedMap[fact] // leaf issuer (raw DER name) -> the sites it signed for
	inters      *boundedMap[fact] // subject (raw DER) of an intermediate CA seen in a chain -> where
}

// NewLineage returns a Lineage of at most max keys per map (0: 65536).
func NewLineage(max int) *Lineage {
	if max <= 0 {
		max = 1 << 16
	}
	return &Lineage{
		tickets:   newBoundedMap[fact](max),
		presented: newBoundedMap[fact](max),
		sessions:  newBoundedMap[fact](max),
		sniLeaf:   newBoundedMap[fact](max),

		// A chain holds parsed certificates, kilobytes each: far fewer
		// of them than of the small facts.
		chains:      newBoundedMap[fact](min(max, maxChains)),
		versions:    newBoundedMap[fact](max),
		issuerSites: newBoundedMap[fact](max),
		inters:      newBoundedMap[fact](max),
	}
}

// maxChains caps the servers whose chain seen in clear is remembered for
// their TLS 1.3 connections (some 4-10 KiB each).
const maxChains = 2048

// note records f under key in m unless an earlier fact holds it.
func (l *Lineage) note(m *boundedMap[fact], key string, f fact) {
	l.mu.Lock()
	if old, ok := m.get(key); !ok || f.at.before(old.at) {
		m.put(key, f)
	}
	l.mu.Unlock()
}

// noteLazy is note for a fact costly to make: mk is called only when no
// earlier fact holds key.
func (l *Lineage) noteLazy(m *boundedMap[fact], key string, at order, mk func() fact) {
	l.mu.Lock()
	old, ok := m.get(key)
	l.mu.Unlock()
	if ok && old.at.before(at) {
		return
	}
	f := mk()
	f.at = at
	l.note(m, key, f)
}

// addSite notes that issuer signed a leaf for site at at. The sites of an
// issuer are kept in capture order, at most maxIssuerSites distinct ones;
// a site seen again keeps its earliest place.
func (l *Lineage) addSite(issuer, site string, at order) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, _ := l.issuerSites.get(issuer)
	for i, s := range f.sites {
		if s.site == site {
			if at.before(s.at) {
				f.sites = slices.Clone(f.sites)
				f.sites[i].at = at
				l.issuerSites.put(issuer, f)
			}
			return
		}
	}
	// The slice is copied: a reader holding the old one keeps it intact.
	sites := append(slices.Clone(f.sites), siteFact{at: at, site: site})
	slices.SortFunc(sites, func(a, b siteFact) int {
		if a.at.before(b.at) {
			return -1
		}
		if b.at.before(a.at) {
			return 1
		}
		return 0
	})
	if len(sites) > maxIssuerSites {
		sites = sites[:maxIssuerSites]
	}
	f.sites = sites
	l.issuerSites.put(issuer, f)
}

// sitesBefore counts the distinct sites issuer was seen signing for before q.
func (l *Lineage) sitesBefore(issuer string, q order) int {
	l.mu.Lock()
	f, _ := l.issuerSites.get(issuer)
	l.mu.Unlock()
	n := 0
	for _, s := range f.sites {
		if s.at.before(q) {
			n++
		}
	}
	return n
}

// find returns the earliest fact of key in m if it was placed before q.
func (l *Lineage) find(m *boundedMap[fact], key string, q order) (fact, bool) {
	l.mu.Lock()
	f, ok := m.get(key)
	l.mu.Unlock()
	if !ok || !f.at.before(q) {
		return fact{}, false
	}
	return f, true
}

// ticketQuestion is a ClientHello's presented ticket or PSK identity,
// answered when the Record is built.
type ticketQuestion struct {
	at  order
	ts  time.Time
	len int
	// psk: a TLS 1.3 PSK identity, which a client should present once
	// (RFC 8446 8, C.4); an RFC 5077 ticket may be presented again.
	psk bool
}
