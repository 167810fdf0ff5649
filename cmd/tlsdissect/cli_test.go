package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
)

// TestTcpdumpHabits: flags as a tcpdump user types them.
func TestTcpdumpHabits(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{args: []string{"-nr", "x.pcap"}, check: func(t *testing.T, o *options) {
			if o.file != "x.pcap" {
				t.Errorf("file %q", o.file)
			}
		}},
		{args: []string{"-qnF", "JSON", "-s96", "-r", "x.pcap", "tcp", "port", "443"}, check: func(t *testing.T, o *options) {
			if !o.quiet || o.format != "json" || o.snaplen != 96 || strings.Join(o.filter, " ") != "tcp port 443" {
				t.Errorf("%+v", o)
			}
		}},
		{args: []string{"-r", "x.pcap", "-F", "Ladder"}, check: func(t *testing.T, o *options) {
			if o.format != "ladder" {
				t.Errorf("format %q", o.format)
			}
		}},
		{args: []string{"-vn", "-r", "x.pcap", "-o", "-"}, check: func(t *testing.T, o *options) {
			if o.outFile != "" || !o.verbose {
				t.Errorf("-o - is stdout, -v verbose: %+v", o)
			}
		}},
		{args: []string{"-r", "x.pcap", "-not-tls", "-fail-exit", "-width", "132", "-color", "never"}, check: func(t *testing.T, o *options) {
			if !o.reportNonTLS || !o.failExit || o.width != 132 || !o.widthSet || o.color != "never" {
				t.Errorf("%+v", o)
			}
		}},
		{args: []string{"-r", "x.pcap", "-Y", `status == "failed"`, "-w", "out.pcapng"}, check: func(t *testing.T, o *options) {
			if o.display == nil || o.writeFile != "out.pcapng" {
				t.Errorf("%+v", o)
			}
		}},
		{args: []string{"-r", "x.pcap", "host 192.0.2.1 and not port 22"}, check: func(t *testing.T, o *options) {
			if len(o.filter) != 1 {
				t.Errorf("filter %q", o.filter)
			}
		}},
		{args: []string{"-nonsense"}, wantErr: "-nonsense"},
		{args: []string{"-nrx"}, wantErr: "-nrx"},
		{args: []string{"-r", "a.pcap", "-r", "b.pcap"}, check: func(t *testing.T, o *options) {
			if strings.Join(o.inputs, " ") != "a.pcap b.pcap" || o.file != "a.pcap" || o.sourceName() != "a.pcap and 1 more files" {
				t.Errorf("inputs %q, file %q", o.inputs, o.file)
			}
		}},
		{args: []string{"-r", "-", "-r", "b.pcap"}, wantErr: "standard input cannot be read with other files"},
		{args: []string{"-r", "/nonexistent/*.pcap"}, wantErr: "no file matches"},
		{args: []string{"-r", "a.pcap", "-r", "b.pcap", "-w", "b.pcap"}, wantErr: "overwrite"},
		{args: []string{"-r", "a.pcap", "tcp", "-F", "json"}, wantErr: "-F after the BPF filter"},
		{args: []string{"-r", "a.pcap", "tcp", "-nq"}, wantErr: "-nq after the BPF filter"},
		{args: []string{"-r", "a.pcap", "-p"}, wantErr: "-p is for live capture"},
		{args: []string{"-r", "a.pcap", "-B", "8192"}, wantErr: "-B is for live capture"},
		{args: []string{"-r", "a.pcap", "-Z", "nobody"}, wantErr: "-Z is for live capture"},
		{args: []string{"-r", "a.pcap", "-color", "sometimes"}, wantErr: "-color"},
		{args: []string{"-r", "a.pcap", "-width", "0"}, wantErr: "-width 0"},
		{args: []string{"-r", "a.pcap", "-w", "80"}, check: func(t *testing.T, o *options) {
			if o.writeFile != "80" || o.width != 80 {
				t.Errorf("-w is the packet file now: %+v", o)
			}
		}},
		{args: []string{"-i", "eth0", "-w", "x.pcapng", "-w-max-conn", "4096", "-no-legend"}, check: func(t *testing.T, o *options) {
			if o.writeFile != "x.pcapng" || o.wMaxConn != 4096 || o.wMaxMemory != defaultWMaxMemory || !o.noLegend {
				t.Errorf("%+v", o)
			}
		}},
		{args: []string{"-i", "eth0", "-w", "x.pcapng", "-w-max-memory", "0"}, wantErr: "-w-max-memory 0"},
		{args: []string{"-r", "a.pcap", "-w", "a.pcap"}, wantErr: "overwrite"},
		{args: []string{"-r", "a.pcap", "-w", "-"}, wantErr: "-w -"},
		{args: []string{"-r", "a.pcap", "-Y", "status =="}, wantErr: "-Y: column 9"},
		{args: []string{"-r", ""}, wantErr: "-r needs a file"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			o, err := parseArgs(c.args, io.Discard)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			case c.check != nil:
				c.check(t, o)
			}
		})
	}
}

