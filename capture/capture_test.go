package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/tlsdissect/tlsdissect/packet"
)

// wantSeg checks a decoded segment against the spec it was built from.
func wantSeg(t *testing.T, got packet.Segment, spec tcpSpec, ts time.Time) {
	t.Helper()
	if got.Src != spec.src || got.Dst != spec.dst {
		t.Errorf("addresses %v -> %v, want %v -> %v", got.Src, got.Dst, spec.src, spec.dst)
	}
	if got.Seq != spec.seq || got.Ack != spec.ack || got.Window != spec.window {
		t.Errorf("seq/ack/window %d/%d/%d, want %d/%d/%d", got.Seq, got.Ack, got.Window, spec.seq, spec.ack, spec.window)
	}
	var flags uint8
	if spec.syn {
		flags |= packet.FlagSYN
	}
	if spec.ackFlag {
		flags |= packet.FlagACK
	}
	if spec.fin {
		flags |= packet.FlagFIN
	}
	if spec.psh {
		flags |= packet.FlagPSH
	}
	if got.Flags != flags {
		t.Errorf("flags %#x, want %#x", got.Flags, flags)
	}
	if !bytes.Equal(got.Payload, spec.payload) {
		t.Errorf("payload %q, want %q", got.Payload, spec.payload)
	}
	if !got.Timestamp.Equal(ts) || got.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %v, want %v UTC", got.Timestamp, ts)
	}
	if got.Truncated != 0 {
		t.Errorf("Truncated %d, want 0", got.Truncated)
	}
}

func TestLinkTypes(t *testing.T) {
	tests := []struct {
		lt      LinkType
		variant string
		v6      bool
	}{
		{LinkTypeEthernet, "", false},
		{LinkTypeEthernet, "", true},
		{LinkTypeEthernet, "padded", false},
		{LinkTypeEthernet, "vlan", false},
		{LinkTypeEthernet, "vlan", true},
		{LinkTypeEthernet, "qinq", false},
		{LinkTypeEthernet, "qinq9100", true},
		{LinkTypeLinuxSLL, "", false},
		{LinkTypeLinuxSLL, "", true},
		{LinkTypeLinuxSLL2, "", false},
		{LinkTypeLinuxSLL2, "", true},
		{LinkTypeRaw, "", false},
		{LinkTypeRaw, "", true},
		{LinkTypeRawDLT12, "", false},
		{LinkTypeRawDLT14, "", true},
		{LinkTypeIPv4, "", false},
		{LinkTypeIPv6, "", true},
		{LinkTypeNull, "", false},
		{LinkTypeNull, "", true},
		{LinkTypeNull, "freebsd", true},
		{LinkTypeNull, "darwin", true},
		{LinkTypeLoop, "", false},
		{LinkTypeLoop, "", true},
	}
	for _, tc := range tests {
		name := tc.lt.String() + "/" + tc.variant
		if tc.v6 {
			name += "/v6"
		}
		t.Run(name, func(t *testing.T) {
			spec := defaultSpec(tc.v6, "hi") // short: exercises Ethernet padding
			spec.ipOptions = !tc.v6
			frame := frameFor(t, tc.lt, tc.variant, spec.ip(t))
			for _, format := range []string{"pcap", "pcap-be-nano", "pcapng", "pcapng-be"} {
				var file []byte
				switch format {
				case "pcap":
					file = pcapBytes(tc.lt, pcapOpts{}, rec{ts: t0, data: frame})
				case "pcap-be-nano":
					file = pcapBytes(tc.lt, pcapOpts{bigEndian: true, nanos: true}, rec{ts: t0, data: frame})
				case "pcapng":
					file = pcapngBytes(false, []ngIface{{lt: tc.lt, tsres: -1}}, rec{ts: t0, data: frame})
				case "pcapng-be":
					file = pcapngBytes(true, []ngIface{{lt: tc.lt, tsres: 9}}, rec{ts: t0, data: frame})
				}
				path := writeTemp(t, "x."+format, file)
				s, err := OpenFile(path, Options{})
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if s.LinkType() != tc.lt.String() {
					t.Errorf("%s: LinkType %q, want %q", format, s.LinkType(), tc.lt)
				}
				segs, st, err := drain(s)
				s.Close()
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if len(segs) != 1 {
					t.Fatalf("%s: %d segments, want 1 (stats %+v)", format, len(segs), st)
				}
				wantSeg(t, segs[0], spec, t0)
				if st.Packets != 1 || st.TCPSegments != 1 || st.Bytes != uint64(len(frame)) {
					t.Errorf("%s: stats %+v", format, st)
				}
				if s.Offset() != int64(len(file)) || s.Size() != int64(len(file)) {
					t.Errorf("%s: Offset %d Size %d, want %d", format, s.Offset(), s.Size(), len(file))
				}
			}
		})
	}
}

