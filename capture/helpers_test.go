package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/tlsdissect/tlsdissect/packet"
)

// Test frames are built with gopacket's serializers, so that the decoder
// is checked against an independent encoder. Links that gopacket cannot
// serialize (SLL, SLL2, LOOP) are written by hand from their specification.

var (
	cli4 = netip.MustParseAddr("192.0.2.1")
	srv4 = netip.MustParseAddr("198.51.100.7")
	cli6 = netip.MustParseAddr("2001:db8::1")
	srv6 = netip.MustParseAddr("2001:db8::443")
	t0   = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
)

// tcpSpec describes one TCP segment to build.
type tcpSpec struct {
	src, dst     netip.AddrPort
	seq, ack     uint32
	syn, ackFlag bool
	fin, psh     bool
	window       uint16
	payload      []byte
	ipOptions    bool   // add an IPv4 option (NOP, NOP, NOP, EOL)
	v6ext        []byte // IPv6 extension headers between IPv6 and TCP
	v6extFirst   uint8  // Next Header value of the first extension
	ipID         uint16
	dontFragment bool
}

func defaultSpec(v6 bool, payload string) tcpSpec {
	s := tcpSpec{seq: 1000, ack: 2000, ackFlag: true, psh: true, window: 512, payload: []byte(payload)}
	if v6 {
		s.src, s.dst = netip.AddrPortFrom(cli6, 50000), netip.AddrPortFrom(srv6, 443)
	} else {
		s.src, s.dst = netip.AddrPortFrom(cli4, 50000), netip.AddrPortFrom(srv4, 443)
	}
	return s
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func (s tcpSpec) tcpLayer() *layers.TCP {
	return &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Ack: s.ack, SYN: s.syn, ACK: s.ackFlag, FIN: s.fin, PSH: s.psh, Window: s.window,
	}
}

func (s tcpSpec) v4Layer() *layers.IPv4 {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, Id: s.ipID,
		SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
	if s.dontFragment {
		ip.Flags = layers.IPv4DontFragment
	}
	if s.ipOptions {
		ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	}
	return ip
}

func (s tcpSpec) v6Layer(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
		SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
}

// transport returns the TCP header and payload, checksummed for the
// addresses of s.
func (s tcpSpec) transport(t testing.TB) []byte {
	tcp := s.tcpLayer()
	if s.src.Addr().Is4() {
		tcp.SetNetworkLayerForChecksum(s.v4Layer())
	} else {
		tcp.SetNetworkLayerForChecksum(s.v6Layer(layers.IPProtocolTCP))
	}
	return serialize(t, tcp, gopacket.Payload(s.payload))
}

// ip returns the whole IP packet.
func (s tcpSpec) ip(t testing.TB) []byte {
	t.Helper()
	if s.src.Addr().Is4() {
		return serialize(t, s.v4Layer(), gopacket.Payload(s.transport(t)))
	}
	if len(s.v6ext) > 0 {
		body := append(append([]byte(nil), s.v6ext...), s.transport(t)...)
		return serialize(t, s.v6Layer(layers.IPProtocol(s.v6extFirst)), gopacket.Payload(body))
	}
	return serialize(t, s.v6Layer(layers.IPProtocolTCP), gopacket.Payload(s.transport(t)))
}

// v4Fragment builds one IPv4 fragment carrying data at offset (bytes).
func (s tcpSpec) v4Fragment(t testing.TB, offset int, more bool, data []byte) []byte {
	ip := s.v4Layer()
	ip.FragOffset = uint16(offset / 8)
	if more {
		ip.Flags |= layers.IPv4MoreFragments
	}
	return serialize(t, ip, gopacket.Payload(data))
}

// v6Fragment builds one IPv6 fragment: fragment header (next header
// inner) then data at offset. pre are extension headers before it, whose
// first type is preFirst.
func (s tcpSpec) v6Fragment(t testing.TB, pre []byte, preFirst uint8, inner uint8, id uint32, offset int, more bool, data []byte) []byte {
	fh := make([]byte, 8)
	fh[0] = inner
	of := uint16(offset) &^ 7
	if more {
		of |= 1
	}
	binary.BigEndian.PutUint16(fh[2:4], of)
	binary.BigEndian.PutUint32(fh[4:8], id)
	body := append(append(append([]byte(nil), pre...), fh...), data...)
	next := uint8(ipProtoFragment)
	if len(pre) > 0 {
		next = preFirst
	}
	return serialize(t, s.v6Layer(layers.IPProtocol(next)), gopacket.Payload(body))
}

