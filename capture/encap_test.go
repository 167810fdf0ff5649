package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/tlsdissect/tlsdissect/packet"
)

// inner is the packet an encapsulation test wraps: TCP or UDP over IPv4
// or IPv6, with its transport bytes kept so that builders which put
// headers between IP and the transport (AH, IPv6 options) can rebuild the
// IP packet.
type inner struct {
	name      string
	udp, v6   bool
	src, dst  netip.AddrPort
	payload   []byte
	transport []byte // TCP or UDP header and payload, checksummed
	ip        []byte
	tcp       tcpSpec // when !udp
}

func (in inner) proto() uint8 {
	if in.udp {
		return ipProtoUDP
	}
	return ipProtoTCP
}

// ipWith rebuilds the IP packet with ext (AH, IPv6 extension headers,
// whose first type is first) between the IP header and the transport.
func (in inner) ipWith(t testing.TB, first uint8, ext []byte) []byte {
	body := append(bytes.Clone(ext), in.transport...)
	if in.v6 {
		return serialize(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocol(first),
			SrcIP: in.src.Addr().AsSlice(), DstIP: in.dst.Addr().AsSlice()}, gopacket.Payload(body))
	}
	return serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocol(first),
		SrcIP: in.src.Addr().AsSlice(), DstIP: in.dst.Addr().AsSlice()}, gopacket.Payload(body))
}

// udpPacket builds IP/UDP from src to dst.
func udpPacket(t testing.TB, src, dst netip.AddrPort, payload []byte) (ip, transport []byte) {
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		u.SetNetworkLayerForChecksum(ip4)
		transport = serialize(t, u, gopacket.Payload(payload))
		return serialize(t, ip4, gopacket.Payload(transport)), transport
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	u.SetNetworkLayerForChecksum(ip6)
	transport = serialize(t, u, gopacket.Payload(payload))
	return serialize(t, ip6, gopacket.Payload(transport)), transport
}

func inners(t testing.TB) []inner {
	var out []inner
	for _, v6 := range []bool{false, true} {
		fam := "v4"
		if v6 {
			fam = "v6"
		}
		spec := defaultSpec(v6, "tcp payload over "+fam)
		out = append(out, inner{name: "tcp" + fam, v6: v6, src: spec.src, dst: spec.dst, payload: spec.payload,
			transport: spec.transport(t), ip: spec.ip(t), tcp: spec})
		// QUIC's port, and a payload long enough to look like a datagram.
		src, dst := netip.AddrPortFrom(cli4, 50001), netip.AddrPortFrom(srv4, 443)
		if v6 {
			src, dst = netip.AddrPortFrom(cli6, 50001), netip.AddrPortFrom(srv6, 443)
		}
		payload := bytes.Repeat([]byte("udp "+fam+" "), 20)
		ip, tr := udpPacket(t, src, dst, payload)
		out = append(out, inner{name: "udp" + fam, udp: true, v6: v6, src: src, dst: dst, payload: payload, transport: tr, ip: ip})
	}
	return out
}

// etherTypeOf is the ethertype of an IP packet, from its version nibble.
func etherTypeOf(ip []byte) layers.EthernetType {
	if ip[0]>>4 == 6 {
		return layers.EthernetTypeIPv6
	}
	return layers.EthernetTypeIPv4
}

func pppProtoOf(ip []byte) uint16 {
	if ip[0]>>4 == 6 {
		return pppIPv6
	}
	return pppIPv4
}

func eth(t testing.TB, et layers.EthernetType, payload []byte) []byte {
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(payload))
}

// greOver4 wraps a GRE packet in Ethernet/IPv4.
func greOver4(t testing.TB, gre []byte) []byte {
	return outerIP(t, false, layers.IPProtocolGRE, gre)
}