// TestPcapgoWritten reads files written by gopacket's own pcap and pcapng
// writers, an encoder independent of ours.
func TestPcapgoWritten(t *testing.T) {
	specs := []tcpSpec{defaultSpec(false, "first"), defaultSpec(true, "second")}
	var frames [][]byte
	for _, sp := range specs {
		frames = append(frames, frameFor(t, LinkTypeEthernet, "", sp.ip(t)))
	}
	var pc, ng bytes.Buffer
	pw := pcapgo.NewWriterNanos(&pc)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := pw.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
		if err := nw.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"pcapgo.Writer": pc.Bytes(), "pcapgo.NgWriter": ng.Bytes()} {
		segs, _, err := readAll(t, file, Options{})
		if err != nil || len(segs) != 2 {
			t.Fatalf("%s: %d segments, %v", name, len(segs), err)
		}
		for i, sp := range specs {
			wantSeg(t, segs[i], sp, t0.Add(time.Duration(i)*time.Millisecond))
		}
	}
}

func TestSnaplenTruncation(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		spec := defaultSpec(v6, strings.Repeat("x", 1000))
		frame := frameFor(t, LinkTypeEthernet, "", spec.ip(t))
		const snap = 100
		file := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame[:snap], wireLen: len(frame)})
		segs, st, err := readAll(t, file, Options{})
		if err != nil || len(segs) != 1 {
			t.Fatalf("v6=%v: %d segments, %v", v6, len(segs), err)
		}
		hdr := 14 + 20 + 20
		if v6 {
			hdr = 14 + 40 + 20
		}
		if got, want := len(segs[0].Payload), snap-hdr; got != want {
			t.Errorf("v6=%v: payload %d bytes, want %d", v6, got, want)
		}
		if got, want := segs[0].Truncated, 1000-(snap-hdr); got != want {
			t.Errorf("v6=%v: Truncated %d, want %d", v6, got, want)
		}
		if st.Truncated != 1 {
			t.Errorf("v6=%v: Stats.Truncated %d", v6, st.Truncated)
		}
	}
}

