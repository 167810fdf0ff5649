package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestZeekDir: -zeek-dir writes the three logs beside the -F output, the
// rows linked by uid and fingerprint, and -Y selects for them too.
func TestZeekDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	r := runBin(t, nil, "-q", "-F", "json", "-r", filepath.Join(capturesDir, "multi.pcap"), "-zeek-dir", dir,
		"-Y", `status == "failed"`)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	records := strings.Count(r.stdout, "\n")
	logs := map[string][]string{}
	for _, name := range zeekDirNames {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		path := strings.TrimSuffix(name, ".log")
		if !strings.HasPrefix(s, "#separator \\x09\n") || !strings.Contains(s, "\n#path\t"+path+"\n") ||
			!strings.Contains(s, "\n#fields\t") || !strings.Contains(s, "\n#close\t") {
			t.Errorf("%s: not a Zeek log:\n%s", name, s)
		}
		for line := range strings.Lines(s) {
			if !strings.HasPrefix(line, "#") {
				logs[name] = append(logs[name], line)
			}
		}
	}
	if records == 0 || len(logs["conn.log"]) != records || len(logs["ssl.log"]) != records {
		t.Fatalf("%d records, %d conn.log rows, %d ssl.log rows", records, len(logs["conn.log"]), len(logs["ssl.log"]))
	}
	if len(logs["x509.log"]) == 0 {
		t.Error("no certificate in x509.log")
	}
	for i := range logs["ssl.log"] {
		uid := strings.Split(logs["ssl.log"][i], "\t")[1]
		if !strings.Contains(r.stdout, `"uid":"`+uid+`"`) || strings.Split(logs["conn.log"][i], "\t")[1] != uid {
			t.Errorf("row %d: uid %s not linked", i, uid)
		}
	}
	// A directory that cannot be made is a runtime error, said on stderr.
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, nil, "-q", "-r", filepath.Join(capturesDir, "multi.pcap"), "-zeek-dir", filepath.Join(file, "sub"))
	if r.code != 1 || !strings.Contains(r.stderr, "-zeek-dir") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
