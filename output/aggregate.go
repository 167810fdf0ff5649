package output

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Aggregate is the statistical model behind the summary and HTML reports.
// It is fed one record at a time and keeps no record: its memory is
// bounded by the number of distinct groups it counts (failure reasons,
// versions, ...) and every group of unbounded variety (servers, clients,
// ALPN strings, anomaly kinds) is a TopK of fixed capacity.
type Aggregate struct {
	Connections, TLS, NotTLS        int
	Established, Resumed            int
	Failed, Incomplete              int
	First, Last                     time.Time
	Versions, Ciphers, ALPN, Curves *TopK // chosen by the server
	VersionsOffered, ALPNOffered    *TopK // offered by clients (per connection)
	Transports                      *TopK // tcp, quic, dtls
	Alerts                          *TopK // key: alertKey
	Anomalies                       *TopK
	Tickets                         TicketStats
	Handshake                       Histogram // handshake durations
	Timeline                        Timeline  // failures over capture time
	// Confidence counts failures by the diagnosis' confidence (certain,
	// likely, uncertain).
	Confidence *TopK
	failures   map[string]*FailureGroup
}

// TopKCapacity is the number of distinct keys a TopK counts exactly.
const TopKCapacity = 256

// NewAggregate returns an empty model.
func NewAggregate() *Aggregate {
	return &Aggregate{
		Versions: NewTopK(TopKCapacity), Ciphers: NewTopK(TopKCapacity),
		ALPN: NewTopK(TopKCapacity), Curves: NewTopK(TopKCapacity),
		VersionsOffered: NewTopK(TopKCapacity), ALPNOffered: NewTopK(TopKCapacity),
		Transports: NewTopK(8),
		Alerts:     NewTopK(TopKCapacity), Anomalies: NewTopK(TopKCapacity),
		Tickets:    TicketStats{delays: newSample(4096)},
		Handshake:  NewHistogram(),
		Timeline:   Timeline{buckets: map[int64]map[string]int{}},
		Confidence: NewTopK(4),
		failures:   map[string]*FailureGroup{},
	}
}

// FailureGroup is every failed connection of one reason.
type FailureGroup struct {
	Reason  string
	Count   int
	Servers *TopK // SNI, or server ip:port without one
	Clients *TopK // client ip
	By      *TopK // which side gave up: client, server, unknown
	// Confidence counts the group's diagnoses by confidence.
	Confidence *TopK
	Example    Example
}

// Example is one connection, as much as a report prints of it.
type Example struct {
	UID, Client, Server, SNI string
	TS                       time.Time
	Alert, By, Explanation   string
	Confidence, Hint         string
}

// TicketStats count session tickets and PSKs.
type TicketStats struct {
	Offered, Issued, Renewed int
	Redeemed                 int // resumed with a ticket or PSK
	SessionIDResumed         int // resumed by session id
	Linked                   int // redeemed ticket issued in this capture
	Reused, Expired          int
	delays                   *sample // issue → redemption, seconds
}

// Delays returns min, median and max of the issue-to-redemption delays
// in seconds, and how many there were; the median comes from a
// deterministic reservoir sample once there are more than it holds.
func (t *TicketStats) Delays() (lo, median, hi float64, n int) {
	return t.delays.stats()
}

// Add feeds one record to the model. r is not kept.
func (a *Aggregate) Add(r *flows.Record) {
	a.Connections++
	if !r.TS.IsZero() {
		if a.First.IsZero() || r.TS.Before(a.First) {
			a.First = r.TS.Time
		}
		end := r.EndTS.Time
		if end.IsZero() {
			end = r.TS.Time
		}
		if end.After(a.Last) {
			a.Last = end
		}
	}
	if r.Status == flows.StatusNotTLS {
		a.NotTLS++
		return
	}
	a.TLS++
	tr := r.Transport
	if tr == "" {
		tr = "tcp"
	}
	a.Transports.Add(tr)
	switch r.Status {
	case flows.StatusFailed:
		a.Failed++
	case flows.StatusIncomplete:
		a.Incomplete++
	}
	if r.Established {
		a.Established++
	}
	if r.Resumed {
		a.Resumed++
	}
	if r.Version != "" {
		a.Versions.Add(r.Version)
	}
	if r.Cipher != "" {
		a.Ciphers.Add(r.Cipher)
	}
	if r.ALPN != "" {
		a.ALPN.Add(r.ALPN)
	}
	if r.Curve != "" {
		a.Curves.Add(r.Curve)
	}
	for _, v := range uniq(r.OfferedVersions) {
		a.VersionsOffered.Add(v)
	}
	for _, v := range uniq(r.ALPNOffered) {
		a.ALPNOffered.Add(v)
	}
	for _, al := range r.Alerts {
		a.Alerts.Add(alertKey(al))
	}
	for _, k := range uniq(r.Anomalies) {
		a.Anomalies.Add(k)
	}
	a.addTickets(r)
	// Only completed handshakes: a failed one "lasts" until whoever gave
	// up, which says nothing about how fast handshakes are.
	if d, ok := handshakeDuration(r); ok && r.Established {
		a.Handshake.Add(d)
	}
	if r.Status == flows.StatusFailed {
		reason := flows.ReasonOther
		if r.Failure != nil && r.Failure.Reason != "" {
			reason = r.Failure.Reason
		}
		reason = a.addFailure(reason, r)
		if !r.TS.IsZero() {
			a.Timeline.Add(r.TS.Time, reason)
		}
	} else if !r.TS.IsZero() {
		a.Timeline.Add(r.TS.Time, "")
	}
}

