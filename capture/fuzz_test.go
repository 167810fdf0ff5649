package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// fuzzLinkTypes are the link types FuzzDecodePacket picks from with its
// first byte; 105 is unsupported. New ones go at the end, so that the
// corpus keeps its meaning.
var fuzzLinkTypes = [...]LinkType{
	LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeIPv4,
	LinkTypeIPv6, LinkTypeNull, LinkTypeLoop, 105,
	LinkTypePPP, LinkTypePPPHDLC, LinkTypePPPoE, LinkTypeCHDLC, LinkTypeRawDLT12, LinkTypeRawDLT14,
}

func fuzzLinkIndex(lt LinkType) byte {
	for i, l := range fuzzLinkTypes {
		if l == lt {
			return byte(i)
		}
	}
	panic("link type not in fuzzLinkTypes")
}

// FuzzDecodePacket decodes arbitrary frames of every link type, as Next
// does (no datagram wanted) and as NextPacket does. Input: link type
// index(1) snap-cut flag(1) frame. A fragment's reassembler persists
// across the frames of one input, split at "\xff\xfe\xfd\xfc".
//
// Invariants: no panic; a payload lies within its frame unless it was
// reassembled, and is never longer than an IP datagram; Truncated is set
// only on frames the snap length cut; and on single-frame inputs (where
// the two reassemblers cannot diverge) both ways agree: the same verdict,
// reason and segment, except that what Next skips as UDP, NextPacket
// decodes.
func FuzzDecodePacket(f *testing.F) {
	for _, lt := range fuzzLinkTypes[:8] {
		for _, v6 := range []bool{false, true} {
			if (lt == LinkTypeIPv4 && v6) || (lt == LinkTypeIPv6 && !v6) {
				continue
			}
			spec := defaultSpec(v6, "seed payload")
			f.Add(append([]byte{fuzzLinkIndex(lt), 0}, frameFor(f, lt, "", spec.ip(f))...))
		}
	}
	v6 := defaultSpec(true, "ext")
	v6.v6ext, v6.v6extFirst = bytes.Join([][]byte{extHeader(ipProtoRouting, 1), extHeader(ipProtoTCP, 1)}, nil), ipProtoHopByHop
	f.Add(append([]byte{fuzzLinkIndex(LinkTypeEthernet), 1}, frameFor(f, LinkTypeEthernet, "qinq", v6.ip(f))...))
	gtp := append([]byte{0x32, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0}, defaultSpec(false, "gtp").ip(f)...)
	f.Add(append([]byte{fuzzLinkIndex(LinkTypeEthernet), 0}, outerUDP(f, 2152, 2152, gtp)...))
	f.Add(append([]byte{fuzzLinkIndex(LinkTypeEthernet), 0}, outerIP(f, false, 47, append([]byte{0x30, 0, 0x86, 0xdd, 0, 0, 0, 1, 0, 0, 0, 2}, v6.ip(f)...))...))
	frag := defaultSpec(false, "0123456789abcdef0123456789abcdef")
	tr := frag.transport(f)
	two := append(append([]byte{fuzzLinkIndex(LinkTypeRaw), 0}, frag.v4Fragment(f, 0, true, tr[:24])...), 0xff, 0xfe, 0xfd, 0xfc)
	two = append(append(two, fuzzLinkIndex(LinkTypeRaw), 0), frag.v4Fragment(f, 24, false, tr[24:])...)
	f.Add(two)
	// Every encapsulation of TestEncapsulations, TCP and UDP inside.
	for _, ec := range encapCases() {
		for _, in := range inners(f) {
			if (ec.only == "v4" && in.v6) || (ec.only == "v6" && !in.v6) {
				continue
			}
			f.Add(append([]byte{fuzzLinkIndex(ec.lt), 0}, ec.build(f, in)...))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var stT, stU Stats
		dt := decoder{stats: &stT, frag: newReassembler(64<<10, time.Second, &stT)}
		du := decoder{stats: &stU, frag: newReassembler(64<<10, time.Second, &stU)}
		frames := bytes.Split(in, []byte{0xff, 0xfe, 0xfd, 0xfc})
		for i, frame := range frames {
			if len(frame) < 2 {
				continue
			}
			lt := fuzzLinkTypes[int(frame[0])%len(fuzzLinkTypes)]
			data := frame[2:]
			wire := len(data)
			if frame[1]&1 != 0 {
				wire += 1000
			}
			ts := t0.Add(time.Duration(i) * time.Millisecond)
			var seg, useg packet.Segment
			var dg packet.Datagram
			vt := dt.decode(lt, data, wire, ts, &seg, nil)
			vu := du.decode(lt, data, wire, ts, &useg, &dg)
			for _, c := range []struct {
				v           verdict
				d           *decoder
				payload     []byte
				truncated   int
				segOrDg     bool
				description string
			}{
				{vt, &dt, seg.Payload, seg.Truncated, vt == vSegment, "Next segment"},
				{vu, &du, useg.Payload, useg.Truncated, vu == vSegment, "NextPacket segment"},
				{vu, &du, dg.Payload, dg.Truncated, vu == vDatagram, "NextPacket datagram"},
			} {
				if !c.segOrDg {
					continue
				}
				if len(c.payload) > maxDatagram || c.truncated < 0 || c.truncated > 1<<16 {
					t.Fatalf("%s with %d payload bytes, %d truncated", c.description, len(c.payload), c.truncated)
				}
				if wire == len(data) && c.truncated != 0 {
					t.Fatalf("%s: Truncated set on a frame captured whole", c.description)
				}
				if !c.d.reassembled && !within(data, c.payload) {
					t.Fatalf("%s: payload outside the frame", c.description)
				}
			}
			if vt == vSkip && vt == vu && dt.reason == SkipUDP {
				t.Fatal("NextPacket skipped a packet as UDP")
			}
			if len(frames) == 1 {
				switch {
				case vt == vSkip && dt.reason == SkipUDP:
					if vu != vDatagram && vu != vHeld && vu != vBad {
						t.Fatalf("Next skipped UDP, NextPacket said %v", vu)
					}
				case vt != vu:
					t.Fatalf("Next: %v, NextPacket: %v", vt, vu)
				case vt == vSkip && dt.reason != du.reason:
					t.Fatalf("skipped for %v by Next, %v by NextPacket", dt.reason, du.reason)
				case vt == vSegment && (seg.Seq != useg.Seq || seg.Src != useg.Src || seg.Dst != useg.Dst ||
					!bytes.Equal(seg.Payload, useg.Payload) || seg.Truncated != useg.Truncated):
					t.Fatal("Next and NextPacket decoded different segments")
				}
			}
			if vt == vSkip && dt.reason >= NumSkipReasons || vu == vSkip && du.reason >= NumSkipReasons {
				t.Fatal("skip reason out of range")
			}
			checkReassembler(t, &dt.frag)
			checkReassembler(t, &du.frag)
		}
	})
}