// greHeader builds a GRE header by hand: flags octet, version 0,
// protocol, then the optional words (checksum+reserved, key, sequence) in
// that order, as many as the flags say.
func greHeader(flags uint8, proto uint16) []byte {
	h := []byte{flags, 0, byte(proto >> 8), byte(proto)}
	for _, bit := range []uint8{0x80, 0x20, 0x10} {
		if flags&bit != 0 {
			h = append(h, 0, 0, 0, 7)
		}
	}
	return h
}

// encapCase wraps an inner packet into a frame of link type lt.
type encapCase struct {
	name  string
	lt    LinkType
	only  string // "v4" or "v6": the case applies to that family only
	build func(t testing.TB, in inner) []byte
}

func encapCases() []encapCase {
	ethOf := func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeEthernet, "", in.ip) }
	mplsStack := func(labels int, ip []byte) []byte {
		var b []byte
		for i := range labels {
			e := uint32(100+i) << 12
			if i == labels-1 {
				e |= 1 << 8 // bottom of stack
			}
			b = binary.BigEndian.AppendUint32(b, e|64)
		}
		return append(b, ip...)
	}
	pppoe := func(ip []byte) []byte {
		h := []byte{0x11, 0, 0x12, 0x34, byte((len(ip) + 2) >> 8), byte(len(ip) + 2)}
		return append(binary.BigEndian.AppendUint16(h, pppProtoOf(ip)), ip...)
	}
	return []encapCase{
		{"ethernet", LinkTypeEthernet, "", ethOf},
		{"802.1Q", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeEthernet, "vlan", in.ip) }},
		{"QinQ 88a8", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeEthernet, "qinq", in.ip) }},
		{"QinQ 9100", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeEthernet, "qinq9100", in.ip) }},
		{"SLL", LinkTypeLinuxSLL, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeLinuxSLL, "", in.ip) }},
		{"SLL2", LinkTypeLinuxSLL2, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeLinuxSLL2, "", in.ip) }},
		{"raw 101", LinkTypeRaw, "", func(t testing.TB, in inner) []byte { return in.ip }},
		{"raw 12", LinkTypeRawDLT12, "", func(t testing.TB, in inner) []byte { return in.ip }},
		{"raw 14", LinkTypeRawDLT14, "", func(t testing.TB, in inner) []byte { return in.ip }},
		{"ipv4 228", LinkTypeIPv4, "v4", func(t testing.TB, in inner) []byte { return in.ip }},
		{"ipv6 229", LinkTypeIPv6, "v6", func(t testing.TB, in inner) []byte { return in.ip }},
		{"null little-endian", LinkTypeNull, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeNull, "", in.ip) }},
		{"null darwin", LinkTypeNull, "v6", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeNull, "darwin", in.ip) }},
		{"null big-endian host", LinkTypeNull, "", func(t testing.TB, in inner) []byte {
			fam := uint32(afINET)
			if in.v6 {
				fam = afINET6NetBSD
			}
			return append(binary.BigEndian.AppendUint32(nil, fam), in.ip...)
		}},
		{"loop 108", LinkTypeLoop, "", func(t testing.TB, in inner) []byte { return frameFor(t, LinkTypeLoop, "", in.ip) }},
		// PPP (DLT 9): the protocol field alone, with the RFC 1662
		// address and control octets, or compressed to one octet.
		{"ppp", LinkTypePPP, "", func(t testing.TB, in inner) []byte {
			return append(binary.BigEndian.AppendUint16(nil, pppProtoOf(in.ip)), in.ip...)
		}},
		{"ppp ff03", LinkTypePPP, "", func(t testing.TB, in inner) []byte {
			return append(binary.BigEndian.AppendUint16([]byte{0xff, 0x03}, pppProtoOf(in.ip)), in.ip...)
		}},
		{"ppp compressed protocol", LinkTypePPP, "", func(t testing.TB, in inner) []byte {
			return append([]byte{byte(pppProtoOf(in.ip))}, in.ip...)
		}},
		{"ppp mpls", LinkTypePPP, "", func(t testing.TB, in inner) []byte {
			return append([]byte{0x02, 0x81}, mplsStack(1, in.ip)...)
		}},
		{"ppp in hdlc", LinkTypePPPHDLC, "", func(t testing.TB, in inner) []byte {
			return append(binary.BigEndian.AppendUint16([]byte{0xff, 0x03}, pppProtoOf(in.ip)), in.ip...)
		}},
		{"cisco hdlc on 50", LinkTypePPPHDLC, "", func(t testing.TB, in inner) []byte {
			return append(binary.BigEndian.AppendUint16([]byte{0x0f, 0x00}, uint16(etherTypeOf(in.ip))), in.ip...)
		}},
		{"cisco hdlc 104", LinkTypeCHDLC, "", func(t testing.TB, in inner) []byte {
			return append(binary.BigEndian.AppendUint16([]byte{0x8f, 0x00}, uint16(etherTypeOf(in.ip))), in.ip...)
		}},
		{"ppp_ether 51", LinkTypePPPoE, "", func(t testing.TB, in inner) []byte { return pppoe(in.ip) }},
		{"pppoe", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte { return eth(t, layers.EthernetTypePPPoESession, pppoe(in.ip)) }},
		{"pppoe in vlan", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypePPPoESession}, gopacket.Payload(pppoe(in.ip)))
		}},
		{"mpls one label", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return eth(t, layers.EthernetTypeMPLSUnicast, mplsStack(1, in.ip))
		}},
		{"mpls three labels multicast", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return eth(t, layers.EthernetTypeMPLSMulticast, mplsStack(3, in.ip))
		}},
		{"ipv4 ah", LinkTypeRaw, "v4", func(t testing.TB, in inner) []byte {
			// AH (RFC 4302): next(1) length(1) = 16/4-2, reserved(2) SPI(4) sequence(4) ICV(4)
			ah := []byte{in.proto(), 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9, 0xaa, 0xbb, 0xcc, 0xdd}
			return in.ipWith(t, ipProtoAH, ah)
		}},
		{"ipv6 extension headers", LinkTypeRaw, "v6", func(t testing.TB, in inner) []byte {
			ah := []byte{in.proto(), 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9, 0xaa, 0xbb, 0xcc, 0xdd}
			ext := bytes.Join([][]byte{extHeader(ipProtoRouting, 1), extHeader(ipProtoFragment, 2),
				{ipProtoDstOpts, 0, 0, 0, 0, 0, 0, 1}, // atomic fragment
				extHeader(ipProtoAH, 1), ah}, nil)
			return in.ipWith(t, ipProtoHopByHop, ext)
		}},
		{"ip in ip", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			proto := layers.IPProtocolIPv4
			if in.v6 {
				proto = layers.IPProtocolIPv6
			}
			return outerIP(t, true, proto, in.ip)
		}},
		{"gre", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return greOver4(t, append(greHeader(0, uint16(etherTypeOf(in.ip))), in.ip...))
		}},
		{"gre checksum key sequence", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return greOver4(t, append(greHeader(0xb0, uint16(etherTypeOf(in.ip))), in.ip...))
		}},
		{"gre ethernet", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return greOver4(t, append(greHeader(0x20, etherTypeTEB), ethOf(t, in)...))
		}},
		{"gre mpls", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return greOver4(t, append(greHeader(0, etherTypeMPLS), mplsStack(2, in.ip)...))
		}},
		// ERSPAN type I: GRE without a sequence number, the frame right after.
		{"erspan I", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return greOver4(t, append(greHeader(0, etherTypeERSPAN), ethOf(t, in)...))
		}},
		// Type II: GRE with a sequence number, then version 1, VLAN 5,
		// COS 0, En 3, T 0, session 0x155; reserved, index 0x12345.
		{"erspan II", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			h := append(greHeader(0x10, etherTypeERSPAN), 0x10, 0x05, 0x19, 0x55, 0x00, 0x01, 0x23, 0x45)
			return greOver4(t, append(h, ethOf(t, in)...))
		}},
		// Type III: version 2, VLAN 5, session 0x155; timestamp; SGT 0,
		// P 0, FT 0 (Ethernet), hardware ID 1, D 0, granularity 3, O 0.
		{"erspan III ethernet", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			h := append(greHeader(0x10, etherTypeERSPANIII), 0x20, 0x05, 0x01, 0x55, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x00, 0x16)
			return greOver4(t, append(h, ethOf(t, in)...))
		}},
		// FT 2 (IP) with O set: an 8-octet platform specific subheader.
		{"erspan III ip with subheader", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			h := append(greHeader(0x10, etherTypeERSPANIII), 0x20, 0x05, 0x01, 0x55, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x08, 0x17)
			h = append(h, 0x0c, 1, 2, 3, 4, 5, 6, 7)
			return greOver4(t, append(h, in.ip...))
		}},
		{"vxlan", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return outerUDP(t, 53211, udpPortVXLAN, append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, ethOf(t, in)...))
		}},
		// VXLAN-GPE: flags I|P, next protocol 1 (IPv4) / 2 (IPv6) / 3 (Ethernet).
		{"vxlan-gpe ip", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			next := byte(1)
			if in.v6 {
				next = 2
			}
			return outerUDP(t, 53211, udpPortVXLANGPE, append([]byte{0x0c, 0, 0, next, 0, 0, 42, 0}, in.ip...))
		}},
		{"vxlan-gpe ethernet", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			return outerUDP(t, 53211, udpPortVXLANGPE, append([]byte{0x0c, 0, 0, 3, 0, 0, 42, 0}, ethOf(t, in)...))
		}},
		// GENEVE: version 0, option length 2 (8 octets), protocol, VNI;
		// one option: class(2) type(1) R R R length(5) = 1, data(4).
		{"geneve ethernet with option", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			h := []byte{0x02, 0, 0x65, 0x58, 0, 0, 42, 0, 0x01, 0x02, 0x80, 0x01, 1, 2, 3, 4}
			return outerUDP(t, 53211, udpPortGENEVE, append(h, ethOf(t, in)...))
		}},
		{"geneve ip", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			h := binary.BigEndian.AppendUint16([]byte{0, 0}, uint16(etherTypeOf(in.ip)))
			return outerUDP(t, 53211, udpPortGENEVE, append(append(h, 0, 0, 42, 0), in.ip...))
		}},
		{"gtp-u", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			gtp := serialize(t, &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 77, MessageLength: uint16(len(in.ip))}, gopacket.Payload(in.ip))
			return outerUDP(t, udpPortGTPU, udpPortGTPU, gtp)
		}},
		{"vxlan in gre in mpls", LinkTypeEthernet, "", func(t testing.TB, in inner) []byte {
			vx := outerUDP(t, 53211, udpPortVXLAN, append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, ethOf(t, in)...))
			g := greOver4(t, append(greHeader(0, etherTypeTEB), vx...))
			return eth(t, layers.EthernetTypeMPLSUnicast, append(mplsStack(1, nil), g[14:]...))
		}},
	}
}

