//go:debug cryptocustomrand=1

package testgen

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var update = flag.Bool("update", false, "rewrite the committed captures in testdata/captures")

const capturesDir = "../../testdata/captures"

// generated holds the catalog written once per test binary: generating it
// takes a few hundred milliseconds and several tests read it.
type generated struct {
	caps    []Capture
	files   map[string][]byte
	results map[string]Result
}

var genOnce = sync.OnceValues(func() (*generated, error) { return generate() })

func generate() (*generated, error) {
	k, err := NewCatalog(DefaultSeed, DefaultStart())
	if err != nil {
		return nil, err
	}
	caps, err := k.Captures()
	if err != nil {
		return nil, err
	}
	g := &generated{caps: caps, files: map[string][]byte{}, results: map[string]Result{}}
	for i := range caps {
		var buf, keys bytes.Buffer
		caps[i].KeyLog = &keys
		res, err := caps[i].Write(&buf)
		if err != nil {
			return nil, err
		}
		if KeyLogCommitted[caps[i].Name] {
			g.files[caps[i].Name+".keys"] = keys.Bytes()
		}
		if _, dup := g.files[caps[i].Name]; dup {
			return nil, fmt.Errorf("duplicate capture name %s", caps[i].Name)
		}
		g.files[caps[i].Name] = buf.Bytes()
		g.results[caps[i].Name] = res
	}
	return g, nil
}

func catalog(t testing.TB) *generated {
	t.Helper()
	if !CustomRandEnabled() {
		t.Fatal("cryptocustomrand=1 is not in effect: the //go:debug line of this file was lost")
	}
	g, err := genOnce()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// pkt is a decoded TCP packet.
type pkt struct {
	ts       time.Time
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	mss      int
	payload  []byte
}

func readPackets(t testing.TB, data []byte) []pkt {
	t.Helper()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var lt layers.LinkType
	if bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		r, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		r, lt = pr, pr.LinkType()
	}
	var out []pkt
	for n := 1; ; n++ {
		b, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("packet %d: %v", n, err)
		}
		if ci.CaptureLength != ci.Length || len(b) != ci.Length {
			t.Fatalf("packet %d: captured %d of %d", n, ci.CaptureLength, ci.Length)
		}
		p := gopacket.NewPacket(b, lt, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: decode: %v", n, el.Error())
		}
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil {
			t.Fatalf("packet %d: no TCP layer", n)
		}
		var src, dst netip.Addr
		var pseudo []byte
		tcpBytes := append(append([]byte(nil), tcp.Contents...), tcp.Payload...)
		if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			if checksum(ip.Contents) != 0 {
				t.Fatalf("packet %d: bad IPv4 header checksum", n)
			}
			if int(ip.Length) != len(ip.Contents)+len(tcpBytes) {
				t.Fatalf("packet %d: IPv4 length %d, carries %d", n, ip.Length, len(ip.Contents)+len(tcpBytes))
			}
			pseudo = append(append(append([]byte(nil), ip.SrcIP.To4()...), ip.DstIP.To4()...), 0, 6, byte(len(tcpBytes)>>8), byte(len(tcpBytes)))
		} else if ip, ok := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
			if int(ip.Length) != len(tcpBytes) {
				t.Fatalf("packet %d: IPv6 payload length %d, carries %d", n, ip.Length, len(tcpBytes))
			}
			pseudo = append(append(append([]byte(nil), ip.SrcIP...), ip.DstIP...), 0, 0, byte(len(tcpBytes)>>8), byte(len(tcpBytes)), 0, 0, 0, 6)
		} else {
			t.Fatalf("packet %d: no IP layer", n)
		}
		if checksum(append(pseudo, tcpBytes...)) != 0 {
			t.Fatalf("packet %d: bad TCP checksum", n)
		}
		q := pkt{ts: ci.Timestamp, src: netip.AddrPortFrom(src, uint16(tcp.SrcPort)), dst: netip.AddrPortFrom(dst, uint16(tcp.DstPort)),
			seq: tcp.Seq, ack: tcp.Ack, payload: tcp.Payload}
		for _, f := range []struct {
			on bool
			f  uint8
		}{{tcp.FIN, FlagFIN}, {tcp.SYN, FlagSYN}, {tcp.RST, FlagRST}, {tcp.PSH, FlagPSH}, {tcp.ACK, FlagACK}} {
			if f.on {
				q.flags |= f.f
			}
		}
		for _, o := range tcp.Options {
			if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
				q.mss = int(binary.BigEndian.Uint16(o.OptionData))
			}
		}
		out = append(out, q)
	}
}

// checksum is the Internet checksum (RFC 1071); 0 over data that includes
// a correct checksum field.
func checksum(b []byte) uint16 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// tcpConn is one connection's packets, split by direction.
type tcpConn struct {
	client, server netip.AddrPort
	pkts           []pkt
}

func (c *tcpConn) dir(p *pkt) Dir {
	if p.src == c.client {
		return ClientToServer
	}
	return ServerToClient
}

