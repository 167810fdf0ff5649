package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tlsdissect/tlsdissect/flows"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// capturesDir holds the captures our generator made (go run ./cmd/tlsgen).
const capturesDir = "../../testdata/captures"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the real command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tlsdissect-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tlsdissect")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	stdout, stderr string
	code           int
}

// runBin runs the command in process: run is the whole program but for
// the process around it (main), so the tests need no build and no fork.
// TestRealBinary checks that the built binary says the same.
func runBin(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	var so, se bytes.Buffer
	code := run(context.Background(), args, bytes.NewReader(stdin), &so, &se, nil)
	return result{so.String(), se.String(), code}
}

// execBin runs the real binary, built once.
func execBin(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{so.String(), se.String(), code}
}

// TestRealBinary runs the built command, as a user does, on a committed
// capture in every format and on bad input, and holds it to what the
// in-process runs (every other test here) say: output, messages and exit
// codes.
func TestRealBinary(t *testing.T) {
	file := filepath.Join(capturesDir, "multi.pcap")
	for _, args := range [][]string{
		{"-q", "-F", "json", "-r", file},
		{"-q", "-F", "table", "-workers", "2", "-r", file},
		{"-q", "-F", "ladder", "-r", file},
		{"-r", file, "-F", "summary"},
		{"-r", "/nonexistent.pcap"},
		{"-F", "nosuchformat", "-r", file},
		{"-q", "-F", "json", "-Y", `status == "failed" and version == "TLS 1.3"`, "-r", file},
		{"-nqr", file, "-F", "JSON", "-fail-exit"},
		{"-r", file, "-Y", `status ==`},
		{"-r", file, "tcp", "-q"},
	} {
		want := runBin(t, nil, args...)
		got := execBin(t, nil, args...)
		if got.code != want.code || got.stdout != want.stdout {
			t.Errorf("%v: binary exit %d, %d bytes out; in process exit %d, %d bytes", args, got.code, len(got.stdout), want.code, len(want.stdout))
		}
		// The summary's timing differs run to run; its first word does not.
		if g, w := firstWord(got.stderr), firstWord(want.stderr); g != w {
			t.Errorf("%v: binary stderr %q, in process %q", args, g, w)
		}
	}
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func committedCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "udp/*.pcap"} {
		m, err := filepath.Glob(filepath.Join(capturesDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no captures in %s: run go run ./cmd/tlsgen -out testdata/captures", capturesDir)
	}
	return files
}

// TestGolden runs the binary on every committed capture in each of the
// person-facing formats and JSON, with one worker and with three, and
// compares with the reviewed golden files: the output does not depend on
// the number of workers.
func TestGolden(t *testing.T) {
	for _, file := range committedCaptures(t) {
		// A capture committed with its key log (NAME.keys, written by
		// tlsgen -keylog) is also dissected with it: NAME.keylog.FORMAT.
		variants := [][]string{nil}
		if _, err := os.Stat(file + ".keys"); err == nil {
			variants = append(variants, []string{"-keylog", file + ".keys"})
		}
		for _, extra := range variants {
			for _, format := range []string{"table", "ladder", "json", "summary"} {
				for _, workers := range []string{"1", "3"} {
					name := filepath.Base(file) + "." + format
					if extra != nil {
						name = filepath.Base(file) + ".keylog." + format
					}
					t.Run(name+"/workers="+workers, func(t *testing.T) {
						t.Parallel()
						if *update && workers != "1" {
							t.Skip("goldens are written from one worker")
						}
						args := append([]string{"-q", "-F", format, "-workers", workers, "-r", file}, extra...)
						r := runBin(t, nil, args...)
						if r.code != 0 {
							t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
						}
						golden := filepath.Join("testdata", "golden", name)
						if *update {
							if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
								t.Fatal(err)
							}
							if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
								t.Fatal(err)
							}
							return
						}
						want, err := os.ReadFile(golden)
						if err != nil {
							t.Fatalf("%v (run go test ./cmd/tlsdissect -update)", err)
						}
						if got := r.stdout; got != string(want) {
							t.Errorf("output differs from %s (go test ./cmd/tlsdissect -update rewrites it):\n%s", golden, lineDiff(string(want), got))
						}
					})
				}
			}
		}
	}
}

// lineDiff shows the first differing lines, enough to see what changed.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&b, "line %d:\n  want: %q\n  got:  %q\n", i+1, w, g)
			if shown++; shown == 8 {
				b.WriteString("  ...\n")
				break
			}
		}
	}
	return b.String()
}