// checkPacket compares what NextPacket or the decoder gave with in.
func checkPacket(t *testing.T, v verdict, seg *packet.Segment, dg *packet.Datagram, in inner) {
	t.Helper()
	if in.udp {
		if v != vDatagram {
			t.Fatalf("verdict %v, want datagram", v)
		}
		if dg.Src != in.src || dg.Dst != in.dst || !bytes.Equal(dg.Payload, in.payload) || dg.Truncated != 0 || !dg.Timestamp.Equal(t0) {
			t.Errorf("datagram %v -> %v %q truncated %d at %v; want %v -> %v %q", dg.Src, dg.Dst, dg.Payload, dg.Truncated, dg.Timestamp, in.src, in.dst, in.payload)
		}
		return
	}
	if v != vSegment {
		t.Fatalf("verdict %v, want segment", v)
	}
	wantSeg(t, *seg, in.tcp, t0)
}

func TestEncapsulations(t *testing.T) {
	ins := inners(t)
	for _, ec := range encapCases() {
		for _, in := range ins {
			if (ec.only == "v4" && in.v6) || (ec.only == "v6" && !in.v6) {
				continue
			}
			t.Run(ec.name+"/"+in.name, func(t *testing.T) {
				frame := ec.build(t, in)
				// Through a file and NextPacket.
				s, err := openReader(bytes.NewReader(pcapBytes(ec.lt, pcapOpts{}, rec{ts: t0, data: frame})), "encap", Options{})
				if err != nil {
					t.Fatal(err)
				}
				var p packet.Packet
				if err := s.NextPacket(&p); err != nil {
					t.Fatalf("NextPacket: %v; stats %+v", err, s.Stats())
				}
				v := vSegment
				if p.Transport == packet.UDP {
					v = vDatagram
				}
				checkPacket(t, v, &p.Segment, &p.Datagram, in)
				if p.Frame != 1 {
					t.Errorf("frame %d, want 1", p.Frame)
				}
				if err := s.NextPacket(&p); err != io.EOF {
					t.Errorf("second NextPacket: %v, want EOF", err)
				}

				// Next: the same segment, or the datagram skipped.
				segs, st, err := readAll(t, pcapBytes(ec.lt, pcapOpts{}, rec{ts: t0, data: frame}), Options{})
				if err != nil {
					t.Fatal(err)
				}
				if in.udp {
					if len(segs) != 0 || st.Skipped[SkipUDP] != 1 || st.NonTCP != 1 || st.UDPDatagrams != 0 {
						t.Errorf("Next: %d segments, stats %+v; want the datagram skipped", len(segs), st)
					}
				} else if len(segs) != 1 {
					t.Errorf("Next: %d segments, stats %+v", len(segs), st)
				} else {
					wantSeg(t, segs[0], in.tcp, t0)
				}

				// Every strict prefix, captured as if the snap length had
				// cut it: undecodable, skipped, or short by exactly the
				// bytes cut.
				var st2 Stats
				d := decoder{stats: &st2, frag: newReassembler(1<<20, DefaultFragmentTimeout, &st2)}
				for n := range len(frame) {
					var seg packet.Segment
					var dg packet.Datagram
					v := d.decode(ec.lt, frame[:n], len(frame), t0, &seg, &dg)
					payload, truncated := seg.Payload, seg.Truncated
					if v == vDatagram {
						payload, truncated = dg.Payload, dg.Truncated
					}
					switch v {
					case vBad, vSkip, vHeld:
					case vSegment, vDatagram:
						if truncated <= 0 || len(payload)+truncated != len(in.payload) || !bytes.HasPrefix(in.payload, payload) {
							t.Fatalf("prefix %d of %d: %v with %d payload bytes and %d truncated, want %d in all",
								n, len(frame), v, len(payload), truncated, len(in.payload))
						}
					}
				}
			})
		}
	}
}