func TestSkippedPackets(t *testing.T) {
	good := frameFor(t, LinkTypeEthernet, "", defaultSpec(false, "ok").ip(t))
	udpIP := &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolUDP, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}
	udpL := &layers.UDP{SrcPort: 53, DstPort: 53}
	udpL.SetNetworkLayerForChecksum(udpIP)
	udp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4},
		udpIP, udpL, gopacket.Payload("dns"))
	arp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: macA, SourceProtAddress: cli4.AsSlice(), DstHwAddress: macB, DstProtAddress: srv4.AsSlice()})
	llc := append(append([]byte(nil), good[:12]...), 0x00, 0x26, 0x42, 0x42, 0x03) // 802.3 length + LLC
	badTCP := bytes.Clone(good)
	badTCP[14+20+12] = 0x40 // data offset 4 words < 5
	tests := []struct {
		name    string
		frame   []byte
		nonTCP  uint64
		decodeE uint64
	}{
		{"udp", udp, 1, 0},
		{"arp", arp, 1, 0},
		{"llc", llc, 1, 0},
		{"short ethernet", good[:10], 0, 1},
		{"short ip", good[:14+12], 0, 1},
		{"bad tcp offset", badTCP, 0, 1},
		{"ihl beyond frame", append(bytes.Clone(good[:14]), 0x4f, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8), 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: tc.frame}, rec{ts: t0, data: good})
			segs, st, err := readAll(t, file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != 1 || string(segs[0].Payload) != "ok" {
				t.Errorf("segments %v, want the good one only", segs)
			}
			if st.NonTCP != tc.nonTCP || st.DecodeErrors != tc.decodeE || st.Packets != 2 {
				t.Errorf("stats %+v, want NonTCP %d DecodeErrors %d", st, tc.nonTCP, tc.decodeE)
			}
		})
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	ah := make([]byte, 16) // AH: next(1) len(1)=(16/4)-2 reserved(2) SPI(4) seq(4) ICV(4)
	ah[0] = ipProtoTCP
	ah[1] = 2
	tests := []struct {
		name  string
		first uint8
		ext   []byte
	}{
		{"hop-by-hop", ipProtoHopByHop, extHeader(ipProtoTCP, 1)},
		{"hbh+routing+dstopts", ipProtoHopByHop, bytes.Join([][]byte{
			extHeader(ipProtoRouting, 1), extHeader(ipProtoDstOpts, 3), extHeader(ipProtoTCP, 2)}, nil)},
		{"atomic fragment", ipProtoFragment, []byte{ipProtoTCP, 0, 0, 0, 0, 0, 0, 9}},
		{"ah", ipProtoAH, ah},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := defaultSpec(true, "ext")
			spec.v6ext, spec.v6extFirst = tc.ext, tc.first
			file := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", spec.ip(t))})
			segs, st, err := readAll(t, file, Options{})
			if err != nil || len(segs) != 1 {
				t.Fatalf("%d segments, %v, %+v", len(segs), err, st)
			}
			wantSeg(t, segs[0], spec, t0)
		})
	}
	// A chain that runs off the end of the packet is a decode error.
	spec := defaultSpec(true, "")
	spec.v6ext, spec.v6extFirst = []byte{ipProtoTCP, 5, 0, 0, 0, 0, 0, 0}, ipProtoDstOpts
	ip := spec.ip(t)
	ip = ip[:40+8]
	binary.BigEndian.PutUint16(ip[4:6], 8)
	_, st, _ := readAll(t, pcapBytes(LinkTypeRaw, pcapOpts{}, rec{ts: t0, data: ip}), Options{})
	if st.DecodeErrors != 1 {
		t.Errorf("overlong extension header: stats %+v", st)
	}
}

func TestFileErrors(t *testing.T) {
	frame := frameFor(t, LinkTypeEthernet, "", defaultSpec(false, "payload-bytes").ip(t))
	three := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame}, rec{ts: t0, data: frame}, rec{ts: t0, data: frame})
	ng3 := pcapngBytes(false, []ngIface{{lt: LinkTypeEthernet, tsres: -1}},
		rec{ts: t0, data: frame}, rec{ts: t0, data: frame}, rec{ts: t0, data: frame})
	badVersion := bytes.Clone(three)
	badVersion[4] = 3
	hugeCap := bytes.Clone(three)
	binary.LittleEndian.PutUint32(hugeCap[24+2*(16+len(frame))+8:], 1<<20)
	badBOM := bytes.Clone(ng3)
	badBOM[8] = 0x99
	badBlockLen := bytes.Clone(ng3)
	binary.LittleEndian.PutUint32(badBlockLen[len(badBlockLen)-4:], 13) // trailer of the last EPB
	tsres := pcapngBytes(false, []ngIface{{lt: LinkTypeEthernet, tsres: 0x7f}}, rec{ts: t0, data: frame})
	recLen := 16 + len(frame)

	tests := []struct {
		name     string
		file     []byte
		open     error  // error expected from open
		segs     int    // segments before the error from Next
		next     error  // error expected from Next
		contains string // in the message
	}{
		{"empty", nil, ErrNotCapture, 0, nil, "empty file"},
		{"text", []byte("hello, world\n"), ErrNotCapture, 0, nil, `magic 0x68656c6c, "hell"`},
		{"elf", []byte("\x7fELF\x02\x01\x01"), ErrNotCapture, 0, nil, "not a pcap or pcapng file"},
		{"short header", three[:20], ErrTruncated, 0, nil, "pcap file header"},
		{"bad version", badVersion, ErrCorrupt, 0, nil, "unsupported version 3.4"},
		{"pcapng bad byte order", badBOM, ErrCorrupt, 0, nil, "byte-order magic"},
		{"pcapng if_tsresol out of range", tsres, ErrCorrupt, 0, nil, "if_tsresol"},
		{"truncated in packet data", three[:24+2*recLen+16+10], nil, 2, ErrTruncated, "packet data: truncated"},
		{"truncated in record header", three[:24+2*recLen+7], nil, 2, ErrTruncated, "packet record header: truncated"},
		{"huge captured length", hugeCap, nil, 2, ErrCorrupt, "exceeds the maximum"},
		{"pcapng truncated", ng3[:len(ng3)-9], nil, 2, ErrTruncated, "truncated"},
		{"pcapng bad trailer", badBlockLen, nil, 2, ErrCorrupt, "trailing block length"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "bad.cap", tc.file)
			s, err := OpenFile(path, Options{})
			if tc.open != nil {
				if !errors.Is(err, tc.open) {
					t.Fatalf("open: %v, want %v", err, tc.open)
				}
				checkMessage(t, err, path, tc.contains)
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			segs, _, err := drain(s)
			if len(segs) != tc.segs {
				t.Errorf("%d segments before the error, want %d", len(segs), tc.segs)
			}
			if !errors.Is(err, tc.next) {
				t.Fatalf("Next: %v, want %v", err, tc.next)
			}
			checkMessage(t, err, path, tc.contains)
			var seg packet.Segment
			if err2 := s.Next(&seg); err2 != err {
				t.Errorf("second Next: %v, want the same error", err2)
			}
		})
	}

	t.Run("missing", func(t *testing.T) {
		path := t.TempDir() + "/nope.pcap"
		_, err := OpenFile(path, Options{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v, want fs.ErrNotExist", err)
		}
		checkMessage(t, err, path, "no such file")
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := OpenFile(dir, Options{})
		if !errors.Is(err, ErrNotCapture) {
			t.Fatalf("%v, want ErrNotCapture", err)
		}
	})
}