// TestFlagDocs: every flag parseArgs knows is documented (usage, man page
// and completion are drawn from flagDocs), and nothing else is.
func TestFlagDocs(t *testing.T) {
	fs := newFlagSet(&options{})
	seen := map[string]bool{"h": true}
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := docFor(f.Name); !ok {
			t.Errorf("flag -%s has no flagDoc", f.Name)
		}
		seen[f.Name] = true
		if d, _ := docFor(f.Name); (d.arg == "") != isSwitch(fs, f.Name) {
			t.Errorf("-%s: documented arg %q, but switch=%v", f.Name, d.arg, isSwitch(fs, f.Name))
		}
	})
	for _, d := range flagDocs {
		if !seen[d.name] {
			t.Errorf("flagDoc -%s names no flag", d.name)
		}
		if !strings.Contains(usage(), "  -"+d.name+" ") {
			t.Errorf("usage lacks -%s", d.name)
		}
	}
}

// TestInterfaceByIndex: -i N is the Nth of -D unless an interface is
// called N.
func TestInterfaceByIndex(t *testing.T) {
	list := func() ([]capture.Device, error) {
		return []capture.Device{{Name: "eth0"}, {Name: "lo"}, {Name: "7"}}, nil
	}
	broken := func() ([]capture.Device, error) { return nil, errors.New("no libpcap") }
	for _, c := range []struct {
		in, want, err string
		list          func() ([]capture.Device, error)
	}{
		{"eth0", "eth0", "", broken},
		{"1", "eth0", "", list},
		{"2", "lo", "", list},
		{"7", "7", "", list},
		{"4", "", "there are 3 interfaces", list},
		{"0", "0", "", list},
		{"01", "01", "", list},
		{"1", "", "no libpcap", broken},
	} {
		got, err := interfaceByIndex(c.in, c.list)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("-i %s: %q, %v; want %q, %q", c.in, got, err, c.want, c.err)
		}
	}
}

