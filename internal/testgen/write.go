package testgen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// LinkType is the link layer the packets are framed in.
type LinkType uint8

const (
	LinkEthernet LinkType = iota // Ethernet II (DLT_EN10MB)
	LinkVLAN                     // Ethernet with an 802.1Q tag (VLAN 100)
	LinkSLL                      // Linux cooked capture v1 (DLT_LINUX_SLL)
	LinkRaw                      // raw IPv4/IPv6 (LINKTYPE_RAW)
)

func (l LinkType) String() string {
	switch l {
	case LinkEthernet:
		return "ethernet"
	case LinkVLAN:
		return "vlan"
	case LinkSLL:
		return "sll"
	case LinkRaw:
		return "raw"
	}
	return "LinkType(?)"
}

func (l LinkType) pcap() layers.LinkType {
	switch l {
	case LinkSLL:
		return layers.LinkTypeLinuxSLL
	case LinkRaw:
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

// Format is the capture file format.
type Format uint8

const (
	FormatPcap   Format = iota // classic libpcap, microsecond timestamps
	FormatPcapng               // pcapng, one interface, microsecond timestamps
)

func (f Format) String() string {
	if f == FormatPcapng {
		return "pcapng"
	}
	return "pcap"
}

// VLANID is the 802.1Q tag of LinkVLAN.
const VLANID = 100

// macs are the fixed MAC addresses (locally administered) of the client and
// the server, by direction.
func macs() [2]net.HardwareAddr {
	return [2]net.HardwareAddr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, {0x02, 0x00, 0x00, 0x00, 0x00, 0x02}}
}

const snapLen = 262144

// PacketWriter lays packets out as link/IP/TCP frames and writes them to a
// pcap or pcapng stream.
type PacketWriter struct {
	link  LinkType
	bw    *bufio.Writer
	pcap  *pcapgo.Writer
	ng    *pcapgo.NgWriter
	buf   gopacket.SerializeBuffer
	opts  gopacket.SerializeOptions
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	udp   layers.UDP
	stack []gopacket.SerializableLayer
	mss   [2]byte
	mac   [2]net.HardwareAddr
	ipID  map[netip.Addr]uint16

	Packets, Bytes uint64 // written so far
}

// NewPacketWriter writes the file header and returns a writer. Call Flush
// at the end.
func NewPacketWriter(w io.Writer, f Format, l LinkType) (*PacketWriter, error) {
	pw := &PacketWriter{
		link: l,
		bw:   bufio.NewWriterSize(w, 1<<20),
		buf:  gopacket.NewSerializeBuffer(),
		opts: gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ipID: make(map[netip.Addr]uint16),
		mac:  macs(),
	}
	switch f {
	case FormatPcap:
		pw.pcap = pcapgo.NewWriter(pw.bw)
		if err := pw.pcap.WriteFileHeader(snapLen, l.pcap()); err != nil {
			return nil, fmt.Errorf("testgen: pcap header: %w", err)
		}
	case FormatPcapng:
		// Section info is fixed (no host OS or hardware) so that files do
		// not depend on the machine that wrote them.
		ng, err := pcapgo.NewNgWriterInterface(pw.bw, pcapgo.NgInterface{
			Name:                "tlsgen0",
			LinkType:            l.pcap(),
			SnapLength:          snapLen,
			TimestampResolution: 6,
		}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "tlsgen"}})
		if err != nil {
			return nil, fmt.Errorf("testgen: pcapng header: %w", err)
		}
		pw.ng = ng
	default:
		return nil, fmt.Errorf("testgen: unknown format %d", f)
	}
	return pw, nil
}

// Flush writes out what is buffered.
func (pw *PacketWriter) Flush() error {
	if pw.ng != nil {
		if err := pw.ng.Flush(); err != nil {
			return err
		}
	}
	return pw.bw.Flush()
}

// Write lays out one TCP packet of a connection between client and server.
func (pw *PacketWriter) Write(client, server netip.AddrPort, p *Packet) error {
	return pw.write(client, server, p, false)
}

// WriteUDP lays out one UDP datagram between client and server: p.From,
// p.Time and p.Payload are used, the TCP fields are not. QUIC and DTLS
// generators write their captures with it.
func (pw *PacketWriter) WriteUDP(client, server netip.AddrPort, p *Packet) error {
	return pw.write(client, server, p, true)
}

