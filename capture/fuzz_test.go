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
// first byte; the last one is unsupported.
var fuzzLinkTypes = [...]LinkType{
	LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2, LinkTypeRaw, LinkTypeIPv4,
	LinkTypeIPv6, LinkTypeNull, LinkTypeLoop, 105,
}

func fuzzLinkIndex(lt LinkType) byte {
	for i, l := range fuzzLinkTypes {
		if l == lt {
			return byte(i)
		}
	}
	panic("link type not in fuzzLinkTypes")
}

// FuzzDecodePacket decodes arbitrary frames of every link type. Input:
// link type index(1) snap-cut flag(1) frame. A fragment's reassembler
// persists across the frames of one input, split at "\xff\xfe\xfd\xfc".
func FuzzDecodePacket(f *testing.F) {
	for _, lt := range fuzzLinkTypes[:len(fuzzLinkTypes)-1] {
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
	f.Fuzz(func(t *testing.T, in []byte) {
		var st Stats
		d := decoder{stats: &st, frag: newReassembler(64<<10, time.Second, &st)}
		for i, frame := range bytes.Split(in, []byte{0xff, 0xfe, 0xfd, 0xfc}) {
			if len(frame) < 2 {
				continue
			}
			lt := fuzzLinkTypes[int(frame[0])%len(fuzzLinkTypes)]
			wire := len(frame) - 2
			if frame[1]&1 != 0 {
				wire += 1000
			}
			var seg packet.Segment
			v := d.decode(lt, frame[2:], wire, t0.Add(time.Duration(i)*time.Millisecond), &seg, nil)
			if v == vSegment {
				if len(seg.Payload) > maxDatagram || seg.Truncated < 0 || seg.Truncated > 1<<16 {
					t.Fatalf("segment with %d payload bytes, %d truncated", len(seg.Payload), seg.Truncated)
				}
				if wire == len(frame)-2 && seg.Truncated != 0 {
					t.Fatal("Truncated set on a frame captured whole")
				}
			}
			checkReassembler(t, &d.frag)
		}
	})
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
