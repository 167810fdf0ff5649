package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
)

// zeekDirNames are the logs -zeek-dir writes, in the order of
// output.NewZeekLogs' arguments.
var zeekDirNames = [...]string{"ssl.log", "x509.log", "conn.log"}

// zeekDir is the -zeek-dir writer: the three logs, each a buffered file.
// Each record goes to the -F writer and then here.
type zeekDir struct {
	next  output.Writer
	logs  *output.ZeekLogs
	files [len(zeekDirNames)]*os.File
	bufs  [len(zeekDirNames)]*bufio.Writer
	live  bool
}

// withZeekDir returns w itself without -zeek-dir, else a Writer that
// writes each record to w and to the logs of the directory, which it
// creates (the logs are truncated).
func withZeekDir(o *options, w output.Writer) (output.Writer, error) {
	if o.zeekDir == "" {
		return w, nil
	}
	if err := os.MkdirAll(o.zeekDir, 0o755); err != nil {
		return nil, fmt.Errorf("-zeek-dir: %w", err)
	}
	z := &zeekDir{next: w, live: o.live != ""}
	for i, name := range zeekDirNames {
		f, err := os.OpenFile(filepath.Join(o.zeekDir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			z.closeFiles()
			return nil, fmt.Errorf("-zeek-dir: %w", err)
		}
		z.files[i] = f
		z.bufs[i] = bufio.NewWriterSize(f, batch)
	}
	z.logs = output.NewZeekLogs(z.sink(0), z.sink(1), z.sink(2))
	return z, nil
}

// sink is the writer of log i: its buffer, flushed as outSink flushes
// (every record live, else in batches at record boundaries).
func (z *zeekDir) sink(i int) *zeekSink { return &zeekSink{bw: z.bufs[i], live: z.live} }

func (z *zeekDir) Write(r *flows.Record) error {
	if err := z.next.Write(r); err != nil {
		return err
	}
	if err := z.logs.Write(r); err != nil {
		return fmt.Errorf("-zeek-dir: %w", err)
	}
	return nil
}

// Close closes the -F writer, then writes #close to the logs and closes
// them; the first error wins.
func (z *zeekDir) Close() error {
	err := z.next.Close()
	if lerr := z.logs.Close(); lerr != nil && err == nil {
		err = fmt.Errorf("-zeek-dir: %w", lerr)
	}
	for _, b := range z.bufs {
		if ferr := b.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("-zeek-dir: %w", ferr)
		}
	}
	if cerr := z.closeFiles(); cerr != nil && err == nil {
		err = fmt.Errorf("-zeek-dir: %w", cerr)
	}
	return err
}

func (z *zeekDir) closeFiles() error {
	var errs []error
	for i, f := range z.files {
		if f != nil {
			errs = append(errs, f.Close())
			z.files[i] = nil
		}
	}
	return errors.Join(errs...)
}

// zeekSink is one log's buffer as the output writers see it: Flush pushes
// it out live, or once a batch has gathered.
type zeekSink struct {
	bw   *bufio.Writer
	live bool
}

func (s *zeekSink) Write(p []byte) (int, error) { return s.bw.Write(p) }

func (s *zeekSink) Flush() error {
	if s.live || s.bw.Buffered() >= batch/2 {
		return s.bw.Flush()
	}
	return nil
}
