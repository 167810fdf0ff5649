package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/reassembly"
	"github.com/tlsdissect/tlsdissect/recfilter"
)

// errHelp means -h was asked for and the usage has been printed.
var errHelp = errors.New("help requested")

// options is everything the command line says.
type options struct {
	files      stringList // -r as given
	inputs     []string   // the files they name (directories and globs expanded)
	file       string     // inputs[0]
	live       string
	filter     []string
	format     string
	outFile    string
	zeekDir    string // -zeek-dir: ssl.log, x509.log and conn.log there
	writeFile  string // -w: the selected connections' packets
	wMaxConn   int    // -w live: bytes of frames held per open connection
	wMaxMemory int    // -w live: ... in all
	noLegend   bool   // -no-legend: no key under table and summary
	// asLive runs a file as a live capture is run (records as connections
	// close, -w from frames kept): tests only, no flag sets it.
	asLive      bool
	displayExpr string // -Y
	display     *recfilter.Filter
	snaplen     int
	count       uint64
	noPromisc   bool
	bufferKiB   int
	listDevices bool
	runAs       string
	quiet       bool
	verbose     bool
	statsEvery  time.Duration
	caBundle    string
	keylogs     stringList
	width       int
	widthSet    bool // -width given: no detection
	color       string
	colorOn     bool // decided by detectTerminal
	failExit    bool
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

// flagDoc documents one flag; the usage text, the man page and the shell
// completion are all drawn from flagDocs, and a test holds it to the
// flags parseArgs defines.
type flagDoc struct {
	name    string // without the dash
	arg     string // the value's name; "" for a switch
	section string
	help    string
	// values a completion offers for arg ("file" for a path, "iface" for
	// an interface, or a space-separated list of words).
	complete string
	liveOnly bool // meaningless with -r: refused
}

// The sections, in the order usage prints them.
var flagSections = []string{"Input", "Filters", "Output", "Analysis", "Program"}

// flagDocs is every flag, in the order usage prints them.
var flagDocs = []flagDoc{
	{name: "r", arg: "FILE", section: "Input", complete: "file", help: `read packets from a pcap or pcapng file ("-" = stdin); repeat it, or give a directory or a quoted glob, to read several files as one capture in time order`},
	{name: "i", arg: "IFACE", section: "Input", complete: "iface", help: `capture live on IFACE, or the Nth of -D ("any" for all; needs root or CAP_NET_RAW)`},
	{name: "D", section: "Input", help: "list the interfaces -i accepts, numbered, then exit"},
	{name: "s", arg: "SNAPLEN", section: "Input", help: "bytes captured per packet (default 262144)"},
	{name: "c", arg: "COUNT", section: "Input", help: "stop after COUNT TCP packets"},
	{name: "p", section: "Input", liveOnly: true, help: "do not put the interface into promiscuous mode"},
	{name: "B", arg: "KIB", section: "Input", liveOnly: true, help: "live capture buffer size in KiB (default 4096)"},
	{name: "Z", arg: "USER", section: "Input", liveOnly: true, help: "after opening the interface and the -o file, drop privileges to USER (a SIGHUP then reopens -o as USER; when it cannot, records go on to the open file)"},
	{name: "n", section: "Input", help: "accepted for tcpdump's sake: addresses are never resolved"},
	{name: "Y", arg: "EXPR", section: "Filters", help: `display filter over the record's fields, before every format, e.g. 'status == "failed" and sni endsWith ".example.com"'`},
	{name: "F", arg: "FORMAT", section: "Output", complete: strings.Join(output.Formats(), " "), help: "table (default), ladder, json, ecs, zeek (Zeek's TSV ssl.log), zeek-json, summary, html"},
	{name: "o", arg: "FILE", section: "Output", complete: "file", help: `write records to FILE instead of stdout ("-" = stdout; SIGHUP reopens it)`},
	{name: "zeek-dir", arg: "DIR", section: "Output", complete: "file", help: "also write ssl.log, x509.log and conn.log in DIR, as a Zeek logs directory holds them (linked by uid and certificate fingerprint)"},
	{name: "w", arg: "FILE", section: "Output", complete: "file", help: "write the packets of the connections that pass -Y to FILE: pcapng, or pcap when FILE ends in .pcap; with -i, each connection's packets as it closes"},
	{name: "w-max-conn", arg: "B", section: "Output", liveOnly: true, help: "with -i: bytes of packets -w holds per open connection until it closes (default 1048576); past it a connection keeps its first packets"},
	{name: "w-max-memory", arg: "B", section: "Output", liveOnly: true, help: "with -i: bytes of packets -w holds in all (default 67108864); what the bounds leave out is counted on stderr"},
	{name: "width", arg: "N", section: "Output", help: "width for table and summary (default: the terminal's, else 80)"},
	{name: "color", arg: "WHEN", section: "Output", complete: "auto always never", help: "colour the table and ladder: auto (a terminal, NO_COLOR unset), always, never"},
	{name: "no-legend", section: "Output", help: "leave out the key under the table and summary formats"},
	{name: "q", section: "Output", help: "no summary line and no progress bar on stderr"},
	{name: "v", section: "Output", help: "say more on stderr: what -Y and -w kept"},
	{name: "stats", arg: "DUR", section: "Output", help: "print packet/drop/connection counters to stderr every DUR"},
	{name: "not-tls", section: "Output", help: "also report TCP connections that never carried TLS"},
	{name: "fail-exit", section: "Output", help: "exit 3 when a handshake (of those passing -Y) failed"},
	{name: "keylog", arg: "FILE", section: "Analysis", complete: "file", help: "NSS key log (SSLKEYLOGFILE) to decrypt with; repeat for several (secrets in a pcapng Decryption Secrets Block are used anyway)"},
	{name: "ca-bundle", arg: "FILE", section: "Analysis", complete: "file", help: "PEM trust store to validate server chains as of the capture time (default: the system roots)"},
	{name: "idle", arg: "DUR", section: "Analysis", help: "close a connection idle this long in capture time (default 5m)"},
	{name: "gap-wait", arg: "DUR", section: "Analysis", help: "how long a hole in a stream may wait for its data (default 2s)"},
	{name: "max-conns", arg: "N", section: "Analysis", help: "connections tracked at once (default 1048576)"},
	{name: "max-buffer", arg: "B", section: "Analysis", help: "out-of-order bytes held per connection (default 1048576)"},
	{name: "max-memory", arg: "B", section: "Analysis", help: "out-of-order bytes held in all (default 67108864)"},
	{name: "workers", arg: "N", section: "Analysis", help: "goroutines connections are sharded over (default: the number of CPUs); the output is the same for any N, but -max-conns and -max-memory are divided among them"},
	{name: "version", section: "Program", help: "print the version and exit"},
	{name: "cpuprofile", arg: "F", section: "Program", complete: "file", help: "write a CPU profile (pprof) to F"},
	{name: "memprofile", arg: "F", section: "Program", complete: "file", help: "write a heap profile (pprof) to F at the end"},
	{name: "h", section: "Program", help: "print this help and exit"},
}

const usageHead = `usage: tlsdissect -r FILE [flags] [BPF filter]
       tlsdissect -i IFACE [flags] [BPF filter]
       tlsdissect -D

Reads packets, rebuilds every TCP connection, dissects the TLS inside and
tells each connection's story: messages both ways, what was negotiated,
tickets, alerts, and why a failed handshake failed. TLS is found by content,
on any port. The BPF filter (tcpdump syntax) applies to files too and comes
after the flags; single-letter flags combine as in tcpdump (-nr FILE).
`

const usageTail = `
Exit status: 0 ok, 1 runtime error (bad or damaged input, a failed write),
2 usage error, 3 a handshake failed (with -fail-exit), 130 interrupted.

Examples:
  tlsdissect -r capture.pcap
  tlsdissect -nr capture.pcapng -F json -o flows.ndjson
  tlsdissect -r capture.pcap -F ladder 'host 192.0.2.1'
  tlsdissect -r day.pcap -Y 'status == "failed"' -w failed.pcapng
  tlsdissect -i eth0 -F json 'tcp port 443 or tcp port 8443'
  tlsdissect -i eth0 -Y 'status == "failed"' -w failed.pcapng 'tcp port 443'
`

// usage is the -h text, drawn from flagDocs.
func usage() string {
	var b strings.Builder
	b.WriteString(usageHead)
	for _, sec := range flagSections {
		fmt.Fprintf(&b, "\n%s:\n", sec)
		for _, d := range flagDocs {
			if d.section != sec {
				continue
			}
			left := "  -" + d.name
			if d.arg != "" {
				left += " " + d.arg
			}
			writeWrapped(&b, left, d.help, 18, 78)
		}
	}
	b.WriteString(usageTail)
	return b.String()
}

// writeWrapped writes left padded to col, then text wrapped at width,
// continuation lines indented to col.
func writeWrapped(b *strings.Builder, left, text string, col, width int) {
	line := left
	if len(line) >= col {
		line += " "
	} else {
		line += strings.Repeat(" ", col-len(line))
	}
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, empty = strings.Repeat(" ", col), true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
}

func docFor(name string) (flagDoc, bool) {
	for _, d := range flagDocs {
		if d.name == name {
			return d, true
		}
	}
	return flagDoc{}, false
}

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&o.files, "r", "")
	fs.StringVar(&o.live, "i", "", "")
	fs.BoolVar(&o.listDevices, "D", false, "")
	fs.IntVar(&o.snaplen, "s", 262144, "")
	fs.Uint64Var(&o.count, "c", 0, "")
	fs.BoolVar(&o.noPromisc, "p", false, "")
	fs.IntVar(&o.bufferKiB, "B", 4096, "")
	fs.StringVar(&o.runAs, "Z", "", "")
	fs.Bool("n", false, "")
	fs.StringVar(&o.displayExpr, "Y", "", "")
	fs.StringVar(&o.format, "F", "table", "")
	fs.StringVar(&o.outFile, "o", "", "")
	fs.StringVar(&o.zeekDir, "zeek-dir", "", "")
	fs.StringVar(&o.writeFile, "w", "", "")
	fs.IntVar(&o.wMaxConn, "w-max-conn", defaultWMaxConn, "")
	fs.IntVar(&o.wMaxMemory, "w-max-memory", defaultWMaxMemory, "")
	fs.IntVar(&o.width, "width", 80, "")
	fs.BoolVar(&o.noLegend, "no-legend", false, "")
	fs.StringVar(&o.color, "color", "auto", "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.DurationVar(&o.statsEvery, "stats", 0, "")
	fs.BoolVar(&o.reportNonTLS, "not-tls", false, "")
	fs.BoolVar(&o.failExit, "fail-exit", false, "")
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
	return fs
}

