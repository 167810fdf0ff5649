package pcapout

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// frames written by our writer read back as they were, in both formats.
func TestRoundTrip(t *testing.T) {
	in := []frame{
		{data: []byte{1, 2, 3, 4, 5}, ts: t0, wireLen: 5, linkType: 1, snaplen: 65535},
		{data: []byte{6}, ts: t0.Add(1500 * time.Nanosecond), wireLen: 1500, linkType: 1, snaplen: 65535},
		{data: bytes.Repeat([]byte{7}, 1001), ts: t0.Add(time.Hour), wireLen: 1001, linkType: 1, snaplen: 65535},
	}
	for _, format := range []Format{PcapNG, Pcap} {
		t.Run(format.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := newWriter(&buf, format)
			if err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if err := w.write(0, &in[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.close(1); err != nil {
				t.Fatal(err)
			}
			r, err := newReader(bytes.NewReader(buf.Bytes()), "x")
			if err != nil {
				t.Fatal(err)
			}
			for i := range in {
				var f frame
				if err := r.next(&f); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(f.data, in[i].data) || !f.ts.Equal(in[i].ts) || f.wireLen != in[i].wireLen || f.linkType != 1 {
					t.Errorf("frame %d: %+v, want %+v", i, f, in[i])
				}
			}
			var f frame
			if err := r.next(&f); err != io.EOF {
				t.Errorf("after the last frame: %v", err)
			}
			// Every strict prefix that cuts a frame is an error, never a
			// panic or a frame of garbage.
			for n := range buf.Len() {
				r, err := newReader(bytes.NewReader(buf.Bytes()[:n]), "x")
				if err != nil {
					continue
				}
				got := 0
				for {
					var f frame
					if err = r.next(&f); err != nil {
						break
					}
					got++
				}
				if got > len(in) || (err == io.EOF && got == len(in) && n < buf.Len()) {
					t.Fatalf("prefix %d: %d frames, %v", n, got, err)
				}
			}
		})
	}
}

// TestPcapMixedLinkTypes: pcap holds one link type; pcapng one interface
// per input interface.
func TestPcapMixedLinkTypes(t *testing.T) {
	a := frame{data: []byte{1}, ts: t0, wireLen: 1, linkType: 1}
	b := frame{data: []byte{2}, ts: t0, wireLen: 1, linkType: 113}
	w, _ := newWriter(io.Discard, Pcap)
	if err := w.write(0, &a); err != nil {
		t.Fatal(err)
	}
	if err := w.write(0, &b); err == nil {
		t.Error("pcap took two link types")
	}
	var buf bytes.Buffer
	w, _ = newWriter(&buf, PcapNG)
	w.write(0, &a)
	w.write(1, &b)
	w.write(0, &a)
	w.close(1)
	r, err := newReader(&buf, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint32{1, 113, 1} {
		var f frame
		if err := r.next(&f); err != nil || f.linkType != want {
			t.Fatalf("link type %d (%v), want %d", f.linkType, err, want)
		}
	}
	if len(r.ifaces) != 2 {
		t.Errorf("%d interfaces, want 2", len(r.ifaces))
	}
}

// TestSelection: a packet belongs to a selected connection within its
// times, either way, and in its tail unless a SYN or another connection
// of the same ports took over.
func TestSelection(t *testing.T) {
	c := netip.MustParseAddrPort("192.0.2.1:50000")
	s := netip.MustParseAddrPort("198.51.100.2:443")
	sel := NewSelection([]Conn{
		{Client: c, Server: s, First: t0, Last: t0.Add(time.Second), Selected: true},
		{Client: c, Server: s, First: t0.Add(10 * time.Second), Last: t0.Add(11 * time.Second)},
		{Client: c, Server: s, First: t0.Add(20 * time.Second), Last: t0.Add(21 * time.Second), Selected: true},
	})
	for _, p := range []struct {
		name     string
		a, b     netip.AddrPort
		udp, syn bool
		at       time.Duration
		want     bool
	}{
		{"first packet", c, s, false, true, 0, true},
		{"reply", s, c, false, false, 500 * time.Millisecond, true},
		{"last", c, s, false, false, time.Second, true},
		{"tail", c, s, false, false, 2 * time.Second, true},
		{"SYN after", c, s, false, true, 2 * time.Second, false},
		{"before", c, s, false, false, -time.Millisecond, false},
		{"not selected", c, s, false, false, 10500 * time.Millisecond, false},
		{"tail of not selected", c, s, false, false, 15 * time.Second, false},
		{"third", s, c, false, false, 20 * time.Second, true},
		{"tail ends", c, s, false, false, 21*time.Second + Tail + 1, false},
		{"udp is not tcp", c, s, true, false, 500 * time.Millisecond, false},
		{"other port", c, netip.MustParseAddrPort("198.51.100.2:444"), false, false, 500 * time.Millisecond, false},
		{"mapped address", netip.MustParseAddrPort("[::ffff:192.0.2.1]:50000"), s, false, false, 500 * time.Millisecond, true},
	} {
		if got := sel.Match(p.a, p.b, p.udp, t0.Add(p.at), p.syn); got != p.want {
			t.Errorf("%s: %v, want %v", p.name, got, p.want)
		}
	}
	if sel.Len() != 2 {
		t.Errorf("Len %d", sel.Len())
	}
}

// TestReaderErrors: damage is an error wrapping ErrCorrupt naming the file.
func TestReaderErrors(t *testing.T) {
	huge := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"not a capture", []byte("hello, world")},
		{"empty", nil},
		{"record of 2 GiB", huge},
		{"pcapng bad byte order", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0}},
	} {
		r, err := newReader(bytes.NewReader(c.data), "bad.pcap")
		if err == nil {
			var f frame
			err = r.next(&f)
		}
		if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("bad.pcap")) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestCommittedCaptures: every committed capture is read to its end, with
