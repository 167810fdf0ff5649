package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A SIGHUP whose file cannot be opened again (its directory rotated away)
// keeps the records going to the file already open, says so, and does
// not end the run; one that can reopens as logrotate expects.
func TestReopenKeepsTheOldFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.json")
	hup := make(chan os.Signal, 1)
	s, err := openOutput(&options{outFile: path}, nil, hup)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	s.warn = func(m string) { warned = append(warned, m) }
	s.Write([]byte("one\n"))

	// Rotation: the file is moved, the signal comes, a new file appears.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	if err := s.reopenIfAsked(); err != nil || len(warned) != 0 {
		t.Fatalf("reopen: %v, warnings %q", err, warned)
	}
	s.Write([]byte("two\n"))

	// The directory goes away: the next SIGHUP cannot reopen.
	f := s.f
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	if err := s.reopenIfAsked(); err != nil {
		t.Fatalf("a reopen that cannot be done ended the run: %v", err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "still writing") || s.f != f {
		t.Errorf("warnings %q; the old file kept: %v", warned, s.f == f)
	}
	if _, err := s.Write([]byte("three\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
