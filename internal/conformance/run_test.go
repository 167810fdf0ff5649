package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeBin stands in for tlsdissect: it behaves according to the capture's
// name (ok, panic, error exit, hang).
const fakeBin = `#!/bin/sh
case "$3" in
*ok.pcap)
	if [ "$5" = zeek ]; then
		echo '{"id.orig_h":"192.0.2.1","id.orig_p":1000,"id.resp_h":"192.0.2.2","id.resp_p":443,"version":"TLSv12","established":true}'
	else
		echo '{"schema":"tlsdissect.flow/1","client":{"ip":"192.0.2.1","port":1000},"server":{"ip":"192.0.2.2","port":443},"version":"TLS 1.2","status":"established"}'
		echo '{"schema":"tlsdissect.flow/1","client":{"ip":"192.0.2.1","port":1001},"server":{"ip":"192.0.2.2","port":80},"status":"not_tls"}'
	fi ;;
*crash.pcap)
	echo 'panic: runtime error: index out of range' >&2
	echo 'goroutine 1 [running]:' >&2
	exit 2 ;;
*fail.pcap)
	echo "tlsdissect: capture: $3: unsupported link type 9 (PPP)" >&2
	exit 1 ;;
*hang.pcap)
	exec sleep 30 ;;
esac
`

func TestRunnerStatuses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tlsdissect")
	if err := os.WriteFile(bin, []byte(fakeBin), 0o755); err != nil {
		t.Fatal(err)
	}
	caps := filepath.Join(dir, "caps")
	var entries []ManifestEntry
	for _, n := range []string{"ok", "crash", "fail", "hang"} {
		p := filepath.Join(caps, "x", n+".pcap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, nil, 0o644)
		entries = append(entries, ManifestEntry{Path: "x/" + n + ".pcap"})
	}
	// A Zeek baseline beside ok.pcap makes the runner ask for -F zeek too.
	os.WriteFile(filepath.Join(caps, "x", "ok.pcap.zeek.t.ssl.log"), []byte("#fields\tts\n"), 0o644)

	runs := Runner{Bin: bin, Timeout: 500 * time.Millisecond, Workers: 2}.RunAll(context.Background(), caps, entries)
	want := map[string]string{"x/ok.pcap": "ok", "x/crash.pcap": "crash", "x/fail.pcap": "exit 1", "x/hang.pcap": "hang"}
	for p, st := range want {
		r := runs[p]
		if r == nil || r.Status != st {
			t.Fatalf("%s: run %+v, want status %s", p, r, st)
		}
		if failed := st == "crash" || st == "hang"; r.Failed() != failed {
			t.Errorf("%s: Failed() = %v", p, r.Failed())
		}
	}
	ok := runs["x/ok.pcap"]
	if len(ok.Records) != 1 || ok.Records[0].Version != "TLS 1.2" || len(ok.Raw) != 1 {
		t.Errorf("records %+v (the not_tls record must be dropped)", ok.Records)
	}
	if ok.ZeekStatus != "ok" || len(ok.Zeek) != 1 || ok.Zeek[0]["established"] != "T" || ok.Zeek[0]["id.orig_p"] != "1000" {
		t.Errorf("zeek rows %+v (%s)", ok.Zeek, ok.ZeekStatus)
	}
	if s := runs["x/fail.pcap"].Stderr; !strings.Contains(s, "CAPTURES/x/fail.pcap") || strings.Contains(s, caps) {
		t.Errorf("stderr %q: the captures directory must be scrubbed", s)
	}
	if s := runs["x/crash.pcap"].Stderr; !strings.HasPrefix(s, "panic: runtime error") {
		t.Errorf("crash stderr %q", s)
	}
	sc := Evaluate(caps, entries, runs)
	if f := sc.Failures(runs); len(f) != 2 {
		t.Errorf("failures %v, want crash and hang", f)
	}
	if got := sc.Totals["run.captures"]; got.Agree != 1 || got.Total != 4 {
		t.Errorf("run.captures %+v", got)
	}
}
