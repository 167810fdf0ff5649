package capture

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// filter applies a BPF expression to the frames of a file, with libpcap's
// own compiler and interpreter (pcap_compile on a dead handle,
// pcap_offline_filter), so that an expression means exactly what it means
// to tcpdump. Live captures filter in the kernel instead.
//
// A pcapng file may mix link types; each gets its program, compiled on
// first use. The number of programs is bounded by the number of link types
// we decode.
type filter struct {
	expr    string
	snaplen int
	progs   []filterProg
	scratch []byte // SLL2 frames rewritten as SLL for matching
}

type filterProg struct {
	lt  LinkType
	bpf *pcap.BPF
	err error
}

// dltFor maps a link type to the DLT value libpcap compiles for on this
// system. gopacket's layers.LinkType is a uint8, so LINUX_SLL2 (276) cannot
// be passed; its frames are matched as LINUX_SLL, which offers the same
// fields to filters (all but "ifindex").
func dltFor(lt LinkType) (LinkType, bool) {
	switch lt {
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		return LinkTypeRawDLT12, true // DLT_RAW as libpcap on Linux numbers it
	case LinkTypeLinuxSLL2:
		return LinkTypeLinuxSLL, true
	}
	return lt, lt <= 0xff
}

// compile compiles the expression for lt, reporting libpcap's message.
func (f *filter) compile(lt LinkType) error {
	p := f.prog(lt)
	return p.err
}

func (f *filter) prog(lt LinkType) *filterProg {
	for i := range f.progs {
		if f.progs[i].lt == lt {
			return &f.progs[i]
		}
	}
	p := filterProg{lt: lt}
	if dlt, ok := dltFor(lt); !ok {
		p.err = fmt.Errorf("link type %s cannot be filtered", lt)
	} else {
		p.bpf, p.err = pcap.NewBPF(layers.LinkType(dlt), f.snaplen, f.expr)
	}
	f.progs = append(f.progs, p)
	return &f.progs[len(f.progs)-1]
}

// match reports whether the filter accepts the frame. Frames it cannot
// judge (no program for their link type, empty) are rejected.
func (f *filter) match(lt LinkType, data []byte, ts time.Time, wireLen int) bool {
	p := f.prog(lt)
	if p.err != nil || len(data) == 0 {
		return false
	}
	if lt == LinkTypeLinuxSLL2 {
		if len(data) < 20 {
			return false
		}
		data = f.sll2AsSLL(data)
		wireLen -= 4
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: wireLen}
	return p.bpf.Matches(ci, data)
}

// sll2AsSLL rewrites a Linux SLL2 frame as an SLL one:
//
//	SLL2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
//	SLL:  packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
func (f *filter) sll2AsSLL(data []byte) []byte {
	n := 16 + len(data) - 20
	if cap(f.scratch) < n {
		f.scratch = make([]byte, n, max(n, maxCaptureLen))
	}
	out := f.scratch[:n]
	binary.BigEndian.PutUint16(out[0:2], uint16(data[10]))
	copy(out[2:4], data[8:10])
	binary.BigEndian.PutUint16(out[4:6], uint16(data[11]))
	copy(out[6:14], data[12:20])
	copy(out[14:16], data[0:2])
	copy(out[16:], data[20:])
	return out
}
