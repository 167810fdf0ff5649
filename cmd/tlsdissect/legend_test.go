package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNoLegend: -no-legend drops the key under table and summary, and
// only that.
func TestNoLegend(t *testing.T) {
	in := filepath.Join(capturesDir, "multi.pcap")
	for _, c := range []struct{ format, key string }{{"table", "Messages: →"}, {"summary", "Shares: of TLS connections"}} {
		with := runBin(t, nil, "-q", "-F", c.format, "-r", in)
		without := runBin(t, nil, "-q", "-F", c.format, "-no-legend", "-r", in)
		if with.code != 0 || without.code != 0 {
			t.Fatalf("%s: exit %d, %d: %s%s", c.format, with.code, without.code, with.stderr, without.stderr)
		}
		if !strings.Contains(with.stdout, c.key) || strings.Contains(without.stdout, c.key) {
			t.Errorf("%s: legend with %v, with -no-legend %v", c.format, strings.Contains(with.stdout, c.key), strings.Contains(without.stdout, c.key))
		}
		if i := strings.Index(with.stdout, c.key); i < 0 || !strings.HasPrefix(with.stdout, strings.TrimRight(without.stdout, "\n")) {
			t.Errorf("%s: -no-legend changed more than the legend", c.format)
		}
	}
}