// within reports whether p lies inside frame (an empty p anywhere).
func within(frame, p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if cap(p) > cap(frame) {
		return false
	}
	off := cap(frame) - cap(p)
	return off+len(p) <= len(frame) && &frame[:cap(frame)][off] == &p[0]
}

// FuzzOpenReader reads arbitrary files: errors are fine, panics and
// unbounded memory are not.
func FuzzOpenReader(f *testing.F) {
	spec := defaultSpec(false, "fuzz")
	frame := frameFor(f, LinkTypeEthernet, "vlan", spec.ip(f))
	pc := pcapBytes(LinkTypeEthernet, pcapOpts{}, rec{ts: t0, data: frame}, rec{ts: t0, data: frame[:40], wireLen: len(frame)})
	f.Add(pc)
	f.Add(pcapBytes(LinkTypeLinuxSLL2, pcapOpts{bigEndian: true, nanos: true}, rec{ts: t0, data: frameFor(f, LinkTypeLinuxSLL2, "", spec.ip(f))}))
	f.Add(pcapngBytes(false, []ngIface{{lt: LinkTypeEthernet, tsres: 9}, {lt: LinkTypeRaw, tsres: 0x80 | 30, offset: 5}},
		rec{ts: t0, data: frame}, rec{ts: t0, data: spec.ip(f), iface: 1}))
	f.Add(pcapngBytes(true, []ngIface{{lt: LinkTypeNull, tsres: -1}}, rec{ts: t0, data: frameFor(f, LinkTypeNull, "", spec.ip(f))}))
	f.Add(pc[:len(pc)-5])
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(pc)
	zw.Close()
	f.Add(z.Bytes())
	// A Simple Packet Block and an obsolete Packet Block.
	bo := binary.LittleEndian
	ng := append(ngSHB(bo), ngIDB(bo, ngIface{lt: LinkTypeEthernet, tsres: -1})...)
	ng = append(ng, ngBlock(bo, pcapngSimplePacket, append(bo.AppendUint32(nil, uint32(len(frame))), frame...))...)
	pb := bo.AppendUint16(nil, 0)
	pb = bo.AppendUint16(pb, 0)
	pb = bo.AppendUint32(pb, 0)
	pb = bo.AppendUint32(pb, 1)
	pb = bo.AppendUint32(pb, uint32(len(frame)))
	pb = bo.AppendUint32(pb, uint32(len(frame)))
	ng = append(ng, ngBlock(bo, pcapngPacketBlock, append(pb, frame...))...)
	f.Add(ng)
	// Decryption Secrets Blocks, and UDP datagrams.
	dsb := append(ngSHB(bo), ngDSB(bo, pcapngSecretsTLS, 40, keyLog(1, "fuzz")[:40])...)
	dsb = append(dsb, ngIDB(bo, ngIface{lt: LinkTypeRaw, tsres: -1})...)
	udp, _ := udpPacket(f, spec.src, spec.dst, []byte("datagram"))
	dsb = append(dsb, ngEPB(bo, ngIface{lt: LinkTypeRaw, tsres: -1}, rec{ts: t0, data: udp})...)
	f.Add(append(dsb, ngDSB(bo, pcapngSecretsTLS, 9, []byte("truncated"))...))
	f.Fuzz(func(t *testing.T, file []byte) {
		s, err := openReader(bytes.NewReader(file), "fuzz", Options{MaxFragmentBytes: 64 << 10})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return
		}
		plain, plainErr := readSegments(t, s, false)
		if s.Offset() > int64(len(file)) && !s.file.gz {
			t.Fatalf("Offset %d beyond the %d-byte file", s.Offset(), len(file))
		}
		checkReassembler(t, &s.dec.frag)

		// Retained, in tiny chunks: the same segments, and every payload
		// still intact at the end although none was copied.
		r, err := openReader(bytes.NewReader(file), "fuzz", Options{MaxFragmentBytes: 64 << 10, chunk: 64})
		if err != nil {
			t.Fatalf("opened once, not twice: %v", err)
		}
		r.Retain()
		kept, keptErr := readSegments(t, r, true)
		if plainErr != keptErr || len(kept) != len(plain) {
			t.Fatalf("retained read: %d segments, %q; plain: %d, %q", len(kept), keptErr, len(plain), plainErr)
		}
		for i := range kept {
			if !bytes.Equal(kept[i].payload, plain[i].payload) || kept[i].seg.Seq != plain[i].seg.Seq {
				t.Fatalf("segment %d differs when retained", i)
			}
		}

		// NextPacket: its segments are Next's, unless fragments were
		// about (UDP fragments share the reassembly budget), and its
		// frame numbers rise.
		u, err := openReader(bytes.NewReader(file), "fuzz", Options{MaxFragmentBytes: 64 << 10})
		if err != nil {
			t.Fatalf("opened once, not three times: %v", err)
		}
		var segs []readSeg
		var frame uint64
		var packetErr string
		complete := false
		for range 10000 {
			var p packet.Packet
			err := u.NextPacket(&p)
			if err != nil {
				if err != io.EOF {
					packetErr = err.Error()
				}
				complete = true
				break
			}
			if p.Frame <= frame || p.Frame > u.Stats().Packets {
				t.Fatalf("frame %d after %d, of %d packets", p.Frame, frame, u.Stats().Packets)
			}
			frame = p.Frame
			switch p.Transport {
			case packet.TCP:
				segs = append(segs, readSeg{seg: p.Segment, payload: bytes.Clone(p.Segment.Payload)})
			case packet.UDP:
				if len(p.Datagram.Payload) > maxDatagram || p.Datagram.Truncated < 0 {
					t.Fatalf("datagram of %d bytes, %d truncated", len(p.Datagram.Payload), p.Datagram.Truncated)
				}
			default:
				t.Fatalf("transport %v", p.Transport)
			}
		}
		st := u.Stats()
		total := 0
		for _, b := range u.Secrets() {
			total += len(b)
		}
		if total > maxSecretsBytes || uint64(len(u.Secrets())) != st.Secrets {
			t.Fatalf("%d secrets of %d bytes, Stats.Secrets %d", len(u.Secrets()), total, st.Secrets)
		}
		var skipped uint64
		for _, n := range st.Skipped {
			skipped += n
		}
		if skipped != st.NonTCP || st.Skipped[SkipUDP] != 0 {
			t.Fatalf("NonTCP %d, Skipped %v", st.NonTCP, st.Skipped)
		}
		if st.Fragments == 0 && complete && len(plain) < 10000 {
			if packetErr != plainErr || len(segs) != len(plain) {
				t.Fatalf("NextPacket: %d segments, %q; Next: %d, %q", len(segs), packetErr, len(plain), plainErr)
			}
			for i := range segs {
				if !bytes.Equal(segs[i].payload, plain[i].payload) || segs[i].seg.Seq != plain[i].seg.Seq {
					t.Fatalf("segment %d differs between Next and NextPacket", i)
				}
			}
		}
	})
}

// readSegments reads up to 10,000 segments; payloads are copied unless
// retained (and then only those Retained does not vouch for).
func readSegments(t *testing.T, s *Source, retained bool) ([]readSeg, string) {
	var out []readSeg
	for range 10000 {
		var seg packet.Segment
		err := s.Next(&seg)
		if err == io.EOF {
			return out, ""
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			return out, err.Error()
		}
		p := seg.Payload
		if !retained || !s.Retained() {
			p = bytes.Clone(p)
		}
		out = append(out, readSeg{seg: seg, payload: p})
	}
	return out, "10000 segments"
}
