package fingerprint

// Conformance against the expected outputs of the FoxIO JA4 test suite,
// read in place from the directory TLSDISSECT_CONFORMANCE points at (its
// ja4/ folder). The test reads each capture with gopacket (test-only import:
// the package itself stays free of it), follows every TCP direction from the
// first segment that starts a TLS handshake record, joins the handshake
// records, and fingerprints each ClientHello, ServerHello and TLS 1.2
// Certificate it finds. The hello parser here is deliberately minimal and
// independent of package dissect's, so this test checks the fingerprints and
// nothing else.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// spec decisions: where the reference implementations disagree with each
// other, the published specification decides. Each entry names a capture,
// the client endpoint, the field, and the value the specification gives.
// (Filled from the runs reported in the package's commit history.)
var specDecisions = map[string]string{}

type connKey struct {
	cli, srv string // "ip:port"
}

func (k connKey) String() string { return k.cli + " -> " + k.srv }

type observed struct {
	ja4, ja4s, ja4x []string
	ja4r, ja4sr     []string
	ja3, ja3s       []string // "md5 raw"
	// pipeline lists where package dissect's parsers disagree with the
	// wire reading here (a hello refused, or different lists).
	pipeline []string
	tls13    bool // the server chose TLS 1.3
}

type refs struct {
	name string // "python", "rust", "wireshark"
	ja4  []string
	ja4s []string
	ja4x []string
}

func TestConformanceJA4(t *testing.T) {
	root := os.Getenv("TLSDISSECT_CONFORMANCE")
	if root == "" {
		t.Skip("TLSDISSECT_CONFORMANCE is not set; set it to the peer captures directory to run")
	}
	dir := filepath.Join(root, "ja4")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("TLSDISSECT_CONFORMANCE=%s: no ja4/ folder: %v", root, err)
	}
	pys, _ := filepath.Glob(filepath.Join(dir, "*.ja4-python.json"))
	if len(pys) == 0 {
		t.Fatalf("no *.ja4-python.json in %s", dir)
	}
	total, agreed, disagreements := 0, 0, 0
	for _, py := range pys {
		capName := strings.TrimSuffix(py, ".ja4-python.json")
		if _, err := os.Stat(capName); err != nil {
			t.Logf("%s: capture missing, skipped", filepath.Base(capName))
			continue
		}
		base := filepath.Base(capName)
		ours, frames, err := fingerprintCapture(capName)
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		all := map[connKey][]refs{}
		for k, r := range readPython(t, py) {
			all[k] = append(all[k], r)
		}
		for k, r := range readRust(t, capName+".ja4-rust.snap") {
			all[k] = append(all[k], r)
		}
		for k, r := range readWireshark(t, capName+".ja4-wireshark.json", frames) {
			all[k] = append(all[k], r)
		}
		keys := make([]connKey, 0, len(all))
		for k := range all {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			o, ok := ours[k]
			if !ok {
				// QUIC is not ours to follow; a TCP hello we missed is a failure.
				for _, r := range all[k] {
					if len(r.ja4) > 0 && r.ja4[0][0] == 't' || len(r.ja4s) > 0 && r.ja4s[0][0] == 't' {
						t.Errorf("%s %s: %s has TCP fingerprints, we found no hello", base, k, r.name)
						break
					}
				}
				continue
			}
			for _, p := range o.pipeline {
				t.Errorf("%s %s: %s", base, k, p)
			}
			for _, field := range []string{"ja4", "ja4s", "ja4x"} {
				var got []string
				switch field {
				case "ja4":
					got = o.ja4
				case "ja4s":
					got = o.ja4s
				case "ja4x":
					got = o.ja4x
				}
				var vals [][]string
				var names []string
				for _, r := range all[k] {
					var v []string
					switch field {
					case "ja4":
						v = r.ja4
					case "ja4s":
						v = r.ja4s
					case "ja4x":
						v = r.ja4x
					}
					if len(v) == 0 {
						continue
					}
					vals = append(vals, v)
					names = append(names, r.name)
				}
				if len(vals) == 0 {
					continue
				}
				if field == "ja4x" && o.tls13 && len(got) == 0 {
					// The chain is encrypted; the Python reference read it
					// with the capture's embedded key log.
					t.Logf("%s %s: TLS 1.3 certificates are encrypted, ja4x not compared", base, k)
					continue
				}
				total++
				// References agree when each lists a prefix of the longest
				// one: Rust keeps only the first ClientHello, Wireshark
				// reports the HelloRetryRequest as well as the ServerHello.
				want := vals[0]
				for _, v := range vals[1:] {
					if len(v) > len(want) {
						want = v
					}
				}
				agree := true
				for _, v := range vals {
					if !slices.Equal(v, want[:len(v)]) {
						agree = false
					}
				}
				id := base + " " + k.cli + " " + field
				if !agree {
					disagreements++
					var sb strings.Builder
					for i := range vals {
						fmt.Fprintf(&sb, "\n\t%-9s %s", names[i], strings.Join(vals[i], " "))
					}
					dec, ok := specDecisions[id]
					if !ok {
						t.Errorf("%s: references disagree and no spec decision recorded:%s\n\tours      %s", id, sb.String(), strings.Join(got, " "))
						continue
					}
					t.Logf("%s: references disagree:%s\n\tours      %s (spec: %s)", id, sb.String(), strings.Join(got, " "), dec)
					want = strings.Fields(dec)
				}
				// A reference may list fewer than the stream holds.
				if len(got) >= len(want) && slices.Equal(got[:len(want)], want) {
					agreed++
					continue
				}
				g := strings.Join(got, " ")
				r := ""
				if field == "ja4" {
					r = "\n\traw " + strings.Join(o.ja4r, " ")
				} else if field == "ja4s" {
					r = "\n\traw " + strings.Join(o.ja4sr, " ")
				}
				t.Errorf("%s: got %q, references (%s) say %q%s", id, g, strings.Join(names, ","), strings.Join(want, " "), r)
			}
		}
	}
	t.Logf("JA4 conformance: %d fingerprints compared, %d agree, %d with disagreeing references", total, agreed, disagreements)
	if total == 0 {
		t.Fatal("nothing compared")
	}
}

