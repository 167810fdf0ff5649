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
// One decoder serves Next (TCP only) and NextPacket (TCP and UDP): with no
// datagram to fill, UDP is skipped exactly as it was before NextPacket
// existed, fragments of UDP datagrams included, so that Next's segments and
// counters do not depend on whether anyone wants UDP.
//
// The decoder keeps no reference to a frame after decode returns, except
// through the Payload of the segment or datagram it filled (valid until the
// next Next) and the bytes the fragment reassembler copies.

// verdict is what became of one frame.
type verdict uint8

const (
	vSegment  verdict = iota // a TCP segment was written to the segment
	vDatagram                // a UDP datagram was written to the datagram
	vSkip                    // neither, for decoder.reason: counted in NonTCP and Skipped
	vBad                     // a header could not be decoded: counted in DecodeErrors
	vHeld                    // a fragment, kept for reassembly or dropped (counted there)
)

func (v verdict) String() string {
	switch v {
	case vSegment:
		return "segment"
	case vDatagram:
		return "datagram"
	case vSkip:
		return "skipped"
	case vBad:
		return "undecodable"
	case vHeld:
		return "fragment"
	}
	return "verdict(" + strconv.Itoa(int(v)) + ")"
}

// SkipReason says why a packet that was read carried nothing handed out.
// Stats.Skipped counts packets by reason.
type SkipReason uint8

const (
	// SkipNotIP: the link layer or a tunnel carries something other than
	// IP: ARP, LLDP, STP, PPP control protocols, an MPLS pseudowire, ...
	SkipNotIP SkipReason = iota
	// SkipProtocol: IP carrying neither TCP nor UDP nor a tunnel we peel:
	// ICMP, ESP, SCTP, OSPF, ..., and fragments of such datagrams, which
	// are not reassembled.
	SkipProtocol
	// SkipUDP: a UDP datagram (or fragment of one) read by Next, which
	// hands out TCP segments only.
	SkipUDP
	// SkipTunnel: a tunnel's control message or a variant not peeled:
	// GTP-U echo and end marker, PPTP's enhanced GRE, VXLAN without a
	// VNI, an ERSPAN frame type other than Ethernet or IP, ...
	SkipTunnel
	// SkipLinkType: a frame of a link type this package does not decode
	// (see LinkType.Supported); Stats.UnsupportedLinkType names the
	// first one met.
	SkipLinkType

	// NumSkipReasons is the number of reasons, the length of Stats.Skipped.
	NumSkipReasons = iota
)

func (r SkipReason) String() string {
	switch r {
	case SkipNotIP:
		return "not IP"
	case SkipProtocol:
		return "not TCP or UDP"
	case SkipUDP:
		return "UDP"
	case SkipTunnel:
		return "tunnel control"
	case SkipLinkType:
		return "unsupported link type"
	}
	return "SkipReason(" + strconv.Itoa(int(r)) + ")"
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
	etherTypeTEB           = 0x6558 // transparent Ethernet bridging, Ethernet in GRE and GENEVE
	// GRE protocol types of ERSPAN (draft-foschiano-erspan): type I and
	// II share one, type III has its own.
	etherTypeERSPAN    = 0x88be
	etherTypeERSPANIII = 0x22eb

	// PPP protocol field values (RFC 1661, IANA PPP DLL protocol numbers).
	pppIPv4          = 0x0021
	pppIPv6          = 0x0057
	pppMPLS          = 0x0281
	pppMPLSMulticast = 0x0283

	ipProtoHopByHop = 0
	ipProtoIPIP     = 4 // IPv4 in IP (RFC 2003)
	ipProtoTCP      = 6
	ipProtoUDP      = 17
	ipProtoIPv6     = 41 // IPv6 in IP (RFC 4213)
	ipProtoRouting  = 43
	ipProtoFragment = 44
	ipProtoGRE      = 47
	ipProtoAH       = 51
	ipProtoICMPv6   = 58
	ipProtoNoNext   = 59
	ipProtoDstOpts  = 60
	ipProtoMobility = 135
	ipProtoHIP      = 139
	ipProtoShim6    = 140

	// maxExtHeaders bounds the IPv6 extension header walk (and AH
	// headers in IPv4, and GTP-U extension headers); the packet length
	// bounds it anyway, this only keeps pathological chains short.
	maxExtHeaders = 16
	// maxVLANTags bounds the 802.1Q/802.1ad tag stack, and the MPLS
	// label stack.
	maxVLANTags = 8
	// maxTunnels bounds nested encapsulations (GTP-U in VXLAN in GRE ...).
	maxTunnels = 4

	udpPortGTPU     = 2152 // 3GPP TS 29.281
	udpPortVXLAN    = 4789 // RFC 7348
	udpPortVXLANGPE = 4790 // draft-ietf-nvo3-vxlan-gpe
	udpPortGENEVE   = 6081 // RFC 8926
)