// TestSkipReasons checks that each kind of packet that carries nothing
// handed out is counted under its reason, by NextPacket.
func TestSkipReasons(t *testing.T) {
	v4 := defaultSpec(false, "x")
	icmp := serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()},
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
	esp6 := serialize(t, &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolESP, SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()},
		gopacket.Payload(make([]byte, 24)))
	icmpFrag := serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolICMPv4, Flags: layers.IPv4MoreFragments,
		SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}, gopacket.Payload(make([]byte, 64)))
	arp := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: macA, SourceProtAddress: cli4.AsSlice(), DstHwAddress: macB, DstProtAddress: srv4.AsSlice()})
	ethV4 := frameFor(t, LinkTypeEthernet, "", v4.ip(t))
	tests := []struct {
		name   string
		lt     LinkType
		frame  []byte
		reason SkipReason
	}{
		{"arp", LinkTypeEthernet, arp, SkipNotIP},
		{"llc", LinkTypeEthernet, append(bytes.Clone(ethV4[:12]), 0x00, 0x26, 0x42, 0x42, 0x03), SkipNotIP},
		{"ppp lcp", LinkTypePPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, SkipNotIP},
		{"cisco slarp", LinkTypeCHDLC, []byte{0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 1}, SkipNotIP},
		{"mpls pseudowire", LinkTypeEthernet, eth(t, layers.EthernetTypeMPLSUnicast, append([]byte{0, 0x06, 0x41, 64}, ethV4...)), SkipNotIP},
		{"null unknown family", LinkTypeNull, append([]byte{7, 0, 0, 0}, v4.ip(t)...), SkipNotIP},
		{"erspan II vlan-tagged arp", LinkTypeEthernet, greOver4(t, append(greHeader(0x10, etherTypeERSPAN), append([]byte{0x10, 0, 0, 1, 0, 0, 0, 0}, arp...)...)), SkipNotIP},
		{"icmp", LinkTypeRaw, icmp, SkipProtocol},
		{"esp over ipv6", LinkTypeRaw, esp6, SkipProtocol},
		{"icmp fragment", LinkTypeRaw, icmpFrag, SkipProtocol},
		{"gtp echo", LinkTypeEthernet, outerUDP(t, 2152, 2152, []byte{0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}), SkipTunnel},
		{"pptp gre", LinkTypeEthernet, outerIP(t, false, layers.IPProtocolGRE, []byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1}), SkipTunnel},
		{"vxlan without vni", LinkTypeEthernet, outerUDP(t, 1, udpPortVXLAN, append([]byte{0, 0, 0, 0, 0, 0, 42, 0}, ethV4...)), SkipTunnel},
		{"vxlan-gpe nsh", LinkTypeEthernet, outerUDP(t, 1, udpPortVXLANGPE, append([]byte{0x0c, 0, 0, 4, 0, 0, 42, 0}, ethV4...)), SkipTunnel},
		{"geneve version 1", LinkTypeEthernet, outerUDP(t, 1, udpPortGENEVE, append([]byte{0x40, 0, 0x65, 0x58, 0, 0, 42, 0}, ethV4...)), SkipTunnel},
		{"erspan II version 3", LinkTypeEthernet, greOver4(t, append(greHeader(0x10, etherTypeERSPAN), append([]byte{0x30, 0, 0, 1, 0, 0, 0, 0}, ethV4...)...)), SkipTunnel},
		{"erspan III frame type 1", LinkTypeEthernet, greOver4(t, append(greHeader(0x10, etherTypeERSPANIII),
			append([]byte{0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x04, 0}, ethV4...)...)), SkipTunnel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openReader(bytes.NewReader(pcapBytes(tc.lt, pcapOpts{}, rec{ts: t0, data: tc.frame})), "skip", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var p packet.Packet
			if err := s.NextPacket(&p); err != io.EOF {
				t.Fatalf("NextPacket: %v (%v), want EOF", err, p.Transport)
			}
			st := s.Stats()
			var want [NumSkipReasons]uint64
			want[tc.reason] = 1
			if st.Skipped != want || st.NonTCP != 1 || st.DecodeErrors != 0 || st.Packets != 1 {
				t.Errorf("stats %+v, want one packet skipped for %q", st, tc.reason)
			}
		})
	}
}