// isSwitch reports whether a flag of fs takes no value.
func isSwitch(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return name == "h" || name == "help"
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// expandShort rewrites tcpdump's combined single-letter flags for the flag
// package: -nr FILE as -n -r FILE, -s96 as -s 96, -qnF json as -q -n -F
// json (a value is attached only when it is a number). Only the flags before the BPF filter are looked at, and an
// argument that is a flag's own name (-not-tls) or that does not spell
// single-letter flags is left for the flag package to judge.
func expandShort(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args)+4)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return append(out, args[i:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if fs.Lookup(name) != nil || name == "h" || name == "help" || strings.HasPrefix(a, "--") || len(name) < 2 || hasValue {
			out = append(out, a)
			if !hasValue && !isSwitch(fs, name) && fs.Lookup(name) != nil && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		var exp []string
		ok := true
		for j := 0; j < len(name); j++ {
			c := name[j : j+1]
			if fs.Lookup(c) == nil {
				ok = false
				break
			}
			exp = append(exp, "-"+c)
			if isSwitch(fs, c) {
				continue
			}
			if rest := name[j+1:]; rest != "" {
				// An attached value only when it is a number (-s96, -c10):
				// a mistyped long flag (-nonsense) must not become -n -o nsense.
				if strings.Trim(rest, "0123456789") != "" {
					ok = false
					break
				}
				exp = append(exp, rest)
			} else if i+1 < len(args) {
				i++
				exp = append(exp, args[i])
			}
			break
		}
		if !ok {
			out = append(out, a)
			continue
		}
		out = append(out, exp...)
	}
	return out
}

// flagLike reports whether a word of the BPF filter is one of our flags,
// which the flag package would have taken had it come first.
func flagLike(fs *flag.FlagSet, a string) bool {
	if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	if name == "" || fs.Lookup(name) != nil || name == "h" || name == "help" {
		return name != ""
	}
	// A combination of single letters (-nr).
	for j := 0; j < len(name); j++ {
		if fs.Lookup(name[j:j+1]) == nil {
			return false
		}
	}
	return true
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o)
	if err := fs.Parse(expandShort(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage())
			return nil, errHelp
		}
		return nil, err
	}
	o.filter = fs.Args()
	for _, a := range o.filter {
		if flagLike(fs, a) {
			return nil, fmt.Errorf("%s after the BPF filter %q: flags go before the filter", a, strings.Join(o.filter, " "))
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.widthSet = set["width"]
	if o.version || o.listDevices {
		return o, nil
	}
	for _, f := range o.files {
		if f == "" {
			return nil, errors.New("-r needs a file name")
		}
	}
	if len(o.files) > 0 {
		inputs, err := expandInputs(o.files)
		if err != nil {
			return nil, err
		}
		o.inputs, o.file = inputs, inputs[0]
	}
	switch {
	case o.file == "" && o.live == "":
		return nil, errors.New("no input: give -r FILE or -i IFACE")
	case o.file != "" && o.live != "":
		return nil, errors.New("-r and -i exclude each other")
	}
	if o.file != "" {
		for _, d := range flagDocs {
			if d.liveOnly && set[d.name] {
				return nil, fmt.Errorf("-%s is for live capture (-i); it does nothing with -r", d.name)
			}
		}
	}
	if set["Y"] {
		f, err := recfilter.Compile(o.displayExpr)
		if err != nil {
			return nil, &filterError{err}
		}
		o.display = f
	}
	o.format = strings.ToLower(o.format)
	if !validFormat(o.format) {
		return nil, fmt.Errorf("unknown format %q for -F (want one of %s)", o.format, strings.Join(output.Formats(), ", "))
	}
	if o.outFile == "-" {
		o.outFile = ""
	}
	if o.format == "html" && o.outFile == "" {
		// A page on a terminal helps nobody; ask for a file.
		return nil, errors.New("-F html writes a page: give -o FILE")
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return nil, fmt.Errorf("-color %q: want auto, always or never", o.color)
	}
	if o.writeFile != "" {
		if o.writeFile == "-" {
			return nil, errors.New("-w -: packets are not written to stdout; give a file name")
		}
		if slices.Contains(o.inputs, o.writeFile) || (o.outFile != "" && o.writeFile == o.outFile) {
			return nil, fmt.Errorf("-w %s: would overwrite the input or the -o file", o.writeFile)
		}
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
	}{{"-max-conns", o.maxConns}, {"-max-buffer", o.maxBufConn}, {"-max-memory", o.maxBufTotal}, {"-width", o.width}, {"-workers", o.workers}, {"-w-max-conn", o.wMaxConn}, {"-w-max-memory", o.wMaxMemory}} {
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
	if len(o.inputs) > 1 {
		return fmt.Sprintf("%s and %d more files", o.file, len(o.inputs)-1)
	}
	return o.file
}

// title is what a report is called.
func (o *options) title() string { return o.sourceName() }

// version is the module version and the VCS revision the binary was
// built from, as the build info has them: "v1.2.0", "(devel) rev
// 1a2b3c4d5e6f 2026-01-02T03:04:05Z modified", and the Go release.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	return versionOf(bi)
}

// buildRevision is the git revision make build stamps with -ldflags -X,
// for the builds Go's own stamping misses (a git worktree, whose .git is
// a file, or GOFLAGS=-buildvcs=false); set by the linker only.
var buildRevision string

func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		rev = buildRevision
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " rev " + rev
		if when != "" {
			v += " " + when
		}
		if modified {
			v += " modified"
		}
	}
	if bi.GoVersion != "" {
		v += " " + bi.GoVersion
	}
	return v
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