// ---------------------------------------------------------------- references

func readPython(t *testing.T, path string) map[connKey]refs {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[connKey]refs{}
	for _, r := range recs {
		str := func(k string) string { s, _ := r[k].(string); return s }
		k := connKey{hostPort(str("src"), str("srcport")), hostPort(str("dst"), str("dstport"))}
		ref := out[k]
		ref.name = "python"
		for i := 1; ; i++ {
			v := str("JA4." + strconv.Itoa(i))
			if v == "" {
				break
			}
			ref.ja4 = append(ref.ja4, v)
		}
		if v := str("JA4S"); v != "" {
			ref.ja4s = append(ref.ja4s, v)
		}
		for i := 1; ; i++ {
			v := str("JA4X." + strconv.Itoa(i))
			if v == "" {
				break
			}
			ref.ja4x = append(ref.ja4x, v)
		}
		if len(ref.ja4)+len(ref.ja4s)+len(ref.ja4x) > 0 {
			out[k] = ref
		}
	}
	return out
}

// readRust reads the insta YAML snapshot line by line: it is flat enough.
func readRust(t *testing.T, path string) map[connKey]refs {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Logf("%v (skipped)", err)
		return nil
	}
	defer f.Close()
	out := map[connKey]refs{}
	var cur refs
	var transport, src, dst, sp, dp string
	flush := func() {
		if transport == "tcp" && len(cur.ja4)+len(cur.ja4s)+len(cur.ja4x) > 0 {
			cur.name = "rust"
			out[connKey{hostPort(src, sp), hostPort(dst, dp)}] = cur
		}
		cur, transport, src, dst, sp, dp = refs{}, "", "", "", "", ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "- stream:") {
			flush()
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		val = strings.Trim(val, "'\"")
		switch key {
		case "transport":
			transport = val
		case "src":
			src = val
		case "dst":
			dst = val
		case "src_port":
			sp = val
		case "dst_port":
			dp = val
		case "ja4":
			cur.ja4 = append(cur.ja4, val)
		case "ja4s":
			cur.ja4s = append(cur.ja4s, val)
		case "- ja4x":
			cur.ja4x = append(cur.ja4x, val)
		}
	}
	flush()
	return out
}

// readWireshark attributes each frame's JA4S and JA4X to its connection by
// the frame numbers our own reading of the capture recorded.
func readWireshark(t *testing.T, path string, frames map[int]connKey) map[connKey]refs {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%v (skipped)", err)
		return nil
	}
	var recs []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[connKey]refs{}
	for _, r := range recs {
		l := r.Source.Layers
		if len(l["frame.number"]) == 0 {
			continue
		}
		n, _ := strconv.Atoi(l["frame.number"][0])
		k, ok := frames[n]
		if !ok {
			continue
		}
		ref := out[k]
		ref.name = "wireshark"
		ref.ja4s = append(ref.ja4s, l["ja4.ja4s"]...)
		ref.ja4x = append(ref.ja4x, l["ja4.ja4x"]...)
		if len(ref.ja4s)+len(ref.ja4x) > 0 {
			out[k] = ref
		}
	}
	return out
}

func hostPort(h, p string) string { return net.JoinHostPort(h, p) }

// ---------------------------------------------------------------- capture