// TestTerminalSettings: -width and -color win; a terminal gives its
// width (COLUMNS first) and colour unless NO_COLOR or TERM=dumb; a pipe
// gets 80 and no colour whatever the environment says.
func TestTerminalSettings(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		name      string
		o         options
		tty       bool
		cols      int
		env       func(string) string
		width     int
		wantColor bool
	}{
		{"pipe", options{width: 80, color: "auto"}, false, 0, env("COLUMNS", "200"), 80, false},
		{"terminal", options{width: 80, color: "auto"}, true, 200, env(), 200, true},
		{"COLUMNS first", options{width: 80, color: "auto"}, true, 200, env("COLUMNS", "132"), 132, true},
		{"bad COLUMNS", options{width: 80, color: "auto"}, true, 120, env("COLUMNS", "wide"), 120, true},
		{"narrow", options{width: 80, color: "auto"}, true, 20, env(), 40, true},
		{"unknown width", options{width: 80, color: "auto"}, true, 0, env(), 80, true},
		{"-width wins", options{width: 100, widthSet: true, color: "auto"}, true, 200, env("COLUMNS", "150"), 100, true},
		{"NO_COLOR", options{width: 80, color: "auto"}, true, 80, env("NO_COLOR", "1"), 80, false},
		{"dumb", options{width: 80, color: "auto"}, true, 80, env("TERM", "dumb"), 80, false},
		{"always", options{width: 80, color: "always"}, false, 0, env("NO_COLOR", "1"), 80, true},
		{"never", options{width: 80, color: "never"}, true, 80, env(), 80, false},
	} {
		w, col := terminalSettings(&c.o, c.tty, c.cols, c.env)
		if w != c.width || col != c.wantColor {
			t.Errorf("%s: width %d colour %v, want %d %v", c.name, w, col, c.width, c.wantColor)
		}
	}
}

// TestVersionOf: the module version and the VCS stamp of the build info.
func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}}
	if got := versionOf(bi); got != "v1.2.0 go1.26.0" {
		t.Errorf("release: %q", got)
	}
	bi = &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	if got := versionOf(bi); got != "(devel) rev 0123456789ab 2026-01-02T03:04:05Z modified go1.26.0" {
		t.Errorf("checkout: %q", got)
	}
}

// TestDisplayFilter: -Y applies before every format; the summary line
// says what it left out.
func TestDisplayFilter(t *testing.T) {
	file := filepath.Join(capturesDir, "multi.pcap")
	const keptUID, keptIP, goneUID, goneIP = "CDjd94Uw2b6D", "192.0.2.19", "C98wyjTHNjR1", "192.0.2.10"
	for _, format := range []string{"table", "ladder", "json", "ecs", "zeek", "summary", "html"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"-F", format, "-r", file, "-Y", `status == "failed" and version == "TLS 1.3"`}
			if format == "html" {
				args = append(args, "-o", filepath.Join(t.TempDir(), "r.html"))
			}
			r := runBin(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "1 records written (10 left out by -Y)") {
				t.Errorf("summary %q", r.stderr)
			}
			out := r.stdout
			if format == "html" {
				out = readFile(t, args[len(args)-1])
			}
			if format == "summary" {
				if !strings.Contains(out, "│ connections │ 1 ") {
					t.Errorf("summary counts more than the one record:\n%s", out)
				}
				return
			}
			if !strings.Contains(out, keptUID) && !strings.Contains(out, keptIP) {
				t.Errorf("the selected connection is missing:\n%s", out)
			}
			if strings.Contains(out, goneUID) || strings.Contains(out, goneIP+":") || strings.Contains(out, `"`+goneIP+`"`) {
				t.Errorf("a connection -Y leaves out is there:\n%s", out)
			}
		})
	}
	for _, c := range []struct {
		expr string
		n    int
	}{
		{`status == "failed"`, 5},
		{`sni endsWith ".example.com"`, 11},
		{`sni endsWith ".example.org"`, 0},
		{`transport == "tcp"`, 11},
		{`transport == "quic"`, 0},
		{`failure.reason != nil`, 5},
		{`resumed`, 2},
		{`client.ip in ["192.0.2.10", "192.0.2.21"]`, 2},
	} {
		r := runBin(t, nil, "-q", "-F", "json", "-r", file, "-Y", c.expr)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", c.expr, r.code, r.stderr)
		}
		recs := readRecords(t, r.stdout)
		if len(recs) != c.n {
			t.Errorf("-Y %s: %d records, want %d", c.expr, len(recs), c.n)
		}
		for _, rec := range recs {
			if strings.HasPrefix(c.expr, "status") && rec.Status != flows.StatusFailed {
				t.Errorf("-Y %s let through %s (%s)", c.expr, rec.UID, rec.Status)
			}
		}
	}
}

