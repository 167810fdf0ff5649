package main

import (
	"fmt"
	"io"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/recfilter"
)

// filterError is a -Y expression that does not compile: reported on one
// line, exit 2.
type filterError struct{ err error }

func (e *filterError) Error() string { return "-Y: " + e.err.Error() }
func (e *filterError) Unwrap() error { return e.err }

// selected is what -Y let through, and what -fail-exit and -w need of it.
// It is used by emit, on the pipeline's merger goroutine, and read once
// Run has returned.
type selected struct {
	passed, dropped uint64
	failed          uint64 // selected records whose handshake failed
	evalErrors      uint64
	firstErr        error
	// conns are the selected connections, for -w; kept only when keepConns.
	keepConns bool
	conns     []flows.Record
}

// keep reports whether r passes f (nil passes everything) and counts it.
// A record the expression cannot be evaluated on does not pass.
func (s *selected) keep(f *recfilter.Filter, r *flows.Record) bool {
	if f != nil {
		ok, err := f.Match(r)
		if err != nil {
			s.evalErrors++
			if s.firstErr == nil {
				s.firstErr = err
			}
		}
		if !ok || err != nil {
			s.dropped++
			return false
		}
	}
	s.passed++
	if r.Status == flows.StatusFailed {
		s.failed++
	}
	if s.keepConns {
		// Only what finds the packets again; the record's slices are not
		// the caller's to keep.
		s.conns = append(s.conns, flows.Record{TS: r.TS, EndTS: r.EndTS, Client: r.Client, Server: r.Server, UID: r.UID})
	}
	return true
}

// warn tells what -Y could not decide, and with -v what it kept.
func (s *selected) warn(stderr io.Writer, o *options) {
	if s.evalErrors > 0 {
		fmt.Fprintf(stderr, "%s: warning: -Y could not be evaluated on %d records, left out (first: %v)\n", progName, s.evalErrors, s.firstErr)
	}
	if o.verbose && o.display != nil {
		fmt.Fprintf(stderr, "%s: -Y %q kept %d of %d records\n", progName, o.display.String(), s.passed, s.passed+s.dropped)
	}
}
