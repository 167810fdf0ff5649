package pipeline

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// A fuzz input is a run of segments, each a 14-byte header and a payload:
//
//	byte 0   connection (low 4 bits), direction (bit 4: from the server),
//	         flush the sharded engine after this segment (bit 5), a UDP
//	         datagram instead of a segment (bit 6: flags, sequence and
//	         acknowledgement numbers unused)
//	byte 1   TCP flags
//	2..5     sequence number, 6..9 acknowledgement number
//	10..11   milliseconds since the previous segment
//	12..13   payload length (cut to what the input holds)
const fuzzHeader = 14

var fuzzStart = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

func fuzzEndpoints(conn byte) (client, server netip.AddrPort) {
	client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1 + conn}), 40000+uint16(conn))
	server = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, 1}), 443)
	return client, server
}

// decodeFuzz turns an input into packets and the flush marks.
func decodeFuzz(in []byte) ([]packet.Packet, []bool) {
	var segs []packet.Packet
	var flush []bool
	at := fuzzStart
	for len(in) >= fuzzHeader && len(segs) < 5000 {
		h := in[:fuzzHeader]
		in = in[fuzzHeader:]
		n := min(int(binary.BigEndian.Uint16(h[12:])), len(in))
		client, server := fuzzEndpoints(h[0] & 15)
		at = at.Add(time.Duration(binary.BigEndian.Uint16(h[10:])) * time.Millisecond)
		s := packet.Segment{Timestamp: at, Src: client, Dst: server, Flags: h[1],
			Seq: binary.BigEndian.Uint32(h[2:]), Ack: binary.BigEndian.Uint32(h[6:]), Window: 65535, Payload: in[:n]}
		if h[0]&16 != 0 {
			s.Src, s.Dst = server, client
		}
		in = in[n:]
		p := packet.Packet{Transport: packet.TCP, Segment: s}
		if h[0]&64 != 0 {
			p = packet.Packet{Transport: packet.UDP, Datagram: packet.Datagram{Timestamp: s.Timestamp, Src: s.Src, Dst: s.Dst, Payload: s.Payload}}
		}
		segs = append(segs, p)
		flush = append(flush, h[0]&32 != 0)
	}
	return segs, flush
}

// encodeFuzz writes a capture's segments in the fuzz format: the seeds are
// real handshakes, resumptions and failures.
func encodeFuzz(tb testing.TB, path string) []byte {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	conns := map[[2]netip.AddrPort]byte{}
	clients := map[byte]netip.AddrPort{}
	var out []byte
	var last time.Time
	var p packet.Packet
	for src.NextPacket(&p) == nil {
		seg, udp := p.Segment, p.Transport == packet.UDP
		if udp {
			d := p.Datagram
			seg = packet.Segment{Timestamp: d.Timestamp, Src: d.Src, Dst: d.Dst, Payload: d.Payload}
		}
		k := [2]netip.AddrPort{seg.Src, seg.Dst}
		if seg.Dst.Compare(seg.Src) < 0 {
			k = [2]netip.AddrPort{seg.Dst, seg.Src}
		}
		c, ok := conns[k]
		if !ok {
			c = byte(len(conns) & 15)
			conns[k] = c
			clients[c] = seg.Src
		}
		h := make([]byte, fuzzHeader)
		h[0] = c
		if seg.Src != clients[c] {
			h[0] |= 16
		}
		if udp {
			h[0] |= 64
		}
		h[1] = seg.Flags
		binary.BigEndian.PutUint32(h[2:], seg.Seq)
		binary.BigEndian.PutUint32(h[6:], seg.Ack)
		if !last.IsZero() {
			binary.BigEndian.PutUint16(h[10:], uint16(min(seg.Timestamp.Sub(last).Milliseconds(), 65535)))
		}
		last = seg.Timestamp
		binary.BigEndian.PutUint16(h[12:], uint16(len(seg.Payload)))
		out = append(out, h...)
		out = append(out, seg.Payload...)
	}
	return out
}

// runFuzz dissects the packets on n shards and returns the JSON lines.
func runFuzz(t *testing.T, segs []packet.Packet, flush []bool, n int) string {
	var out bytes.Buffer
	w, err := output.New("json", &out, output.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rcfg := reassembly.Config{IdleTimeout: 20 * time.Second, GapTimeout: 300 * time.Millisecond, TimeWait: 2 * time.Second}
	e := newEngine(engineConfig{workers: n, reassembly: rcfg, flows: flows.Config{ReportNonTLS: true}, ordered: true}, func(r *flows.Record) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	})
	var end time.Time
	for i := range segs {
		e.AddPacket(&segs[i], true)
		if flush[i] {
			e.Flush()
		}
		end = segs[i].Timestamp()
	}
	e.Close(end)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// FuzzShards: for any sequence of segments and datagrams (timeouts,
// resets, reuse of a 4-tuple, lineage across connections, QUIC and DTLS
// included), three shards write what one writes, byte for byte.
func FuzzShards(f *testing.F) {
	for _, c := range []string{"multi.pcap", "tls12-ticket-resumed.pcap", "tls13-psk-resumed.pcap", "lossy.pcap", "fail-untrusted-tls13.pcap",
		"udp/quic-retry.pcap", "udp/dtls12-retransmit.pcap"} {
		f.Add(encodeFuzz(f, "../testdata/captures/"+c))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		segs, flush := decodeFuzz(in)
		one := runFuzz(t, segs, flush, 1)
		if three := runFuzz(t, segs, flush, 3); three != one {
			t.Fatalf("three shards differ from one:\n%s", firstDiff(one, three))
		}
	})
}