// TestUndecodable: damaged headers of the new encapsulations are decode
// errors, not skips and not packets.
func TestUndecodable(t *testing.T) {
	ip, _ := udpPacket(t, netip.AddrPortFrom(cli4, 1000), netip.AddrPortFrom(srv4, 443), []byte("hello"))
	badLen := bytes.Clone(ip)
	binary.BigEndian.PutUint16(badLen[20+4:], 5) // UDP length below its header
	ethV4 := frameFor(t, LinkTypeEthernet, "", ip)
	labels := eth(t, layers.EthernetTypeMPLSUnicast, bytes.Repeat([]byte{0, 0x06, 0x40, 64}, maxVLANTags+1))
	tests := []struct {
		name  string
		lt    LinkType
		frame []byte
	}{
		{"udp length 5", LinkTypeRaw, badLen},
		{"udp header cut", LinkTypeRaw, serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()}, gopacket.Payload([]byte{1, 2, 3}))},
		{"ppp_hdlc bad address", LinkTypePPPHDLC, append([]byte{0x42, 0x03, 0x00, 0x21}, ip...)},
		{"ppp empty", LinkTypePPP, nil},
		{"too many mpls labels", LinkTypeEthernet, labels},
		{"geneve options beyond packet", LinkTypeEthernet, outerUDP(t, 1, udpPortGENEVE, []byte{0x3f, 0, 0x65, 0x58, 0, 0, 42, 0})},
		{"erspan III subheader cut", LinkTypeEthernet, greOver4(t, append(greHeader(0x10, etherTypeERSPANIII), 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2))},
		{"erspan II header cut", LinkTypeEthernet, greOver4(t, append(greHeader(0x10, etherTypeERSPAN), 0x10, 0))},
		{"ipv4 ah beyond packet", LinkTypeRaw, serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocol(ipProtoAH), SrcIP: cli4.AsSlice(), DstIP: srv4.AsSlice()},
			gopacket.Payload([]byte{ipProtoUDP, 200, 0, 0, 0, 0, 0, 1}))},
		{"vxlan inner ethernet cut", LinkTypeEthernet, outerUDP(t, 1, udpPortVXLANGPE, []byte{0x0c, 0, 0, 3, 0, 0, 42, 0, 1, 2, 3})},
		{"short cisco hdlc", LinkTypeCHDLC, ethV4[:3]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openReader(bytes.NewReader(pcapBytes(tc.lt, pcapOpts{}, rec{ts: t0, data: tc.frame})), "bad", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var p packet.Packet
			if err := s.NextPacket(&p); err != io.EOF {
				t.Fatalf("NextPacket: %v, want EOF", err)
			}
			if st := s.Stats(); st.DecodeErrors != 1 || st.NonTCP != 0 {
				t.Errorf("stats %+v, want one decode error", st)
			}
		})
	}
}