func (a *Aggregate) addTickets(r *flows.Record) {
	st := &r.SessionTicket
	t := &a.Tickets
	if st.Offered {
		t.Offered++
	}
	if st.Issued {
		t.Issued++
	}
	if st.Renewed {
		t.Renewed++
	}
	if r.Resumed {
		switch r.Resumption {
		case "ticket", "psk":
			t.Redeemed++
		case "session_id":
			t.SessionIDResumed++
		}
	}
	if st.IssuedBy != "" {
		t.Linked++
		t.delays.add(finite(st.RedeemedAfter))
	}
	if st.Reused {
		t.Reused++
	}
	if st.LifetimeExpired {
		t.Expired++
	}
}

// maxFailureGroups bounds the failure groups; reasons come from a fixed
// list, so this only guards against a misbehaving producer.
const maxFailureGroups = 64

func (a *Aggregate) addFailure(reason string, r *flows.Record) string {
	g := a.failures[reason]
	if g == nil {
		if len(a.failures) >= maxFailureGroups {
			reason = flows.ReasonOther
			g = a.failures[reason]
		}
		if g == nil {
			g = &FailureGroup{Reason: reason, Servers: NewTopK(64), Clients: NewTopK(64), By: NewTopK(4), Confidence: NewTopK(4)}
			g.Example = exampleOf(r)
			a.failures[reason] = g
		}
	}
	g.Count++
	g.Servers.Add(serverKey(r))
	g.Clients.Add(r.Client.IP)
	by := "unknown"
	if r.Failure != nil && r.Failure.By != "" {
		by = r.Failure.By
	}
	g.By.Add(by)
	conf := "unknown"
	if r.Failure != nil && r.Failure.Confidence != "" {
		conf = r.Failure.Confidence
	}
	g.Confidence.Add(conf)
	a.Confidence.Add(conf)
	return reason
}

func exampleOf(r *flows.Record) Example {
	e := Example{UID: r.UID, Client: endpoint(r.Client), Server: endpoint(r.Server), SNI: r.SNI, TS: r.TS.Time}
	if f := r.Failure; f != nil {
		e.Alert, e.By, e.Explanation = f.Alert, f.By, f.Explanation
		e.Confidence, e.Hint = f.Confidence, f.Hint
	}
	return e
}

// serverKey names a server for the "most affected" lists: its SNI, or its
// address when the client sent none. Raw (unsanitised); renderers escape.
func serverKey(r *flows.Record) string {
	if r.SNI != "" {
		return r.SNI
	}
	return endpoint(r.Server)
}

// alertKey is "sender level description" of an alert ("server fatal
// handshake_failure", "client encrypted").
func alertKey(al flows.Alert) string {
	from := al.From.String()
	if al.Encrypted {
		return from + " encrypted"
	}
	level := al.Level
	if level == "" {
		level = "?"
	}
	d := al.Description
	if d == "" {
		d = "code_" + itoa(al.Code)
	}
	return from + " " + level + " " + d
}

// ConfidenceOrder lists the confidence values from the surest.
var ConfidenceOrder = [...]string{flows.ConfidenceCertain, flows.ConfidenceLikely, flows.ConfidenceUncertain, "unknown"}

// ConfidenceCounts returns the counts of t (a Confidence TopK) in
// ConfidenceOrder, leaving out those of none.
func ConfidenceCounts(t *TopK) []Count {
	var out []Count
	for _, c := range ConfidenceOrder {
		for _, n := range t.Top(0) {
			if n.Key == c {
				out = append(out, n)
			}
		}
	}
	return out
}

// confidenceList is "certain 3, likely 1".
func confidenceList(t *TopK) string {
	var parts []string
	for _, c := range ConfidenceCounts(t) {
		parts = append(parts, Sanitize(c.Key)+" "+itoa(c.N))
	}
	return strings.Join(parts, ", ")
}