func checkMessage(t *testing.T, err error, path, contains string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, contains) || strings.Contains(msg, "\n") {
		t.Errorf("message %q: want one line naming %q and containing %q", msg, path, contains)
	}
}

func TestPcapngFeatures(t *testing.T) {
	eth := defaultSpec(false, "eth")
	raw := defaultSpec(true, "raw")
	ifaces := []ngIface{
		{lt: LinkTypeEthernet, tsres: 9},                       // nanoseconds
		{lt: LinkTypeRaw, tsres: 0x80 | 20, offset: 1_000_000}, // 2^-20 s, offset
		{lt: 105, tsres: -1},                                   // unsupported: its packets are skipped
	}
	ts1 := t0.Add(time.Second)
	file := pcapngBytes(false, ifaces,
		rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", eth.ip(t)), iface: 0},
		rec{ts: ts1, data: raw.ip(t), iface: 1},
		rec{ts: ts1, data: []byte{1, 2, 3}, iface: 2},
		rec{ts: ts1, data: frameFor(t, LinkTypeEthernet, "", eth.ip(t)), iface: 0},
	)
	// A second section, big-endian, with its own interface numbering.
	be := binary.BigEndian
	sec2 := ngSHB(be)
	sec2 = append(sec2, ngIDB(be, ngIface{lt: LinkTypeLinuxSLL, tsres: 6})...)
	sec2 = append(sec2, ngEPB(be, ngIface{lt: LinkTypeLinuxSLL, tsres: 6}, rec{ts: t0, data: frameFor(t, LinkTypeLinuxSLL, "", eth.ip(t))})...)
	file = append(file, sec2...)
	segs, st, err := readAll(t, file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 4 {
		t.Fatalf("%d segments, want 4; stats %+v", len(segs), st)
	}
	wantSeg(t, segs[0], eth, t0)
	// 2^-20 s resolution: the timestamp is exact to within a microsecond.
	if d := segs[1].Timestamp.Sub(ts1); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("2^-20 timestamp off by %v", d)
	}
	segs[1].Timestamp = ts1
	wantSeg(t, segs[1], raw, ts1)
	wantSeg(t, segs[2], eth, ts1)
	wantSeg(t, segs[3], eth, t0)
	if st.DecodeErrors != 0 || st.Packets != 5 || st.Skipped[SkipLinkType] != 1 || st.NonTCP != 1 || st.UnsupportedLinkType != 105 {
		t.Errorf("stats %+v, want 1 packet of link type 105 skipped of 5 packets", st)
	}
}