// TestUnsupportedLinkType: a file of a link type we do not decode opens,
// and every packet is a counted skip, with or without a filter; a bad
// filter is still refused at open.
func TestUnsupportedLinkType(t *testing.T) {
	const can = LinkType(227)
	recs := []rec{{ts: t0, data: []byte{1, 2, 3, 4}}, {ts: t0, data: []byte{5, 6}}, {ts: t0, data: nil}}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"pcap", pcapBytes(can, pcapOpts{}, recs...)},
		{"pcapng", pcapngBytes(false, []ngIface{{lt: can, tsres: -1}}, recs...)},
	} {
		for _, filter := range []string{"", "udp port 443"} {
			s, err := openReader(bytes.NewReader(tc.file), "can", Options{Filter: filter})
			if err != nil {
				t.Fatalf("%s filter %q: %v", tc.name, filter, err)
			}
			if s.LinkType() != "CAN_SOCKETCAN" {
				t.Errorf("LinkType %q", s.LinkType())
			}
			var p packet.Packet
			if err := s.NextPacket(&p); err != io.EOF {
				t.Fatalf("%s: %v, want EOF", tc.name, err)
			}
			st := s.Stats()
			if st.Packets != 3 || st.Skipped[SkipLinkType] != 3 || st.NonTCP != 3 || st.UnsupportedLinkType != can || st.DecodeErrors != 0 || st.Filtered != 0 {
				t.Errorf("%s filter %q: stats %+v", tc.name, filter, st)
			}
		}
		_, err := openReader(bytes.NewReader(tc.file), "can", Options{Filter: "port port"})
		if !errors.Is(err, ErrFilter) {
			t.Errorf("%s: bad filter: %v, want ErrFilter", tc.name, err)
		}
	}
	if LinkType(227).Supported() || !LinkTypePPP.Supported() || SkipLinkType.String() != "unsupported link type" {
		t.Error("Supported or String disagree")
	}
}