// splitConns groups packets by connection; the client is the SYN's sender.
func splitConns(t testing.TB, pkts []pkt) []*tcpConn {
	t.Helper()
	var conns []*tcpConn
	byKey := map[[2]netip.AddrPort]*tcpConn{}
	for _, p := range pkts {
		c := byKey[[2]netip.AddrPort{p.src, p.dst}]
		if c == nil {
			c = byKey[[2]netip.AddrPort{p.dst, p.src}]
		}
		if c == nil {
			if p.flags != FlagSYN {
				t.Fatalf("connection %v-%v does not start with a SYN", p.src, p.dst)
			}
			c = &tcpConn{client: p.src, server: p.dst}
			byKey[[2]netip.AddrPort{p.src, p.dst}] = c
			conns = append(conns, c)
		}
		c.pkts = append(c.pkts, p)
	}
	return conns
}

// stream reassembles one direction by sequence number: the bytes from the
// SYN on up to the first hole, and whether a hole was left. Overlapping
// bytes must be identical.
func (c *tcpConn) stream(t testing.TB, d Dir) (data []byte, hole bool) {
	t.Helper()
	var isn uint32
	got := map[uint32]byte{}
	var max uint32
	for _, p := range c.pkts {
		if c.dir(&p) != d {
			continue
		}
		if p.flags&FlagSYN != 0 {
			isn = p.seq + 1
			continue
		}
		for i, b := range p.payload {
			off := p.seq - isn + uint32(i)
			if old, ok := got[off]; ok && old != b {
				t.Fatalf("%v: byte %d retransmitted with other content", d, off)
			}
			got[off] = b
			max = maxU(max, off+1)
		}
	}
	for off := uint32(0); off < max; off++ {
		b, ok := got[off]
		if !ok {
			return data, true
		}
		data = append(data, b)
	}
	return data, false
}

