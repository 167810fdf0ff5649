package conformance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Build compiles ./cmd/tlsdissect of the module at repoRoot into dir and
// returns the binary's path.
func Build(ctx context.Context, repoRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "tlsdissect")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tlsdissect")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/tlsdissect: %w\n%s", err, out)
	}
	return bin, nil
}

// RepoRoot finds the module root at or above dir (the directory holding
// go.mod).
func RepoRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("conformance: no go.mod above " + dir)
		}
		d = p
	}
}

// Run is what the binary did with one capture.
type Run struct {
	// Status is "ok", "exit N" (a non-zero exit that is not a crash),
	// "crash" (a panic) or "hang" (killed at the timeout).
	Status string
	Stderr string // its tail, for the report
	// Records are the JSON records (-F json), Raw the same lines as
	// generic maps (fields the Record type may not have yet, e.g. sha1).
	Records []flows.Record
	Raw     []map[string]any
	// Zeek are the -F zeek rows, fields in Zeek's TSV spelling; nil when
	// the capture has no Zeek ssl.log baseline. ZeekStatus as Status.
	Zeek       []map[string]string
	ZeekStatus string
	// ZeekX509 are the rows of our x509.log (-zeek-dir), when the capture
	// has a Zeek x509.log baseline; ZeekX509Status as Status.
	ZeekX509       []map[string]string
	ZeekX509Status string
	Elapsed        time.Duration
	DecodeErr      string // a JSON line that did not decode
	// Keyed are the records of a second run with the capture's key log
	// (NAME.keylog.txt), when it has one and tshark's decrypted reference
	// (NAME.tshark-decrypted-conn.json) to compare them with.
	Keyed       []flows.Record
	KeyedStatus string
}

// Failed reports a crash or a hang: a failure of the dissector, whatever
// the references say.
func (r *Run) Failed() bool {
	return r.Status == "crash" || r.Status == "hang" || r.ZeekStatus == "crash" || r.ZeekStatus == "hang"
}

// Runner runs the binary over captures.
type Runner struct {
	Bin     string
	Timeout time.Duration // per capture and format; 60 s if zero
	Workers int           // 2 if zero
}

// execOne runs BIN -r file -F format, and extra arguments.
func (rn Runner) execOne(ctx context.Context, file, format string, extra ...string) (stdout []byte, status, stderr string) {
	to := rn.Timeout
	if to <= 0 {
		to = 60 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	cmd := exec.CommandContext(cctx, rn.Bin, append([]string{"-q", "-r", file, "-F", format}, extra...)...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	stderr = tail(errb.String(), 600)
	switch {
	case cctx.Err() == context.DeadlineExceeded:
		return out.Bytes(), "hang", stderr
	case err != nil && strings.Contains(errb.String(), "panic"):
		return out.Bytes(), "crash", tail(panicHead(errb.String()), 600)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), fmt.Sprintf("exit %d", ee.ExitCode()), stderr
		}
		return out.Bytes(), "error", stderr + err.Error()
	}
	return out.Bytes(), "ok", stderr
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// RunAll runs the binary on every capture of the manifest, Workers at a
// time; the Zeek view only where a Zeek ssl.log baseline exists.
func (rn Runner) RunAll(ctx context.Context, capturesDir string, entries []ManifestEntry) map[string]*Run {
	w := rn.Workers
	if w <= 0 {
		w = 2
	}
	res := make(map[string]*Run, len(entries))
	var mu sync.Mutex
	jobs := make(chan ManifestEntry)
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				r := rn.runCapture(ctx, capturesDir, e)
				mu.Lock()
				res[e.Path] = r
				mu.Unlock()
			}
		}()
	}
	// Largest first, so the tail of the run is short.
	sorted := append([]ManifestEntry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Size > sorted[j].Size })
	for _, e := range sorted {
		if ctx.Err() != nil {
			break
		}
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	return res
}

