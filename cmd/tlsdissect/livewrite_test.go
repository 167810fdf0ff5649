package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// runAsLive runs a capture file through the live path (records as
// connections close, -w from the frames kept): parseArgs, then asLive.
func runAsLive(t *testing.T, set func(*options), args ...string) (stdout, stderr string, err error) {
	t.Helper()
	o, err := parseArgs(args, io.Discard)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	o.asLive = true
	if set != nil {
		set(o)
	}
	var so, se bytes.Buffer
	err = dissectAll(context.Background(), o, nil, &so, &se, nil)
	return so.String(), se.String(), err
}

// sortedSegs is a capture's segments in a fixed order: the live -w
// writes connection after connection, a file's -w in capture order.
func sortedSegs(t *testing.T, file string) []seg {
	s := segments(t, file)
	slices.SortStableFunc(s, func(a, b seg) int {
		if c := a.ts.Compare(b.ts); c != 0 {
			return c
		}
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return s
}

// TestLiveWriteAgreesWithFile: the packets -w writes during a live
// capture (frames kept per connection, written at its close) are those
// it writes reading the file twice, for every selection.
func TestLiveWriteAgreesWithFile(t *testing.T) {
	cases := []struct{ input, expr string }{
		{"multi.pcap", `status == "failed"`},
		{"multi.pcap", `resumed`},
		{"multi.pcap", `true`},
		{"multi.pcap", `sni endsWith ".example.org"`},
		{"tls13-full.pcapng", `true`},
		{"sll.pcap", `true`},
		{"raw.pcap", `true`},
		{"ipv6.pcap", `true`},
		{"vlan.pcap", `true`},
		{"lossy.pcap", `true`},
		{"end-rst.pcap", `true`},
		{"end-fin.pcap", `true`},
		{"tls12-ticket-resumed.pcap", `resumed`},
	}
	for _, c := range cases {
		for _, ext := range []string{".pcapng", ".pcap"} {
			t.Run(c.input+" "+c.expr+ext, func(t *testing.T) {
				in := filepath.Join(capturesDir, c.input)
				dir := t.TempDir()
				fileOut, liveOut := filepath.Join(dir, "file"+ext), filepath.Join(dir, "live"+ext)
				r := runBin(t, nil, "-q", "-F", "json", "-r", in, "-Y", c.expr, "-w", fileOut)
				if r.code != 0 {
					t.Fatalf("file run: exit %d: %s", r.code, r.stderr)
				}
				stdout, stderr, err := runAsLive(t, nil, "-q", "-F", "json", "-r", in, "-Y", c.expr, "-w", liveOut)
				if err != nil {
					t.Fatalf("live run: %v (%s)", err, stderr)
				}
				if stderr != "" {
					t.Errorf("live run said %q", stderr)
				}
				if a, b := len(readRecords(t, r.stdout)), len(readRecords(t, stdout)); a != b {
					t.Fatalf("file run selected %d records, live %d", a, b)
				}
				want, got := sortedSegs(t, fileOut), sortedSegs(t, liveOut)
				if !slices.Equal(got, want) {
					t.Fatalf("live -w wrote %d packets, the file's -w %d:\n got %v\nwant %v", len(got), len(want), got, want)
				}
			})
		}
	}
}

// TestLiveWriteBounds: past the per-connection bound a connection keeps
// its first packets; past the total bound nothing more is held; both
// are said on stderr, even with -q, and the exit is 0.
func TestLiveWriteBounds(t *testing.T) {
	in := filepath.Join(capturesDir, "multi.pcap")
	dir := t.TempDir()
	all := filepath.Join(dir, "all.pcapng")
	if _, se, err := runAsLive(t, nil, "-q", "-F", "json", "-r", in, "-w", all); err != nil || se != "" {
		t.Fatalf("%v %q", err, se)
	}
	full := sortedSegs(t, all)
	for _, c := range []struct {
		name string
		set  func(*options)
		say  string
	}{
		{"per connection", func(o *options) { o.wMaxConn = 600 }, "over -w-max-conn 600"},
		{"in all", func(o *options) { o.wMaxMemory = 3000 }, "over -w-max-memory 3000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".pcapng")
			_, se, err := runAsLive(t, c.set, "-q", "-F", "json", "-r", in, "-w", out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(se, c.say) || !strings.Contains(se, "lacks packets") {
				t.Errorf("stderr %q, want it to say %q", se, c.say)
			}
			got := sortedSegs(t, out)
			if len(got) == 0 || len(got) >= len(full) {
				t.Fatalf("%d packets of %d written", len(got), len(full))
			}
			// What was written is a part of the whole, unchanged.
			i := 0
			for _, s := range got {
				for i < len(full) && full[i] != s {
					i++
				}
				if i == len(full) {
					t.Fatalf("packet %+v was not in the capture's selection", s)
				}
				i++
			}
		})
	}
}

// TestLiveWriteFlags: the live bounds are refused with -r, as live-only
// flags are; a -w file that cannot be created is said before the capture.
func TestLiveWriteFlags(t *testing.T) {
	in := filepath.Join(capturesDir, "multi.pcap")
	r := runBin(t, nil, "-r", in, "-w", filepath.Join(t.TempDir(), "x.pcapng"), "-w-max-conn", "100")
	if r.code != exitUsage || !strings.Contains(r.stderr, "-w-max-conn is for live capture") {
		t.Errorf("exit %d, %q", r.code, r.stderr)
	}
	_, _, err := runAsLive(t, nil, "-q", "-F", "json", "-r", in, "-w", filepath.Join(t.TempDir(), "no", "dir.pcapng"))
	if err == nil || !strings.Contains(err.Error(), "-w") {
		t.Errorf("unwritable: %v", err)
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "no")); err == nil {
		t.Error("made a directory")
	}
}

// TestLiveWriterOrder: the cases a file run as live does not meet,
// because its records come out once every frame is read: stragglers
// after the Record follow its verdict, a SYN on the same ports starts a
// new connection, frames of a connection that never gets a Record are
// dropped once it closed closeGrace ago, and fragments are not kept.
func TestLiveWriterOrder(t *testing.T) {
	dir := t.TempDir()
	o := &options{writeFile: filepath.Join(dir, "o.pcapng"), wMaxConn: 1 << 20, wMaxMemory: 1 << 20}
	lw, err := newLiveWriter(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := netip.MustParseAddrPort("192.0.2.1:50000")
	sv := netip.MustParseAddrPort("198.51.100.7:443")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(at time.Duration, from, to netip.AddrPort, flags uint8, reassembled bool) {
		p := packet.Packet{Transport: packet.TCP, Segment: packet.Segment{Timestamp: t0.Add(at), Src: from, Dst: to, Flags: flags}}
		lw.add(&p, capture.RawFrame{Data: []byte{1, 2, 3, 4}, LinkType: capture.LinkTypeRaw, Timestamp: t0.Add(at), WireLen: 4, Reassembled: reassembled})
	}
	rec := func(first, end time.Duration, selected bool) {
		r := &flows.Record{TS: flows.Time{Time: t0.Add(first)}, EndTS: flows.Time{Time: t0.Add(end)}, Transport: "tcp",
			Client: flows.Endpoint{IP: cl.Addr().String(), Port: cl.Port()}, Server: flows.Endpoint{IP: sv.Addr().String(), Port: sv.Port()}}
		lw.record(r, selected)
	}
	const syn, ack, fin = packet.FlagSYN, packet.FlagACK, packet.FlagFIN | packet.FlagACK
	add(0, cl, sv, syn, false)
	add(time.Millisecond, sv, cl, syn|ack, false)
	add(2*time.Millisecond, cl, sv, ack, true) // rebuilt from fragments
	add(3*time.Millisecond, cl, sv, fin, false)
	add(4*time.Millisecond, sv, cl, fin, false)
	rec(0, 4*time.Millisecond, true)
	if lw.st.frames != 4 || lw.st.fragmented != 1 || lw.st.conns != 1 {
		t.Fatalf("after the record: %+v", lw.st)
	}
	add(5*time.Millisecond, cl, sv, ack, false) // the last ACK: written
	if lw.st.frames != 5 {
		t.Fatalf("straggler of a selected connection not written: %+v", lw.st)
	}
	// A new connection on the same ports, left out by -Y: its frames,
	// and its straggler, are dropped.
	add(time.Second, cl, sv, syn, false)
	add(time.Second+time.Millisecond, sv, cl, syn|ack, false)
	rec(time.Second, time.Second+time.Millisecond, false)
	add(time.Second+2*time.Millisecond, cl, sv, packet.FlagRST, false)
	if lw.st.frames != 5 || lw.st.dropped != 3 {
		t.Fatalf("a connection left out: %+v", lw.st)
	}
	// A third, that never gets a Record: held, then dropped once
	// closeGrace has passed since its RST.
	add(3*time.Second, cl, sv, syn, false)
	add(3*time.Second+time.Millisecond, cl, sv, packet.FlagRST, false)
	if len(lw.conns) != 1 || lw.held != 8 {
		t.Fatalf("held %d bytes of %d connections", lw.held, len(lw.conns))
	}
	other := netip.MustParseAddrPort("192.0.2.9:1")
	add(3*time.Second+closeGrace+2*time.Second, other, sv, syn, false)
	if _, ok := lw.conns[wkeyOf(cl, sv, false)]; ok || lw.st.unclaimed != 2 {
		t.Fatalf("a closed connection without a Record is still held: %+v", lw.st)
	}
	if err := lw.close(); err != nil {
		t.Fatal(err)
	}
	if lw.held != 0 || len(lw.conns) != 0 || lw.st.unclaimed != 3 {
		t.Errorf("after close: held %d, %d conns, %+v", lw.held, len(lw.conns), lw.st)
	}
	var se bytes.Buffer
	lw.report(&se, true)
	if !strings.Contains(se.String(), "5 packets of 1 connections") || !strings.Contains(se.String(), "1 rebuilt from IP fragments") {
		t.Errorf("report %q", se.String())
	}
}