func TestGzip(t *testing.T) {
	spec := defaultSpec(false, "zipped")
	file := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", spec.ip(t))})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(file)
	zw.Close()
	path := writeTemp(t, "x.pcap.gz", z.Bytes())
	s, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	segs, _, err := drain(s)
	if err != nil || len(segs) != 1 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	wantSeg(t, segs[0], spec, t0)
	if s.Offset() != int64(z.Len()) {
		t.Errorf("Offset %d, want the compressed size %d", s.Offset(), z.Len())
	}
}

func TestStdin(t *testing.T) {
	spec := defaultSpec(false, "from stdin")
	file := pcapngBytes(false, []ngIface{{lt: LinkTypeEthernet, tsres: -1}}, rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", spec.ip(t))})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(file)
		w.Close()
	}()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	s, err := OpenFile("-", Options{})
	if err != nil {
		t.Fatal(err)
	}
	segs, _, err := drain(s)
	s.Close()
	if err != nil || len(segs) != 1 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	wantSeg(t, segs[0], spec, t0)
	if s.Size() != 0 || s.Offset() != int64(len(file)) {
		t.Errorf("Size %d Offset %d, want 0 and %d", s.Size(), s.Offset(), len(file))
	}
	// Errors name standard input as such.
	_, err = openReader(strings.NewReader("garbage!"), "-", Options{})
	if err == nil || !strings.Contains(err.Error(), "capture: stdin: not a pcap") {
		t.Errorf("stdin error %v", err)
	}
}

func TestFilterOnFiles(t *testing.T) {
	https := defaultSpec(false, "tls")
	web := defaultSpec(false, "http")
	web.dst = netip.AddrPortFrom(srv4, 80)
	for _, lt := range []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeNull, LinkTypeLoop} {
		t.Run(lt.String(), func(t *testing.T) {
			file := pcapBytes(lt, pcapOpts{},
				rec{ts: t0, data: frameFor(t, lt, "", https.ip(t))},
				rec{ts: t0, data: frameFor(t, lt, "", web.ip(t))},
				rec{ts: t0, data: frameFor(t, lt, "", https.ip(t))})
			segs, st, err := readAll(t, file, Options{Filter: "tcp dst port 443"})
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != 2 || st.Filtered != 1 {
				t.Fatalf("%d segments, Filtered %d; want 2 and 1", len(segs), st.Filtered)
			}
			for _, s := range segs {
				if s.Dst.Port() != 443 {
					t.Errorf("segment to %v passed the filter", s.Dst)
				}
			}
		})
	}
	_, err := openReader(bytes.NewReader(pcapBytes(LinkTypeEthernet, pcapOpts{})), "f.pcap", Options{Filter: "tcp prt 443"})
	if !errors.Is(err, ErrFilter) || !strings.Contains(err.Error(), `invalid filter "tcp prt 443": `) ||
		!strings.Contains(err.Error(), "syntax error") {
		t.Errorf("invalid filter: %v", err)
	}
}