// BSD address families as found in DLT_NULL/DLT_LOOP headers.
const (
	afINET        = 2
	afINET6NetBSD = 24 // NetBSD, OpenBSD, BSD/OS
	afINET6BSD    = 28 // FreeBSD, DragonFly
	afINET6Darwin = 30 // macOS, iOS
)

// decoder turns frames into TCP segments and UDP datagrams. It is not safe
// for concurrent use.
type decoder struct {
	frag  reassembler
	stats *Stats

	// The current frame, set by decode.
	snapCut bool // the snap length cut the frame short
	ts      time.Time
	seg     *packet.Segment
	dg      *packet.Datagram // nil: UDP is skipped (Next)
	tunnels int              // encapsulations peeled from the current frame
	// reassembled: the current payload is in the fragment reassembler's
	// buffer, not in the frame.
	reassembled bool
	reason      SkipReason // why, on vSkip
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// skip returns vSkip for reason r.
func (d *decoder) skip(r SkipReason) verdict {
	d.reason = r
	return vSkip
}

// decode decodes one frame of link type lt. wireLen is the length of the
// frame on the wire (larger than len(frame) when the snap length cut it).
// On vSegment seg is filled, on vDatagram dg; the Payload points into
// frame or into the reassembler's buffer. With dg nil, UDP datagrams are
// skipped (SkipUDP) and their fragments are not reassembled.
func (d *decoder) decode(lt LinkType, frame []byte, wireLen int, ts time.Time, seg *packet.Segment, dg *packet.Datagram) verdict {
	d.snapCut = wireLen > len(frame)
	d.ts = ts
	d.seg, d.dg = seg, dg
	d.tunnels = 0
	d.reassembled = false
	switch lt {
	case LinkTypeEthernet:
		if len(frame) < 14 {
			return vBad
		}
		return d.ethertype(be16(frame[12:14]), frame[14:])
	case LinkTypeLinuxSLL:
		// packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
		if len(frame) < 16 {
			return vBad
		}
		return d.ethertype(be16(frame[14:16]), frame[16:])
	case LinkTypeLinuxSLL2:
		// protocol(2) reserved(2) interface index(4) ARPHRD type(2)
		// packet type(1) address length(1) address(8)
		if len(frame) < 20 {
			return vBad
		}
		return d.ethertype(be16(frame[0:2]), frame[20:])
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		if len(frame) < 1 {
			return vBad
		}
		switch frame[0] >> 4 {
		case 4:
			return d.ipv4(frame)
		case 6:
			return d.ipv6(frame)
		}
		return vBad
	case LinkTypeIPv4:
		return d.ipv4(frame)
	case LinkTypeIPv6:
		return d.ipv6(frame)
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
			return d.ipv4(frame[4:])
		case afINET6NetBSD, afINET6BSD, afINET6Darwin:
			return d.ipv6(frame[4:])
		}
		return d.skip(SkipNotIP)
	case LinkTypePPP:
		// RFC 1661 PPP, with the RFC 1662 HDLC-like address (0xff) and
		// control (0x03) octets when the capturing system kept them.
		if len(frame) >= 2 && frame[0] == 0xff && frame[1] == 0x03 {
			frame = frame[2:]
		}
		return d.ppp(frame)
	case LinkTypePPPHDLC:
		// RFC 1662 framing (address 0xff, control 0x03), or Cisco HDLC
		// (address 0x0f unicast or 0x8f broadcast) as RFC 1547 section
		// 4.3.1 allows on the same link type.
		if len(frame) < 2 {
			return vBad
		}
		switch {
		case frame[0] == 0xff && frame[1] == 0x03:
			return d.ppp(frame[2:])
		case frame[0] == 0x0f || frame[0] == 0x8f:
			return d.chdlc(frame)
		}
		return vBad
	case LinkTypeCHDLC:
		return d.chdlc(frame)
	case LinkTypePPPoE:
		return d.pppoe(frame)
	}
	return d.skip(SkipLinkType) // Source counts these before decoding
}

