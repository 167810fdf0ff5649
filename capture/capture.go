// Package capture turns packets into TCP segments and UDP datagrams.
//
// It opens a capture file (pcap or pcapng, "-" for standard input) or a live
// interface (libpcap through gopacket/pcap), decodes the link layer (Ethernet,
// 802.1Q/QinQ, Linux SLL/SLL2, raw IP, BSD loopback), IPv4 and IPv6
// (reassembling fragments of both, skipping IPv6 extension headers), peels
// PPPoE, MPLS and common tunnels (GTP-U, VXLAN, GRE, IP in IP), and hands
// out one packet.Segment per TCP packet. It knows nothing of TLS.
//
// Packets that are not TCP, fail the BPF filter or cannot be decoded are
// counted in Stats and skipped; only damage to the file's framing ends the
// reading, with an error naming the file (see FileError and the Err*
// sentinels).
package capture

// Stats counts what a Source read and what it could not use.
type Stats struct {
	Packets      uint64 // packets read from the file or interface
	Bytes        uint64 // captured bytes read
	TCPSegments  uint64 // segments handed out by Next or NextPacket
	UDPDatagrams uint64 // datagrams handed out by NextPacket (always 0 with Next)
	// NonTCP counts packets skipped because they carried neither a
	// segment nor a datagram handed out (ARP, ICMP, UDP read by Next,
	// tunnel control, unsupported link types, ...): the sum of Skipped.
	NonTCP uint64
	// Skipped is NonTCP by reason, indexed by SkipReason.
	Skipped [NumSkipReasons]uint64
	// UnsupportedLinkType is the first link type whose packets were
	// skipped; meaningful when Skipped[SkipLinkType] > 0.
	UnsupportedLinkType LinkType
	Filtered            uint64 // packets rejected by the BPF filter
	DecodeErrors        uint64 // packets whose headers could not be decoded
	// Truncated counts segments and datagrams handed out whose payload
	// the snap length cut short.
	Truncated   uint64
	Fragments   uint64 // IPv4 and IPv6 fragments seen
	Reassembled uint64 // IPv4 and IPv6 datagrams rebuilt from fragments
	// FragmentsDropped counts fragments thrown away unused: their datagram
	// timed out, overran the memory budget, overlapped an earlier fragment
	// with different bytes, or was malformed.
	FragmentsDropped uint64
	// Secrets counts the TLS key logs read from pcapng Decryption
	// Secrets Blocks (see Source.Secrets); SecretsDropped those skipped
	// as malformed or beyond the memory bound.
	Secrets, SecretsDropped uint64
	// Live capture only, from libpcap: received and dropped by the kernel
	// and by the interface.
	PcapReceived, PcapDropped, PcapIfDropped uint64
}