type segment struct {
	seq     uint32
	payload []byte
	frame   int
}

type direction struct {
	src, dst string
	segs     []segment
}

// fingerprintCapture follows each TCP direction of a capture and
// fingerprints its hellos. frames maps each TCP frame number (1-based, as
// tshark counts) to its connection, client first.
func fingerprintCapture(path string) (map[connKey]*observed, map[int]connKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	linkOf := func(gopacket.CaptureInfo) layers.LinkType { return layers.LinkTypeEthernet }
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, nil, err
		}
		src = ng
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if intf, err := ng.Interface(ci.InterfaceIndex); err == nil {
				return intf.LinkType
			}
			return ng.LinkType()
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		src = r
		lt := r.LinkType()
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return lt }
	}
	dirs := map[string]*direction{}
	frameDir := map[int]string{}
	var order []string
	for frame := 1; ; frame++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("frame %d: %w", frame, err)
		}
		pkt := gopacket.NewPacket(data, linkOf(ci), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		nl := pkt.NetworkLayer()
		if tl == nil || nl == nil {
			continue
		}
		s := hostPort(nl.NetworkFlow().Src().String(), strconv.Itoa(int(tl.SrcPort)))
		d := hostPort(nl.NetworkFlow().Dst().String(), strconv.Itoa(int(tl.DstPort)))
		id := s + ">" + d
		frameDir[frame] = id
		dr := dirs[id]
		if dr == nil {
			dr = &direction{src: s, dst: d}
			dirs[id] = dr
			order = append(order, id)
		}
		if len(tl.Payload) > 0 {
			dr.segs = append(dr.segs, segment{seq: tl.Seq, payload: slices.Clone(tl.Payload), frame: frame})
		}
	}

	out := map[connKey]*observed{}
	frames := map[int]connKey{}
	roleOf := map[string]connKey{}
	for _, id := range order {
		dr := dirs[id]
		hs := handshakeBytes(dr.segs)
		if len(hs) == 0 {
			continue
		}
		for len(hs) >= 4 {
			typ := hs[0]
			n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if len(hs) < 4+n {
				break
			}
			body := hs[4 : 4+n]
			hs = hs[4+n:]
			switch typ {
			case 1:
				ch, ok := testParseClientHello(body)
				if !ok {
					continue
				}
				k := connKey{dr.src, dr.dst}
				o := obs(out, k)
				fp, raw := JA4(ch, 't')
				o.ja4 = append(o.ja4, fp)
				o.ja4r = append(o.ja4r, raw)
				h3, r3 := JA3(ch)
				o.ja3 = append(o.ja3, h3+" "+r3)
				// Package dissect's own parser must hand us the same lists.
				if dch, err := dissect.ParseClientHello(body); dch != nil {
					if dfp, _ := JA4(dch, 't'); dfp != fp {
						o.pipeline = append(o.pipeline, fmt.Sprintf("ClientHello: dissect gives %s, wire %s (%v)", dfp, fp, err))
					}
				} else {
					o.pipeline = append(o.pipeline, fmt.Sprintf("ClientHello: dissect: %v", err))
				}
				roleOf[id] = k
			case 2:
				sh, ok := testParseServerHello(body)
				if !ok {
					continue
				}
				k := connKey{dr.dst, dr.src}
				o := obs(out, k)
				fp, raw := JA4S(sh, 't')
				o.ja4s = append(o.ja4s, fp)
				o.ja4sr = append(o.ja4sr, raw)
				h3, r3 := JA3S(sh)
				o.ja3s = append(o.ja3s, h3+" "+r3)
				if dsh, err := dissect.ParseServerHello(body); dsh != nil {
					if dfp, _ := JA4S(dsh, 't'); dfp != fp {
						o.pipeline = append(o.pipeline, fmt.Sprintf("ServerHello: dissect gives %s, wire %s (%v)", dfp, fp, err))
					}
				} else {
					o.pipeline = append(o.pipeline, fmt.Sprintf("ServerHello: dissect: %v", err))
				}
				o.tls13 = o.tls13 || strings.HasPrefix(fp, "t13")
				roleOf[id] = k
			case 11:
				k := connKey{dr.dst, dr.src}
				o := obs(out, k)
				if len(o.ja4x) > 0 {
					continue // the server's chain only once
				}
				for _, der := range testCertChain(body) {
					o.ja4x = append(o.ja4x, JA4X(der))
				}
			}
		}
	}
	for frame, id := range frameDir {
		dr := dirs[id]
		if k, ok := roleOf[id]; ok {
			frames[frame] = k
		} else if k, ok := roleOf[dr.dst+">"+dr.src]; ok {
			frames[frame] = k
		}
	}
	return out, frames, nil
}