// as many frames as tshark counts (capinfos, recorded by hand in the
// table would rot: instead, frames copied with an everything-selection
// equal frames read).
func TestCommittedCaptures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/captures/*.pcap*")
	for _, name := range files {
		if filepath.Ext(name) == ".keys" {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := Copy(io.Discard, PcapNG, []Input{{Name: name, R: f}}, NewSelection(nil), nil)
		f.Close()
		if err != nil || st.Read == 0 || st.Written != 0 {
			t.Errorf("%s: %+v, %v", name, st, err)
		}
	}
}

func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("../testdata/captures/*.pcap*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		var buf bytes.Buffer
		w, _ := newWriter(&buf, PcapNG)
		var frames [][]byte
		for n := 0; ; n++ {
			var fr frame
			err := r.next(&fr)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v does not wrap ErrCorrupt", err)
				}
				break
			}
			if len(fr.data) > MaxCaptureLen || len(fr.data) > len(data) || fr.wireLen < len(fr.data) {
				t.Fatalf("frame of %d bytes (wire %d) from %d bytes of input", len(fr.data), fr.wireLen, len(data))
			}
			if n > len(data) {
				t.Fatal("more frames than bytes")
			}
			matches(&fr, NewSelection(nil), map[fragKey]bool{})
			if fr.linkType <= 0xffff {
				if err := w.write(0, &fr); err != nil {
					t.Fatal(err)
				}
				frames = append(frames, bytes.Clone(fr.data))
			}
		}
		w.close(1)
		// What we write we read back, frame for frame.
		r2, err := newReader(&buf, "again")
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range frames {
			var fr frame
			if err := r2.next(&fr); err != nil || !bytes.Equal(fr.data, want) {
				t.Fatalf("frame %d read back: %v", i, err)
			}
		}
	})
}

// BenchmarkCopy: the second reading of -w, on the committed multi.pcap
// with half its connections selected.
func BenchmarkCopy(b *testing.B) {
	data, err := os.ReadFile("../testdata/captures/multi.pcap")
	if err != nil {
		b.Fatal(err)
	}
	var conns []Conn
	for i := range 11 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), uint16(50000+7*i))
		conns = append(conns, Conn{Client: c, Server: netip.MustParseAddrPort("198.51.100.20:443"),
			First: t0, Last: t0.Add(time.Second), Selected: i%2 == 0})
	}
	sel := NewSelection(conns)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st, err := Copy(io.Discard, PcapNG, []Input{{Name: "multi", R: bytes.NewReader(data)}}, sel, nil)
		if err != nil || st.Written == 0 {
			b.Fatal(st, err)
		}
	}
}

// TestWriter: frames written one at a time read back as written, in
// both formats; an empty pcap still has its header; pcap refuses a
// second link type and pcapng gives it an interface.
func TestWriter(t *testing.T) {
	in := []frame{
		{data: []byte{1, 2, 3}, ts: t0, wireLen: 60, linkType: 1},
		{data: []byte{4, 5}, ts: t0.Add(time.Millisecond), wireLen: 0, linkType: 1}, // wire raised to 2
	}
	for _, format := range []Format{PcapNG, Pcap} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, format, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range in {
			data := bytes.Clone(f.data)
			if err := w.WriteFrame(f.linkType, data, f.ts, f.wireLen); err != nil {
				t.Fatal(err)
			}
			clear(data) // the writer must not keep it
		}
		if err := w.WriteFrame(1, make([]byte, MaxCaptureLen+1), t0, 0); err == nil {
			t.Errorf("%v: a frame over MaxCaptureLen was written", format)
		}
		err = w.WriteFrame(113, []byte{9}, t0.Add(time.Second), 1)
		if (err == nil) != (format == PcapNG) {
			t.Errorf("%v: second link type: %v", format, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w.Frames() != uint64(len(in))+map[Format]uint64{PcapNG: 1, Pcap: 0}[format] {
			t.Errorf("%v: Frames %d", format, w.Frames())
		}
		r, err := newReader(bytes.NewReader(buf.Bytes()), "x")
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range in {
			var g frame
			if err := r.next(&g); err != nil {
				t.Fatalf("%v frame %d: %v", format, i, err)
			}
			if !bytes.Equal(g.data, f.data) || !g.ts.Equal(f.ts) || g.wireLen != max(f.wireLen, len(f.data)) || g.linkType != 1 {
				t.Errorf("%v frame %d: %+v, want %+v", format, i, g, f)
			}
		}
		var g frame
		if format == PcapNG {
			if err := r.next(&g); err != nil || g.linkType != 113 {
				t.Errorf("pcapng third frame: link type %d, %v", g.linkType, err)
			}
		}
		if err := r.next(&g); err != io.EOF {
			t.Errorf("%v: after the last frame: %v", format, err)
		}
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Pcap, 113)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := newReader(bytes.NewReader(buf.Bytes()), "x")
	if err != nil || r.linkType != 113 {
		t.Fatalf("empty pcap: %v, link type %d", err, r.linkType)
	}
}
