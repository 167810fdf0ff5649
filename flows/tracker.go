package flows

import (
	"crypto/sha256"
	"crypto/x509"
	"net/netip"
	"slices"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/dissect/certs"
	"github.com/tlsdissect/tlsdissect/dissect/fingerprint"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// Config configures a Tracker.
type Config struct {
	Dissect dissect.Config
	// Certs is the shared summary cache; nil makes one.
	Certs *certs.Cache
	// Roots, when set, is the trust store the server chain is verified
	// against (Record.Validation); nil leaves Validation empty.
	Roots *x509.CertPool
	// RootsFunc, when Roots is nil, gives the trust store the first time a
	// chain is verified: loading the system roots costs tens of
	// milliseconds that a capture without certificates need not pay. It
	// may be called from several Trackers at once.
	RootsFunc func() *x509.CertPool
	// ReportNonTLS emits a Record of status not_tls for TCP connections
	// that never carried TLS.
	ReportNonTLS bool
	// CommunitySeed is the Community ID seed.
	CommunitySeed uint16
	// Lineage is the memory across connections; Trackers that share a
	// capture (connections sharded over goroutines) share one. nil makes
	// one of MaxLineage keys per map.
	Lineage *Lineage

	// MaxLineage caps each cross-connection map (tickets, session IDs,
	// presented identities, leaf per server name); 0 means 65536.
	MaxLineage int
}

// Stats counts what a Tracker saw.
type Stats struct {
	Connections uint64 // connections handed to the Tracker (TCP and UDP)
	Datagram    uint64 // ... of them UDP flows of QUIC or DTLS
	TLS         uint64 // connections that carried TLS
	NotTLS      uint64 // connections that never did
	Established uint64
	Resumed     uint64
	Failed      uint64
	Incomplete  uint64
	// Failures counts failed connections by reason.
	Failures map[string]uint64
	// Anomalies counts TLS connections by anomaly kind (once per connection).
	Anomalies map[string]uint64
	Records   uint64 // Records emitted
	// Held counts Records built and waiting for their turn in the
	// pipeline's ordered merge; a Tracker holds none.
	Held int
}

// Add adds o's counters to s: the totals of several Trackers that share a
// capture. s's maps are made if nil.
func (s *Stats) Add(o Stats) {
	s.Connections += o.Connections
	s.Datagram += o.Datagram
	s.TLS += o.TLS
	s.NotTLS += o.NotTLS
	s.Established += o.Established
	s.Resumed += o.Resumed
	s.Failed += o.Failed
	s.Incomplete += o.Incomplete
	s.Records += o.Records
	s.Held += o.Held
	if s.Failures == nil {
		s.Failures = map[string]uint64{}
	}
	if s.Anomalies == nil {
		s.Anomalies = map[string]uint64{}
	}
	for k, v := range o.Failures {
		s.Failures[k] += v
	}
	for k, v := range o.Anomalies {
		s.Anomalies[k] += v
	}
}

// Tracker makes a handler per connection and, when its driver says so,
// builds and emits the Record of each connection that ended. It is a
// reassembly.Factory. Not safe for concurrent use: reassembly calls it from
// one goroutine.
//
// It has one way of working, whoever drives it: the driver places every
// step in the capture (At), connections that close wait, and BuildClosed
// builds them once the driver knows every fact placed before their close
// is in the Lineage (with one Tracker at once; with several, when every
// one has passed the place). Records come out in close order; putting
// them in connection order is the pipeline's merge.
type Tracker struct {
	cfg   Config
	emit  func(*Record)
	certs *certs.Cache
	stats Stats

	lineage *Lineage
	// pos is the place in the capture of the segment being processed (see
	// order), set by At.
	pos uint64

	ja4x *boundedMap[string] // certificate SHA-256 -> JA4X, computed once
	// validations caches chain verification verdicts (see validationKey):
	// a busy server's chain is verified once, not once per connection.
	validations *boundedMap[string]
	leaves      *boundedMap[*leafFacts] // leaf SHA-256 -> parsed facts (diagnosis)
	// sums keeps the SHA-256 of certificates by their DER: a busy
	// server's chain comes on every connection, and hashing it is the
	// dearest step of a handshake's record (a map lookup hashes and
	// compares the bytes far faster).
	sums *boundedMap[[32]byte]
	ja4  *fingerprint.Memo // the JA4 and JA4S hashes, by their lists

	// Connections not yet finished, by ConnInfo.ID.
	open openSet // IDs of the connections not yet finished

	// Connections closed, waiting for BuildClosed.
	pending []closing

	// paths finds open QUIC connections by connection ID (quicpath.go).
	paths quicPaths

	// uids counts the connections named with each uid so far (see uid).
	uids *boundedMap[uint32]
}

// closing is a closed connection waiting for BuildClosed.
type closing struct {
	c    *conn
	info reassembly.CloseInfo
}

// NewTracker returns a Tracker that hands each finished Record to emit.
func NewTracker(cfg Config, emit func(*Record)) *Tracker {
	def := dissect.DefaultConfig()
	if cfg.Dissect.MaxHandshake == 0 && cfg.Dissect.MaxPrelude == 0 {
		cfg.Dissect.MaxHandshake, cfg.Dissect.MaxPrelude = def.MaxHandshake, def.MaxPrelude
	}
	if cfg.MaxLineage <= 0 {
		cfg.MaxLineage = 1 << 16
	}
	c := cfg.Certs
	if c == nil {
		c = certs.NewCache(4096)
	}
	if cfg.Roots == nil && cfg.RootsFunc == nil {
		cfg.RootsFunc = func() *x509.CertPool { return nil }
	}
	if cfg.Roots != nil {
		roots := cfg.Roots
		cfg.RootsFunc = func() *x509.CertPool { return roots }
	}
	lin := cfg.Lineage
	if lin == nil {
		lin = NewLineage(cfg.MaxLineage)
	}
	return &Tracker{
		cfg:         cfg,
		emit:        emit,
		certs:       c,
		stats:       Stats{Failures: map[string]uint64{}, Anomalies: map[string]uint64{}},
		lineage:     lin,
		ja4x:        newBoundedMap[string](cfg.MaxLineage),
		validations: newBoundedMap[string](cfg.MaxLineage),
		// Parsed certificates are larger than lineage entries: fewer.
		leaves: newBoundedMap[*leafFacts](4096),
		sums:   newBoundedMap[[32]byte](4096),
		ja4:    fingerprint.NewMemo(4096),
		uids:   newBoundedMap[uint32](cfg.MaxLineage),
	}
}

// certSum returns the SHA-256 of a certificate, from the cache when the
// same DER was hashed before.
func (t *Tracker) certSum(der []byte) [32]byte {
	if len(der) > maxSummedDER {
		return sha256.Sum256(der) // not kept: the cache is bounded in bytes
	}
	if s, ok := t.sums.m[string(der)]; ok {
		return s
	}
	s := sha256.Sum256(der)
	t.sums.put(string(der), s)
	return s
}

// maxSummedDER is the largest certificate whose hash is kept by its DER:
// with the 4096 entries of the cache, at most 16 MiB per Tracker, however
// large the certificates a capture carries.
const maxSummedDER = 4 << 10

// uid names a new connection from what it is, its endpoints and its first
// packet's time, never from its place in the capture: the same connection
// keeps its uid when a filter drops other packets. Two connections that
// share endpoints and start time (a port reused within the clock's
// resolution) are told apart by a count of the earlier ones: they reach
// the same Tracker however the capture is sharded (by endpoints), in
// capture order, so the count is the same with one worker or several.
// The counts are kept for at most MaxLineage names.
func (t *Tracker) uid(info reassembly.ConnInfo) string {
	base := makeUID(info, 0)
	n, seen := t.uids.get(base)
	t.uids.put(base, n+1)
	if !seen {
		return base
	}
	return makeUID(info, n)
}

// New makes the handler of one connection.
func (t *Tracker) New(info reassembly.ConnInfo) reassembly.Handler {
	t.stats.Connections++
	t.open.add(info.ID)
	return newConn(t, info)
}

// NewDatagram implements reassembly.DatagramFactory: a UDP flow is
// followed when its first datagram opens QUIC or DTLS.
func (t *Tracker) NewDatagram(info *reassembly.ConnInfo, first []byte) reassembly.DatagramHandler {
	if c := t.routeQUIC(info, first); c != nil {
		return quicPath{c}
	}
	tr, ok := dissect.ClassifyDatagram(first)
	if !ok {
		return nil
	}
	switch fromServer, sure := dissect.DatagramFromServer(tr, first); {
	case sure:
		// A QUIC client's Initial, or a hello: the roles are known (and
		// QUIC's Initial keys depend on them).
		info.RolesInferred = false
		if fromServer {
			info.Client, info.Server = info.Server, info.Client
		}
	case reassembly.ServerSide(info.Client.Port(), info.Server.Port()):
		// Picked up in the middle: the ports guess, as for TCP, and a
		// ClientHello, if one comes, settles it.
		info.Client, info.Server = info.Server, info.Client
	}
	t.stats.Connections++
	t.stats.Datagram++
	t.open.add(info.ID)
	return newDatagramConn(t, *info, tr)
}

// At places what follows in the capture: pos is the index of the segment
// (or Tick) about to be processed (reassembly.Place.Index). Lineage facts
// and questions are ordered by it, so the answers are the same however
// the capture's connections are shared among Trackers.
func (t *Tracker) At(pos uint64) { t.pos = pos }

// Pending returns how many closed connections wait for BuildClosed.
func (t *Tracker) Pending() int { return len(t.pending) }

// BuildClosed builds the Records of the first n connections waiting, in
// the order they closed, and hands them on.
func (t *Tracker) BuildClosed(n int) {
	n = min(n, len(t.pending))
	for i := range n {
		p := t.pending[i]
		t.pending[i] = closing{}
		t.finish(p.c.info.ID, p.c.record(p.info))
	}
	rest := copy(t.pending, t.pending[n:])
	clear(t.pending[rest:])
	t.pending = t.pending[:rest]
}

// FirstPending returns where the earliest closed connection still waiting
// for BuildClosed closed (see Record.ClosedAt); ok is false when none waits.
func (t *Tracker) FirstPending() (pos uint64, ok bool) {
	if len(t.pending) == 0 {
		return 0, false
	}
	return t.pending[0].c.closeAt.pos, true
}

// Oldest returns the smallest ID of the connections handed to New whose
// Record has not been emitted yet (open, or closed and not yet built); ok
// is false when there is none. A sharded pipeline releases Records of
// smaller IDs in order once every shard's Oldest has passed them.
func (t *Tracker) Oldest() (id uint64, ok bool) { return t.open.min() }

// Stats returns a copy of the counters.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Failures = make(map[string]uint64, len(t.stats.Failures))
	for k, v := range t.stats.Failures {
		s.Failures[k] = v
	}
	s.Anomalies = make(map[string]uint64, len(t.stats.Anomalies))
	for k, v := range t.stats.Anomalies {
		s.Anomalies[k] = v
	}
	return s
}