func maxU(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// checkSequence checks a connection that was not impaired: each segment
// starts where the previous one of its direction ended, ACKs never run
// ahead of what the peer sent, payloads fit the MSS, the handshake carries
// MSS options.
func (c *tcpConn) checkSequence(t testing.TB, mss int) {
	t.Helper()
	var next [2]uint32
	var started [2]bool
	for i, p := range c.pkts {
		d := c.dir(&p)
		switch {
		case i == 0 && (p.flags != FlagSYN || p.mss == 0):
			t.Fatalf("packet 0 is %#x (mss %d), want SYN with MSS", p.flags, p.mss)
		case i == 1 && (p.flags != FlagSYN|FlagACK || p.mss == 0 || d != ServerToClient):
			t.Fatalf("packet 1 is %#x from %v, want SYN-ACK from the server", p.flags, d)
		}
		if started[d] && p.seq != next[d] {
			t.Fatalf("packet %d (%v): seq %d, want %d", i, d, p.seq, next[d])
		}
		if p.flags&FlagACK != 0 && p.ack != next[d.peer()] {
			t.Fatalf("packet %d (%v): ack %d, peer's next seq is %d", i, d, p.ack, next[d.peer()])
		}
		if len(p.payload) > mss {
			t.Fatalf("packet %d: %d bytes exceed MSS %d", i, len(p.payload), mss)
		}
		if i > 0 && p.ts.Before(c.pkts[i-1].ts) {
			t.Fatalf("packet %d: time runs backwards", i)
		}
		started[d] = true
		next[d] = p.seq + uint32(len(p.payload))
		if p.flags&(FlagSYN|FlagFIN) != 0 {
			next[d]++
		}
	}
}

func TestCapturesWellFormed(t *testing.T) {
	g := catalog(t)
	for _, c := range g.caps {
		t.Run(c.Name, func(t *testing.T) {
			pkts := readPackets(t, g.files[c.Name])
			if len(pkts) != g.results[c.Name].Packets {
				t.Fatalf("read %d packets, wrote %d", len(pkts), g.results[c.Name].Packets)
			}
			for i := 1; i < len(pkts); i++ {
				if pkts[i].ts.Before(pkts[i-1].ts) {
					t.Fatalf("packet %d: time runs backwards", i)
				}
			}
			if !pkts[0].ts.Equal(DefaultStart()) {
				t.Errorf("first packet at %v, want %v", pkts[0].ts, DefaultStart())
			}
			conns := splitConns(t, pkts)
			if len(conns) != len(c.Conns) {
				t.Fatalf("%d connections in the file, %d in the scenario", len(conns), len(c.Conns))
			}
			for i, tc := range conns {
				cn := &c.Conns[i]
				if tc.client != cn.ClientAddr || tc.server != cn.ServerAddr {
					t.Errorf("conn %d: %v->%v, want %v->%v", i, tc.client, tc.server, cn.ClientAddr, cn.ServerAddr)
				}
				if !cn.Impair.active() {
					tc.checkSequence(t, cn.mss())
				}
				for _, d := range []Dir{ClientToServer, ServerToClient} {
					_, hole := tc.stream(t, d)
					if hole != (cn.Impair.Gap > 0 && d == ServerToClient) {
						t.Errorf("conn %d %v: hole=%v", i, d, hole)
					}
				}
			}
		})
	}
}

// TestOutcomes pins what crypto/tls did in each scenario: the captures mean
// what their names say.
func TestOutcomes(t *testing.T) {
	g := catalog(t)
	type want struct {
		version   uint16 // negotiated, 0: no handshake
		resumed   bool
		clientErr string // substring of the client's error
		serverErr string
	}
	const v12, v13 = 0x0303, 0x0304
	cases := map[string][]want{
		"tls12-ticket.pcap":                   {{version: v12}},
		"tls12-ticket-resumed.pcap":           {{version: v12}, {version: v12, resumed: true}},
		"tls12-sessionid-resumed.pcap":        {{version: v12}, {}},
		"tls13-full.pcap":                     {{version: v13}},
		"tls13-psk-resumed.pcap":              {{version: v13}, {version: v13, resumed: true}},
		"tls13-hrr.pcap":                      {{version: v13}},
		"fail-version.pcap":                   {{clientErr: "protocol version not supported", serverErr: "unsupported versions"}},
		"fail-cipher.pcap":                    {{clientErr: "handshake failure", serverErr: "no cipher suite"}},
		"fail-untrusted.pcap":                 {{clientErr: "unknown authority", serverErr: "bad certificate"}},
		"fail-untrusted-tls13.pcap":           {{clientErr: "unknown authority", serverErr: "bad certificate"}},
		"fail-expired.pcap":                   {{clientErr: "is after", serverErr: "bad certificate"}},
		"fail-notyetvalid.pcap":               {{clientErr: "is before", serverErr: "bad certificate"}},
		"fail-selfsigned.pcap":                {{clientErr: "unknown authority", serverErr: "bad certificate"}},
		"fail-hostname.pcap":                  {{clientErr: "not api.example.net", serverErr: "bad certificate"}},
		"fail-weak-key.pcap":                  {{clientErr: "1024-bit RSA", serverErr: "bad certificate"}},
		"fail-sha1.pcap":                      {{clientErr: "insecure algorithm ECDSA-SHA1", serverErr: "bad certificate"}},
		"fail-eku.pcap":                       {{clientErr: "incompatible key usage", serverErr: "bad certificate"}},
		"fail-incomplete-chain.pcap":          {{clientErr: "unknown authority", serverErr: "bad certificate"}},
		"fail-after-handshake.pcap":           {{version: v12, serverErr: "reset"}},
		"fail-expired-seen.pcap":              {{clientErr: "is after", serverErr: "bad certificate"}, {clientErr: "is after", serverErr: "bad certificate"}},
		"fail-clientcert-required.pcap":       {{clientErr: "handshake failure", serverErr: "didn't provide a certificate"}},
		"fail-clientcert-required-tls13.pcap": {{version: v13, clientErr: "certificate required", serverErr: "didn't provide a certificate"}},
		"fail-alpn.pcap":                      {{clientErr: "no application protocol", serverErr: "unsupported application protocols"}},
		"fail-client-abort.pcap":              {{clientErr: "closed", serverErr: "EOF"}},
		"mtls.pcap":                           {{version: v12}},
		"end-fin.pcap":                        {{version: v13}},
		"end-rst.pcap":                        {{version: v13, serverErr: "reset"}},
		"tls12-ticket-impaired.pcap":          {{version: v12}},
	}
	for name, wants := range cases {
		res, ok := g.results[name]
		if !ok {
			t.Errorf("%s: not in the catalog", name)
			continue
		}
		for i, w := range wants {
			o := res.Outcomes[i]
			if o.Client.Version != w.version || o.Client.DidResume != w.resumed {
				t.Errorf("%s conn %d: version %#x resumed %v, want %#x %v (%s)", name, i, o.Client.Version, o.Client.DidResume, w.version, w.resumed, Describe(o))
			}
			for _, e := range []struct {
				err  error
				want string
			}{{o.ClientErr, w.clientErr}, {o.ServerErr, w.serverErr}} {
				if (e.err == nil) != (e.want == "") || (e.err != nil && !strings.Contains(e.err.Error(), e.want)) {
					t.Errorf("%s conn %d: error %v, want %q", name, i, e.err, e.want)
				}
			}
		}
	}
	if o := g.results["tls13-full.pcap"].Outcomes[0]; o.Client.NegotiatedProtocol != "h2" {
		t.Errorf("tls13-full: ALPN %q", o.Client.NegotiatedProtocol)
	}
	// The server took X25519 (not the hybrid) unless it asked for P-256.
	if o := g.results["tls13-full.pcap"].Outcomes[0]; o.Client.CurveID != tls.X25519 {
		t.Errorf("tls13-full: group %v", o.Client.CurveID)
	}
	if o := g.results["tls13-hrr.pcap"].Outcomes[0]; o.Client.CurveID != tls.CurveP256 || !o.Client.HelloRetryRequest {
		t.Errorf("tls13-hrr: group %v, HelloRetryRequest %v", o.Client.CurveID, o.Client.HelloRetryRequest)
	}
	if o := g.results["mtls.pcap"].Outcomes[0]; len(o.Server.PeerCertificates) != 2 {
		t.Errorf("mtls: server saw %d client certificates, want 2", len(o.Server.PeerCertificates))
	}
	for i, o := range g.results["multi.pcap"].Outcomes[10:] {
		if !o.Client.DidResume {
			t.Errorf("multi conn %d did not resume: %s", 10+i, Describe(o))
		}
	}
}

func TestDeterministic(t *testing.T) {
	g := catalog(t)
	again, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range g.files {
		if !bytes.Equal(b, again.files[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestCommittedCaptures keeps testdata/captures equal to what the generator
// makes; go test -run TestCommittedCaptures -update (or go run ./cmd/tlsgen)
// rewrites them.
func TestCommittedCaptures(t *testing.T) {
	g := catalog(t)
	if *update {
		for name, b := range g.files {
			if err := os.WriteFile(filepath.Join(capturesDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range KeyLogCommitted {
		b, err := os.ReadFile(filepath.Join(capturesDir, name+".keys"))
		if err != nil || !bytes.Equal(b, g.files[name+".keys"]) {
			t.Errorf("%s.keys differs from what the generator makes now (regenerate: go run ./cmd/tlsgen -out testdata/captures): %v", name, err)
		}
	}
	total := 0
	for _, c := range g.caps {
		b, err := os.ReadFile(filepath.Join(capturesDir, c.Name))
		if err != nil {
			t.Errorf("%v (regenerate: go run ./cmd/tlsgen -out testdata/captures)", err)
			continue
		}
		if !bytes.Equal(b, g.files[c.Name]) {
			t.Errorf("%s differs from what the generator makes now (regenerate: go run ./cmd/tlsgen -out testdata/captures)", c.Name)
		}
		if len(b) > 50<<10 {
			t.Errorf("%s is %d bytes, over 50 KiB", c.Name, len(b))
		}
		total += len(b)
	}
	if total > 1<<20 {
		t.Errorf("captures total %d bytes, over 1 MiB", total)
	}
	readme, err := os.ReadFile(filepath.Join(capturesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.caps {
		if !bytes.Contains(readme, []byte("`"+c.Name+"`")) {
			t.Errorf("README.md does not describe %s", c.Name)
		}
	}
	entries, err := os.ReadDir(capturesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// udp/ is written by tlsgen -udp (quicgen, dtlsgen), checked by
		// their own tests.
		if _, ok := g.files[e.Name()]; !ok && e.Name() != "README.md" && !(e.IsDir() && e.Name() == "udp") {
			t.Errorf("%s is committed but not generated", e.Name())
		}
	}
}

// TestImpairedSameStreams: the impaired twin carries exactly the bytes of
// tls12-ticket.pcap, in a different packet order; lossy.pcap has a hole.
func TestImpairedSameStreams(t *testing.T) {
	g := catalog(t)
	plain := splitConns(t, readPackets(t, g.files["tls12-ticket.pcap"]))[0]
	imp := splitConns(t, readPackets(t, g.files["tls12-ticket-impaired.pcap"]))[0]
	if len(imp.pkts) <= len(plain.pkts) {
		t.Fatalf("impaired twin has %d packets, the original %d: nothing was added", len(imp.pkts), len(plain.pkts))
	}
	inOrder := true
	for _, d := range []Dir{ClientToServer, ServerToClient} {
		a, _ := plain.stream(t, d)
		b, hole := imp.stream(t, d)
		if hole || !bytes.Equal(a, b) {
			t.Errorf("%v: impaired stream differs (%d vs %d bytes, hole %v)", d, len(b), len(a), hole)
		}
		if len(a) < 2000 {
			t.Errorf("%v: only %d bytes", d, len(a))
		}
	}
	var last [2]uint32
	for _, p := range imp.pkts {
		d := imp.dir(&p)
		if len(p.payload) > 0 && last[d] != 0 && int32(p.seq-last[d]) < 0 {
			inOrder = false
		}
		last[d] = p.seq
	}
	if inOrder {
		t.Error("impaired twin has no segment out of order")
	}
	// No ACK covers bytes that have not shown up yet.
	var isn [2]uint32
	seen := [2]map[uint32]bool{{}, {}}
	for i, p := range imp.pkts {
		d := imp.dir(&p)
		if p.flags&FlagSYN != 0 {
			isn[d] = p.seq + 1
		}
		for j := range p.payload {
			seen[d][p.seq+uint32(j)-isn[d]] = true
		}
		if p.flags&FlagFIN != 0 {
			seen[d][p.seq+uint32(len(p.payload))-isn[d]] = true
		}
		if o := d.peer(); p.flags&FlagACK != 0 && p.flags&FlagSYN == 0 {
			for off := uint32(0); off < p.ack-isn[o]; off++ {
				if !seen[o][off] {
					t.Fatalf("packet %d: ACK %d covers byte %d of the %v stream not seen yet", i, p.ack, off, o)
				}
			}
		}
	}
	lossy := splitConns(t, readPackets(t, g.files["lossy.pcap"]))[0]
	if _, hole := lossy.stream(t, ServerToClient); !hole {
		t.Error("lossy.pcap has no gap")
	}
}

func TestTshark(t *testing.T) {
	tshark, err := lookTshark()
	if err != nil {
		t.Skip("tshark not installed")
	}
	g := catalog(t)
	dir := t.TempDir()
	// tshark takes most of a second to start: a few files, in parallel.
	cases := []struct {
		name   string
		types  []string // each must appear among the handshake types, in this order
		alerts []string // alert descriptions, in order
	}{
		{"tls12-ticket-resumed.pcap", []string{"1", "2,11,12,14", "16", "4", "1", "2,4"}, nil},
		{"tls12-sessionid-resumed.pcap", []string{"1", "2,11,12,14", "16", "1", "2"}, nil},
		{"tls13-full.pcapng", []string{"1", "2"}, nil},
		{"mtls.pcap", []string{"1", "2,11,12,13,14", "11,16,15"}, nil},
		{"fail-clientcert-required.pcap", []string{"1", "2,11,12,13,14", "11,16"}, []string{"40"}},
		{"fail-cipher.pcap", []string{"1"}, []string{"40"}},
		{"handshake-split.pcap", []string{"1", "2,11,12,14", "16"}, nil},
		{"sll.pcap", []string{"1", "2"}, nil},
		{"starttls-smtp.pcap", []string{"1", "2"}, nil},
		{"tls12-ticket-impaired.pcap", []string{"1", "2,11,12,14", "16", "4"}, nil},
		// untrusted 42, version 70, expired 42, alpn 120 (mTLS and RST carry none in clear)
		{"multi.pcap", []string{"1"}, []string{"42", "42", "70", "120"}},
		{"nontls.pcap", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, g.files[c.name], 0o644); err != nil {
				t.Fatal(err)
			}
			out := runTshark(t, tshark, path, "tls.handshake.type", "tls.alert_message.desc")
			var types, alerts []string
			lines := 0
			for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
				if l == "" {
					continue
				}
				lines++
				ty, al, _ := strings.Cut(l, "\t")
				if ty != "" {
					types = append(types, ty)
				}
				if al != "" {
					alerts = append(alerts, al)
				}
			}
			if c.types == nil && lines > 0 {
				t.Fatalf("tshark sees TLS: %q", out)
			}
			i := 0
			for _, ty := range types {
				if i < len(c.types) && ty == c.types[i] {
					i++
				}
			}
			if i < len(c.types) {
				t.Errorf("handshake types %q, want %q in order", types, c.types)
			}
			if !slices.Equal(alerts, c.alerts) {
				t.Errorf("alerts %q, want %q", alerts, c.alerts)
			}
		})
	}
}

// Segmenter: a small conversation becomes exactly these packets.
func TestSegmenter(t *testing.T) {
	c := &Conn{Seed: 1, MSS: 10}
	var got []string
	s := newSegmenter(c, DefaultStart(), func(p Packet) {
		got = append(got, fmt.Sprintf("%v %s %d", p.From, flagString(p.Flags), len(p.Payload)))
	})
	s.handshake()
	for _, ev := range []Event{
		{Kind: EventData, From: ClientToServer, Data: make([]byte, 25)},
		{Kind: EventData, From: ServerToClient, Data: make([]byte, 5)},
		{Kind: EventFIN, From: ClientToServer},
		{Kind: EventFIN, From: ServerToClient},
	} {
		s.event(ev)
	}
	s.finish()
	want := []string{
		"client S 0", "server SA 0", "client A 0",
		"client A 10", "client A 10", "server A 0", "client AP 5",
		"server AP 5", "client FA 0", "server FA 0", "client A 0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// A reset ends everything; nothing is acknowledged after it.
	got = nil
	s = newSegmenter(c, DefaultStart(), func(p Packet) { got = append(got, flagString(p.Flags)) })
	s.event(Event{Kind: EventRST, From: ClientToServer})
	s.event(Event{Kind: EventData, From: ServerToClient, Data: []byte{1}})
	s.finish()
	if !slices.Equal(got, []string{"RA"}) {
		t.Errorf("after RST: %q", got)
	}
}

func flagString(f uint8) string {
	var b strings.Builder
	for _, x := range []struct {
		f uint8
		c byte
	}{{FlagFIN, 'F'}, {FlagSYN, 'S'}, {FlagRST, 'R'}, {FlagACK, 'A'}, {FlagPSH, 'P'}} {
		if f&x.f != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

func TestWire(t *testing.T) {
	t.Run("deadlock", func(t *testing.T) {
		var cerr, serr error
		w := newWire(1<<10, func(Event) {})
		w.run(func(c netConn) { _, cerr = c.Read(make([]byte, 1)) }, func(c netConn) { _, serr = c.Read(make([]byte, 1)) })
		if !errors.Is(serr, errDeadlock) && !errors.Is(cerr, errDeadlock) {
			t.Errorf("client %v, server %v: want a deadlock error", cerr, serr)
		}
	})
	t.Run("order and eof", func(t *testing.T) {
		var log []string
		w := newWire(1<<10, func(ev Event) { log = append(log, fmt.Sprintf("%v %v %s", ev.From, ev.Kind, ev.Data)) })
		var got []byte
		var rerr error
		w.run(func(c netConn) {
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
			buf := make([]byte, 1)
			_, _ = io.ReadFull(c, buf)
			_, _ = c.Write([]byte("c"))
		}, func(c netConn) {
			buf := make([]byte, 2)
			_, _ = io.ReadFull(c, buf)
			got = append(got, buf...)
			_, _ = c.Write([]byte("x"))
			rest, err := io.ReadAll(c)
			got, rerr = append(got, rest...), err
		})
		want := []string{"client data a", "client data b", "server data x", "client data c", "client fin ", "server fin "}
		if !slices.Equal(log, want) || string(got) != "abc" || rerr != nil {
			t.Errorf("log %q got %q err %v", log, got, rerr)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		// A writer far ahead of its reader gives the reader the turn.
		maxBuffered := 0
		var w *wire
		w = newWire(1000, func(ev Event) { maxBuffered = max(maxBuffered, len(w.in[ServerToClient])) })
		w.run(func(c netConn) {
			for range 100 {
				_, _ = c.Write(make([]byte, 300))
			}
		}, func(c netConn) { _, _ = io.Copy(io.Discard, c) })
		if maxBuffered > 1300 {
			t.Errorf("server had %d bytes buffered", maxBuffered)
		}
	})
	t.Run("reset", func(t *testing.T) {
		var kinds []EventKind
		var serr error
		w := newWire(1<<10, func(ev Event) { kinds = append(kinds, ev.Kind) })
		w.run(func(c netConn) { c.(*endpoint).Reset() }, func(c netConn) { _, serr = c.Read(make([]byte, 1)) })
		if !slices.Equal(kinds, []EventKind{EventRST}) || serr == nil {
			t.Errorf("events %v, server error %v", kinds, serr)
		}
	})
}

func TestFragmentHandshake(t *testing.T) {
	hs := appendRecord(nil, recordHandshake, 0x0303, bytes.Repeat([]byte{7}, 250))
	hs = appendRecord(hs, recordHandshake, 0x0303, bytes.Repeat([]byte{8}, 30))
	ccs := appendRecord(nil, recordChangeCipherSpec, 0x0303, []byte{1})
	fin := appendRecord(nil, recordHandshake, 0x0303, bytes.Repeat([]byte{9}, 40))
	f := FragmentHandshake(100)
	out := f(ClientToServer, append(append(slices.Clone(hs), ccs...), fin...))
	recs, ok := parseRecords(out)
	if !ok {
		t.Fatal("output is not whole records")
	}
	var sizes []int
	for _, r := range recs {
		sizes = append(sizes, len(r.body))
	}
	// 280 handshake bytes in records of 100; CCS; the protected record untouched.
	if !slices.Equal(sizes, []int{100, 100, 80, 1, 40}) {
		t.Errorf("record sizes %v", sizes)
	}
	if got := f(ClientToServer, hs); !bytes.Equal(got, hs) {
		t.Error("records after the CCS were re-framed")
	}
	if got := f(ServerToClient, hs); bytes.Equal(got, hs) {
		t.Error("the other direction was not re-framed")
	}
}

func TestSessionIDScript(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 32)
	evs, err := SessionIDResumption(1, ServerName, id, 0xc02b)
	if err != nil {
		t.Fatal(err)
	}
	var types []uint8
	for _, ev := range evs {
		recs, ok := parseRecords(ev.Data)
		if !ok {
			t.Fatalf("event %v %v is not whole records", ev.From, ev.Kind)
		}
		for _, r := range recs {
			types = append(types, r.typ)
		}
	}
	if !slices.Equal(types, []uint8{22, 22, 20, 22, 20, 22, 23, 23, 21, 21}) {
		t.Errorf("record types %v", types)
	}
	sh, _ := parseRecords(evs[1].Data)
	if body := sh[0].body; body[0] != 2 || body[38] != 32 || !bytes.Equal(body[39:71], id) {
		t.Error("ServerHello does not echo the session id")
	}
}

func TestSetServerSessionID(t *testing.T) {
	g := catalog(t)
	c := splitConns(t, readPackets(t, g.files["tls12-sessionid-resumed.pcap"]))
	s0, _ := c[0].stream(t, ServerToClient)
	c0, _ := c[1].stream(t, ClientToServer)
	recs, ok := parseRecords(s0[:5+int(binary.BigEndian.Uint16(s0[3:5]))])
	if !ok || recs[0].body[0] != 2 || recs[0].body[38] != 32 {
		t.Fatal("first ServerHello carries no session id")
	}
	sid := recs[0].body[39:71]
	if !bytes.Contains(c0, sid) {
		t.Error("second ClientHello does not offer the first connection's session id")
	}
}

// FuzzFragmentHandshake: whatever the input, re-framing never panics, and
// when the input is whole records the handshake bytes and the other records
// survive unchanged.
func FuzzFragmentHandshake(f *testing.F) {
	f.Add(appendRecord(appendRecord(nil, 22, 0x0303, make([]byte, 300)), 20, 0x0303, []byte{1}), 64)
	f.Add([]byte{22, 3, 3, 0, 10, 1}, 1)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 1<<14 {
			return
		}
		out := FragmentHandshake(max)(ClientToServer, b)
		in, ok := parseRecords(b)
		if !ok {
			if !bytes.Equal(out, b) {
				t.Fatal("malformed input was changed")
			}
			return
		}
		got, ok := parseRecords(out)
		if !ok {
			t.Fatal("output is not whole records")
		}
		flat := func(rs []record) (hs []byte, other []byte) {
			for _, r := range rs {
				if r.typ == recordHandshake {
					hs = append(hs, r.body...)
				} else {
					other = append(other, r.typ)
					other = append(other, r.body...)
				}
			}
			return
		}
		h1, o1 := flat(in)
		h2, o2 := flat(got)
		if !bytes.Equal(h1, h2) || !bytes.Equal(o1, o2) {
			t.Fatal("content changed")
		}
	})
}

// FuzzSegmenter: any conversation becomes packets whose sequence numbers
// are continuous per direction and whose payloads rebuild the streams.
func FuzzSegmenter(f *testing.F) {
	f.Add([]byte{0, 200, 1, 10, 0, 0, 2, 0}, uint16(100), uint64(0), uint8(0))
	f.Add([]byte{1, 5, 0, 3, 4, 0}, uint16(1), uint64(3), uint8(0x55))
	f.Add([]byte{0, 250, 0, 250, 1, 200, 1, 90, 0, 7}, uint16(60), uint64(9), uint8(0xff))
	f.Fuzz(func(t *testing.T, script []byte, mss uint16, seed uint64, counts uint8) {
		if mss == 0 || len(script) > 4096 {
			return
		}
		// Keep each input to a bounded number of packets: 500 kB at an
		// MSS of 1 is half a million segments and a minute of work that
		// finds nothing new (the fuzzer reported it as a hang).
		total := 0
		for i := 1; i < len(script); i += 2 {
			total += int(script[i])
		}
		if total/int(mss) > 20000 {
			return
		}
		c := &Conn{Seed: 7, MSS: int(mss)}
		var pkts []Packet
		s := newSegmenter(c, DefaultStart(), func(p Packet) { pkts = append(pkts, p) })
		s.handshake()
		var want [2][]byte
		var closed [2]bool
		for len(script) >= 2 {
			d, n := Dir(script[0]&1), int(script[1])
			kind := script[0] >> 1 % 3
			script = script[2:]
			if closed[d] || s.rst {
				continue
			}
			switch kind {
			case 0:
				if n == 0 {
					continue
				}
				b := bytes.Repeat([]byte{byte(n)}, n)
				want[d] = append(want[d], b...)
				s.event(Event{Kind: EventData, From: d, Data: b})
			case 1:
				closed[d] = true
				s.event(Event{Kind: EventFIN, From: d})
			case 2:
				s.event(Event{Kind: EventRST, From: d})
			}
		}
		s.finish()
		var got [2][]byte
		var next [2]uint32
		for i, p := range pkts {
			if i > 1 && p.Seq != next[p.From] {
				t.Fatalf("packet %d: seq %d want %d", i, p.Seq, next[p.From])
			}
			if len(p.Payload) > int(mss) {
				t.Fatalf("packet %d: %d bytes over MSS", i, len(p.Payload))
			}
			got[p.From] = append(got[p.From], p.Payload...)
			next[p.From] = p.Seq + uint32(len(p.Payload))
			if p.Flags&(FlagSYN|FlagFIN) != 0 {
				next[p.From]++
			}
		}
		for d := range 2 {
			if !bytes.Equal(got[d], want[d]) {
				t.Fatalf("%v: stream differs", Dir(d))
			}
		}
		// Impairments other than Gap keep both streams intact.
		im := Impairment{Seed: seed, Reorder: int(counts & 3), Duplicate: int(counts >> 2 & 3),
			Overlap: int(counts >> 4 & 3), Retransmit: int(counts >> 6)}
		imp := im.apply(slices.Clone(pkts), Timing{}.withDefaults())
		for d := range 2 {
			isn := pkts[d].Seq + 1 // SYN, SYN-ACK
			b := make([]byte, len(want[d]))
			have := make([]bool, len(want[d]))
			for i, p := range imp {
				if i > 0 && p.Time.Before(imp[i-1].Time) {
					t.Fatalf("impaired packet %d: time runs backwards", i)
				}
				if int(p.From) != d || p.Flags&FlagSYN != 0 {
					continue
				}
				off := int(p.Seq - isn)
				for j, x := range p.Payload {
					if have[off+j] && b[off+j] != x {
						t.Fatalf("%v: overlap with other bytes at %d", Dir(d), off+j)
					}
					b[off+j], have[off+j] = x, true
				}
			}
			if !bytes.Equal(b, want[d]) || slices.Contains(have, false) {
				t.Fatalf("%v: impaired stream differs", Dir(d))
			}
		}
	})
}

func BenchmarkBulk(b *testing.B) {
	if !CustomRandEnabled() {
		b.Fatal("cryptocustomrand=1 not in effect")
	}
	k, err := NewCatalog(DefaultSeed, DefaultStart())
	if err != nil {
		b.Fatal(err)
	}
	const total = 8 << 20
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.BenchBulk(io.Discard, FormatPcap, total, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandshakes(b *testing.B) {
	k, err := NewCatalog(DefaultSeed, DefaultStart())
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	b.ReportAllocs()
	var st BenchStats
	for b.Loop() {
		if st, err = k.BenchHandshakes(io.Discard, FormatPcap, n, time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(st.Bytes))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/conn")
}

// BenchmarkPacketWriter: laying out one full-size packet.
func BenchmarkPacketWriter(b *testing.B) {
	pw, err := NewPacketWriter(io.Discard, FormatPcap, LinkEthernet)
	if err != nil {
		b.Fatal(err)
	}
	p := Packet{Time: DefaultStart(), Flags: FlagACK, Payload: make([]byte, 1460)}
	cl, sv := v4Client(0), v4Server(443)
	b.SetBytes(1460)
	b.ReportAllocs()
	for b.Loop() {
		if err := pw.Write(cl, sv, &p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPacketWriterAllocs(t *testing.T) {
	pw, err := NewPacketWriter(io.Discard, FormatPcap, LinkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	p := Packet{Time: DefaultStart(), Flags: FlagACK, Payload: make([]byte, 1460)}
	cl, sv := v4Client(0), v4Server(443)
	allocs := testing.AllocsPerRun(200, func() { _ = pw.Write(cl, sv, &p) })
	// gopacket's serialisation allocates a little per layer; keep it small.
	if allocs > 8 {
		t.Errorf("%.0f allocations per packet", allocs)
	}
}

// TestBenchCaptures: the benchmark generators write well-formed,
// overlapping connections with continuous sequence numbers.
func TestBenchCaptures(t *testing.T) {
	_ = catalog(t) // checks cryptocustomrand
	k, err := NewCatalog(DefaultSeed, DefaultStart())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := k.BenchHandshakes(&buf, FormatPcapng, 60, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	pkts := readPackets(t, buf.Bytes())
	conns := splitConns(t, pkts)
	if len(conns) != 60 || st.Conns != 60 || uint64(len(pkts)) != st.Packets {
		t.Fatalf("%d connections, %d packets; stats %+v", len(conns), len(pkts), st)
	}
	for i := 1; i < len(pkts); i++ {
		if pkts[i].ts.Before(pkts[i-1].ts) {
			t.Fatalf("packet %d: time runs backwards", i)
		}
	}
	overlap := false
	for i, c := range conns {
		c.checkSequence(t, 1460)
		if i > 0 && c.pkts[0].ts.Before(conns[i-1].pkts[len(conns[i-1].pkts)-1].ts) {
			overlap = true
		}
	}
	if !overlap {
		t.Error("no two connections overlap in time")
	}
	buf.Reset()
	const total = 300 << 10
	st, err = k.BenchBulk(&buf, FormatPcap, total, 2)
	if err != nil {
		t.Fatal(err)
	}
	conns = splitConns(t, readPackets(t, buf.Bytes()))
	if len(conns) != 2 {
		t.Fatalf("%d bulk connections", len(conns))
	}
	for _, c := range conns {
		c.checkSequence(t, 1460)
		if down, _ := c.stream(t, ServerToClient); len(down) < total/2 {
			t.Errorf("bulk connection carried %d bytes down", len(down))
		}
	}
}

// FuzzWire: whatever two sides do (write, read, close, reset), the run
// ends, the log holds exactly what each side wrote, and each side read a
// prefix of what the other wrote.
func FuzzWire(f *testing.F) {
	f.Add([]byte{0, 5, 1, 3, 2, 0}, []byte{1, 5, 0, 3, 1, 9})
	f.Add([]byte{1, 1}, []byte{1, 1})
	f.Add([]byte{0, 200, 0, 200, 3, 0}, []byte{1, 255, 1, 255})
	f.Fuzz(func(t *testing.T, cs, ss []byte) {
		var logged, wrote, read [2][]byte
		w := newWire(300, func(ev Event) { logged[ev.From] = append(logged[ev.From], ev.Data...) })
		side := func(d Dir, ops []byte) func(netConn) {
			return func(c netConn) {
				for len(ops) >= 2 {
					kind, n := ops[0]%4, int(ops[1])
					ops = ops[2:]
					var err error
					switch kind {
					case 0:
						b := bytes.Repeat([]byte{byte(len(wrote[d]))}, n)
						var k int
						k, err = c.Write(b)
						wrote[d] = append(wrote[d], b[:k]...)
					case 1:
						b := make([]byte, n)
						var k int
						k, err = io.ReadFull(c, b)
						read[d] = append(read[d], b[:k]...)
					case 2:
						err = c.Close()
					case 3:
						c.(*endpoint).Reset()
					}
					if err != nil {
						return
					}
				}
			}
		}
		w.run(side(ClientToServer, cs), side(ServerToClient, ss))
		for d := range 2 {
			if !bytes.Equal(logged[d], wrote[d]) {
				t.Fatalf("%v: logged %d bytes, wrote %d", Dir(d), len(logged[d]), len(wrote[d]))
			}
			if !bytes.HasPrefix(wrote[1-d], read[d]) {
				t.Fatalf("%v read bytes the peer did not write", Dir(d))
			}
		}
	})
}
