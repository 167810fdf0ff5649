// Command tlsconformance runs tlsdissect over the peer captures and prints
// the conformance scorecard (Markdown) for people; with -write it also
// rewrites the committed scorecard (testdata/conformance.md).
//
//	go run ./cmd/tlsconformance -captures ../shared/captures -bin bin/tlsdissect
//	go run ./cmd/tlsconformance -captures ../shared/captures -write testdata/conformance.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/tlsdissect/tlsdissect/internal/conformance"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tlsconformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	captures := fs.String("captures", os.Getenv("TLSDISSECT_CONFORMANCE"), "peer captures directory (holds manifest.json)")
	bin := fs.String("bin", "", "tlsdissect binary (default: build ./cmd/tlsdissect into a temporary directory)")
	write := fs.String("write", "", "also write the scorecard to this file (testdata/conformance.md)")
	workers := fs.Int("j", 2, "captures run at once")
	timeout := fs.Duration("timeout", 60*time.Second, "per-capture time limit (a hang is a failure)")
	thresholds := fs.Bool("thresholds", false, "print the measured agreement counts as thresholds.go source on stderr")
	quiet := fs.Bool("q", false, "do not print the scorecard on stdout")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *captures == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: tlsconformance -captures DIR [-bin PATH] [-write FILE] [-j N] [-timeout DUR] [-thresholds] [-q]")
		return 2
	}
	entries, err := conformance.LoadManifest(*captures)
	if err != nil {
		fmt.Fprintf(stderr, "tlsconformance: %v\n", err)
		return 1
	}
	if *bin == "" {
		root, err := conformance.RepoRoot(".")
		if err != nil {
			fmt.Fprintf(stderr, "tlsconformance: %v\n", err)
			return 1
		}
		tmp, err := os.MkdirTemp("", "tlsconformance")
		if err != nil {
			fmt.Fprintf(stderr, "tlsconformance: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		if *bin, err = conformance.Build(ctx, root, tmp); err != nil {
			fmt.Fprintf(stderr, "tlsconformance: %v\n", err)
			return 1
		}
	}
	start := time.Now()
	runs := conformance.Runner{Bin: *bin, Timeout: *timeout, Workers: *workers}.RunAll(ctx, *captures, entries)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "tlsconformance: interrupted")
		return 1
	}
	sc := conformance.Evaluate(*captures, entries, runs)
	sc.Elapsed = time.Since(start)
	md := sc.Markdown(conformance.Thresholds())
	if !*quiet {
		io.WriteString(stdout, md)
	}
	if *write != "" {
		if err := os.WriteFile(*write, []byte(md), 0o644); err != nil {
			fmt.Fprintf(stderr, "tlsconformance: %v\n", err)
			return 1
		}
	}
	if *thresholds {
		io.WriteString(stderr, conformance.ThresholdsSource(sc))
	}
	code := 0
	for _, f := range sc.Failures(runs) {
		fmt.Fprintf(stderr, "tlsconformance: tlsdissect failed on %s\n", f)
		code = 1
	}
	for _, b := range sc.BelowThresholds(conformance.Thresholds()) {
		fmt.Fprintf(stderr, "tlsconformance: below threshold: %s\n", b)
		code = 1
	}
	return code
}