// ethertype dispatches on an Ethernet-style protocol type, peeling 802.1Q
// and 802.1ad tags first.
func (d *decoder) ethertype(et uint16, p []byte) verdict {
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
		return d.ipv4(p)
	case etherTypeIPv6:
		return d.ipv6(p)
	case etherTypePPPoE:
		return d.pppoe(p)
	case etherTypeMPLS, etherTypeMPLSMulticast:
		return d.mpls(p)
	}
	// Other ethertypes, and values below 0x0600 (IEEE 802.3 length
	// fields, LLC frames): not IP.
	return d.skip(SkipNotIP)
}

// ethernet decodes an Ethernet frame inside a tunnel.
func (d *decoder) ethernet(p []byte) verdict {
	if len(p) < 14 {
		return vBad
	}
	return d.ethertype(be16(p[12:14]), p[14:])
}

// pppoe decodes a PPPoE session header (RFC 2516): version/type(1)
// code(1) session(2) length(2), then PPP.
func (d *decoder) pppoe(p []byte) verdict {
	if len(p) < 8 {
		return vBad
	}
	return d.ppp(p[6:])
}

// ppp decodes the PPP protocol field (RFC 1661 section 2) and what
// follows. The field is one octet when Protocol-Field-Compression was
// negotiated: protocol numbers are odd in their low octet and even in
// their high one, so an odd first octet is a compressed field.
func (d *decoder) ppp(p []byte) verdict {
	if len(p) < 1 {
		return vBad
	}
	var proto uint16
	if p[0]&1 != 0 {
		proto, p = uint16(p[0]), p[1:]
	} else {
		if len(p) < 2 {
			return vBad
		}
		proto, p = be16(p[0:2]), p[2:]
	}
	switch proto {
	case pppIPv4:
		return d.ipv4(p)
	case pppIPv6:
		return d.ipv6(p)
	case pppMPLS, pppMPLSMulticast:
		return d.mpls(p)
	}
	return d.skip(SkipNotIP) // LCP, IPCP, CHAP, Van Jacobson compressed TCP ...
}

// chdlc decodes Cisco HDLC: address(1) control(1) ethertype(2).
func (d *decoder) chdlc(p []byte) verdict {
	if len(p) < 4 {
		return vBad
	}
	return d.ethertype(be16(p[2:4]), p[4:])
}

// mpls decodes an MPLS label stack (RFC 3032): label(20 bits) traffic
// class(3) bottom of stack(1) TTL(8) per entry. The payload type is not
// written down, so it is guessed from the IP version nibble, as everyone
// does.
func (d *decoder) mpls(p []byte) verdict {
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
	return d.ipGuess(p, SkipNotIP) // not IP: a pseudowire, most likely
}

// ipGuess decodes an IPv4 or IPv6 packet told apart by its version
// nibble, or skips for reason r.
func (d *decoder) ipGuess(p []byte, r SkipReason) verdict {
	if len(p) == 0 {
		return vBad
	}
	switch p[0] >> 4 {
	case 4:
		return d.ipv4(p)
	case 6:
		return d.ipv6(p)
	}
	return d.skip(r)
}

// ipv4 decodes an IPv4 header (RFC 791) with options, reassembling
// fragments, and skips AH headers (RFC 4302) in front of the transport.
func (d *decoder) ipv4(p []byte) verdict {
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
	case d.snapCut:
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
		switch {
		case proto == ipProtoUDP && d.dg == nil:
			return d.skip(SkipUDP)
		case proto != ipProtoTCP && proto != ipProtoUDP:
			return d.skip(SkipProtocol) // not worth the memory
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
		data, _, ok := d.frag.add(key, d.ts, offset, more, body, proto)
		if !ok {
			return vHeld
		}
		d.stats.Reassembled++
		d.reassembled = true
		body = data
	}
	for range maxExtHeaders {
		switch proto {
		case ipProtoTCP:
			return d.tcp(body, src, dst, missing)
		case ipProtoUDP:
			return d.udp(body, src, dst, missing)
		case ipProtoAH:
			// next header(1) payload length in 4-octet units minus 2(1) ...
			if len(body) < 8 {
				return vBad
			}
			n := (int(body[1]) + 2) * 4
			if n > len(body) {
				return vBad
			}
			proto, body = body[0], body[n:]
		default:
			return d.tunnel(proto, body)
		}
	}
	return vBad
}