// extHeader builds an 8-octet-unit IPv6 extension header (hop-by-hop,
// routing, destination options) of n*8 bytes, padded with PadN.
func extHeader(next uint8, n int) []byte {
	h := make([]byte, n*8)
	h[0] = next
	h[1] = uint8(n - 1)
	h[2] = 1 // PadN
	h[3] = uint8(len(h) - 4)
	return h
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

// frameFor wraps an IP packet in the link layer lt. variant selects
// alternatives (VLAN stacks; NULL family numbers and byte order).
func frameFor(t testing.TB, lt LinkType, variant string, ip []byte) []byte {
	t.Helper()
	v6 := ip[0]>>4 == 6
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	switch lt {
	case LinkTypeEthernet:
		switch variant {
		case "vlan":
			return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 42, Type: et}, gopacket.Payload(ip))
		case "qinq", "qinq9100":
			outer := layers.EthernetType(0x88a8)
			if variant == "qinq9100" {
				outer = 0x9100
			}
			return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: outer},
				&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 42, Type: et}, gopacket.Payload(ip))
		case "padded":
			// Short frames are padded to 60 bytes on the wire.
			f := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(ip))
			for len(f) < 60 {
				f = append(f, 0xee)
			}
			return f
		}
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(ip))
	case LinkTypeLinuxSLL:
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:2], 0) // to us
		binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:6], 6)
		copy(h[6:], macA)
		binary.BigEndian.PutUint16(h[14:16], uint16(et))
		return append(h, ip...)
	case LinkTypeLinuxSLL2:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:2], uint16(et))
		binary.BigEndian.PutUint32(h[4:8], 3) // ifindex
		binary.BigEndian.PutUint16(h[8:10], 1)
		h[10] = 4 // outgoing
		h[11] = 6
		copy(h[12:], macA)
		return append(h, ip...)
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14, LinkTypeIPv4, LinkTypeIPv6:
		return append([]byte(nil), ip...)
	case LinkTypeNull:
		fam := layers.ProtocolFamilyIPv4
		if v6 {
			switch variant {
			case "freebsd":
				fam = layers.ProtocolFamilyIPv6FreeBSD
			case "darwin":
				fam = layers.ProtocolFamilyIPv6Darwin
			default:
				fam = layers.ProtocolFamilyIPv6BSD
			}
		}
		return serialize(t, &layers.Loopback{Family: fam}, gopacket.Payload(ip))
	case LinkTypeLoop:
		h := make([]byte, 4)
		fam := uint32(afINET)
		if v6 {
			fam = afINET6BSD
		}
		binary.BigEndian.PutUint32(h, fam)
		return append(h, ip...)
	}
	t.Fatalf("no frame builder for link type %v", lt)
	return nil
}

// rec is one record to write to a test capture.
type rec struct {
	ts      time.Time
	data    []byte
	wireLen int // 0: len(data)
	iface   uint32
}

type pcapOpts struct {
	bigEndian bool
	nanos     bool
}

// pcapBytes writes a classic pcap file. Our own writer, because gopacket's
// cannot write link types above 255 or big-endian files; TestPcapgoWritten
// cross-checks the reader against gopacket's writers.
func pcapBytes(lt LinkType, o pcapOpts, recs ...rec) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	if o.bigEndian {
		bo = binary.BigEndian
	}
	var b []byte
	magic := uint32(magicPcapMicro)
	if o.nanos {
		magic = magicPcapNano
	}
	b = bo.AppendUint32(b, magic)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 0)
	b = bo.AppendUint32(b, 262144)
	b = bo.AppendUint32(b, uint32(lt))
	for _, r := range recs {
		frac := r.ts.Nanosecond() / 1000
		if o.nanos {
			frac = r.ts.Nanosecond()
		}
		wire := r.wireLen
		if wire == 0 {
			wire = len(r.data)
		}
		b = bo.AppendUint32(b, uint32(r.ts.Unix()))
		b = bo.AppendUint32(b, uint32(frac))
		b = bo.AppendUint32(b, uint32(len(r.data)))
		b = bo.AppendUint32(b, uint32(wire))
		b = append(b, r.data...)
	}
	return b
}

