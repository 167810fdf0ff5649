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
}

func openOutput(o *options, stdout io.Writer, hup <-chan os.Signal) (*outSink, error) {
	s := &outSink{name: "stdout", path: o.outFile, hup: hup}
	if o.outFile == "" {
		s.bw = bufio.NewWriterSize(stdout, 64<<10)
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
	s.bw = bufio.NewWriterSize(f, 64<<10)
	return nil
}

func (s *outSink) Write(p []byte) (int, error) { return s.bw.Write(p) }

// Flush pushes buffered output to the file; writers call it per record.
func (s *outSink) Flush() error { return s.bw.Flush() }

// reopenIfAsked reopens the -o file when a SIGHUP has arrived.
func (s *outSink) reopenIfAsked() error {
	if s.path == "" || s.hup == nil {
		return nil
	}
	select {
	case <-s.hup:
	default:
		return nil
	}
	if err := s.Close(); err != nil {
		return err
	}
	return s.open(os.O_APPEND)
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
