// Command tlsdissect reads packets from a capture file or a live interface,
// rebuilds every TCP connection, dissects the TLS inside and tells each
// connection's story: the handshake messages both ways, what was negotiated,
// tickets issued and redeemed, alerts, and why a failed handshake failed.
//
// The whole pipeline, left to right:
//
//	capture.Source ──Segment──► reassembly.Assembler ──bytes──► flows.Tracker ──Record──► output.Writer
//	  (pcap, pcapng,             (TCP streams, both           (dissect.Conn per           (table, ladder,
//	   live interface)            directions, in order)        connection, diagnosis)      json, ecs, zeek, ...)
//
// The middle runs in package pipeline (workers, ordered merge, the
// capture's clock); this command is flags, the source, the writer and the
// exit code.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/dissect/keys"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/pipeline"
)

const progName = "tlsdissect"

// Exit codes, as a packet person expects them.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitHandshake   = 3   // -fail-exit: a selected handshake failed
	exitInterrupted = 130 // 128 + SIGINT, as a shell reports it
)

// errInterrupted: a signal stopped the reading of a file before its end.
var errInterrupted = errors.New("interrupted")

// errHandshakeFailed: -fail-exit and a handshake failed.
var errHandshakeFailed = errors.New("a handshake failed")

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, hup)
	stop()
	os.Exit(code)
}

// tuneGC trades memory for CPU where the environment does not decide:
// the live heap is small and bounded by the reassembly budgets, and the
// default GOGC=100 spent about a fifth of a handshake-heavy run collecting
// it. Measured on the 50,000-connection benchmark capture (2 CPUs, two
// workers, three runs each): GOGC 100 took 1.02-1.12 s and 98-104 MiB,
// 150 took 0.87-0.91 s and 118-127 MiB, 200 0.80-1.03 s and 134-140 MiB
// (the live heap is 25-40 MB: lineage maps, read buffers in flight,
// connections). 2026-12-02, callgrind on the 5,000-handshake capture,
// one worker: 150 took 1,092 M instructions and 72 MiB, 300 1,023 M and
// 101 MiB; 300 it is. The memory limit makes the collector work harder
// only if a capture really holds that much (a 500k-SYN flood peaks at
// 540 MiB either way).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

// run is the whole program; main only adds the process around it, so that
// deferred flushes run and tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, hup <-chan os.Signal) int {
	opts, err := parseArgs(args, stderr)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	var fe *filterError
	if errors.As(err, &fe) {
		// One line, pointing at the column: the usage would hide it.
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		fmt.Fprintf(stderr, "usage: %s -r FILE | -i IFACE [flags] [BPF filter]; %s -h for help\n", progName, progName)
		return exitUsage
	}
	if opts.version {
		fmt.Fprintf(stdout, "%s %s\n", progName, version())
		return exitOK
	}
	if opts.listDevices {
		return listDevices(stdout, stderr)
	}
	stopProfiles, err := startProfiles(opts)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitFailure
	}
	defer stopProfiles()
	opts.detectTerminal(stdout, os.Getenv)
	err = dissectAll(ctx, opts, stdin, stdout, stderr, hup)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHandshakeFailed):
		return exitHandshake
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "%s: %v\n", progName, err)
	return exitFailure
}

