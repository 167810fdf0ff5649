package output

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

func TestAggregateCounts(t *testing.T) {
	a := NewAggregate()
	for _, r := range fixtures() {
		a.Add(r)
	}
	if a.Connections != 9 || a.TLS != 9 || a.Established != 3 || a.Resumed != 1 || a.Failed != 5 || a.Incomplete != 1 {
		t.Errorf("totals: %+v", a)
	}
	groups := a.FailureGroups()
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s=%d", g.Reason, g.Count))
	}
	want := "protocol_version_mismatch=2 certificate_expired=1 hostname_mismatch=1 self_signed_certificate=1"
	if strings.Join(got, " ") != want {
		t.Errorf("groups %v, want %s", got, want)
	}
	if g := groups[0]; g.Example.UID != "CvE7r8S9i0O1n2M3a" || g.Servers.Top(1)[0] != (Count{"www.example.com", 2}) || g.By.Top(1)[0].Key != "server" {
		t.Errorf("first group: example %q, servers %v, by %v", g.Example.UID, g.Servers.Top(0), g.By.Top(0))
	}
	tk := a.Tickets
	if tk.Issued != 2 || tk.Renewed != 1 || tk.Offered != 1 || tk.Redeemed != 1 || tk.Linked != 1 {
		t.Errorf("tickets: %+v", tk)
	}
	if lo, med, hi, n := tk.Delays(); lo != 4.2 || med != 4.2 || hi != 4.2 || n != 1 {
		t.Errorf("delays %v %v %v %d", lo, med, hi, n)
	}
	if c := a.Alerts.Top(1)[0]; c != (Count{"server fatal protocol_version", 2}) {
		t.Errorf("top alert %v", c)
	}
	if c := a.VersionsOffered.Top(1)[0]; c != (Count{"TLS 1.2", 5}) {
		t.Errorf("top offered version %v", c)
	}
	// Handshake durations of the established: 25.6, 12.7 and 21.1 ms.
	total := 0
	for _, n := range a.Handshake.Counts {
		total += n
	}
	if total != 3 || a.Handshake.Counts[4] != 1 || a.Handshake.Counts[5] != 2 {
		t.Errorf("handshake histogram %v", a.Handshake.Counts)
	}
}

func TestHandshakeDuration(t *testing.T) {
	d, ok := handshakeDuration(fixtures()[0])
	if !ok || d != time.Duration((26.002-0.412)*float64(time.Millisecond)) {
		t.Errorf("full handshake: %v %v", d, ok)
	}
	if _, ok := handshakeDuration(fixtures()[7]); ok {
		t.Error("a lone ClientHello has a duration")
	}
}

func TestTopK(t *testing.T) {
	k := NewTopK(3)
	for _, s := range strings.Fields("a a a a b b b c c d") {
		k.Add(s)
	}
	// d evicted c (count 2) and inherited its count plus one.
	top := k.Top(0)
	if fmt.Sprint(top) != "[{a 4} {b 3} {d 3}]" || !k.Approximate() || k.Total() != 10 {
		t.Errorf("top %v approx %v total %d", top, k.Approximate(), k.Total())
	}
	exact := NewTopK(10)
	for _, s := range strings.Fields("x y x z x y") {
		exact.Add(s)
	}
	if fmt.Sprint(exact.Top(2)) != "[{x 3} {y 2}]" || exact.Approximate() {
		t.Errorf("exact %v", exact.Top(0))
	}
}

// TestAggregateMemoryBounded feeds many connections with distinct
// servers, clients, ALPN strings and anomalies, and checks the model's
// groups stay within their capacities while the heavy hitter survives.
func TestAggregateMemoryBounded(t *testing.T) {
	a := NewAggregate()
	base := fixtures()[4] // a failure
	for i := range 10000 {
		r := *base
		r.TS = flows.Time{Time: base.TS.Add(time.Duration(i) * time.Minute)}
		r.SNI = fmt.Sprintf("host%d.example", i)
		if i%4 == 0 {
			r.SNI = "hot.example"
		}
		r.Client.IP = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		r.ALPN = fmt.Sprintf("proto%d", i)
		r.Anomalies = []string{fmt.Sprintf("kind%d", i)}
		r.SessionTicket = flows.SessionTicket{IssuedBy: "x", RedeemedAfter: float64(i)}
		a.Add(&r)
	}
	g := a.FailureGroups()[0]
	if g.Servers.Len() > 64 || g.Clients.Len() > 64 || a.ALPN.Len() > TopKCapacity || a.Anomalies.Len() > TopKCapacity {
		t.Errorf("groups grew: servers %d clients %d alpn %d anomalies %d", g.Servers.Len(), g.Clients.Len(), a.ALPN.Len(), a.Anomalies.Len())
	}
	if top := g.Servers.Top(1)[0]; top.Key != "hot.example" || top.N < 2500 {
		t.Errorf("heavy hitter lost: %v", top)
	}
	if n := len(a.Timeline.Buckets()); n > maxBuckets+1 {
		t.Errorf("%d timeline buckets", n)
	}
	if len(a.Tickets.delays.vals) > 4096 {
		t.Errorf("delay sample holds %d values", len(a.Tickets.delays.vals))
	}
	lo, med, hi, n := a.Tickets.Delays()
	if lo != 0 || hi != 9999 || n != 10000 || med < 4000 || med > 6000 {
		t.Errorf("delays: %v %v %v %d", lo, med, hi, n)
	}
}

