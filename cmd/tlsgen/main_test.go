package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-out", dir, "-only", "nontls", "-v"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "nontls.pcap"))
	if err != nil || len(b) < 100 {
		t.Fatalf("nontls.pcap: %v (%d bytes)", err, len(b))
	}
	committed, err := os.ReadFile("../../testdata/captures/nontls.pcap")
	if err != nil || !bytes.Equal(b, committed) {
		t.Errorf("the command's nontls.pcap differs from the committed one (%v)", err)
	}
	if !strings.Contains(out.String(), "nontls.pcap") {
		t.Errorf("stdout: %q", out.String())
	}
}

func TestRunBench(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-out", dir, "-bench-handshakes", "50", "-bench-bulk", "100000"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, name := range []string{"bench-handshakes.pcap", "bench-bulk.pcap"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() < 10000 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-nosuchflag"}, {"extra"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.HasPrefix(errb.String(), "tlsgen: ") && !strings.Contains(errb.String(), "flag provided but not defined") {
			t.Errorf("%q: stderr %q", args, errb.String())
		}
	}
}