// Flush builds every connection that closed. Call it when every fact
// before the closes is known: after the last Tick, or at the end.
func (t *Tracker) Flush() { t.BuildClosed(len(t.pending)) }

// finish takes a connection's outcome: rec is nil for a connection that is
// not reported.
func (t *Tracker) finish(id uint64, rec *Record) {
	t.open.remove(id)
	if rec == nil {
		return
	}
	t.count(rec)
	rec.connID = id
	t.stats.Records++
	t.emit(rec)
}

func (t *Tracker) count(r *Record) {
	if r.Status == StatusNotTLS {
		return
	}
	switch r.Status {
	case StatusEstablished:
		t.stats.Established++
	case StatusResumed:
		t.stats.Established++
		t.stats.Resumed++
	case StatusFailed:
		t.stats.Failed++
		if r.Failure != nil {
			t.stats.Failures[r.Failure.Reason]++
		}
	case StatusIncomplete:
		t.stats.Incomplete++
	}
	for _, k := range r.Anomalies {
		t.stats.Anomalies[k]++
	}
}

// makeUID names a connection: "C" and the base62 of a 64-bit FNV-1a hash of
// its start time and endpoints, and of n when not 0 (the count of earlier
// connections of the same name, see Tracker.uid).
func makeUID(info reassembly.ConnInfo, n uint32) string {
	// FNV-1a, 64 bits (FNV spec, draft-eastlake-fnv), inline so that
	// naming a connection allocates only the name.
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(b byte) { h = (h ^ uint64(b)) * prime }
	put := func(v uint64) {
		for i := range 8 {
			add(byte(v >> (8 * i)))
		}
	}
	put(uint64(info.Start.UnixNano()))
	for _, ap := range [2]netip.AddrPort{info.Client, info.Server} {
		a := ap.Addr().As16()
		for _, b := range a {
			add(b)
		}
		put(uint64(ap.Port()))
	}
	if n > 0 {
		put(uint64(n))
	}
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var out [12]byte
	out[0] = 'C'
	k := 1
	for v := h; v > 0 && k < len(out); v /= 62 {
		out[k] = digits[v%62]
		k++
	}
	if k == 1 {
		out[k] = '0'
		k++
	}
	return string(out[:k])
}

