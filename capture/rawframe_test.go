package capture

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/tlsdissect/tlsdissect/packet"
)

// TestRawFrame: the frame RawFrame returns is the one the packet came in,
// byte for byte, with its time, wire length and link type; frames that
// are skipped (ARP, filtered) are never returned; a packet rebuilt from
// fragments says so.
func TestRawFrame(t *testing.T) {
	a := defaultSpec(false, "hello")
	b := defaultSpec(false, "world")
	b.src = netip.AddrPortFrom(cli4, 50001)
	arp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: macA, SourceProtAddress: []byte{192, 0, 2, 1}, DstHwAddress: macB, DstProtAddress: []byte{192, 0, 2, 2}})
	fa := frameFor(t, LinkTypeEthernet, "", a.ip(t))
	fb := frameFor(t, LinkTypeEthernet, "", b.ip(t))
	big := defaultSpec(false, string(bytes.Repeat([]byte("x"), 2000)))
	big.ipID = 7
	tr := big.transport(t)
	f1 := frameFor(t, LinkTypeEthernet, "", big.v4Fragment(t, 0, true, tr[:1200]))
	f2 := frameFor(t, LinkTypeEthernet, "", big.v4Fragment(t, 1200, false, tr[1200:]))
	recs := []rec{
		{ts: t0, data: fa, wireLen: len(fa) + 10},
		{ts: t0.Add(time.Millisecond), data: arp},
		{ts: t0.Add(2 * time.Millisecond), data: fb},
		{ts: t0.Add(3 * time.Millisecond), data: f1},
		{ts: t0.Add(4 * time.Millisecond), data: f2},
	}
	want := []struct {
		data        []byte
		ts          time.Time
		wire        int
		reassembled bool
	}{
		{fa, t0, len(fa) + 10, false},
		{fb, t0.Add(2 * time.Millisecond), len(fb), false},
		{f2, t0.Add(4 * time.Millisecond), len(f2), true},
	}
	for _, filter := range []string{"", "not tcp port 50001"} {
		src, err := OpenReader(bytes.NewReader(pcapBytes(LinkTypeEthernet, pcapOpts{nanos: true}, recs...)), "t", Options{Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.RawFrame(); got.Data != nil {
			t.Errorf("before the first packet: %+v", got)
		}
		var got []RawFrame
		var p packet.Packet
		for {
			err := src.NextPacket(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			f := src.RawFrame()
			f.Data = bytes.Clone(f.Data)
			got = append(got, f)
		}
		w := want
		if filter != "" {
			w = []struct {
				data        []byte
				ts          time.Time
				wire        int
				reassembled bool
			}{want[0], want[2]}
		}
		if len(got) != len(w) {
			t.Fatalf("filter %q: %d frames, want %d", filter, len(got), len(w))
		}
		for i := range w {
			g := got[i]
			if !bytes.Equal(g.Data, w[i].data) || !g.Timestamp.Equal(w[i].ts) || g.WireLen != w[i].wire ||
				g.LinkType != LinkTypeEthernet || g.Reassembled != w[i].reassembled {
				t.Errorf("filter %q, frame %d: got %d bytes at %v wire %d lt %v reassembled %v; want %d bytes at %v wire %d reassembled %v",
					filter, i, len(g.Data), g.Timestamp, g.WireLen, g.LinkType, g.Reassembled, len(w[i].data), w[i].ts, w[i].wire, w[i].reassembled)
			}
		}
	}
}