// ipv6 decodes an IPv6 header (RFC 8200), skips extension headers and
// reassembles fragments.
func (d *decoder) ipv6(p []byte) verdict {
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
	case d.snapCut:
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
			return d.tcp(body, src, dst, missing)
		case ipProtoUDP:
			return d.udp(body, src, dst, missing)
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
			switch {
			case inner == ipProtoUDP && d.dg == nil:
				return d.skip(SkipUDP)
			case inner == ipProtoICMPv6 || inner == ipProtoNoNext:
				return d.skip(SkipProtocol)
			}
			if missing > 0 {
				d.stats.FragmentsDropped++
				return vHeld
			}
			key := fragKey{src: [16]byte(p[8:24]), dst: [16]byte(p[24:40]), id: id, v6: true}
			data, first, ok := d.frag.add(key, d.ts, offset, more, body, inner)
			if !ok {
				return vHeld
			}
			d.stats.Reassembled++
			d.reassembled = true
			next, body, reassembled = first, data, true
		default:
			// Tunnels, else ICMPv6, ESP, No Next Header, ...
			return d.tunnel(next, body)
		}
	}
	return vBad
}

// tcp decodes a TCP header (RFC 9293 section 3.1).
func (d *decoder) tcp(b []byte, src, dst netip.Addr, missing int) verdict {
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
	seg := d.seg
	seg.Timestamp = d.ts
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

// udp decodes a UDP header (RFC 768): source port(2) destination port(2)
// length(2) checksum(2). Datagrams to the registered ports of the tunnels
// we peel are decapsulated; the others are handed out, or skipped when no
// datagram is wanted. missing is what the snap length cut from the IP
// packet.
func (d *decoder) udp(b []byte, src, dst netip.Addr, missing int) verdict {
	if len(b) < 8 {
		return vBad
	}
	sport, dport := be16(b[0:2]), be16(b[2:4])
	if sport == udpPortGTPU || dport == udpPortGTPU || dport == udpPortVXLAN ||
		dport == udpPortVXLANGPE || dport == udpPortGENEVE {
		if !d.deeper() {
			return vBad
		}
		switch {
		case sport == udpPortGTPU || dport == udpPortGTPU:
			return d.gtpu(b[8:])
		case dport == udpPortVXLAN:
			return d.vxlan(b[8:])
		case dport == udpPortVXLANGPE:
			return d.vxlanGPE(b[8:])
		}
		return d.geneve(b[8:])
	}
	if d.dg == nil {
		return d.skip(SkipUDP)
	}
	payload := b[8:]
	length := int(be16(b[4:6]))
	switch {
	case length == 0:
		// A jumbogram (RFC 2675), or a capture on the sender before
		// segmentation offload: the captured bytes are the datagram.
	case length < 8:
		return vBad
	case length <= len(b):
		// The UDP length can be shorter than what IP carries (trailing
		// bytes are not the datagram's); nothing is missing then.
		payload, missing = b[8:length], 0
	case missing > 0:
		// Cut by the snap length: the UDP length tells the datagram's
		// end when IP carries more, but never more than IP lost.
		missing = min(missing, length-len(b))
	case d.snapCut:
		missing = length - len(b)
	}
	dg := d.dg
	dg.Timestamp = d.ts
	dg.Src = netip.AddrPortFrom(src, sport)
	dg.Dst = netip.AddrPortFrom(dst, dport)
	dg.Payload = payload
	dg.Truncated = missing
	if missing > 0 {
		d.stats.Truncated++
	}
	return vDatagram
}

// deeper counts one more encapsulation peeled from the frame, reporting
// whether it is within maxTunnels.
func (d *decoder) deeper() bool {
	if d.tunnels == maxTunnels {
		return false
	}
	d.tunnels++
	return true
}

// tunnel decapsulates the IP-level tunnels met in captures of mobile,
// data-center and enterprise networks, whose inner packets tshark shows
// as TCP: IP in IP and GRE (RFC 2784/2890, with ERSPAN). Anything else is
// skipped.
func (d *decoder) tunnel(proto uint8, b []byte) verdict {
	if proto != ipProtoIPIP && proto != ipProtoIPv6 && proto != ipProtoGRE {
		return d.skip(SkipProtocol)
	}
	if !d.deeper() {
		return vBad
	}
	switch proto {
	case ipProtoIPIP:
		return d.ipv4(b)
	case ipProtoIPv6:
		return d.ipv6(b)
	}
	return d.gre(b)
}

// gre decodes a GRE header: C(1) R(1) K(1) S(1) ... version(3 bits)
// protocol type(2), then checksum+reserved, key, sequence number when
// flagged.
func (d *decoder) gre(b []byte) verdict {
	if len(b) < 4 {
		return vBad
	}
	flags := b[0]
	if b[1]&0x07 != 0 || flags&0x40 != 0 {
		// Version 1 is PPTP's enhanced GRE, which carries PPP; source
		// routing (RFC 1701) is obsolete.
		return d.skip(SkipTunnel)
	}
	n := 4
	if flags&0x80 != 0 { // checksum present
		n += 4
	}
	if flags&0x20 != 0 { // key present
		n += 4
	}
	seq := flags&0x10 != 0
	if seq { // sequence number present
		n += 4
	}
	if len(b) < n {
		return vBad
	}
	et, inner := be16(b[2:4]), b[n:]
	switch et {
	case etherTypeTEB:
		return d.ethernet(inner)
	case etherTypeERSPAN:
		if !seq {
			// ERSPAN type I: the mirrored frame follows GRE directly.
			return d.ethernet(inner)
		}
		// Type II: version(4 bits) = 1, VLAN(12) COS(3) En(2) T(1)
		// session ID(10), reserved(12) index(20), then the frame.
		if len(inner) < 8 {
			return vBad
		}
		if inner[0]>>4 != 1 {
			return d.skip(SkipTunnel)
		}
		return d.ethernet(inner[8:])
	case etherTypeERSPANIII:
		// Type III: version(4 bits) = 2, VLAN(12) COS(3) BSO(2) T(1)
		// session ID(10), timestamp(32), SGT(16) P(1) FT(5) hardware
		// ID(6) D(1) granularity(2) O(1), then an 8-octet platform
		// specific subheader when O is set, then the frame: Ethernet
		// for frame type 0, IP for 2.
		if len(inner) < 12 {
			return vBad
		}
		if inner[0]>>4 != 2 {
			return d.skip(SkipTunnel)
		}
		w := be16(inner[10:12])
		frameType := w >> 10 & 0x1f
		inner = inner[12:]
		if w&1 != 0 {
			if len(inner) < 8 {
				return vBad
			}
			inner = inner[8:]
		}
		switch frameType {
		case 0:
			return d.ethernet(inner)
		case 2:
			return d.ipGuess(inner, SkipNotIP)
		}
		return d.skip(SkipTunnel)
	}
	return d.ethertype(et, inner)
}

// vxlan decodes a VXLAN header (RFC 7348): flags(1) with I = 0x08,
// reserved(3) VNI(3) reserved(1), then an Ethernet frame.
func (d *decoder) vxlan(b []byte) verdict {
	if len(b) < 8+14 || b[0]&0x08 == 0 {
		return d.skip(SkipTunnel)
	}
	return d.ethernet(b[8:])
}

// vxlanGPE decodes a VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe):
// flags(1) R R Ver(2) I P B O, reserved(2), next protocol(1), VNI(3)
// reserved(1). Next protocol 1 is IPv4, 2 IPv6, 3 Ethernet, 5 MPLS; 4
// (NSH) and the rest are not peeled.
func (d *decoder) vxlanGPE(b []byte) verdict {
	if len(b) < 8 {
		return vBad
	}
	if b[0]&0x30 != 0 || b[0]&0x04 == 0 {
		return d.skip(SkipTunnel) // an unknown version, or no next protocol
	}
	p := b[8:]
	switch b[3] {
	case 1:
		return d.ipv4(p)
	case 2:
		return d.ipv6(p)
	case 3:
		return d.ethernet(p)
	case 5:
		return d.mpls(p)
	}
	return d.skip(SkipTunnel)
}

// geneve decodes a GENEVE header (RFC 8926 section 3.4): version(2 bits)
// option length(6, in 4-octet units) O(1) C(1) reserved(6), protocol
// type(2), VNI(3) reserved(1), options; the protocol type is an ethertype,
// 0x6558 for Ethernet.
func (d *decoder) geneve(b []byte) verdict {
	if len(b) < 8 {
		return vBad
	}
	if b[0]>>6 != 0 {
		return d.skip(SkipTunnel) // only version 0 exists
	}
	n := 8 + int(b[0]&0x3f)*4
	if n > len(b) {
		return vBad
	}
	et, inner := be16(b[2:4]), b[n:]
	if et == etherTypeTEB {
		return d.ethernet(inner)
	}
	return d.ethertype(et, inner)
}

// gtpu decodes a GTPv1-U header: flags(1) message type(1) length(2)
// TEID(4), then sequence number(2) N-PDU number(1) next extension type(1)
// when any of E, S, PN is set, then the extension headers, each with its
// length in 4-octet units first and the next type last. A G-PDU (message
// type 255) carries an IP packet.
func (d *decoder) gtpu(b []byte) verdict {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 {
		return d.skip(SkipTunnel) // not GTPv1, or GTP' (PT = 0)
	}
	if b[1] != 0xff {
		return d.skip(SkipTunnel) // echo, error indication, end marker ...
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
	return d.ipGuess(p, SkipNotIP)
}