func readRecords(t *testing.T, out string) []flows.Record {
	t.Helper()
	var recs []flows.Record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r flows.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestJSONContract checks the JSON lines carry every field of the contract
// on every record, with the schema name.
func TestJSONContract(t *testing.T) {
	fields := []string{"schema", "ts", "end_ts", "uid", "community_id", "client", "server",
		"version", "cipher", "sni", "alpn", "alpn_offered", "history", "messages", "established",
		"resumed", "resumption", "session_ticket", "certificates", "client_certificates",
		"alerts", "status", "failure", "ja3", "ja3s", "ja4", "ja4s", "ja4x", "anomalies"}
	r := runBin(t, nil, "-q", "-F", "json", "-r", filepath.Join(capturesDir, "multi.pcap"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad JSON %q: %v", line, err)
		}
		for _, f := range fields {
			if _, ok := m[f]; !ok {
				t.Errorf("record %d lacks field %q", n, f)
			}
		}
		if string(m["schema"]) != `"`+flows.Schema+`"` {
			t.Errorf("schema = %s", m["schema"])
		}
		for _, f := range []string{"messages", "alerts", "certificates", "anomalies", "alpn_offered", "ja4x", "client_certificates"} {
			if string(m[f]) == "null" {
				t.Errorf("record %d: %s is null, want []", n, f)
			}
		}
		n++
	}
	if n < 5 {
		t.Fatalf("multi.pcap gave %d records, want several", n)
	}
}

// TestStdin reads a capture from standard input with -r -.
func TestStdin(t *testing.T) {
	file := filepath.Join(capturesDir, "tls12-ticket.pcap")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	viaFile := runBin(t, nil, "-q", "-F", "json", "-r", file)
	viaStdin := runBin(t, data, "-q", "-F", "json", "-r", "-")
	if viaStdin.code != 0 || viaStdin.stdout != viaFile.stdout {
		t.Fatalf("stdin run (exit %d, %s) differs from file run", viaStdin.code, viaStdin.stderr)
	}
}

// TestOutputFile writes with -o and checks nothing goes to stdout.
func TestOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.ndjson")
	r := runBin(t, nil, "-q", "-F", "json", "-o", out, "-r", filepath.Join(capturesDir, "tls12-ticket.pcap"))
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if recs := readRecords(t, string(data)); len(recs) != 1 || recs[0].Status != flows.StatusEstablished {
		t.Fatalf("got %d records: %+v", len(recs), recs)
	}
}

// TestSummaryLine checks the closing line on stderr and that data goes
// to stdout only.
func TestSummaryLine(t *testing.T) {
	r := runBin(t, nil, "-F", "json", "-r", filepath.Join(capturesDir, "multi.pcap"))
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"packets", "TCP connections", "TLS connections", "failed", "anomalies"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("summary line %q lacks %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stdout, "packets,") {
		t.Errorf("summary leaked to stdout")
	}
}

// TestBadInput: each bad input gives one line on stderr naming the file and
// the problem, and the right exit code; never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notCapture := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCapture, []byte("these are not packets\n"), 0o644)
	good, err := os.ReadFile(filepath.Join(capturesDir, "tls12-ticket.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "cut.pcap")
	os.WriteFile(truncated, good[:len(good)-37], 0o644)
	badLink := filepath.Join(dir, "badlink.pcap")
	hdr := append([]byte(nil), good...)                // every packet of a good file, under a link type we do not read
	hdr[20], hdr[21], hdr[22], hdr[23] = 0xe3, 0, 0, 0 // link type 227 (CAN), little endian
	os.WriteFile(badLink, hdr, 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)

	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"missing file", []string{"-r", filepath.Join(dir, "nope.pcap")}, 1, []string{"nope.pcap"}},
		{"not a capture", []string{"-r", notCapture}, 1, []string{"notes.txt", "pcap"}},
		{"empty file", []string{"-r", empty}, 1, []string{"empty.pcap"}},
		{"unsupported link type", []string{"-r", badLink}, 1, []string{"badlink.pcap", "link"}},
		{"truncated", []string{"-F", "json", "-r", truncated}, 1, []string{"cut.pcap", "truncated"}},
		{"no input", nil, 2, []string{"-r"}},
		{"unknown format", []string{"-F", "xml", "-r", truncated}, 2, []string{"xml"}},
		{"bad flag", []string{"-nonsense"}, 2, []string{"nonsense"}},
		{"bad filter", []string{"-r", truncated, "tcp port port"}, 1, []string{"filter"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBin(t, nil, append([]string{"-q"}, c.args...)...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, c.code, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Fatalf("panicked: %s", r.stderr)
			}
			first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]
			if !strings.HasPrefix(first, progName+": ") {
				t.Errorf("first stderr line %q does not start with %q", first, progName+": ")
			}
			for _, w := range c.contains {
				if !strings.Contains(strings.ToLower(first), strings.ToLower(w)) {
					t.Errorf("error line %q does not mention %q", first, w)
				}
			}
		})
	}
	// A truncated capture still yields the connections before the damage.
	r := runBin(t, nil, "-q", "-F", "json", "-r", truncated)
	if len(readRecords(t, r.stdout)) != 1 {
		t.Errorf("truncated capture: want the one connection before the damage, got %q", r.stdout)
	}
}

// TestHelp: -h prints usage a tcpdump user understands, exit 0.
func TestHelp(t *testing.T) {
	r := runBin(t, nil, "-h")
	if r.code != 0 || !strings.Contains(r.stderr, "-r FILE") || !strings.Contains(r.stderr, "BPF filter") {
		t.Fatalf("exit %d, usage %q", r.code, r.stderr)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
