package main

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/packet"
)

// seg is what identifies a TCP segment read back.
type seg struct {
	ts       time.Time
	src, dst netip.AddrPort
	seq      uint32
	flags    uint8
	n        int
}

// segments reads a capture with our own reader.
func segments(t *testing.T, file string) []seg {
	t.Helper()
	src, err := capture.OpenFile(file, capture.Options{})
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	defer src.Close()
	var out []seg
	var s packet.Segment
	for {
		err := src.Next(&s)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading back %s: %v", file, err)
		}
		out = append(out, seg{s.Timestamp, s.Src, s.Dst, s.Seq, s.Flags, len(s.Payload)})
	}
}

type pair struct{ a, b netip.AddrPort }

func pairOf(a, b netip.AddrPort) pair {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return pair{a, b}
}

// TestWritePackets: -w writes exactly the packets of the connections -Y
// selects, in order and unchanged, whatever the input's format and link
// type; read back by our reader (and by tshark when it is installed).
func TestWritePackets(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	cases := []struct {
		name, input, expr, out string
		stdin, real            bool
		conns                  int
		bpf                    string
		wantPackets            int // when the BPF filter keeps out some of a connection's packets
	}{
		{name: "bpf keeps its packets out", input: "multi.pcap", expr: `client.port == 50000`, out: "b.pcapng", conns: 1, bpf: "tcp[tcpflags] & tcp-ack != 0", wantPackets: 17},
		{name: "failed to pcapng", input: "multi.pcap", expr: `status == "failed"`, out: "f.pcapng", conns: 5},
		{name: "one to pcap", input: "multi.pcap", expr: `status == "failed" and version == "TLS 1.3"`, out: "f.pcap", conns: 1},
		{name: "real binary", input: "multi.pcap", expr: `resumed`, out: "r.pcapng", conns: 2, real: true},
		{name: "none", input: "multi.pcap", expr: `sni endsWith ".example.org"`, out: "none.pcap", conns: 0},
		{name: "none pcapng", input: "multi.pcap", expr: `sni endsWith ".example.org"`, out: "none.pcapng", conns: 0},
		{name: "no -Y", input: "multi.pcap", out: "all.pcapng", conns: 11},
		{name: "stdin", input: "multi.pcap", expr: `client.port == 50077`, out: "s.pcapng", stdin: true, conns: 1},
		{name: "pcapng input", input: "tls13-full.pcapng", expr: `true`, out: "n.pcap", conns: 1},
		{name: "linux sll", input: "sll.pcap", expr: `true`, out: "sll.pcapng", conns: 1},
		{name: "raw ip", input: "raw.pcap", expr: `true`, out: "raw.pcap", conns: 1},
		{name: "ipv6", input: "ipv6.pcap", expr: `true`, out: "v6.pcapng", conns: 1},
		{name: "lossy", input: "lossy.pcap", expr: `true`, out: "lossy.pcapng", conns: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := filepath.Join(capturesDir, c.input)
			out := filepath.Join(t.TempDir(), c.out)
			args := []string{"-q", "-F", "json", "-w", out, "-r", in}
			var stdin []byte
			if c.stdin {
				data, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				stdin, args[len(args)-1] = data, "-"
			}
			if c.expr != "" {
				args = append(args, "-Y", c.expr)
			}
			if c.bpf != "" {
				args = append(args, c.bpf)
			}
			run := runBin
			if c.real {
				run = execBin
			}
			r := run(t, stdin, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			recs := readRecords(t, r.stdout)
			if len(recs) != c.conns {
				t.Fatalf("%d records, want %d", len(recs), c.conns)
			}
			want := map[pair]bool{}
			for _, rec := range recs {
				cl := netip.AddrPortFrom(netip.MustParseAddr(rec.Client.IP), rec.Client.Port)
				sv := netip.AddrPortFrom(netip.MustParseAddr(rec.Server.IP), rec.Server.Port)
				want[pairOf(cl, sv)] = true
			}
			var expect []seg
			for _, s := range segments(t, in) {
				if want[pairOf(s.src, s.dst)] {
					expect = append(expect, s)
				}
			}
			got := segments(t, out)
			if c.wantPackets > 0 {
				// All but the SYN: expect is every packet of the connection.
				if len(got) != c.wantPackets || len(expect) != c.wantPackets+1 {
					t.Fatalf("%d packets written of %d, want %d", len(got), len(expect), c.wantPackets)
				}
				return
			}
			if len(got) != len(expect) {
				t.Fatalf("%d packets written, want the %d of the selected connections", len(got), len(expect))
			}
			for i := range got {
				if got[i] != expect[i] {
					t.Fatalf("packet %d: %+v, want %+v", i, got[i], expect[i])
				}
			}
			if c.conns > 0 && len(got) == 0 {
				t.Fatal("no packets for selected connections")
			}
			// The records of the written file are those selected.
			again := readRecords(t, runBin(t, nil, "-q", "-F", "json", "-r", out).stdout)
			if len(again) != len(recs) {
				t.Errorf("the written file holds %d connections, want %d", len(again), len(recs))
			}
			for i := range again {
				if i < len(recs) && (again[i].CommunityID != recs[i].CommunityID || again[i].Status != recs[i].Status || len(again[i].Messages) != len(recs[i].Messages)) {
					t.Errorf("connection %d: %s %s, want %s %s", i, again[i].CommunityID, again[i].Status, recs[i].CommunityID, recs[i].Status)
				}
			}
			if tshark != "" {
				b, err := exec.Command(tshark, "-n", "-r", out, "-T", "fields", "-e", "frame.number").Output()
				if err != nil {
					t.Fatalf("tshark cannot read %s: %v", out, err)
				}
				if n := len(strings.Fields(string(b))); n != len(expect) {
					t.Errorf("tshark reads %d packets, want %d", n, len(expect))
				}
			}
		})
	}
}

// TestWriteErrors: -w that cannot be written is exit 1 naming the file,
// and leaves nothing under its name.
func TestWriteErrors(t *testing.T) {
	in := filepath.Join(capturesDir, "multi.pcap")
	dir := t.TempDir()
	r := runBin(t, nil, "-q", "-F", "json", "-r", in, "-w", filepath.Join(dir, "no", "such", "dir.pcapng"))
	if r.code != exitFailure || !strings.Contains(r.stderr, "-w") {
		t.Errorf("unwritable: exit %d, %q", r.code, r.stderr)
	}
	// A damaged input: the connections before the damage are written,
	// the damage is reported once, exit 1.
	data, err := os.ReadFile(filepath.Join(capturesDir, "tls12-ticket.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, data[:len(data)-37], 0o644)
	out := filepath.Join(dir, "cut-out.pcap")
	r = runBin(t, nil, "-q", "-F", "json", "-r", cut, "-w", out)
	if r.code != exitFailure || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("damaged: exit %d, %q", r.code, r.stderr)
	}
	if n := len(segments(t, out)); n == 0 {
		t.Errorf("damaged: nothing written")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
