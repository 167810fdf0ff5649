package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// outSink is where records go: stdout or the -o file, buffered, flushed by
// the writers after each record. On SIGHUP the file is closed and opened
// again under the same name, so that logrotate can move it away.
type outSink struct {
	name string
	path string // "" for stdout
	f    *os.File
	bw   *bufio.Writer
	hup  <-chan os.Signal
	// live: every record is pushed out at once (a sensor's reader waits
	// for it). Reading a file, records are pushed out in batches, always
	// at a record boundary, so a reader tailing -o never sees half a line
	// and a busy run does not pay a write per record.
	live bool
	// warn says, on stderr, what a SIGHUP could not do.
	warn func(string)
}

// batch is how much a file run buffers before it writes, at a record
// boundary; the buffer is larger so that a record rarely straddles it.
const batch = 64 << 10

func openOutput(o *options, stdout io.Writer, hup <-chan os.Signal) (*outSink, error) {
	s := &outSink{name: "stdout", path: o.outFile, hup: hup, live: o.live != ""}
	if o.outFile == "" {
		s.bw = bufio.NewWriterSize(stdout, 4*batch)
		return s, nil
	}
	if err := s.open(os.O_TRUNC); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *outSink) open(mode int) error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|mode, 0o644)
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	s.f, s.name = f, s.path
	s.bw = bufio.NewWriterSize(f, 4*batch)
	return nil
}

func (s *outSink) Write(p []byte) (int, error) { return s.bw.Write(p) }

// Flush is called by the writers after each record: live, it pushes the
// record out; reading a file, only once a batch has gathered.
func (s *outSink) Flush() error {
	if s.live || s.bw.Buffered() >= batch {
		return s.bw.Flush()
	}
	return nil
}

// reopenIfAsked reopens the -o file when a SIGHUP has arrived. The new
// file is opened before the old one is closed: when it cannot be (the
// directory rotated away, no permission), the records keep going to the
// old file and the run goes on, saying so, rather than ending and losing
// the connections still open.
func (s *outSink) reopenIfAsked() error {
	if s.path == "" || s.hup == nil {
		return nil
	}
	select {
	case <-s.hup:
	default:
		return nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		if s.warn != nil {
			s.warn(fmt.Sprintf("SIGHUP: cannot reopen -o %s (%v); still writing to the file already open", s.path, err))
		}
		return nil
	}
	if err := s.Close(); err != nil {
		f.Close()
		return err
	}
	s.f, s.name = f, s.path
	s.bw = bufio.NewWriterSize(f, 4*batch)
	return nil
}

func (s *outSink) Close() error {
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", s.name, err)
	}
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("closing %s: %w", s.name, err)
	}
	return nil
}