// FailureGroups returns the failure groups, most frequent first.
func (a *Aggregate) FailureGroups() []*FailureGroup {
	out := make([]*FailureGroup, 0, len(a.failures))
	for _, g := range a.failures {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

func uniq(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// TopK counts keys with the Space-Saving algorithm: exact while there are
// at most Cap distinct keys; beyond, a new key replaces the least counted
// one and inherits its count, so the heavy hitters stay and their counts
// are upper bounds (Approximate then reports true). The counts live in a
// min-heap indexed by key, so each Add is O(log Cap).
type TopK struct {
	cap     int
	idx     map[string]int // key → position in heap
	heap    []Count
	evicted bool
	total   int
}

// Count is one key and its count.
type Count struct {
	Key string
	N   int
}

// NewTopK returns a counter of the given capacity (at least 1).
func NewTopK(capacity int) *TopK {
	return &TopK{cap: max(1, capacity), idx: map[string]int{}}
}

// less orders the heap: fewest first, and among equals the greatest key,
// so that what is evicted does not depend on map order.
func (t *TopK) less(i, j int) bool {
	a, b := t.heap[i], t.heap[j]
	return a.N < b.N || (a.N == b.N && a.Key > b.Key)
}

func (t *TopK) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.idx[t.heap[i].Key] = i
	t.idx[t.heap[j].Key] = j
}

func (t *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *TopK) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(t.heap) {
			return
		}
		m := l
		if r := l + 1; r < len(t.heap) && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// Add counts one occurrence of key.
func (t *TopK) Add(key string) {
	t.total++
	if i, ok := t.idx[key]; ok {
		t.heap[i].N++
		t.down(i)
		return
	}
	if len(t.heap) < t.cap {
		t.heap = append(t.heap, Count{key, 1})
		t.idx[key] = len(t.heap) - 1
		t.up(len(t.heap) - 1)
		return
	}
	// Replace the least counted key; the newcomer inherits its count.
	delete(t.idx, t.heap[0].Key)
	t.heap[0] = Count{key, t.heap[0].N + 1}
	t.idx[key] = 0
	t.down(0)
	t.evicted = true
}

// Total is the number of Add calls.
func (t *TopK) Total() int { return t.total }

// Approximate reports whether keys were evicted, making counts upper
// bounds.
func (t *TopK) Approximate() bool { return t.evicted }

// Len is the number of distinct keys held.
func (t *TopK) Len() int { return len(t.heap) }

// Top returns the n most counted keys, most first, ties by key; n <= 0
// returns all.
func (t *TopK) Top(n int) []Count {
	out := slices.Clone(t.heap)
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// sample keeps up to cap values exactly, then a uniform reservoir sample
// drawn with a fixed-seed generator (reports are reproducible).
type sample struct {
	cap    int
	vals   []float64
	n      int
	lo, hi float64
	rng    *rand.Rand
}

func newSample(capacity int) *sample {
	return &sample{cap: capacity, rng: rand.New(rand.NewPCG(1, 2))}
}

func (s *sample) add(v float64) {
	if s.n == 0 || v < s.lo {
		s.lo = v
	}
	if s.n == 0 || v > s.hi {
		s.hi = v
	}
	s.n++
	if len(s.vals) < s.cap {
		s.vals = append(s.vals, v)
		return
	}
	if j := s.rng.IntN(s.n); j < s.cap {
		s.vals[j] = v
	}
}

func (s *sample) stats() (lo, median, hi float64, n int) {
	if s.n == 0 {
		return 0, 0, 0, 0
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return s.lo, m, s.hi, s.n
}

// Histogram counts durations in fixed, roughly logarithmic buckets.
type Histogram struct {
	Bounds []time.Duration // upper bounds; the last bucket is open
	Counts []int           // len(Bounds)+1
}

// NewHistogram returns a histogram of handshake durations.
func NewHistogram() Histogram {
	ms := []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}
	h := Histogram{Counts: make([]int, len(ms)+1)}
	for _, m := range ms {
		h.Bounds = append(h.Bounds, time.Duration(m)*time.Millisecond)
	}
	return h
}

// Add counts d.
func (h *Histogram) Add(d time.Duration) {
	i := sort.Search(len(h.Bounds), func(i int) bool { return d < h.Bounds[i] })
	h.Counts[i]++
}

// Label names bucket i ("<1 ms", "1–2 ms", "≥5 s").
func (h *Histogram) Label(i int) string {
	f := func(d time.Duration) string {
		if d >= time.Second {
			return itoa(int(d/time.Second)) + " s"
		}
		return itoa(int(d/time.Millisecond)) + " ms"
	}
	switch {
	case i == 0:
		return "<" + f(h.Bounds[0])
	case i == len(h.Bounds):
		return "≥" + f(h.Bounds[i-1])
	}
	lo, hi := f(h.Bounds[i-1]), f(h.Bounds[i])
	if strings.HasSuffix(lo, " ms") == strings.HasSuffix(hi, " ms") {
		lo = strings.TrimSuffix(strings.TrimSuffix(lo, " ms"), " s")
	}
	return lo + "–" + hi
}

// Timeline counts connections and failures (by reason) in buckets of
// capture time. Buckets start 10 ms wide and grow through a ladder of
// round widths (each a multiple of the one before, so buckets merge
// exactly) whenever the span needs more than maxBuckets: memory stays
// bounded however long the capture, and a short capture still gets a
// useful resolution.
type Timeline struct {
	step    int // index into timelineWidth
	buckets map[int64]map[string]int
}

// timelineWidth is the bucket width at step i; each is a multiple of the
// one before. A function rather than a package variable: no package-level
// mutable state.
func timelineWidth(i int) time.Duration {
	return [...]time.Duration{
		10 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
		time.Second, 2 * time.Second, 10 * time.Second, 20 * time.Second, time.Minute, 2 * time.Minute,
		10 * time.Minute, 20 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		24 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour, 364 * 24 * time.Hour,
		10 * 364 * 24 * time.Hour, 100 * 364 * 24 * time.Hour,
	}[i]
}

const timelineSteps = 22

const maxBuckets = 120

// bucketOf is the index of the bucket of t at width w (floor division,
// so times before 1970 do not share a bucket with those after).
func bucketOf(t time.Time, w time.Duration) int64 {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	ws := int64(w / time.Second)
	if ws > 0 && w%time.Second == 0 {
		return floorDiv(sec, ws)
	}
	// Sub-second widths divide a second evenly: count in their units.
	per := int64(time.Second / w)
	return sec*per + nsec/int64(w)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Add counts one connection started at t; reason is "" for one that did
// not fail.
func (tl *Timeline) Add(t time.Time, reason string) {
	if tl.buckets == nil {
		tl.buckets = map[int64]map[string]int{}
	}
	idx := bucketOf(t, timelineWidth(tl.step))
	b := tl.buckets[idx]
	if b == nil {
		b = map[string]int{}
		tl.buckets[idx] = b
	}
	b["\x00all"]++
	if reason != "" {
		b[reason]++
	}
	for tl.span() > maxBuckets && tl.step < timelineSteps-1 {
		ratio := int64(timelineWidth(tl.step+1) / timelineWidth(tl.step))
		tl.step++
		nb := make(map[int64]map[string]int, len(tl.buckets)/int(ratio)+1)
		for k, m := range tl.buckets {
			nk := floorDiv(k, ratio)
			dst := nb[nk]
			if dst == nil {
				dst = map[string]int{}
				nb[nk] = dst
			}
			for r, c := range m {
				dst[r] += c
			}
		}
		tl.buckets = nb
	}
}

func (tl *Timeline) span() int64 {
	var lo, hi int64
	first := true
	for k := range tl.buckets {
		if first || k < lo {
			lo = k
		}
		if first || k > hi {
			hi = k
		}
		first = false
	}
	if first {
		return 0
	}
	return hi - lo + 1
}

// TimeBucket is one bucket of a Timeline.
type TimeBucket struct {
	Start       time.Time
	Connections int
	Failures    map[string]int
}

// Width is the bucket width.
func (tl *Timeline) Width() time.Duration { return timelineWidth(tl.step) }

// Buckets returns every bucket from the first to the last, empty ones
// included, in time order.
func (tl *Timeline) Buckets() []TimeBucket {
	if len(tl.buckets) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(tl.buckets))
	for k := range tl.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []TimeBucket
	for k := keys[0]; k <= keys[len(keys)-1]; k++ {
		b := TimeBucket{Start: bucketStart(k, tl.Width()), Failures: map[string]int{}}
		for r, c := range tl.buckets[k] {
			if r == "\x00all" {
				b.Connections = c
			} else {
				b.Failures[r] = c
			}
		}
		out = append(out, b)
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var buf [20]byte
	p := len(buf)
	for i > 0 {
		p--
		buf[p] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		p--
		buf[p] = '-'
	}
	return string(buf[p:])
}

// bucketStart is the start time of bucket k at width w.
func bucketStart(k int64, w time.Duration) time.Time {
	if w%time.Second == 0 {
		return time.Unix(k*int64(w/time.Second), 0).UTC()
	}
	per := int64(time.Second / w)
	return time.Unix(floorDiv(k, per), (k-floorDiv(k, per)*per)*int64(w)).UTC()
}
