package capture

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// outerUDP wraps payload in Ethernet/IPv4/UDP between tunnel endpoints.
func outerUDP(t testing.TB, sport, dport uint16, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload(payload))
}

func outerIP(t testing.TB, v6 bool, proto layers.IPProtocol, payload []byte) []byte {
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: cli6.AsSlice(), DstIP: srv6.AsSlice()}
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip, gopacket.Payload(payload))
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, gopacket.Payload(payload))
}

func TestTunnels(t *testing.T) {
	v4, v6 := defaultSpec(false, "inner v4"), defaultSpec(true, "inner v6")
	gtp := func(inner []byte) []byte {
		return serialize(t, &layers.GTPv1U{Version: 1, ProtocolType: 1, MessageType: 255, TEID: 77, MessageLength: uint16(len(inner))}, gopacket.Payload(inner))
	}
	// GTP-U with a sequence number and one extension header (PDU
	// session container), by hand: gopacket's serializer gets these wrong.
	gtpExt := func(inner []byte) []byte {
		h := []byte{0x36, 0xff, 0, 0, 0, 0, 0, 77, 0, 1, 0, 0x85, 1, 0x10, 0x09, 0}
		return append(h, inner...)
	}
	vxlan := func(inner []byte) []byte {
		eth := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, gopacket.Payload(inner))
		return append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, eth...)
	}
	gre := func(g *layers.GRE, inner []byte) []byte { return serialize(t, g, gopacket.Payload(inner)) }
	tests := []struct {
		name  string
		frame []byte
		spec  tcpSpec
	}{
		{"gtp-u", outerUDP(t, 2152, 2152, gtp(v4.ip(t))), v4},
		{"gtp-u v6 inside", outerUDP(t, 40000, 2152, gtp(v6.ip(t))), v6},
		{"gtp-u extension header", outerUDP(t, 2152, 2152, gtpExt(v4.ip(t))), v4},
		{"vxlan", outerUDP(t, 53211, 4789, vxlan(v4.ip(t))), v4},
		{"gre", outerIP(t, false, layers.IPProtocolGRE, gre(&layers.GRE{Protocol: layers.EthernetTypeIPv4}, v4.ip(t))), v4},
		{"gre key+seq", outerIP(t, false, layers.IPProtocolGRE, gre(&layers.GRE{Protocol: layers.EthernetTypeIPv6, KeyPresent: true, Key: 5, SeqPresent: true, Seq: 9}, v6.ip(t))), v6},
		{"gre ethernet", outerIP(t, true, layers.IPProtocolGRE, gre(&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging},
			frameFor(t, LinkTypeEthernet, "vlan", v4.ip(t)))), v4},
		{"ip in ip", outerIP(t, false, layers.IPProtocolIPv4, v4.ip(t)), v4},
		{"6in4", outerIP(t, false, layers.IPProtocolIPv6, v6.ip(t)), v6},
		{"4in6", outerIP(t, true, layers.IPProtocolIPv4, v4.ip(t)), v4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			segs, st, err := readAll(t, pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: tc.frame}), Options{})
			if err != nil || len(segs) != 1 {
				t.Fatalf("%d segments, %v, %+v", len(segs), err, st)
			}
			wantSeg(t, segs[0], tc.spec, t0)
		})
	}

	pppoe := func(inner []byte, proto uint16) []byte {
		h := []byte{0x11, 0, 0x12, 0x34, byte((len(inner) + 2) >> 8), byte(len(inner) + 2), byte(proto >> 8), byte(proto)}
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypePPPoESession},
			gopacket.Payload(append(h, inner...)))
	}
	mpls := func(inner []byte) []byte {
		return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast},
			&layers.MPLS{Label: 100, TTL: 64}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 64}, gopacket.Payload(inner))
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		spec  tcpSpec
	}{
		{"pppoe v4", pppoe(v4.ip(t), 0x0021), v4},
		{"pppoe v6", pppoe(v6.ip(t), 0x0057), v6},
		{"mpls v4", mpls(v4.ip(t)), v4},
		{"mpls v6", mpls(v6.ip(t)), v6},
	} {
		segs, st, err := readAll(t, pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: tc.frame}), Options{})
		if err != nil || len(segs) != 1 {
			t.Fatalf("%s: %d segments, %v, %+v", tc.name, len(segs), err, st)
		}
		wantSeg(t, segs[0], tc.spec, t0)
	}

	// Not tunnels, or not carrying IP: skipped as non-TCP.
	echo := []byte{0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0} // GTP echo request
	for name, frame := range map[string][]byte{
		"gtp echo":  outerUDP(t, 2152, 2152, echo),
		"plain udp": outerUDP(t, 5000, 5001, v4.ip(t)),
		"pptp gre":  outerIP(t, false, layers.IPProtocolGRE, []byte{0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1}),
		"pppoe lcp": pppoe([]byte{1, 1, 0, 4}, 0xc021),
	} {
		segs, st, err := readAll(t, pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame}), Options{})
		if err != nil || len(segs) != 0 || st.NonTCP != 1 {
			t.Errorf("%s: %d segments, %v, %+v; want one non-TCP packet", name, len(segs), err, st)
		}
	}

	// Nesting is bounded: IP in IP in IP ... beyond maxTunnels is an error.
	p := v4.ip(t)
	for range maxTunnels + 1 {
		p = serialize(t, &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolIPv4, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}, gopacket.Payload(p))
	}
	_, st, _ := readAll(t, pcapBytes(LinkTypeRaw, pcapOpts{}, rec{ts: t0, data: p}), Options{})
	if st.DecodeErrors != 1 {
		t.Errorf("deep nesting: %+v", st)
	}
}
