package pipeline

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// script is a Source that plays segments, with quiet reads (nil entries)
// and an error at the end.
type script struct {
	segs     []*packet.Segment
	end      error // returned once segs run out; nil means io.EOF
	retained bool
	done     uint64
	nexts    int
}

func (s *script) NextPacket(p *packet.Packet) error {
	s.nexts++
	if len(s.segs) == 0 {
		if s.end != nil {
			return s.end
		}
		return io.EOF
	}
	next := s.segs[0]
	s.segs = s.segs[1:]
	if next == nil {
		return capture.ErrNoPacket
	}
	*p = packet.Packet{Transport: packet.TCP, Segment: *next}
	return nil
}

func (s *script) Retain()        { s.retained = true }
func (s *script) Retained() bool { return s.retained }
func (s *script) Done(n uint64)  { s.done = n }

// fileSegments returns the segments of a committed capture.
func fileSegments(t *testing.T) []*packet.Segment {
	segs, _ := segments(t, "../testdata/captures/multi.pcap", 1)
	out := make([]*packet.Segment, len(segs))
	for i := range segs {
		out[i] = &segs[i]
	}
	return out
}

func TestRunFile(t *testing.T) {
	segs := fileSegments(t)
	for _, workers := range []int{1, 2} {
		src := &script{segs: segs}
		var recs []*flows.Record
		sum, err := Run(context.Background(), src, Config{Workers: workers}, func(r *flows.Record) { recs = append(recs, r) })
		if err != nil {
			t.Fatal(err)
		}
		if !src.retained || src.done != uint64(len(segs)) {
			t.Errorf("workers %d: a file's buffers: retained %v, done %d of %d", workers, src.retained, src.done, len(segs))
		}
		if sum.Segments != uint64(len(segs)) || sum.Flows.Records != uint64(len(recs)) || len(recs) == 0 {
			t.Errorf("workers %d: summary %+v with %d records", workers, sum, len(recs))
		}
		for i := 1; i < len(recs); i++ {
			if recs[i-1].ConnID() >= recs[i].ConnID() {
				t.Fatalf("workers %d: record %d (conn %d) after conn %d: a file's records go in connection order", workers, i, recs[i].ConnID(), recs[i-1].ConnID())
			}
		}
	}
}

func TestRunCountStopAndError(t *testing.T) {
	segs := fileSegments(t)
	src := &script{segs: segs}
	sum, err := Run(context.Background(), src, Config{Count: 5}, func(*flows.Record) {})
	if err != nil || sum.Segments != 5 || src.nexts != 5 {
		t.Errorf("Count 5: %d segments, %d reads, err %v", sum.Segments, src.nexts, err)
	}
	stops := 0
	src = &script{segs: segs}
	sum, _ = Run(context.Background(), src, Config{Stop: func() bool { stops++; return stops > 3 }}, func(*flows.Record) {})
	if sum.Segments != 3 {
		t.Errorf("Stop after 3: %d segments", sum.Segments)
	}
	bad := errors.New("capture: file.pcap: record 7: truncated")
	src = &script{segs: segs[:10], end: bad}
	sum, err = Run(context.Background(), src, Config{}, func(*flows.Record) {})
	if !errors.Is(err, bad) || sum.Segments != 10 {
		t.Errorf("read error: %v after %d segments", err, sum.Segments)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err = Run(ctx, &script{segs: segs}, Config{}, func(*flows.Record) {})
	if err != nil || sum.Segments != 0 {
		t.Errorf("cancelled: %d segments, err %v", sum.Segments, err)
	}
}

// TestRunLiveQuietLink: a live link that goes quiet moves the capture's
// clock on by the wall clock, so an idle connection ends as idle, not at
// the end of the input.
func TestRunLiveQuietLink(t *testing.T) {
	segs := fileSegments(t)
	first := segs[0]
	// The first connection's opening segments, then silence.
	var open []*packet.Segment
	for _, s := range segs {
		if s.Src == first.Src && s.Dst == first.Dst || s.Src == first.Dst && s.Dst == first.Src {
			open = append(open, s)
			if len(open) == 2 {
				break
			}
		}
	}
	wall := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return wall }
	src := &script{segs: append(open, nil, nil)}
	var recs []*flows.Record
	cfg := Config{
		Live: true, Now: now,
		Flows: flows.Config{ReportNonTLS: true},
		Progress: func(Progress) {
			// Each quiet read: an hour of wall time passes.
			wall = wall.Add(time.Hour)
		},
	}
	_, err := Run(context.Background(), src, cfg, func(r *flows.Record) { recs = append(recs, r) })
	if err != nil {
		t.Fatal(err)
	}
	if src.retained {
		t.Error("a live capture's buffers were retained")
	}
	if len(recs) != 1 || recs[0].Close != "idle" {
		t.Fatalf("%d records, want the one connection closed idle", len(recs))
	}
	// Without a wall clock the capture's time stands still.
	src = &script{segs: append(open, nil, nil)}
	recs = nil
	cfg.Now = nil
	if _, err := Run(context.Background(), src, cfg, func(r *flows.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Close == "idle" {
		t.Errorf("without a wall clock: %d records, close %q", len(recs), recs[0].Close)
	}
}