func TestTimelineBuckets(t *testing.T) {
	var tl Timeline
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tl.Add(t0, "")
	tl.Add(t0.Add(30*time.Millisecond), "unknown_ca")
	bs := tl.Buckets()
	if tl.Width() != 10*time.Millisecond || len(bs) != 4 || bs[3].Failures["unknown_ca"] != 1 || bs[0].Connections != 1 || bs[1].Connections != 0 {
		t.Fatalf("width %v buckets %+v", tl.Width(), bs)
	}
	if !bs[3].Start.Equal(t0.Add(30 * time.Millisecond)) {
		t.Errorf("bucket 3 starts %v", bs[3].Start)
	}
	tl.Add(t0.Add(1000*time.Second), "unknown_ca")
	if tl.Width() != 10*time.Second {
		t.Errorf("width %v after a 1000 s span, want 10s", tl.Width())
	}
	conns, fails := 0, 0
	for _, b := range tl.Buckets() {
		conns += b.Connections
		fails += b.Failures["unknown_ca"]
		if b.Start.UnixNano()%int64(tl.Width()) != 0 {
			t.Errorf("bucket starts at %v, not on a %v boundary", b.Start, tl.Width())
		}
	}
	if conns != 3 || fails != 2 || len(tl.Buckets()) > maxBuckets {
		t.Errorf("merging lost counts: %d connections, %d failures, %d buckets", conns, fails, len(tl.Buckets()))
	}
	// Before 1970 and far apart: still bounded, no panic.
	tl.Add(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), "")
	tl.Add(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), "")
	if n := len(tl.Buckets()); n > maxBuckets {
		t.Errorf("%d buckets over three centuries", n)
	}
}

func BenchmarkAggregate(b *testing.B) {
	recs := fixtures()
	a := NewAggregate()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			a.Add(r)
		}
	}
}

// BenchmarkAggregateDistinct is the worst case of the TopK counters:
// every connection brings a server, client, ALPN and anomaly never seen.
func BenchmarkAggregateDistinct(b *testing.B) {
	base := *fixtures()[4]
	recs := make([]flows.Record, 4096)
	for i := range recs {
		r := base
		r.SNI = fmt.Sprintf("host%d.example", i)
		r.Client.IP = fmt.Sprintf("10.0.%d.%d", i>>8, i&255)
		r.ALPN = fmt.Sprintf("p%d", i)
		r.Anomalies = []string{fmt.Sprintf("k%d", i)}
		recs[i] = r
	}
	a := NewAggregate()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Add(&recs[i%len(recs)])
		i++
	}
}

// TestTopKMatchesExactCounts checks the heap against a plain map while
// nothing is evicted, and the Space-Saving guarantees once keys are:
// every count is an upper bound, over by at most total/capacity.
func TestTopKMatchesExactCounts(t *testing.T) {
	const capacity = 16
	k := NewTopK(capacity)
	exact := map[string]int{}
	seq := uint32(7)
	for i := range 5000 {
		seq = seq*1664525 + 1013904223
		key := fmt.Sprintf("k%d", (seq>>24)%12)
		if i > 2000 {
			key = fmt.Sprintf("k%d", (seq>>20)%40) // now more keys than capacity
		}
		k.Add(key)
		exact[key]++
		if i == 2000 {
			for _, c := range k.Top(0) {
				if c.N != exact[c.Key] {
					t.Fatalf("exact phase: %s counted %d, want %d", c.Key, c.N, exact[c.Key])
				}
			}
			if k.Approximate() {
				t.Fatal("evicted with fewer keys than capacity")
			}
		}
	}
	if k.Len() != capacity || !k.Approximate() {
		t.Fatalf("len %d approx %v", k.Len(), k.Approximate())
	}
	for _, c := range k.Top(0) {
		if c.N < exact[c.Key] || c.N > exact[c.Key]+k.Total()/capacity {
			t.Errorf("%s counted %d, true %d", c.Key, c.N, exact[c.Key])
		}
	}
}

func TestTimelineWidthsNest(t *testing.T) {
	for i := 1; i < timelineSteps; i++ {
		if timelineWidth(i)%timelineWidth(i-1) != 0 || timelineWidth(i) <= timelineWidth(i-1) {
			t.Errorf("width %v is not a larger multiple of %v", timelineWidth(i), timelineWidth(i-1))
		}
		if w := timelineWidth(i - 1); w < time.Second && time.Second%w != 0 {
			t.Errorf("sub-second width %v does not divide a second", w)
		}
	}
}

func TestTimelineStepsCoverTheList(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("timelineSteps is shorter than the list of widths")
		}
	}()
	_ = timelineWidth(timelineSteps)
}

func TestAggregateNotTLS(t *testing.T) {
	a := NewAggregate()
	a.Add(&flows.Record{Status: flows.StatusNotTLS, SNI: "x"})
	a.Add(fixtures()[0])
	if a.Connections != 2 || a.NotTLS != 1 || a.TLS != 1 || a.Versions.Total() != 1 {
		t.Errorf("not_tls counted as TLS: %+v", a)
	}
	var b strings.Builder
	if err := WriteSummary(&b, a, Options{}); err != nil || !strings.Contains(b.String(), "not TLS") {
		t.Errorf("summary does not count the non-TLS connection (%v)", err)
	}
}
