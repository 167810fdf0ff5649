// Package capture turns packets into TCP segments.
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
	TCPSegments  uint64 // segments handed out by Next
	NonTCP       uint64 // packets that were not TCP (UDP, ARP, ...); skipped silently
	Filtered     uint64 // packets rejected by the BPF filter
	DecodeErrors uint64 // packets whose headers could not be decoded
	Truncated    uint64 // segments whose payload the snap length cut short
	Fragments    uint64 // IPv4 and IPv6 fragments seen
	Reassembled  uint64 // IPv4 and IPv6 datagrams rebuilt from fragments
	// FragmentsDropped counts fragments thrown away unused: their datagram
	// timed out, overran the memory budget, overlapped an earlier fragment
	// with different bytes, or was malformed.
	FragmentsDropped uint64
	// Live capture only, from libpcap: received and dropped by the kernel
	// and by the interface.
	PcapReceived, PcapDropped, PcapIfDropped uint64
}