// dissectAll runs the pipeline from the packet source to the writer.
func dissectAll(ctx context.Context, o *options, stdin io.Reader, stdout, stderr io.Writer, hup <-chan os.Signal) error {
	started := time.Now()

	// 1. Packets in. -w reads a file twice: standard input is kept in a
	// file for it. Live, -w keeps the frames of open connections instead
	// (liveWriter); asLive runs a file that way for the tests.
	liveRun := o.live != "" || o.asLive
	inputs := o.inputs
	if o.writeFile != "" && o.file == "-" && !liveRun {
		spool, err := spoolStdin(stdin)
		if err != nil {
			return err
		}
		defer os.Remove(spool)
		f, err := os.Open(spool)
		if err != nil {
			return err
		}
		defer f.Close()
		stdin, inputs = f, []string{spool}
	}
	src, err := openSource(o, stdin)
	if err != nil {
		return err
	}
	// A live capture blocks in Next; closing the source is how a signal
	// stops it. For files the loop below also checks ctx between packets.
	// Once only: capture.Source.Close run twice at the same time races on
	// its error field, and the second caller here waits for the first.
	closeSrc := sync.OnceValue(src.Close)
	defer closeSrc()
	stopped := context.AfterFunc(ctx, func() { closeSrc() })
	defer stopped()
	if o.live != "" && !o.quiet {
		// As tcpdump does: tells a person (and the live test) capture began.
		fmt.Fprintf(stderr, "%s: listening on %s, link-type %s, snapshot length %d bytes\n", progName, o.live, src.LinkType(), o.snaplen)
	}
	// 2. Records out. -o is opened before -Z drops privileges, so that it
	// may sit in a directory only root can write; a SIGHUP then reopens
	// it as USER, and when USER cannot, records go on to the open file.
	sink, err := openOutput(o, stdout, hup)
	if err != nil {
		return err
	}
	sink.warn = func(msg string) { fmt.Fprintf(stderr, "%s: warning: %s\n", progName, msg) }
	if o.runAs != "" {
		if err := dropPrivileges(o.runAs); err != nil {
			return err
		}
	}
	var lw *liveWriter
	var runSrc pipeline.Source = src
	var failed atomic.Bool
	if o.writeFile != "" && liveRun {
		fsrc, ok := src.(frameSource)
		if !ok {
			return fmt.Errorf("-w: %s cannot hand out its frames", o.sourceName())
		}
		if lw, err = newLiveWriter(o, func() { failed.Store(true) }); err != nil {
			return err
		}
		runSrc = &keepingSource{frameSource: fsrc, lw: lw}
	}
	// Live, a table prints each row as its connection ends.
	w, err := output.New(o.format, sink, output.Options{Width: o.width, Color: o.colorOn, Title: o.title(), Stream: o.live != "", NoLegend: o.noLegend})
	if err != nil {
		return err
	}
	if w, err = withZeekDir(o, w); err != nil {
		return err
	}
	// emit runs on one goroutine at a time, the pipeline's merger.
	// writeErr is read here only once Run has returned; failed and
	// written may be read any time.
	var writeErr error
	var written atomic.Uint64
	sel := selected{keepConns: o.writeFile != "" && lw == nil}
	emit := func(r *flows.Record) {
		if writeErr != nil {
			return
		}
		keep := sel.keep(o.display, r)
		if lw != nil {
			lw.record(r, keep)
		}
		if !keep {
			return
		}
		if err := sink.reopenIfAsked(); err != nil {
			writeErr = err
			failed.Store(true)
			return
		}
		if err := w.Write(r); err != nil {
			writeErr = fmt.Errorf("writing %s: %w", sink.name, err)
			failed.Store(true)
			return
		}
		written.Add(1)
	}

	// 3. The middle and its loop: the pipeline.
	roots, err := loadRoots(o.caBundle)
	if err != nil {
		return err
	}
	keylog, secretsBetween, err := loadKeyLog(o.keylogs, src, stderr)
	if err != nil {
		return err
	}
	fcfg := flows.Config{RootsFunc: roots, ReportNonTLS: o.reportNonTLS}
	if keylog != nil {
		fcfg.Dissect.Keys = keylog
	}
	stats := newStatsPrinter(o.statsEvery, stderr)
	progress := newProgress(o, src, stderr)
	sum, readErr := pipeline.Run(ctx, runSrc, pipeline.Config{
		Workers:    o.workers,
		Reassembly: o.reassemblyConfig(),
		Flows:      fcfg,
		Live:       liveRun,
		Now:        time.Now,
		Count:      o.count,
		Stop:       failed.Load,
		Between:    secretsBetween,
		Progress: func(p pipeline.Progress) {
			progress.update(p.Segments)
			stats.maybePrint(src, p.Segments, p.Open, written.Load())
		},
	}, emit)
	progress.done()

	// 4. The end: the writer is flushed.
	if err := w.Close(); err != nil && writeErr == nil {
		writeErr = fmt.Errorf("writing %s: %w", sink.name, err)
	}
	if err := sink.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if lw != nil {
		if err := lw.close(); err != nil && writeErr == nil {
			writeErr = err
		}
	}

	// A signal stopped a file's reading: what came out is partial. Live,
	// a signal is how a capture ends.
	interrupted := ctx.Err() != nil && o.live == ""
	if !o.quiet {
		printSummary(stderr, src.Stats(), sum.Reassembly, sum.Datagrams, sum.Flows, outcome{
			written: written.Load(), filteredOut: sel.dropped, filtering: o.display != nil,
			writeFailed: writeErr != nil,
		}, time.Since(started))
	}
	sel.warn(stderr, o)
	if lw != nil {
		lw.report(stderr, o.verbose)
	}
	if writeErr != nil {
		return writeErr
	}
	if interrupted {
		if o.writeFile != "" {
			fmt.Fprintf(stderr, "%s: -w %s not written: interrupted\n", progName, o.writeFile)
		}
	} else if o.writeFile != "" && lw == nil {
		if err := writePackets(o, inputs, sel.conns, readErr != nil, stderr); err != nil {
			return err
		}
	}
	if readErr != nil {
		// capture's errors already name the file and the problem.
		return readErr
	}
	if interrupted {
		return fmt.Errorf("%w reading %s after %d packets: the output is partial", errInterrupted, o.sourceName(), src.Stats().Packets)
	}
	if cs := src.Stats(); cs.Packets > 0 && cs.Skipped[capture.SkipLinkType] == cs.Packets {
		// Nothing at all could be read: say why rather than report an
		// empty capture.
		return fmt.Errorf("%s: every packet is of link type %s, which is not supported", o.sourceName(), cs.UnsupportedLinkType)
	}
	if o.failExit && sel.failed > 0 {
		return errHandshakeFailed
	}
	return nil
}

