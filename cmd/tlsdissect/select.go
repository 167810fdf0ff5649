package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/pcapout"
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
	conns     []pcapout.Conn
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
			s.addConn(r, false)
			return false
		}
	}
	s.passed++
	if r.Status == flows.StatusFailed {
		s.failed++
	}
	s.addConn(r, true)
	return true
}

// addConn keeps what -w needs to find r's packets again (copied: the
// record is not ours to keep), selected or not: the connections left out
// tell where the selected ones end when ports are reused.
func (s *selected) addConn(r *flows.Record, sel bool) {
	if !s.keepConns {
		return
	}
	if c, ok := connOf(r); ok {
		c.Selected = sel
		s.conns = append(s.conns, c)
	}
}

// warn tells what -Y could not decide, and with -v what it kept.
func (s *selected) warn(stderr io.Writer, o *options) {
	if s.evalErrors > 0 {
		fmt.Fprintf(stderr, "%s: warning: -Y could not be evaluated on %d records, left out (first: %v)\n", progName, s.evalErrors, s.firstErr)
	}
	if o.display != nil && s.passed+s.dropped > 0 {
		if un := o.display.Unseen(); len(un) > 0 {
			fmt.Fprintf(stderr, "%s: warning: -Y names %s, which no record had (the names are those of -F json)\n", progName, strings.Join(un, ", "))
		}
	}
	if o.verbose && o.display != nil {
		fmt.Fprintf(stderr, "%s: -Y %q kept %d of %d records\n", progName, o.display.String(), s.passed, s.passed+s.dropped)
	}
}