func (pw *PacketWriter) write(client, server netip.AddrPort, p *Packet, udp bool) error {
	src, dst := client, server
	srcMAC, dstMAC := pw.mac[p.From], pw.mac[p.From.peer()]
	ttl := uint8(64)
	if p.From == ServerToClient {
		src, dst = server, client
		ttl = 52 // seen at the client: some hops away
	}
	v6 := src.Addr().Is6() && !src.Addr().Is4In6()
	ethType := layers.EthernetTypeIPv4
	if v6 {
		ethType = layers.EthernetTypeIPv6
	}
	proto := layers.IPProtocolTCP
	if udp {
		proto = layers.IPProtocolUDP
	}
	pw.stack = pw.stack[:0]
	switch pw.link {
	case LinkEthernet:
		pw.eth = layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: ethType}
		pw.stack = append(pw.stack, &pw.eth)
	case LinkVLAN:
		pw.eth = layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeDot1Q}
		pw.dot1q = layers.Dot1Q{VLANIdentifier: VLANID, Type: ethType}
		pw.stack = append(pw.stack, &pw.eth, &pw.dot1q)
	}
	if v6 {
		pw.ip6 = layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: proto,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		pw.stack = append(pw.stack, &pw.ip6)
	} else {
		id := pw.ipID[src.Addr()]
		if id == 0 {
			id = uint16(subSeed(uint64(src.Port()), src.Addr().String()))
		}
		pw.ipID[src.Addr()] = id + 1
		pw.ip4 = layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Id: id, Flags: layers.IPv4DontFragment,
			Protocol: proto, SrcIP: src.Addr().Unmap().AsSlice(), DstIP: dst.Addr().Unmap().AsSlice()}
		pw.stack = append(pw.stack, &pw.ip4)
	}
	var l4 gopacket.SerializableLayer = &pw.tcp
	if udp {
		pw.udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		l4 = &pw.udp
	}
	pw.tcp = layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: p.Seq, Ack: p.Ack, Window: p.Window,
		FIN: p.Flags&FlagFIN != 0, SYN: p.Flags&FlagSYN != 0, RST: p.Flags&FlagRST != 0,
		PSH: p.Flags&FlagPSH != 0, ACK: p.Flags&FlagACK != 0,
	}
	var nl gopacket.NetworkLayer = &pw.ip4
	if v6 {
		nl = &pw.ip6
	}
	_ = pw.tcp.SetNetworkLayerForChecksum(nl)
	_ = pw.udp.SetNetworkLayerForChecksum(nl)
	if p.MSS != 0 && !udp {
		binary.BigEndian.PutUint16(pw.mss[:], p.MSS)
		pw.tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: pw.mss[:]}}
	}
	pw.stack = append(pw.stack, l4, gopacket.Payload(p.Payload))
	if err := gopacket.SerializeLayers(pw.buf, pw.opts, pw.stack...); err != nil {
		return fmt.Errorf("testgen: serialize: %w", err)
	}
	if pw.link == LinkSLL {
		// gopacket cannot serialise SLL; its 16-byte header is simple.
		h, err := pw.buf.PrependBytes(16)
		if err != nil {
			return err
		}
		pktType := uint16(0) // to us
		if p.From == ClientToServer {
			pktType = 4 // sent by us: the capture runs on the client
		}
		binary.BigEndian.PutUint16(h[0:], pktType)
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:14], append(srcMAC[:6:6], 0, 0))
		binary.BigEndian.PutUint16(h[14:], uint16(ethType))
	}
	data := pw.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(data), Length: len(data), InterfaceIndex: 0}
	var err error
	if pw.ng != nil {
		err = pw.ng.WritePacket(ci, data)
	} else {
		err = pw.pcap.WritePacket(ci, data)
	}
	if err != nil {
		return fmt.Errorf("testgen: write packet: %w", err)
	}
	pw.Packets++
	pw.Bytes += uint64(len(data))
	return nil
}

// KeyLogCommitted lists the captures whose key log (NAME.keys) is
// committed beside them, for the golden tests of decryption (-keylog).
var KeyLogCommitted = map[string]bool{
	"tls13-full.pcap": true, "tls13-psk-resumed.pcap": true, "fail-untrusted-tls13.pcap": true,
	"fail-clientcert-required-tls13.pcap": true, "tls12-ticket.pcap": true, "tls12-ticket-resumed.pcap": true,
	"multi.pcap": true,
}

// Capture is one capture file: connections, their link layer and format.
type Capture struct {
	Name   string // file name, e.g. "tls13-full.pcap"
	About  string // one line for the README
	Format Format
	Link   LinkType
	Start  time.Time
	Conns  []Conn
	// KeyLog, when set, receives the TLS secrets of every connection in
	// NSS key log format, so that Wireshark can decrypt the capture.
	KeyLog io.Writer
}

// Result tells what happened in each connection of a written capture.
type Result struct {
	Outcomes []Outcome // one per Conn, in order
	Packets  int
}

// Write records every connection (in slice order, so sessions carry from one
// to the next), merges their packets by time and writes the file.
//
// Session caches, ticket state and Rewrite functions are stateful: write a
// Capture once (Catalog.Captures builds fresh ones on every call).
func (c *Capture) Write(w io.Writer) (Result, error) {
	type tp struct {
		conn int
		p    Packet
	}
	var all []tp
	var res Result
	for i := range c.Conns {
		cn := &c.Conns[i]
		cn.keyLog = c.KeyLog
		pkts, out, err := cn.Packets(c.Start.Add(cn.At))
		if err != nil {
			return res, fmt.Errorf("%s: conn %d (%s): %w", c.Name, i, cn.Name, err)
		}
		res.Outcomes = append(res.Outcomes, out)
		for _, p := range pkts {
			all = append(all, tp{i, p})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].p.Time.Before(all[b].p.Time) })
	pw, err := NewPacketWriter(w, c.Format, c.Link)
	if err != nil {
		return res, err
	}
	for i := range all {
		cn := &c.Conns[all[i].conn]
		if err := pw.Write(cn.ClientAddr, cn.ServerAddr, &all[i].p); err != nil {
			return res, err
		}
	}
	res.Packets = len(all)
	return res, pw.Flush()
}