// openSource opens the file(s) or interface the flags name.
func openSource(o *options, stdin io.Reader) (packetSource, error) {
	filter := strings.Join(o.filter, " ")
	if o.live != "" {
		name, err := interfaceByIndex(o.live, capture.ListDevices)
		if err != nil {
			return nil, err
		}
		o.live = name
		return openLive(o.live, capture.LiveOptions{
			Options:    capture.Options{Filter: filter, Snaplen: o.snaplen},
			Promisc:    !o.noPromisc,
			BufferSize: o.bufferKiB << 10,
			Timeout:    250 * time.Millisecond,
			Immediate:  true,
			// Wake up on a quiet link to expire idle connections and print
			// statistics.
			WakeOnTimeout: true,
		})
	}
	if o.file == "-" {
		// The command's standard input, which is the process's in main
		// and a buffer in the tests.
		src, err := capture.OpenReader(stdin, "-", capture.Options{Filter: filter, Snaplen: o.snaplen})
		if err != nil {
			return nil, err // not a nil *capture.Source in an interface
		}
		return src, nil
	}
	if len(o.inputs) > 1 {
		return openMerged(o.inputs, capture.Options{Filter: filter, Snaplen: o.snaplen})
	}
	src, err := capture.OpenFile(o.file, capture.Options{Filter: filter, Snaplen: o.snaplen})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// loadRoots reads the trust store used to validate server chains. Without
// -ca-bundle the system roots are used; no roots at all is not an error,
// validation then reports every chain as unknown_authority. A bundle is
// read now, so that a bad one is reported before any packet; the system
// roots (some 20 ms of parsing) load on another goroutine while packets
// are read, and only a chain to verify waits for them.
func loadRoots(path string) (func() *x509.CertPool, error) {
	if path == "" {
		system := sync.OnceValue(func() *x509.CertPool {
			pool, err := x509.SystemCertPool()
			if err != nil {
				return x509.NewCertPool()
			}
			return pool
		})
		go system()
		return system, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-ca-bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca-bundle %s: no PEM certificate found", path)
	}
	return func() *x509.CertPool { return pool }, nil
}

// maxKeyLogWarnings bounds the lines reporting a damaged key log.
const maxKeyLogWarnings = 5

// secretsSource is a source whose pcapng files may carry Decryption
// Secrets Blocks between their packets: a *capture.Source, or each file
// of a mergedSource.
type secretsSource interface {
	OnSecrets(func(text []byte)) bool
}

// loadKeyLog reads the -keylog files and the key logs a pcapng carried
// before its first packet. The later ones are kept as they are read and
// added by between (pipeline.Config.Between) once the packets before them
// are dissected, so that they take effect where they are in the file,
// whatever the number of workers. It returns nil when there
// are no files and src cannot carry secrets (a pcap file, an interface):
// no key log at all. A pcapng without secrets has a key log that stays
// empty and never loaded, which connections report as no key log either.
// A file that cannot be read is an error; lines that do not parse are
// reported on stderr (a few, then a count) and skipped, as is any line of
// a damaged log.
func loadKeyLog(files []string, src packetSource, stderr io.Writer) (kl *keys.KeyLog, between func() func(), err error) {
	kl = keys.NewKeyLog(keys.Limits{})
	blocks := 0  // Decryption Secrets Blocks added
	warned := 0  // problems reported
	skipped := 0 // ... and not reported, past maxKeyLogWarnings
	report := func(problems []error) {
		for _, p := range problems {
			if warned == maxKeyLogWarnings {
				skipped++
				continue
			}
			warned++
			fmt.Fprintf(stderr, "%s: warning: %s\n", progName, output.Sanitize(p.Error()))
		}
	}
	addBlock := func(text []byte) {
		blocks++
		report(kl.ParseKeyLogText(text, fmt.Sprintf("decryption secrets block %d", blocks)))
	}
	// The callbacks first, then what was read before them: no block is
	// lost between the two, none counted twice (both on this goroutine
	// until Run starts, then on Run's).
	later := false
	var srcs []secretsSource
	switch s := src.(type) {
	case *mergedSource:
		for _, f := range s.srcs {
			srcs = append(srcs, f)
		}
	case secretsSource:
		srcs = append(srcs, s)
	}
	var pending [][]byte // read, not yet added
	for _, s := range srcs {
		if s.OnSecrets(func(text []byte) { pending = append(pending, bytes.Clone(text)) }) {
			later = true
		}
	}
	apply := func() {
		n := skipped
		for _, text := range pending {
			addBlock(text)
		}
		pending = nil
		if skipped > n {
			fmt.Fprintf(stderr, "%s: warning: %d more key log lines skipped\n", progName, skipped-n)
		}
	}
	between = func() func() {
		if len(pending) == 0 {
			return nil
		}
		return apply
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, fmt.Errorf("-keylog: %w", err)
		}
		report(kl.Parse(f, name))
		f.Close()
	}
	var embedded [][]byte
	if src != nil {
		embedded = src.Secrets()
	}
	for _, text := range embedded {
		addBlock(text)
	}
	if skipped > 0 {
		fmt.Fprintf(stderr, "%s: warning: %d more key log lines skipped\n", progName, skipped)
	}
	if kl.Len() == 0 && len(files) > 0 {
		fmt.Fprintf(stderr, "%s: warning: the key log holds no secrets\n", progName)
	}
	if len(files) == 0 && len(embedded) == 0 && !later {
		return nil, nil, nil
	}
	if !later {
		between = nil
	}
	return kl, between, nil
}

