package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// The decoder is written by hand rather than with gopacket's
// DecodingLayerParser, for four reasons:
//   - gopacket v1.1.19 has no Linux SLL2 layer and its LinkType is a uint8
//     that cannot even name LINKTYPE_LINUX_SLL2 (276);
//   - we need only a handful of fields from each header (addresses, ports,
//     sequence numbers, lengths), while layers.IPv4/IPv6/TCP decode every
//     option and IPv6 extension header into slices that we would throw away;
//   - the snap-length rule (hand out a short payload and say how many bytes
//     are missing, from the IP length) is ours and does not fit gopacket's
//     "truncated" flag, which drops the length information;
//   - it is faster and allocation-free by construction: every slice
//     expression below is guarded by a length check just above it, so hostile
//     input can only produce a verdict of vBad.
//
// The decoder keeps no reference to a frame after decode returns, except
// through packet.Segment.Payload (valid until the next Next) and the bytes the
// fragment reassembler copies.

// verdict is what became of one frame.
type verdict uint8

const (
	vSegment verdict = iota // a TCP segment was written to *packet.Segment
	vNonTCP                 // not TCP (ARP, UDP, ICMP, ...): counted in NonTCP
	vBad                    // a header could not be decoded: counted in DecodeErrors
	vHeld                   // a fragment, kept for reassembly or dropped (counted there)
)