// openSet holds the IDs of unfinished connections. IDs come in increasing
// order (the place of each connection's first packet), so the set is a
// sorted slice: a finished ID is marked dead (it keeps its value, so the
// slice stays sorted for a plain binary search), the front skips dead
// ones, and the slice is compacted once half of it is dead. Its size
// follows the open connections, however long the oldest of them lives.
type openSet struct {
	ids  []uint64
	gone []bool // gone[i]: ids[i] has finished
	head int    // ids[:head] are all gone
	dead int    // gone entries in ids[head:]
}

func (s *openSet) add(id uint64) {
	if n := len(s.ids); n == 0 || s.ids[n-1] < id {
		s.ids = append(s.ids, id)
		s.gone = append(s.gone, false)
		return
	}
	// Out of order (not from a pipeline): keep the slice sorted.
	i, _ := slices.BinarySearch(s.ids, id)
	s.ids = slices.Insert(s.ids, i, id)
	s.gone = slices.Insert(s.gone, i, false)
}

func (s *openSet) remove(id uint64) {
	i, found := slices.BinarySearch(s.ids[s.head:], id)
	i += s.head
	for found && i < len(s.ids) && s.ids[i] == id && s.gone[i] {
		i++ // the same ID added again after it finished
	}
	if !found || i == len(s.ids) || s.ids[i] != id {
		return
	}
	s.gone[i] = true
	s.dead++
	for s.head < len(s.ids) && s.gone[s.head] {
		s.head++
		s.dead--
	}
	if s.dead > 64 && s.dead > (len(s.ids)-s.head)/2 || s.head > 64 && s.head > len(s.ids)/2 {
		s.compact()
	}
}

func (s *openSet) compact() {
	n := 0
	for i := s.head; i < len(s.ids); i++ {
		if !s.gone[i] {
			s.ids[n], s.gone[n] = s.ids[i], false
			n++
		}
	}
	s.ids, s.gone, s.head, s.dead = s.ids[:n], s.gone[:n], 0, 0
}

func (s *openSet) min() (uint64, bool) {
	if s.head == len(s.ids) {
		return 0, false
	}
	return s.ids[s.head], true
}

func (s *openSet) len() int { return len(s.ids) - s.head - s.dead }
