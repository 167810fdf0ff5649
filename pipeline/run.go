// Package pipeline wires the house together and owns its loop:
//
//	Source ──Segment──► engine: reassembly.Assembler ──bytes──► flows.Tracker ──Record──► merge ──► emit
//	(capture)           one per worker, connections      (dissect.Conn per        (connection order for
//	                    sharded by endpoints             connection)               files, close order live)
//
// It keeps the capture's clock, numbers the segments (their reassembly
// Place), decides when timeouts are checked, moves time on by the wall
// clock on a quiet live link, and decides who may keep a payload buffer.
// One worker is the same path as several, with n = 1: the layers below
// have no modes for it.
package pipeline

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// Source hands out a capture's TCP segments and UDP datagrams in capture
// order; *capture.Source is one.
type Source interface {
	// NextPacket fills p with the next segment or datagram. It returns
	// io.EOF at the end, and capture.ErrNoPacket when a live link was
	// quiet for a read timeout.
	NextPacket(p *packet.Packet) error
	// Retain asks the Source to keep every payload buffer until Done (see
	// capture.Source.Retain); Retained reports whether the last segment's
	// payload is so kept.
	Retain()
	Retained() bool
	Done(n uint64)
}

// Config says how to run.
type Config struct {
	// Workers is the number of goroutines that reassemble and dissect;
	// 1 or less is one.
	Workers    int
	Reassembly reassembly.Config
	Flows      flows.Config
	// Live is a capture from an interface: Records come out as their
	// connections end, a quiet link moves the capture's clock on by the
	// wall clock (Now), and what is added is handed to the workers often.
	Live bool
	// Now is the wall clock, read only when Live; nil never moves time on.
	Now func() time.Time
	// Count stops after that many packets (segments and datagrams); 0
	// reads them all.
	Count uint64
	// Progress, when set, is called on Run's goroutine every 1024
	// segments and on every quiet live read.
	Progress func(Progress)
	// Stop, when set, is checked between segments: true ends the input
	// (the writer failed, say).
	Stop func() bool
	// Between, when set, is called after each packet is read and before
	// it is handed on. A non-nil func it returns is something the read
	// brought that must take effect from that packet on, not earlier: the
	// key log of a pcapng Decryption Secrets Block that came before it in
	// the file. Run then waits until the workers have finished every
	// packet before (they run behind the reader by up to a few epochs),
	// and calls it, on Run's goroutine. It should be rare: each costs the
	// workers' lead.
	Between func() func()
}

// Progress is how far Run has got.
type Progress struct {
	Segments uint64
	Open     int // connections open now (approximate)
}

// Summary is what Run did.
type Summary struct {
	Segments   uint64 // packets read: TCP segments and UDP datagrams
	Reassembly reassembly.Stats
	Datagrams  reassembly.DatagramStats
	Flows      flows.Stats
}

// liveFlushEvery bounds how long a live Record waits in the workers.
const liveFlushEvery = 100 * time.Millisecond

// maxHeld caps the Records held for an earlier connection in a file's
// ordered merge: a connection that stays open for the whole capture holds
// back at most this many.
const maxHeld = 10000

// Run reads src to its end (or ctx's, or Count, or Stop) and hands every
// connection's Record to emit, from one goroutine at a time (not the
// caller's), until Run returns. The error is src's, never io.EOF; the
// Summary is complete either way.
func Run(ctx context.Context, src Source, cfg Config, emit func(*flows.Record)) (Summary, error) {
	e := newEngine(engineConfig{
		workers:    cfg.Workers,
		reassembly: cfg.Reassembly,
		flows:      cfg.Flows,
		ordered:    !cfg.Live,
		maxHeld:    maxHeld,
	}, emit)
	// A file's payloads go to the workers without a copy: the Source
	// keeps its buffers until every worker is done with them. A live
	// capture's buffers belong to libpcap.
	retain := !cfg.Live
	if retain {
		src.Retain()
	}
	var (
		pkt       packet.Packet
		n         uint64
		readErr   error
		lastTS    time.Time // capture time of the last segment
		lastWall  time.Time // wall time it was read (live)
		lastFlush time.Time // wall time the engine was last flushed (live)
	)
	progress := func() {
		if cfg.Progress != nil {
			cfg.Progress(Progress{Segments: n, Open: e.Open()})
		}
	}
	for ctx.Err() == nil && (cfg.Stop == nil || !cfg.Stop()) {
		if cfg.Count > 0 && n >= cfg.Count {
			break
		}
		err := src.NextPacket(&pkt)
		if errors.Is(err, capture.ErrNoPacket) {
			// A quiet live link: capture time stands still, so move it on
			// by the wall time that passed, and let idle connections end.
			if !lastTS.IsZero() && cfg.Live && cfg.Now != nil {
				e.Tick(lastTS.Add(cfg.Now().Sub(lastWall)))
			}
			progress()
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if cfg.Between != nil {
			if apply := cfg.Between(); apply != nil {
				settle(e)
				apply()
			}
		}
		n++
		lastTS = pkt.Timestamp()
		e.AddPacket(&pkt, src.Retained())
		if retain {
			src.Done(e.Done())
		}
		if cfg.Live && cfg.Now != nil {
			lastWall = cfg.Now()
			// Workers take segments in batches; on a slow link, hand them
			// over often so that Records come out as connections end.
			if lastWall.Sub(lastFlush) >= liveFlushEvery {
				e.Flush()
				lastFlush = lastWall
			}
		}
		if n&1023 == 0 {
			progress()
		}
	}
	// The end: every open connection is reported, in order.
	e.Close(lastTS)
	if retain {
		src.Done(e.Done())
	}
	rs, ds, fs := e.Stats()
	return Summary{Segments: n, Reassembly: rs, Datagrams: ds, Flows: fs}, readErr
}

// settle hands the workers what was added and waits until every one has
// finished it: what is changed next is seen by no packet before.
func settle(e *engine) {
	e.Flush()
	for e.resolved.Load() < e.epoch {
		time.Sleep(50 * time.Microsecond)
	}
}
