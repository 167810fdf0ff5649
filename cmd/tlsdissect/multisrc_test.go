package main

import (
	bin "encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// splitPcap cuts a little-endian microsecond pcap into consecutive files
// at the given packet indices, each with the original header: the
// rotation tcpdump -C or -G makes. Cut points must fall between packets
// of different times, so that time order is the original order.
func splitPcap(t *testing.T, src, dir string, cuts []int) []string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || bin.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap", src)
	}
	hdr, rest := data[:24], data[24:]
	var recs [][]byte
	var times []uint64
	for len(rest) >= 16 {
		n := 16 + int(bin.LittleEndian.Uint32(rest[8:12]))
		recs = append(recs, rest[:n])
		times = append(times, uint64(bin.LittleEndian.Uint32(rest[0:4]))*1e6+uint64(bin.LittleEndian.Uint32(rest[4:8])))
		rest = rest[n:]
	}
	var files []string
	start := 0
	for i, end := range append(cuts, len(recs)) {
		if end > 0 && end < len(recs) && times[end] == times[end-1] {
			t.Fatalf("cut %d between packets of the same time", end)
		}
		out := append([]byte(nil), hdr...)
		for _, r := range recs[start:end] {
			out = append(out, r...)
		}
		name := filepath.Join(dir, "rot.pcap"+string(rune('0'+i)))
		if err := os.WriteFile(name, out, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
		start = end
	}
	return files
}

// firstStrictCut finds the first index from i whose packet is later than
// the one before.
func firstStrictCut(t *testing.T, src string, from int) int {
	t.Helper()
	data, _ := os.ReadFile(src)
	rest := data[24:]
	var prev uint64
	for i := 0; len(rest) >= 16; i++ {
		ts := uint64(bin.LittleEndian.Uint32(rest[0:4]))*1e6 + uint64(bin.LittleEndian.Uint32(rest[4:8]))
		if i >= from && ts > prev {
			return i
		}
		prev = ts
		rest = rest[16+int(bin.LittleEndian.Uint32(rest[8:12])):]
	}
	t.Fatal("no cut")
	return 0
}

// TestManyInputs: rotated files given in any order, as a directory or a
// glob, read as the one capture they were cut from: the same records,
// connections that span files joined; -w over them writes what -w over
// the original does.
func TestManyInputs(t *testing.T) {
	orig := filepath.Join(capturesDir, "multi.pcap")
	dir := t.TempDir()
	rot := filepath.Join(dir, "rot")
	os.Mkdir(rot, 0o755)
	// Cuts in the middle of connections: 142 packets in three files.
	files := splitPcap(t, orig, rot, []int{firstStrictCut(t, orig, 40), firstStrictCut(t, orig, 95)})
	want := runBin(t, nil, "-q", "-F", "json", "-r", orig)
	if want.code != 0 {
		t.Fatal(want.stderr)
	}
	wantW := filepath.Join(dir, "want.pcapng")
	runBin(t, nil, "-q", "-F", "json", "-r", orig, "-Y", `status == "failed"`, "-w", wantW)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"in order", []string{"-r", files[0], "-r", files[1], "-r", files[2]}},
		{"reversed", []string{"-r", files[2], "-r", files[1], "-r", files[0]}},
		{"directory", []string{"-r", rot}},
		{"glob", []string{"-r", filepath.Join(rot, "rot.pcap*")}},
		{"combined flags", []string{"-nr", files[1], "-r", files[0], "-r", files[2]}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runBin(t, nil, append([]string{"-q", "-F", "json", "-workers", "2"}, c.args...)...)
			if r.code != 0 || r.stdout != want.stdout {
				t.Fatalf("exit %d, %s; output differs from the original's:\n%s", r.code, r.stderr, lineDiff(want.stdout, r.stdout))
			}
			gotW := filepath.Join(t.TempDir(), "got.pcapng")
			r = runBin(t, nil, append([]string{"-q", "-F", "json", "-Y", `status == "failed"`, "-w", gotW}, c.args...)...)
			if r.code != 0 {
				t.Fatal(r.stderr)
			}
			g, w := segments(t, gotW), segments(t, wantW)
			if len(g) != len(w) || len(g) == 0 {
				t.Fatalf("-w wrote %d packets, %d from the original", len(g), len(w))
			}
			for i := range g {
				if g[i] != w[i] {
					t.Fatalf("packet %d: %+v, want %+v", i, g[i], w[i])
				}
			}
		})
	}
	// The summary counts every file's packets.
	r := runBin(t, nil, "-F", "json", "-r", rot)
	if !strings.Contains(r.stderr, "142 packets, 12 TCP connections") {
		t.Errorf("summary %q", r.stderr)
	}
	// A bad file among good ones is named.
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all, no"), 0o644)
	r = runBin(t, nil, "-q", "-r", files[0], "-r", bad)
	if r.code != exitFailure || !strings.Contains(r.stderr, "bad.pcap") {
		t.Errorf("bad file: exit %d, %q", r.code, r.stderr)
	}
	empty := t.TempDir()
	r = runBin(t, nil, "-q", "-r", empty)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no capture files") {
		t.Errorf("empty directory: exit %d, %q", r.code, r.stderr)
	}
}

func TestIsCaptureName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.pcap": true, "a.PCAPNG": true, "a.cap": true, "a.pcap.gz": true, "dump.pcap7": true, "dump.pcap12": true,
		"a.pcap.keys": false, "notes.txt": false, "a.pcapx": false,
	} {
		if got := isCaptureName(name); got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
}