// openLive opens an interface; an error is a nil interface, not a nil
// *capture.Source.
func openLive(name string, opts capture.LiveOptions) (packetSource, error) {
	src, err := capture.OpenLive(name, opts)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// interfaceByIndex reads -i N as tcpdump does: the Nth interface -D
// lists, unless an interface is called N.
func interfaceByIndex(name string, list func() ([]capture.Device, error)) (string, error) {
	n, err := strconv.Atoi(name)
	if err != nil || n < 1 || strconv.Itoa(n) != name {
		return name, nil
	}
	devs, err := list()
	if err != nil {
		return "", fmt.Errorf("-i %s: %w", name, err)
	}
	for _, d := range devs {
		if d.Name == name {
			return name, nil
		}
	}
	if n > len(devs) {
		return "", fmt.Errorf("-i %d: there are %d interfaces (tlsdissect -D lists them)", n, len(devs))
	}
	return devs[n-1].Name, nil
}

func listDevices(stdout, stderr io.Writer) int {
	devs, err := capture.ListDevices()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitFailure
	}
	for i, d := range devs {
		desc := d.Description
		if desc != "" {
			desc = " (" + desc + ")"
		}
		var flags []string
		if d.Up {
			flags = append(flags, "Up")
		}
		if d.Loopback {
			flags = append(flags, "Loopback")
		}
		fl := ""
		if len(flags) > 0 {
			fl = " [" + strings.Join(flags, ", ") + "]"
		}
		fmt.Fprintf(stdout, "%d.%s%s%s\n", i+1, d.Name, desc, fl)
	}
	return exitOK
}