func (rn Runner) runCapture(ctx context.Context, capturesDir string, e ManifestEntry) *Run {
	start := time.Now()
	file := filepath.Join(capturesDir, filepath.FromSlash(e.Path))
	out, status, stderr := rn.execOne(ctx, file, "json")
	r := &Run{Status: status, Stderr: scrubPath(stderr, capturesDir)}
	r.Records, r.Raw, r.DecodeErr = decodeRecords(out)
	if r.DecodeErr != "" && r.Status == "ok" {
		// Output that does not decode as the JSON contract is a failure
		// to process the capture, if not a crash.
		r.Status = "bad JSON"
		r.Stderr = r.DecodeErr
	}
	if len(zeekBaselines(capturesDir, e.Path)) > 0 {
		zout, zstatus, zerr := rn.execOne(ctx, file, "zeek")
		r.ZeekStatus = zstatus
		r.Zeek = decodeZeekOutput(zout)
		if zstatus != "ok" && r.Stderr == "" {
			r.Stderr = scrubPath(zerr, capturesDir)
		}
	}
	if len(zeekX509Files(capturesDir, e.Path)) > 0 {
		r.ZeekX509, r.ZeekX509Status = rn.runZeekLogs(ctx, file)
	}
	if keylog := file + ".keylog.txt"; fileExists(keylog) && fileExists(file+".tshark-decrypted-conn.json") {
		kout, kstatus, _ := rn.execOne(ctx, file, "json", "-keylog", keylog)
		r.KeyedStatus = kstatus
		r.Keyed, _, _ = decodeRecords(kout)
	}
	r.Elapsed = time.Since(start)
	return r
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// decodeRecords reads JSON lines into Records, keeping each line as a map
// too.
func decodeRecords(b []byte) ([]flows.Record, []map[string]any, string) {
	var recs []flows.Record
	var raws []map[string]any
	var bad string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r flows.Record
		var raw map[string]any
		if err := json.Unmarshal(line, &raw); err != nil {
			if bad == "" {
				bad = err.Error()
			}
			continue
		}
		if err := json.Unmarshal(line, &r); err != nil && bad == "" {
			// Keep what decoded: a field of an unexpected type should not
			// hide the rest of the record.
			bad = err.Error()
		}
		if r.Status == flows.StatusNotTLS {
			continue
		}
		recs = append(recs, r)
		raws = append(raws, raw)
	}
	return recs, raws, bad
}

// decodeZeekOutput reads the -F zeek output: JSON lines (Zeek's JSON log
// form) or Zeek TSV with a #fields header. Values are rendered in the TSV
// spelling: T/F, comma-joined vectors, "-" unset, "(empty)" empty vector.
func decodeZeekOutput(b []byte) []map[string]string {
	var rows []map[string]string
	if bytes.Contains(b, []byte("#fields")) {
		for _, blk := range parseZeekTSV(string(b)) {
			rows = append(rows, blk.rows...)
		}
		return rows
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			continue
		}
		row := map[string]string{}
		flattenZeek("", m, row)
		rows = append(rows, row)
	}
	return rows
}

// flattenZeek renders a Zeek JSON object in TSV spelling; nested objects
// ({"id": {"orig_h": ...}}) become dotted names.
func flattenZeek(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok {
			flattenZeek(name+".", sub, out)
			continue
		}
		out[name] = zeekValue(v)
	}
}

func zeekValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case bool:
		if x {
			return "T"
		}
		return "F"
	case string:
		if x == "" {
			return "-"
		}
		return x
	case json.Number:
		return x.String()
	case float64:
		return fmt.Sprint(x)
	case []any:
		if len(x) == 0 {
			return "(empty)"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = zeekValue(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// scrubPath replaces the captures directory in a message by "CAPTURES",
// so that the report does not depend on where the captures are.
func scrubPath(msg, capturesDir string) string {
	if abs, err := filepath.Abs(capturesDir); err == nil {
		msg = strings.ReplaceAll(msg, abs+string(filepath.Separator), "CAPTURES/")
	}
	return strings.ReplaceAll(msg, filepath.Clean(capturesDir)+string(filepath.Separator), "CAPTURES/")
}

// panicHead keeps the panic message and the first frames of its stack:
// the tail of a goroutine dump is runtime noise.
func panicHead(s string) string {
	if i := strings.Index(s, "panic"); i >= 0 {
		s = s[i:]
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 12 {
		lines = lines[:12]
	}
	return strings.Join(lines, "\n")
}
