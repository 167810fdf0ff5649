package conformance

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/conformance.md from this run")

// TestConformance runs the real binary over the peer captures named by
// TLSDISSECT_CONFORMANCE and checks the scorecard against the thresholds
// and against the committed testdata/conformance.md.
func TestConformance(t *testing.T) {
	dir := os.Getenv("TLSDISSECT_CONFORMANCE")
	if dir == "" {
		t.Skip("TLSDISSECT_CONFORMANCE is not set: set it to the peer captures directory (.ci/run uses ../shared/captures) to run the conformance scorecard")
	}
	// The test runs in internal/conformance; the repository root is two
	// levels up, and relative paths are taken from there.
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatalf("TLSDISSECT_CONFORMANCE=%s: %v", os.Getenv("TLSDISSECT_CONFORMANCE"), err)
	}
	entries, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	bin, err := Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runs := Runner{Bin: bin, Timeout: 60 * time.Second, Workers: 2}.RunAll(ctx, dir, entries)
	sc := Evaluate(dir, entries, runs)
	sc.Elapsed = time.Since(start)

	for _, f := range sc.Failures(runs) {
		t.Errorf("tlsdissect failed on %s", f)
	}
	for _, c := range Categories {
		tt := sc.Totals[c.Name]
		t.Logf("%-22s %5d / %5d  (%d conflicting)", c.Name, tt.Agree, tt.Total, tt.Conflicts)
	}
	// Every record must match the published schema.
	bad, checked, err := SchemaViolations(runs)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("schema: %s", b)
	}
	t.Logf("%d records checked against docs/schema/tlsdissect.flow-1.schema.json", checked)
	for _, b := range sc.BelowThresholds(thresholds) {
		t.Errorf("below threshold: %s", b)
	}

	md := sc.Markdown(thresholds)
	golden := filepath.Join(root, "testdata", "conformance.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s; measured agreement counts:\n%s", golden, ThresholdsSource(sc))
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/conformance -update to create it)", err)
	}
	if !SameReport(string(want), md) {
		t.Errorf("testdata/conformance.md is not current (go test ./internal/conformance -update, or make conformance, rewrites it):\n%s",
			ReportDiff(string(want), md, 12))
	}
}