func obs(m map[connKey]*observed, k connKey) *observed {
	o := m[k]
	if o == nil {
		o = &observed{}
		m[k] = o
	}
	return o
}

// handshakeBytes returns the joined plaintext handshake messages of one
// direction: from the first segment that starts a TLS handshake record,
// in sequence order, up to the first hole; the handshake records up to the
// first application data record or the first record after a
// ChangeCipherSpec that is not a clear hello.
func handshakeBytes(segs []segment) []byte {
	start := -1
	for i, s := range segs {
		p := s.payload
		if len(p) >= 3 && p[0] == 22 && p[1] == 3 {
			start = i
			break
		}
	}
	if start < 0 {
		return nil
	}
	base := segs[start].seq
	type piece struct {
		off  int64
		data []byte
	}
	var ps []piece
	for _, s := range segs {
		off := int64(int32(s.seq - base))
		if off < 0 {
			continue
		}
		ps = append(ps, piece{off, s.payload})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].off < ps[j].off })
	var stream []byte
	for _, p := range ps {
		end := p.off + int64(len(p.data))
		if p.off > int64(len(stream)) {
			break // a hole
		}
		if end > int64(len(stream)) {
			stream = append(stream, p.data[int64(len(stream))-p.off:]...)
		}
		if len(stream) > 1<<20 {
			break
		}
	}
	var hs []byte
	afterCCS := false
	for len(stream) >= 5 {
		ct := stream[0]
		n := int(stream[3])<<8 | int(stream[4])
		if len(stream) < 5+n {
			break
		}
		frag := stream[5 : 5+n]
		stream = stream[5+n:]
		switch ct {
		case 20:
			afterCCS = true
		case 22:
			if afterCCS {
				// After a TLS 1.3 compatibility CCS a second ClientHello
				// (client) or the ServerHello after a HelloRetryRequest
				// (server) may still come in clear; anything else is
				// ciphertext.
				if len(frag) < 4 || (frag[0] != 1 && frag[0] != 2) || int(frag[1])<<16|int(frag[2])<<8|int(frag[3]) != len(frag)-4 {
					return hs
				}
				afterCCS = false
			}
			hs = append(hs, frag...)
		default:
			return hs
		}
	}
	return hs
}

// testParseClientHello reads what the fingerprints need (RFC 8446 4.1.2).
func testParseClientHello(body []byte) (*dissect.ClientHello, bool) {
	s := cryptobyte.String(body)
	ch := &dissect.ClientHello{}
	var v uint16
	var random, sid, suites, comp cryptobyte.String
	if !s.ReadUint16(&v) || !s.ReadBytes((*[]byte)(&random), 32) ||
		!s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) ||
		!s.ReadUint8LengthPrefixed(&comp) {
		return nil, false
	}
	ch.LegacyVersion = dissect.Version(v)
	for !suites.Empty() {
		var c uint16
		if !suites.ReadUint16(&c) {
			return nil, false
		}
		ch.CipherSuites = append(ch.CipherSuites, c)
	}
	// Keep the hello when its extensions block is malformed: the
	// references fingerprint what they could read.
	ch.Extensions, _ = testReadExtensions(&s)
	return ch, true
}

func testParseServerHello(body []byte) (*dissect.ServerHello, bool) {
	s := cryptobyte.String(body)
	sh := &dissect.ServerHello{}
	var v uint16
	var random, sid cryptobyte.String
	if !s.ReadUint16(&v) || !s.ReadBytes((*[]byte)(&random), 32) {
		return nil, false
	}
	sh.LegacyVersion = dissect.Version(v)
	if v>>8 == 0x7f {
		// TLS 1.3 drafts up to 21: no session id, no compression method.
		if !s.ReadUint16((*uint16)(&sh.CipherSuite)) {
			return nil, false
		}
	} else if !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16((*uint16)(&sh.CipherSuite)) || !s.ReadUint8(&sh.CompressionMethod) {
		return nil, false
	}
	sh.Extensions, _ = testReadExtensions(&s)
	return sh, true
}

func testReadExtensions(s *cryptobyte.String) ([]dissect.Extension, bool) {
	if s.Empty() {
		return nil, true
	}
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) {
		return nil, false
	}
	var out []dissect.Extension
	for !list.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !list.ReadUint16(&typ) || !list.ReadUint16LengthPrefixed(&data) {
			return out, false
		}
		out = append(out, dissect.Extension{Type: typ, Data: data})
	}
	return out, true
}

// testCertChain reads a TLS 1.2 Certificate body (RFC 5246 7.4.2).
func testCertChain(body []byte) [][]byte {
	s := cryptobyte.String(body)
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) {
		return nil
	}
	var out [][]byte
	for !list.Empty() {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			break
		}
		out = append(out, der)
	}
	return out
}
