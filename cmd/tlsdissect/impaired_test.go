package main

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tlsdissect/tlsdissect/flows"
)

// TestImpairedTwin: a capture whose segments were reordered, duplicated,
// overlapped and retransmitted (our generator's impairment mode) yields the
// same connection record as its clean twin, apart from the annotations of
// what the TCP layer had to repair.
func TestImpairedTwin(t *testing.T) {
	clean := oneRecord(t, "tls12-ticket.pcap")
	impaired := oneRecord(t, "tls12-ticket-impaired.pcap")
	if len(impaired.Anomalies) == 0 {
		t.Errorf("impaired capture reports no anomalies: the impairment went unseen")
	}
	for _, a := range impaired.Anomalies {
		switch a {
		case "retransmission", "out_of_order":
		default:
			t.Errorf("unexpected anomaly %q: the repair was not clean", a)
		}
	}
	// What the TCP layer saw may differ; the TLS story may not. Message
	// times may differ too: a reordered segment completes a record later.
	strip := func(r flows.Record) flows.Record {
		r.Anomalies, r.AnomalyDetails = nil, nil
		for i := range r.Messages {
			r.Messages[i].TS = flows.Time{}
		}
		for i := range r.Alerts {
			r.Alerts[i].TS = flows.Time{}
		}
		return r
	}
	c, i := strip(clean), strip(impaired)
	if !reflect.DeepEqual(c, i) {
		t.Errorf("impaired record differs from the clean one:\nclean:    %+v\nimpaired: %+v", c, i)
	}
}

// TestLossyCapture: a segment that never came is a gap, annotated with its
// size, and the connection is still dissected around it.
func TestLossyCapture(t *testing.T) {
	r := oneRecord(t, "lossy.pcap")
	if !contains(r.Anomalies, "gap") || r.MissingBytes == 0 {
		t.Errorf("lossy capture: anomalies %v, missing %d bytes; want a gap", r.Anomalies, r.MissingBytes)
	}
	if r.Version == "" || len(r.Messages) < 5 {
		t.Errorf("lossy capture not dissected around the gap: version %q, %d messages", r.Version, len(r.Messages))
	}
}

func oneRecord(t *testing.T, name string) flows.Record {
	t.Helper()
	r := runBin(t, nil, "-q", "-F", "json", "-r", filepath.Join(capturesDir, name))
	if r.code != 0 {
		t.Fatalf("%s: exit %d: %s", name, r.code, r.stderr)
	}
	recs := readRecords(t, r.stdout)
	if len(recs) != 1 {
		t.Fatalf("%s: %d records, want 1", name, len(recs))
	}
	return recs[0]
}