// TestDisplayFilterErrors: an expression that does not compile is one
// line on stderr naming the column, exit 2, nothing read; one that cannot
// be evaluated on some records leaves them out with a warning.
func TestDisplayFilterErrors(t *testing.T) {
	file := filepath.Join(capturesDir, "multi.pcap")
	for _, c := range []struct{ expr, want string }{
		{`status ==`, "column 9"},
		{`status == "failed" and and`, "column 24"},
		{`sni endsWith`, "column 12"},
		{``, "empty"},
	} {
		r := runBin(t, nil, "-r", file, "-Y", c.expr)
		line := strings.TrimRight(r.stderr, "\n")
		if r.code != exitUsage || strings.Contains(line, "\n") || !strings.HasPrefix(line, "tlsdissect: -Y: ") || !strings.Contains(line, c.want) {
			t.Errorf("-Y %q: exit %d, stderr %q; want one line with %q, exit 2", c.expr, r.code, r.stderr, c.want)
		}
		if r.stdout != "" {
			t.Errorf("-Y %q: wrote %q", c.expr, r.stdout)
		}
	}
	r := runBin(t, nil, "-F", "json", "-r", file, "-Y", `stauts == "failed" or sni == "x"`)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: -Y names stauts, which no record had") {
		t.Errorf("misspelt field: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runBin(t, nil, "-F", "json", "-r", file, "-Y", `sni + 1 > 0`)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "could not be evaluated on 11 records") {
		t.Errorf("eval errors: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestFailExit: -fail-exit is 3 when a selected handshake failed, 0 when
// none did; without it a failure is not an error.
func TestFailExit(t *testing.T) {
	multi := filepath.Join(capturesDir, "multi.pcap")
	ok := filepath.Join(capturesDir, "tls13-full.pcap")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-r", multi}, 0},
		{[]string{"-r", multi, "-fail-exit"}, exitHandshake},
		{[]string{"-r", ok, "-fail-exit"}, 0},
		{[]string{"-r", multi, "-fail-exit", "-Y", `status != "failed"`}, 0},
		{[]string{"-r", filepath.Join(capturesDir, "fail-version.pcap"), "-fail-exit", "-F", "json"}, exitHandshake},
	} {
		r := runBin(t, nil, append([]string{"-q"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, r.code, c.code, r.stderr)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExitStatus: a failed write is exit 1 and the summary claims no
// records written; an interrupted file read is exit 130 and says so.
func TestExitStatus(t *testing.T) {
	file := filepath.Join(capturesDir, "multi.pcap")
	if _, err := os.Stat("/dev/full"); err == nil {
		r := runBin(t, nil, "-F", "json", "-r", file, "-o", "/dev/full")
		if r.code != exitFailure || !strings.Contains(r.stderr, "writing failed after at most") || strings.Contains(r.stderr, "records written") {
			t.Errorf("write to /dev/full: exit %d, %q", r.code, r.stderr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var so, se bytes.Buffer
	code := run(ctx, []string{"-F", "json", "-r", file}, nil, &so, &se, nil)
	if code != exitInterrupted || !strings.Contains(se.String(), "interrupted reading "+file) || !strings.Contains(se.String(), "partial") {
		t.Errorf("interrupted: exit %d, %q", code, se.String())
	}
	// With -w, nothing is written then, and it says so.
	out := filepath.Join(t.TempDir(), "x.pcapng")
	se.Reset()
	code = run(ctx, []string{"-q", "-F", "json", "-r", file, "-w", out}, nil, &so, &se, nil)
	if _, err := os.Stat(out); code != exitInterrupted || err == nil || !strings.Contains(se.String(), "not written") {
		t.Errorf("interrupted -w: exit %d, %q, file %v", code, se.String(), err)
	}
}
