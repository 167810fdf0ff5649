package capture

import "strconv"

// LinkType is a LINKTYPE_ value as registered for pcap and pcapng files
// (https://www.tcpdump.org/linktypes.html). Live handles report DLT_ values,
// which agree with LINKTYPE_ values for every type decoded here except raw
// IP, which has several historical numbers; all of them are accepted.
//
// gopacket's layers.LinkType is a uint8 and cannot hold LINKTYPE_LINUX_SLL2
// (276), hence our own type.
type LinkType uint32

// The link types this package decodes.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkTypeEthernet  LinkType = 1   // IEEE 802.3 Ethernet, with 802.1Q/802.1ad tags
	LinkTypePPP       LinkType = 9   // PPP (RFC 1661), with or without the RFC 1662 address and control octets
	LinkTypeRawDLT12  LinkType = 12  // DLT_RAW on most systems: raw IPv4/IPv6
	LinkTypeRawDLT14  LinkType = 14  // DLT_RAW on OpenBSD
	LinkTypePPPHDLC   LinkType = 50  // PPP in HDLC-like framing (RFC 1662), or Cisco HDLC
	LinkTypePPPoE     LinkType = 51  // LINKTYPE_PPP_ETHER: a PPPoE session header (RFC 2516) without Ethernet
	LinkTypeCHDLC     LinkType = 104 // Cisco HDLC: address(1) control(1) ethertype(2)
	LinkTypeRaw       LinkType = 101 // LINKTYPE_RAW: raw IPv4/IPv6
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: 4-byte address family in network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1, 16-byte header
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2, 20-byte header

	// linkTypeNone is the link type of a pcapng file without interfaces
	// (and therefore without packets).
	linkTypeNone LinkType = 1<<32 - 1
)

// String names a link type as libpcap does (pcap_datalink_val_to_name).
func (t LinkType) String() string {
	switch t {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "EN10MB"
	case LinkTypeRawDLT12, LinkTypeRawDLT14, LinkTypeRaw:
		return "RAW"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	case LinkTypePPP:
		return "PPP"
	case LinkTypePPPHDLC:
		return "PPP_HDLC"
	case LinkTypePPPoE:
		return "PPP_ETHER"
	case LinkTypeCHDLC:
		return "C_HDLC"
	// A few unsupported ones that people do meet, so that the summary
	// names them.
	case 6:
		return "IEEE802"
	case 105:
		return "IEEE802_11"
	case 119:
		return "PRISM_HEADER"
	case 127:
		return "IEEE802_11_RADIO"
	case 187:
		return "BLUETOOTH_HCI_H4"
	case 192:
		return "PPI"
	case 195:
		return "IEEE802_15_4"
	case 220:
		return "USB_LINUX_MMAPPED"
	case 227:
		return "CAN_SOCKETCAN"
	case 239:
		return "NFLOG"
	case 249:
		return "USBPCAP"
	case linkTypeNone:
		return "NONE"
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(t), 10)
}

// Supported reports whether the decoder knows this link type. The frames
// of a file's other link types are skipped and counted in
// Stats.Skipped[SkipLinkType]; a live interface of another link type
// cannot be opened.
func (t LinkType) Supported() bool {
	switch t {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRawDLT12, LinkTypeRawDLT14, LinkTypeRaw,
		LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2,
		LinkTypePPP, LinkTypePPPHDLC, LinkTypePPPoE, LinkTypeCHDLC:
		return true
	}
	return false
}