func TestCloseStopsNext(t *testing.T) {
	frame := frameFor(t, LinkTypeEthernet, "", defaultSpec(false, "x").ip(t))
	file := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame}, rec{ts: t0, data: frame})
	s, err := OpenFile(writeTemp(t, "c.pcap", file), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var seg packet.Segment
	if err := s.Next(&seg); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Next(&seg); err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOtherPacketBlocks reads a Simple Packet Block (no timestamp: the
// previous one is reused) and an obsolete Packet Block.
func TestOtherPacketBlocks(t *testing.T) {
	a, b, c := defaultSpec(false, "epb"), defaultSpec(false, "spb"), defaultSpec(true, "pb")
	bo := binary.LittleEndian
	ifc := ngIface{lt: LinkTypeEthernet, tsres: -1}
	file := append(ngSHB(bo), ngIDB(bo, ifc)...)
	file = append(file, ngEPB(bo, ifc, rec{ts: t0, data: frameFor(t, LinkTypeEthernet, "", a.ip(t))})...)
	spb := frameFor(t, LinkTypeEthernet, "", b.ip(t))
	file = append(file, ngBlock(bo, pcapngSimplePacket, append(bo.AppendUint32(nil, uint32(len(spb))), spb...))...)
	pbFrame := frameFor(t, LinkTypeEthernet, "", c.ip(t))
	ts := uint64(t0.Add(time.Second).UnixMicro())
	var pb []byte
	pb = bo.AppendUint16(pb, 0) // interface
	pb = bo.AppendUint16(pb, 0) // drops
	pb = bo.AppendUint32(pb, uint32(ts>>32))
	pb = bo.AppendUint32(pb, uint32(ts))
	pb = bo.AppendUint32(pb, uint32(len(pbFrame)))
	pb = bo.AppendUint32(pb, uint32(len(pbFrame)))
	file = append(file, ngBlock(bo, pcapngPacketBlock, append(pb, pbFrame...))...)
	segs, _, err := readAll(t, file, Options{})
	if err != nil || len(segs) != 3 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	wantSeg(t, segs[0], a, t0)
	wantSeg(t, segs[1], b, t0)
	wantSeg(t, segs[2], c, t0.Add(time.Second))
}

// TestModifiedPcap reads the "modified" pcap format of Kuznetzov's
// patches, whose records carry 8 more bytes.
func TestModifiedPcap(t *testing.T) {
	spec := defaultSpec(false, "kuznetzov")
	frame := frameFor(t, LinkTypeEthernet, "", spec.ip(t))
	file := pcapBytes(LinkTypeEthernet, pcapOpts{})
	binary.LittleEndian.PutUint32(file[0:4], magicPcapModified)
	file = binary.LittleEndian.AppendUint32(file, uint32(t0.Unix()))
	file = binary.LittleEndian.AppendUint32(file, uint32(t0.Nanosecond()/1000))
	file = binary.LittleEndian.AppendUint32(file, uint32(len(frame)))
	file = binary.LittleEndian.AppendUint32(file, uint32(len(frame)))
	file = append(file, 2, 0, 0, 0, 8, 0, 0, 0) // ifindex, protocol, packet type, pad
	file = append(file, frame...)
	segs, _, err := readAll(t, file, Options{})
	if err != nil || len(segs) != 1 {
		t.Fatalf("%d segments, %v", len(segs), err)
	}
	wantSeg(t, segs[0], spec, t0)
}

// TestZeroIPLength decodes packets captured on the sending host before
// segmentation offload filled in the IP length.
func TestZeroIPLength(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		spec := defaultSpec(v6, strings.Repeat("z", 3000))
		ip := spec.ip(t)
		if v6 {
			binary.BigEndian.PutUint16(ip[4:6], 0)
		} else {
			binary.BigEndian.PutUint16(ip[2:4], 0)
		}
		segs, _, err := readAll(t, pcapBytes(LinkTypeRaw, pcapOpts{}, rec{ts: t0, data: ip}), Options{})
		if err != nil || len(segs) != 1 {
			t.Fatalf("v6=%v: %d segments, %v", v6, len(segs), err)
		}
		wantSeg(t, segs[0], spec, t0)
	}
}

// TestLyingIPLength: an IP length beyond a frame that was captured whole
// is a lie; the captured bytes are decoded, as Wireshark does.
func TestLyingIPLength(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		spec := defaultSpec(v6, "short")
		ip := spec.ip(t)
		if v6 {
			binary.BigEndian.PutUint16(ip[4:6], 4000)
		} else {
			binary.BigEndian.PutUint16(ip[2:4], 4000)
		}
		segs, st, err := readAll(t, pcapBytes(LinkTypeRaw, pcapOpts{}, rec{ts: t0, data: ip}), Options{})
		if err != nil || len(segs) != 1 {
			t.Fatalf("v6=%v: %d segments, %v", v6, len(segs), err)
		}
		wantSeg(t, segs[0], spec, t0)
		if st.Truncated != 0 {
			t.Errorf("v6=%v: counted as truncated", v6)
		}
	}
}

// TestEmptyCaptures: files with headers and no packets are fine.
func TestEmptyCaptures(t *testing.T) {
	for name, file := range map[string][]byte{
		"pcap":                 pcapBytes(LinkTypeLinuxSLL2, pcapOpts{}),
		"pcapng":               pcapngBytes(false, []ngIface{{lt: LinkTypeRaw, tsres: -1}}),
		"pcapng, no interface": ngSHB(binary.LittleEndian),
	} {
		s, err := openReader(bytes.NewReader(file), name, Options{Filter: "tcp"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		segs, st, err := drain(s)
		if err != nil || len(segs) != 0 || st.Packets != 0 {
			t.Errorf("%s: %d segments, %v, %+v", name, len(segs), err, st)
		}
	}
}
