package shard

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// dissect runs a capture through an Engine of n shards and returns the
// JSON lines and the counters.
func dissect(t testing.TB, path string, n int, rcfg reassembly.Config) (string, reassembly.Stats, flows.Stats) {
	t.Helper()
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out bytes.Buffer
	w, err := output.New("json", &out, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(n, rcfg, flows.Config{Ordered: true, ReportNonTLS: true}, func(r *flows.Record) {
		if err := w.Write(r); err != nil {
			t.Error(err)
		}
	})
	var seg capture.Segment
	for {
		err := src.Next(&seg)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A damaged capture is dissected as far as it goes, here too.
			break
		}
		e.Add((*reassembly.Segment)(&seg))
	}
	e.Close(seg.Timestamp)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	as, fs := e.Stats()
	return out.String(), as, fs
}

// captures returns the committed captures and, when TLSDISSECT_CONFORMANCE
// names them, the peer captures.
func captures(t *testing.T) []string {
	files, err := filepath.Glob("../../testdata/captures/*.pcap*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed captures (%v)", err)
	}
	if dir := os.Getenv("TLSDISSECT_CONFORMANCE"); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("TLSDISSECT_CONFORMANCE=%s: %v", dir, err)
		}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".pcap" || ext == ".pcapng" || ext == ".cap") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestShardsAgree: whatever the number of shards, every capture gives the
// same Records, byte for byte, in the same order, and the same counters.
// The peer captures bring lineage, renegotiation, mid-stream starts, loss
// and reordering; multi.pcap brings resumption across connections that
// land on different shards.
func TestShardsAgree(t *testing.T) {
	files := captures(t)
	checked := 0
	for _, f := range files {
		if src, err := capture.OpenFile(f, capture.Options{}); err != nil {
			continue // e.g. a link type we do not read; main's tests cover that
		} else {
			src.Close()
		}
		want, wantA, wantF := dissect(t, f, 1, reassembly.Config{})
		for _, n := range []int{2, 3, 8} {
			got, gotA, gotF := dissect(t, f, n, reassembly.Config{})
			if got != want {
				t.Errorf("%s: %d shards differ from one:\n%s", f, n, firstDiff(want, got))
				continue
			}
			wantA.Open, gotA.Open = 0, 0
			if gotA != wantA {
				t.Errorf("%s: %d shards: reassembly counters %+v, want %+v", f, n, gotA, wantA)
			}
			if gotF.Records != wantF.Records || gotF.TLS != wantF.TLS || gotF.Established != wantF.Established || gotF.Failed != wantF.Failed {
				t.Errorf("%s: %d shards: flows counters %+v, want %+v", f, n, gotF, wantF)
			}
		}
		checked++
	}
	t.Logf("%d captures agree over 1, 2, 3 and 8 shards", checked)
}

// TestShardsLineage checks the capture where lineage crosses shards: each
// resumed connection names the connection that issued its ticket.
func TestShardsLineage(t *testing.T) {
	out, _, _ := dissect(t, "../../testdata/captures/multi.pcap", 3, reassembly.Config{})
	if n := strings.Count(out, `"issued_by":"C`); n == 0 {
		t.Fatalf("no ticket traced to its issuer with 3 shards:\n%s", out)
	}
	if n := strings.Count(out, `"resumed_from":"C`); n == 0 {
		t.Fatalf("no resumption traced with 3 shards")
	}
}

// TestShardsBudgets: each shard gets its part of the connection budget, so
// that the total stays within it.
func TestShardsBudgets(t *testing.T) {
	e := New(4, reassembly.Config{MaxConns: 8}, flows.Config{ReportNonTLS: true}, func(*flows.Record) {})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		seg := reassembly.Segment{
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Seq:       uint32(i),
			Flags:     reassembly.FlagSYN,
		}
		seg.Src = addrPort(10, uint16(1024+i))
		seg.Dst = addrPort(20, 443)
		e.Add(&seg)
		if o := e.Open(); o > 8 {
			t.Fatalf("after %d SYNs %d connections open, budget 8", i+1, o)
		}
	}
	e.Close(base.Add(time.Hour))
	as, fs := e.Stats()
	if as.Connections != 1000 || fs.Connections != 1000 {
		t.Errorf("connections %d / %d, want 1000", as.Connections, fs.Connections)
	}
	if as.Evicted < 1000-8 {
		t.Errorf("evicted %d, want at least %d", as.Evicted, 1000-8)
	}
}

// TestShardsEmptyAndTick: no segment at all, and a live-style tick, end
// cleanly.
func TestShardsEmptyAndTick(t *testing.T) {
	var got []*flows.Record
	e := New(3, reassembly.Config{}, flows.Config{}, func(r *flows.Record) { got = append(got, r) })
	e.Tick(time.Now())
	e.Tick(time.Now())
	e.Close(time.Now())
	e.Close(time.Now()) // a second Close is harmless
	if len(got) != 0 {
		t.Fatalf("%d records from nothing", len(got))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + "\n want: " + x + "\n  got: " + y
		}
	}
	return "(no line differs)"
}

func addrPort(host byte, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, host}), port)
}
