package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// errHelp means -h was asked for and the usage has been printed.
var errHelp = errors.New("help requested")

// options is everything the command line says.
type options struct {
	file        string
	live        string
	filter      []string
	format      string
	outFile     string
	snaplen     int
	count       uint64
	noPromisc   bool
	bufferKiB   int
	listDevices bool
	runAs       string
	quiet       bool
	statsEvery  time.Duration
	caBundle    string
	keylogs     stringList
	width       int
	version     bool
	cpuProfile  string
	memProfile  string

	reportNonTLS bool
	idleTimeout  time.Duration
	gapTimeout   time.Duration
	maxConns     int
	maxBufConn   int
	maxBufTotal  int
	workers      int
}

const usageText = `usage: tlsdissect -r FILE [flags] [BPF filter]
       tlsdissect -i IFACE [flags] [BPF filter]
       tlsdissect -D

Reads packets, rebuilds every TCP connection, dissects the TLS inside and
tells each connection's story: messages both ways, what was negotiated,
tickets, alerts, and why a failed handshake failed. TLS is found by content,
on any port. The BPF filter (tcpdump syntax) applies to files too.

Input:
  -r FILE         read packets from a pcap or pcapng file ("-" = stdin)
  -i IFACE        capture live on IFACE ("any" for all; needs root or CAP_NET_RAW)
  -D              list the interfaces -i accepts, then exit
  -s SNAPLEN      bytes captured per packet (default 262144)
  -c COUNT        stop after COUNT TCP packets
  -p              do not put the interface into promiscuous mode
  -B KIB          live capture buffer size in KiB (default 4096)
  -Z USER         after opening the interface, drop privileges to USER

Output (data to stdout, diagnostics to stderr):
  -F FORMAT       table (default), ladder, json, ecs, zeek, summary, html
  -o FILE         write to FILE instead of stdout (SIGHUP reopens it)
  -w WIDTH        terminal width for table and summary (default 80)
  -q              no summary line and no progress bar on stderr
  -stats DUR      print packet/drop/connection counters to stderr every DUR
  -not-tls        also report TCP connections that never carried TLS

Analysis:
  -keylog FILE    NSS key log (SSLKEYLOGFILE) to decrypt with; repeat for several
                  (secrets in a pcapng Decryption Secrets Block are used anyway)
  -ca-bundle FILE PEM trust store to validate server chains as of the capture
                  time (default: the system roots)
  -idle DUR       close a connection idle this long in capture time (default 5m)
  -gap-wait DUR   how long a hole in a stream may wait for its data (default 2s)
  -max-conns N    connections tracked at once (default 1048576)
  -max-buffer B   out-of-order bytes held per connection (default 1048576)
  -max-memory B   out-of-order bytes held in all (default 67108864)
  -workers N      goroutines connections are sharded over (default: the
                  number of CPUs); the output is the same for any N, but
                  -max-conns and -max-memory are divided among them
  -version        print the version and exit
  -cpuprofile F   write a CPU profile (pprof) to F
  -memprofile F   write a heap profile (pprof) to F at the end

Exit status: 0 ok, 1 runtime error (bad or damaged input), 2 usage error.

Examples:
  tlsdissect -r capture.pcap
  tlsdissect -r capture.pcapng -F json -o flows.ndjson
  tlsdissect -r capture.pcap -F ladder 'host 192.0.2.1'
  tlsdissect -i eth0 -F json 'tcp port 443 or tcp port 8443'
`

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.file, "r", "", "")
	fs.StringVar(&o.live, "i", "", "")
	fs.BoolVar(&o.listDevices, "D", false, "")
	fs.IntVar(&o.snaplen, "s", 262144, "")
	fs.Uint64Var(&o.count, "c", 0, "")
	fs.BoolVar(&o.noPromisc, "p", false, "")
	fs.IntVar(&o.bufferKiB, "B", 4096, "")
	fs.StringVar(&o.runAs, "Z", "", "")
	fs.StringVar(&o.format, "F", "table", "")
	fs.StringVar(&o.outFile, "o", "", "")
	fs.IntVar(&o.width, "w", 80, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.DurationVar(&o.statsEvery, "stats", 0, "")
	fs.BoolVar(&o.reportNonTLS, "not-tls", false, "")
	fs.StringVar(&o.caBundle, "ca-bundle", "", "")
	fs.Var(&o.keylogs, "keylog", "")
	fs.DurationVar(&o.idleTimeout, "idle", 5*time.Minute, "")
	fs.DurationVar(&o.gapTimeout, "gap-wait", 2*time.Second, "")
	fs.IntVar(&o.maxConns, "max-conns", 1<<20, "")
	fs.IntVar(&o.maxBufConn, "max-buffer", 1<<20, "")
	fs.IntVar(&o.maxBufTotal, "max-memory", 64<<20, "")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "")
	fs.StringVar(&o.memProfile, "memprofile", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usageText)
			return nil, errHelp
		}
		return nil, err
	}
	o.filter = fs.Args()
	if o.version || o.listDevices {
		return o, nil
	}
	switch {
	case o.file == "" && o.live == "":
		return nil, errors.New("no input: give -r FILE or -i IFACE")
	case o.file != "" && o.live != "":
		return nil, errors.New("-r and -i exclude each other")
	}
	if !validFormat(o.format) {
		return nil, fmt.Errorf("unknown format %q for -F (want one of %s)", o.format, strings.Join(output.Formats(), ", "))
	}
	if o.format == "html" && o.outFile == "" {
		// A page on a terminal helps nobody; ask for a file.
		return nil, errors.New("-F html writes a page: give -o FILE")
	}
	if o.snaplen <= 0 || o.snaplen > 1<<18 {
		return nil, fmt.Errorf("-s %d: snaplen must be 1..262144", o.snaplen)
	}
	if o.bufferKiB <= 0 {
		return nil, fmt.Errorf("-B %d: buffer size must be positive", o.bufferKiB)
	}
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"-idle", o.idleTimeout}, {"-gap-wait", o.gapTimeout}, {"-stats", o.statsEvery}} {
		if v.d < 0 {
			return nil, fmt.Errorf("%s %v: must not be negative", v.name, v.d)
		}
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"-max-conns", o.maxConns}, {"-max-buffer", o.maxBufConn}, {"-max-memory", o.maxBufTotal}, {"-w", o.width}, {"-workers", o.workers}} {
		if v.n <= 0 {
			return nil, fmt.Errorf("%s %d: must be positive", v.name, v.n)
		}
	}
	if o.width < 40 {
		o.width = 40
	}
	return o, nil
}

func validFormat(f string) bool {
	for _, g := range output.Formats() {
		if f == g {
			return true
		}
	}
	return false
}

func (o *options) reassemblyConfig() reassembly.Config {
	return reassembly.Config{
		MaxBufferedPerConn: o.maxBufConn,
		MaxBufferedTotal:   o.maxBufTotal,
		MaxConns:           o.maxConns,
		IdleTimeout:        o.idleTimeout,
		GapTimeout:         o.gapTimeout,
	}
}

// sourceName names the input in messages.
func (o *options) sourceName() string {
	if o.live != "" {
		return o.live
	}
	if o.file == "-" {
		return "stdin"
	}
	return o.file
}

// title is what a report is called.
func (o *options) title() string { return o.sourceName() }

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