func (v verdict) String() string {
	switch v {
	case vSegment:
		return "segment"
	case vNonTCP:
		return "not TCP"
	case vBad:
		return "undecodable"
	case vHeld:
		return "fragment"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// Ethertypes and IP protocol numbers we look at.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ   = 0x88a8 // IEEE 802.1ad service tag
	etherTypeQinQv1 = 0x9100 // pre-standard QinQ tag still seen in the wild
	etherTypePPPoE  = 0x8864 // PPPoE session stage
	etherTypeMPLS   = 0x8847
	// etherTypeMPLSMulticast is the multicast MPLS ethertype.
	etherTypeMPLSMulticast = 0x8848

	pppIPv4 = 0x0021
	pppIPv6 = 0x0057

	ipProtoHopByHop = 0
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoAH       = 51
	ipProtoICMPv6   = 58
	ipProtoNoNext   = 59
	ipProtoDstOpts  = 60
	ipProtoMobility = 135
	ipProtoHIP      = 139
	ipProtoShim6    = 140

	// maxExtHeaders bounds the IPv6 extension header walk; the packet
	// length bounds it anyway, this only keeps pathological chains short.
	maxExtHeaders = 16
	// maxVLANTags bounds the 802.1Q/802.1ad tag stack, and the MPLS
	// label stack.
	maxVLANTags = 8
	// maxTunnels bounds nested encapsulations (GTP-U in VXLAN in GRE ...).
	maxTunnels = 4

	ipProtoIPIP = 4  // IPv4 in IP (RFC 2003)
	ipProtoIPv6 = 41 // IPv6 in IP (RFC 4213)
	ipProtoGRE  = 47

	udpPortGTPU  = 2152 // 3GPP TS 29.281
	udpPortVXLAN = 4789 // RFC 7348

	etherTypeTEB = 0x6558 // transparent Ethernet bridging, Ethernet in GRE
)

// BSD address families as found in DLT_NULL/DLT_LOOP headers.
const (
	afINET        = 2
	afINET6NetBSD = 24 // NetBSD, OpenBSD, BSD/OS
	afINET6BSD    = 28 // FreeBSD, DragonFly
	afINET6Darwin = 30 // macOS, iOS
)

// decoder turns frames into TCP segments. It is not safe for concurrent use.
type decoder struct {
	frag    reassembler
	stats   *Stats
	tunnels int // encapsulations peeled from the current frame
	// reassembled: the current segment's payload is in the fragment
	// reassembler's buffer, not in the frame.
	reassembled bool
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// decode decodes one frame of link type lt. wireLen is the length of the
// frame on the wire (larger than len(frame) when the snap length cut it).
// On vSegment, seg is filled and its Payload points into frame or into the
// reassembler's buffer.
func (d *decoder) decode(lt LinkType, frame []byte, wireLen int, ts time.Time, seg *packet.Segment) verdict {
	snapCut := wireLen > len(frame)
	d.tunnels = 0
	d.reassembled = false
	switch lt {
	case LinkTypeEthernet:
		if len(frame) < 14 {
			return vBad
		}
		return d.ethertype(be16(frame[12:14]), frame[14:], snapCut, ts, seg)
	case LinkTypeLinuxSLL:
		// packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
		if len(frame) < 16 {
			return vBad
		}
		return d.ethertype(be16(frame[14:16]), frame[16:], snapCut, ts, seg)
	case LinkTypeLinuxSLL2:
		// protocol(2) reserved(2) interface index(4) ARPHRD type(2)
		// packet type(1) address length(1) address(8)
		if len(frame) < 20 {
			return vBad
		}
		return d.ethertype(be16(frame[0:2]), frame[20:], snapCut, ts, seg)
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		if len(frame) < 1 {
			return vBad
		}
		switch frame[0] >> 4 {
		case 4:
			return d.ipv4(frame, snapCut, ts, seg)
		case 6:
			return d.ipv6(frame, snapCut, ts, seg)
		}
		return vBad
	case LinkTypeIPv4:
		return d.ipv4(frame, snapCut, ts, seg)
	case LinkTypeIPv6:
		return d.ipv6(frame, snapCut, ts, seg)
	case LinkTypeNull, LinkTypeLoop:
		// The family is in the capturing host's byte order for NULL and
		// in network order for LOOP, but writers are not consistent;
		// families are small numbers, so the order that gives one wins.
		if len(frame) < 4 {
			return vBad
		}
		family := binary.LittleEndian.Uint32(frame[0:4])
		if family > 0xffff {
			family = binary.BigEndian.Uint32(frame[0:4])
		}
		switch family {
		case afINET:
			return d.ipv4(frame[4:], snapCut, ts, seg)
		case afINET6NetBSD, afINET6BSD, afINET6Darwin:
			return d.ipv6(frame[4:], snapCut, ts, seg)
		}
		return vNonTCP
	}
	return vBad
}

// ethertype dispatches on an Ethernet-style protocol type, peeling 802.1Q
// and 802.1ad tags first.
func (d *decoder) ethertype(et uint16, p []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	for tags := 0; et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQv1; tags++ {
		// tag control information(2) inner type(2)
		if tags == maxVLANTags || len(p) < 4 {
			return vBad
		}
		et = be16(p[2:4])
		p = p[4:]
	}
	switch et {
	case etherTypeIPv4:
		return d.ipv4(p, snapCut, ts, seg)
	case etherTypeIPv6:
		return d.ipv6(p, snapCut, ts, seg)
	case etherTypePPPoE:
		// RFC 2516: version/type(1) code(1) session(2) length(2), then
		// the PPP protocol field(2) of RFC 1661.
		if len(p) < 8 {
			return vBad
		}
		switch be16(p[6:8]) {
		case pppIPv4:
			return d.ipv4(p[8:], snapCut, ts, seg)
		case pppIPv6:
			return d.ipv6(p[8:], snapCut, ts, seg)
		}
		return vNonTCP // LCP, IPCP, CHAP ...
	case etherTypeMPLS, etherTypeMPLSMulticast:
		// RFC 3032: label(20 bits) traffic class(3) bottom of stack(1)
		// TTL(8) per entry; the payload type is not written down, so
		// it is guessed from the IP version nibble, as everyone does.
		for labels := 0; ; labels++ {
			if labels == maxVLANTags || len(p) < 4 {
				return vBad
			}
			bottom := p[2]&1 != 0
			p = p[4:]
			if bottom {
				break
			}
		}
		if len(p) == 0 {
			return vBad
		}
		switch p[0] >> 4 {
		case 4:
			return d.ipv4(p, snapCut, ts, seg)
		case 6:
			return d.ipv6(p, snapCut, ts, seg)
		}
		return vNonTCP // a pseudowire, most likely
	}
	// Other ethertypes, and values below 0x0600 (IEEE 802.3 length
	// fields, LLC frames): not IP.
	return vNonTCP
}

// ipv4 decodes an IPv4 header (RFC 791) with options, reassembling
// fragments.
func (d *decoder) ipv4(p []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	if len(p) < 20 || p[0]>>4 != 4 {
		return vBad
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || ihl > len(p) {
		return vBad
	}
	totalLength := int(be16(p[2:4]))
	missing := 0
	switch {
	case totalLength == 0:
		// Captured on the sending host before TCP segmentation offload
		// filled the length in: the captured bytes are the datagram.
	case totalLength < ihl:
		return vBad
	case totalLength <= len(p):
		p = p[:totalLength] // drop Ethernet padding and trailers
	case snapCut:
		missing = totalLength - len(p)
	default:
		// Longer than the frame although the frame was captured
		// whole: the length field lies, the captured bytes are what
		// was on the wire. Decode them, as Wireshark does.
	}
	src := netip.AddrFrom4([4]byte(p[12:16]))
	dst := netip.AddrFrom4([4]byte(p[16:20]))
	proto := p[9]
	body := p[ihl:]

	flagsOffset := be16(p[6:8])
	more := flagsOffset&0x2000 != 0
	offset := int(flagsOffset&0x1fff) * 8
	if more || offset != 0 {
		d.stats.Fragments++
		if proto != ipProtoTCP {
			return vNonTCP // not worth the memory
		}
		if missing > 0 {
			// A fragment cut by the snap length leaves a hole that no
			// later fragment fills.
			d.stats.FragmentsDropped++
			return vHeld
		}
		key := fragKey{id: uint32(be16(p[4:6])), proto: proto}
		copy(key.src[:], p[12:16])
		copy(key.dst[:], p[16:20])
		data, _, ok := d.frag.add(key, ts, offset, more, body, proto)
		if !ok {
			return vHeld
		}
		d.stats.Reassembled++
		d.reassembled = true
		body = data
	}
	if proto != ipProtoTCP {
		return d.tunnel(proto, body, snapCut, ts, seg)
	}
	return d.tcp(body, src, dst, missing, ts, seg)
}

// ipv6 decodes an IPv6 header (RFC 8200), skips extension headers and
// reassembles fragments.
func (d *decoder) ipv6(p []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	if len(p) < 40 || p[0]>>4 != 6 {
		return vBad
	}
	payloadLength := int(be16(p[4:6]))
	missing := 0
	switch {
	case payloadLength == 0:
		// A jumbogram (RFC 2675) or a capture before segmentation
		// offload: the captured bytes are the packet.
	case 40+payloadLength <= len(p):
		p = p[:40+payloadLength]
	case snapCut:
		missing = 40 + payloadLength - len(p)
	default:
		// Longer than the frame although it was captured whole: trust
		// the captured bytes, as for IPv4.
	}
	src := netip.AddrFrom16([16]byte(p[8:24]))
	dst := netip.AddrFrom16([16]byte(p[24:40]))
	next := p[6]
	body := p[40:]
	reassembled := false
	for range maxExtHeaders {
		switch next {
		case ipProtoTCP:
			return d.tcp(body, src, dst, missing, ts, seg)
		case ipProtoHopByHop, ipProtoRouting, ipProtoDstOpts, ipProtoMobility, ipProtoHIP, ipProtoShim6:
			// next header(1) length in 8-octet units not counting the first(1) ...
			if len(body) < 8 {
				return vBad
			}
			n := (int(body[1]) + 1) * 8
			if n > len(body) {
				return vBad
			}
			next, body = body[0], body[n:]
		case ipProtoAH:
			// RFC 4302: the length is in 4-octet units, minus 2.
			if len(body) < 8 {
				return vBad
			}
			n := (int(body[1]) + 2) * 4
			if n > len(body) {
				return vBad
			}
			next, body = body[0], body[n:]
		case ipProtoFragment:
			// next header(1) reserved(1) offset(13 bits) res(2) M(1) identification(4)
			if len(body) < 8 || reassembled {
				return vBad
			}
			offsetFlags := be16(body[2:4])
			offset := int(offsetFlags &^ 7)
			more := offsetFlags&1 != 0
			inner := body[0]
			id := be32(body[4:8])
			body = body[8:]
			if offset == 0 && !more {
				// An atomic fragment (RFC 6946): the whole packet.
				next = inner
				continue
			}
			d.stats.Fragments++
			if inner == ipProtoUDP || inner == ipProtoICMPv6 || inner == ipProtoNoNext {
				return vNonTCP
			}
			if missing > 0 {
				d.stats.FragmentsDropped++
				return vHeld
			}
			key := fragKey{src: [16]byte(p[8:24]), dst: [16]byte(p[24:40]), id: id, v6: true}
			data, first, ok := d.frag.add(key, ts, offset, more, body, inner)
			if !ok {
				return vHeld
			}
			d.stats.Reassembled++
			d.reassembled = true
			next, body, reassembled = first, data, true
		default:
			// Tunnels, else UDP, ICMPv6, ESP, No Next Header, ...
			return d.tunnel(next, body, snapCut, ts, seg)
		}
	}
	return vBad
}

// tcp decodes a TCP header (RFC 9293 section 3.1).
func (d *decoder) tcp(b []byte, src, dst netip.Addr, missing int, ts time.Time, seg *packet.Segment) verdict {
	if len(b) < 20 {
		return vBad
	}
	dataOffset := int(b[12]>>4) * 4
	if dataOffset < 20 || dataOffset > len(b) {
		return vBad
	}
	// Field by field: assigning a composite literal through the pointer
	// builds a temporary and copies it with typedmemmove, which cost
	// half the decoding time.
	seg.Timestamp = ts
	seg.Src = netip.AddrPortFrom(src, be16(b[0:2]))
	seg.Dst = netip.AddrPortFrom(dst, be16(b[2:4]))
	seg.Seq = be32(b[4:8])
	seg.Ack = be32(b[8:12])
	// Only FIN..URG: ECE and CWR would make "== packet.FlagSYN" tests
	// downstream fail on ECN-setup SYNs.
	seg.Flags = b[13] & 0x3f
	seg.Window = be16(b[14:16])
	seg.Payload = b[dataOffset:]
	seg.Truncated = missing
	if missing > 0 {
		d.stats.Truncated++
	}
	return vSegment
}

// tunnel decapsulates the tunnels met in captures of mobile, data-center
// and enterprise networks, whose inner packets tshark shows as TCP: IP in
// IP, GRE (RFC 2784/2890), GTP-U (3GPP TS 29.281) and VXLAN (RFC 7348) on
// their registered UDP ports. Anything else that is not TCP is vNonTCP.
func (d *decoder) tunnel(proto uint8, b []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	if proto != ipProtoIPIP && proto != ipProtoIPv6 && proto != ipProtoGRE && proto != ipProtoUDP {
		return vNonTCP
	}
	if d.tunnels == maxTunnels {
		return vBad
	}
	d.tunnels++
	switch proto {
	case ipProtoIPIP:
		return d.ipv4(b, snapCut, ts, seg)
	case ipProtoIPv6:
		return d.ipv6(b, snapCut, ts, seg)
	case ipProtoGRE:
		return d.gre(b, snapCut, ts, seg)
	}
	// UDP: source port(2) destination port(2) length(2) checksum(2)
	if len(b) < 8 {
		return vBad
	}
	sport, dport := be16(b[0:2]), be16(b[2:4])
	switch {
	case sport == udpPortGTPU || dport == udpPortGTPU:
		return d.gtpu(b[8:], snapCut, ts, seg)
	case dport == udpPortVXLAN:
		// flags(1), I = 0x08, reserved(3) VNI(3) reserved(1), Ethernet
		if len(b) < 8+8+14 || b[8]&0x08 == 0 {
			return vNonTCP
		}
		eth := b[16:]
		return d.ethertype(be16(eth[12:14]), eth[14:], snapCut, ts, seg)
	}
	return vNonTCP
}

// gre decodes a GRE header: C(1) R(1) K(1) S(1) ... version(3 bits)
// protocol type(2), then checksum+reserved, key, sequence number when
// flagged.
func (d *decoder) gre(b []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	if len(b) < 4 {
		return vBad
	}
	flags := b[0]
	if b[1]&0x07 != 0 || flags&0x40 != 0 {
		// Version 1 is PPTP's enhanced GRE, which carries PPP; source
		// routing (RFC 1701) is obsolete.
		return vNonTCP
	}
	n := 4
	if flags&0x80 != 0 { // checksum present
		n += 4
	}
	if flags&0x20 != 0 { // key present
		n += 4
	}
	if flags&0x10 != 0 { // sequence number present
		n += 4
	}
	if len(b) < n {
		return vBad
	}
	et, inner := be16(b[2:4]), b[n:]
	if et == etherTypeTEB {
		if len(inner) < 14 {
			return vBad
		}
		return d.ethertype(be16(inner[12:14]), inner[14:], snapCut, ts, seg)
	}
	return d.ethertype(et, inner, snapCut, ts, seg)
}

// gtpu decodes a GTPv1-U header: flags(1) message type(1) length(2)
// TEID(4), then sequence number(2) N-PDU number(1) next extension type(1)
// when any of E, S, PN is set, then the extension headers, each with its
// length in 4-octet units first and the next type last. A G-PDU (message
// type 255) carries an IP packet.
func (d *decoder) gtpu(b []byte, snapCut bool, ts time.Time, seg *packet.Segment) verdict {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 {
		return vNonTCP // not GTPv1, or GTP' (PT = 0)
	}
	if b[1] != 0xff {
		return vNonTCP // echo, error indication, end marker ...
	}
	flags := b[0]
	p := b[8:]
	if flags&0x07 != 0 {
		if len(p) < 4 {
			return vBad
		}
		next := p[3]
		p = p[4:]
		for i := 0; next != 0; i++ {
			if i == maxExtHeaders || len(p) < 4 {
				return vBad
			}
			n := int(p[0]) * 4
			if n == 0 || n > len(p) {
				return vBad
			}
			next = p[n-1]
			p = p[n:]
		}
	}
	if len(p) < 1 {
		return vBad
	}
	switch p[0] >> 4 {
	case 4:
		return d.ipv4(p, snapCut, ts, seg)
	case 6:
		return d.ipv6(p, snapCut, ts, seg)
	}
	return vNonTCP
}