// ngIface is an interface for pcapngBytes.
type ngIface struct {
	lt     LinkType
	tsres  int   // if_tsresol option byte; -1: none (microseconds)
	offset int64 // if_tsoffset; 0: none
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func ngBlock(bo binary.AppendByteOrder, typ uint32, body []byte) []byte {
	body = pad4(body)
	n := uint32(12 + len(body))
	var b []byte
	b = bo.AppendUint32(b, typ)
	b = bo.AppendUint32(b, n)
	b = append(b, body...)
	return bo.AppendUint32(b, n)
}

func ngSHB(bo binary.AppendByteOrder) []byte {
	var body []byte
	body = bo.AppendUint32(body, pcapngByteOrder)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	return ngBlock(bo, pcapngSHB, body)
}

func ngIDB(bo binary.AppendByteOrder, ifc ngIface) []byte {
	var body []byte
	body = bo.AppendUint16(body, uint16(ifc.lt))
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint32(body, 262144)
	if ifc.tsres >= 0 {
		body = bo.AppendUint16(body, pcapngOptTSResol)
		body = bo.AppendUint16(body, 1)
		body = pad4(append(body, uint8(ifc.tsres)))
	}
	if ifc.offset != 0 {
		body = bo.AppendUint16(body, pcapngOptTSOffset)
		body = bo.AppendUint16(body, 8)
		body = bo.AppendUint64(body, uint64(ifc.offset))
	}
	body = bo.AppendUint32(body, 0) // opt_endofopt
	return ngBlock(bo, pcapngIDB, body)
}

// ngEPB writes an Enhanced Packet Block with a timestamp in the units of
// ifc.
func ngEPB(bo binary.AppendByteOrder, ifc ngIface, r rec) []byte {
	units := uint64(1e6)
	if ifc.tsres >= 0 {
		if ifc.tsres&0x80 != 0 {
			units = 1 << (ifc.tsres & 0x7f)
		} else {
			units = 1
			for range ifc.tsres {
				units *= 10
			}
		}
	}
	sec := uint64(r.ts.Unix() - ifc.offset)
	ts := sec*units + uint64(r.ts.Nanosecond())*units/1e9
	wire := r.wireLen
	if wire == 0 {
		wire = len(r.data)
	}
	var body []byte
	body = bo.AppendUint32(body, r.iface)
	body = bo.AppendUint32(body, uint32(ts>>32))
	body = bo.AppendUint32(body, uint32(ts))
	body = bo.AppendUint32(body, uint32(len(r.data)))
	body = bo.AppendUint32(body, uint32(wire))
	body = pad4(append(body, r.data...))
	// an opt_comment, to make sure options are skipped
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 5)
	body = pad4(append(body, "hello"...))
	body = bo.AppendUint32(body, 0)
	return ngBlock(bo, pcapngEnhancedPkt, body)
}

// pcapngBytes writes one section with the given interfaces and records,
// plus an unknown block that the reader must skip.
func pcapngBytes(bigEndian bool, ifaces []ngIface, recs ...rec) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		bo = binary.BigEndian
	}
	b := ngSHB(bo)
	b = append(b, ngBlock(bo, 0x0bad, []byte("custom"))...)
	for _, ifc := range ifaces {
		b = append(b, ngIDB(bo, ifc)...)
	}
	for _, r := range recs {
		b = append(b, ngEPB(bo, ifaces[r.iface], r)...)
	}
	return b
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll opens a capture from bytes and collects its segments, copying
// payloads. It returns the error that ended the reading (nil for io.EOF).
func readAll(t testing.TB, data []byte, opts Options) ([]packet.Segment, Stats, error) {
	t.Helper()
	s, err := openReader(bytes.NewReader(data), "test.pcap", opts)
	if err != nil {
		return nil, Stats{}, err
	}
	return drain(s)
}

func drain(s *Source) ([]packet.Segment, Stats, error) {
	var segs []packet.Segment
	for {
		var seg packet.Segment
		err := s.Next(&seg)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return segs, s.Stats(), err
		}
		seg.Payload = append([]byte(nil), seg.Payload...)
		segs = append(segs, seg)
	}
}
