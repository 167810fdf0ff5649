package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdissect/tlsdissect/packet"
)

type readSeg struct {
	seg     packet.Segment
	payload []byte
}

// readAll reads every segment of file; with retain, payloads are kept as
// Next returns them (no copy) and checked at the end, so a chunk reused
// too early shows as changed bytes.
func readRetained(t *testing.T, file []byte, retain bool, chunk int, release bool) ([]readSeg, *chunkReader) {
	t.Helper()
	// Small chunks make the refills happen inside these small files.
	s, err := openReader(bytes.NewReader(file), "test", Options{chunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	if retain {
		s.Retain()
	}
	var out []readSeg
	for {
		var seg packet.Segment
		err := s.Next(&seg)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := seg.Payload
		if !retain {
			p = bytes.Clone(p)
		} else if !s.Retained() {
			t.Fatal("a file segment not retained")
		}
		if release {
			// Every segment so far is done with.
			p = bytes.Clone(p)
			s.Done(s.stats.TCPSegments)
		}
		out = append(out, readSeg{seg: seg, payload: p})
	}
	return out, s.file.br
}

// TestRetainedPayloads: with Retain, every payload stays as it was read
// until released, across many refills; released buffers are reused.
func TestRetainedPayloads(t *testing.T) {
	files, _ := filepath.Glob("../testdata/captures/*.pcap")
	ng, _ := filepath.Glob("../testdata/captures/*.pcapng")
	files = append(files, ng...)
	if len(files) == 0 {
		t.Fatal("no captures")
	}
	for _, f := range files {
		file, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := readRetained(t, file, false, 0, false)
		for _, chunk := range []int{2048, 4096, 70000} {
			got, br := readRetained(t, file, true, chunk, false)
			if len(got) != len(want) {
				t.Fatalf("%s chunk %d: %d segments, want %d", f, chunk, len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].payload, want[i].payload) || got[i].seg.Seq != want[i].seg.Seq {
					t.Fatalf("%s chunk %d: segment %d changed after reading on", f, chunk, i)
				}
			}
			if len(file) > 3*chunk && len(br.held) == 0 {
				t.Errorf("%s chunk %d: no chunk was left behind", f, chunk)
			}
			_, br = readRetained(t, file, true, chunk, true)
			if len(br.held) > 1 {
				t.Errorf("%s chunk %d: %d chunks held after releasing as we went", f, chunk, len(br.held))
			}
			if len(file) > 3*chunk && len(br.free)+len(br.held) > 3 {
				t.Errorf("%s chunk %d: %d chunks made although each was released", f, chunk, len(br.free)+len(br.held)+1)
			}
		}
	}
}

// TestRetainedSkippedPackets: a retaining Source whose packets are all
// skipped (here: a filter that matches none) holds no buffer behind it,
// so a file that yields nothing is not kept in memory whole.
func TestRetainedSkippedPackets(t *testing.T) {
	file, err := os.ReadFile("../testdata/captures/multi.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"tcp port 9999", ""} {
		s, err := openReader(bytes.NewReader(file), "test", Options{chunk: 2048, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		s.Retain()
		most := 0
		for {
			var seg packet.Segment
			if err := s.Next(&seg); err != nil {
				break
			}
			s.Done(s.stats.TCPSegments) // the consumer keeps up
			most = max(most, len(s.file.br.held))
		}
		if filter != "" && (s.stats.TCPSegments != 0 || len(s.file.br.held) > 1) {
			t.Errorf("filter %q: %d segments, %d buffers held at the end", filter, s.stats.TCPSegments, len(s.file.br.held))
		}
		if most > 2 {
			t.Errorf("filter %q: up to %d buffers held with every segment done", filter, most)
		}
	}
}
