package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	t.Setenv("TLSDISSECT_CONFORMANCE", "")
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
		t.Errorf("no -captures: exit %d, stderr %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"-nope"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"-captures", t.TempDir()}, &out, &errb); code != 1 {
		t.Errorf("no manifest: exit %d", code)
	}
}

// A one-capture directory and a stand-in binary: the scorecard is printed
// and written, and the exit status is 1 because the committed thresholds
// are far above what one capture can reach.
func TestScorecard(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tlsdissect")
	script := "#!/bin/sh\necho '{\"client\":{\"ip\":\"192.0.2.1\",\"port\":1000},\"server\":{\"ip\":\"192.0.2.2\",\"port\":443},\"version\":\"TLS 1.2\",\"status\":\"established\"}'\n"
	files := map[string]string{
		"tlsdissect":                     script,
		"caps/manifest.json":             `[{"path": "x/a.pcap", "tcp_tls": 1, "tls_connections": 1}]`,
		"caps/x/a.pcap":                  "",
		"caps/x/a.pcap.tshark-conn.json": `{"connections": [{"conn": "tcp:0", "transport": "tcp", "client": "192.0.2.1:1000", "server": "192.0.2.2:443", "negotiated_version": "TLSv1.2", "timeline": []}]}`,
	}
	for n, body := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "conformance.md")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-captures", filepath.Join(dir, "caps"), "-bin", bin, "-write", out, "-thresholds"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "below threshold") || !strings.Contains(stderr.String(), "var thresholds") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "# tlsdissect conformance scorecard") || !strings.Contains(stdout.String(), "| run.captures | 1 | 1 |") {
		t.Errorf("stdout %q", stdout.String())
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != stdout.String() {
		t.Errorf("-write: %v", err)
	}
}
