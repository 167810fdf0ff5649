package pcapout

import (
	"encoding/binary"
	"io"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Conn is a connection of the capture: its two endpoints, its transport,
// the capture times of its first and last packet (the record's ts and
// end_ts), and whether its packets are wanted. A packet belongs to it
// when it goes between the endpoints, either way, over that transport,
// within the times; after the last time, a packet that opens no new
// connection (not a SYN) and comes within Tail belongs to it too: the
// last ACK after the FINs, a retransmitted FIN, a late RST. The times
// tell apart connections that reuse the same ports, which is why the
// connections not wanted are given too.
type Conn struct {
	Client, Server netip.AddrPort
	UDP            bool
	First, Last    time.Time
	Selected       bool
}

// Tail is how long after a connection's last packet a straggler still
// belongs to it: TCP's TIME_WAIT on Linux.
const Tail = 60 * time.Second

type connKey struct {
	lo, hi netip.AddrPort
	udp    bool
}

func keyOf(a, b netip.AddrPort, udp bool) connKey {
	// Unmap: an IPv4 address in an IPv6 header is still that address.
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	b = netip.AddrPortFrom(b.Addr().Unmap(), b.Port())
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return connKey{a, b, udp}
}

type span struct {
	first, last time.Time
	selected    bool
}

// Selection is the connections of a capture, looked up by endpoints.
type Selection struct {
	m        map[connKey][]span // by first time
	selected int
}

// NewSelection indexes conns.
func NewSelection(conns []Conn) *Selection {
	s := &Selection{m: make(map[connKey][]span, len(conns))}
	for _, c := range conns {
		k := keyOf(c.Client, c.Server, c.UDP)
		s.m[k] = append(s.m[k], span{c.First, c.Last, c.Selected})
		if c.Selected {
			s.selected++
		}
	}
	for _, sp := range s.m {
		slices.SortStableFunc(sp, func(a, b span) int { return a.first.Compare(b.first) })
	}
	return s
}

// Len is the number of connections selected.
func (s *Selection) Len() int { return s.selected }

// Match reports whether a packet between a and b at ts belongs to a
// selected connection; syn marks a TCP SYN, which opens a connection
// rather than trailing one.
func (s *Selection) Match(a, b netip.AddrPort, udp bool, ts time.Time, syn bool) bool {
	spans := s.m[keyOf(a, b, udp)]
	// The latest connection started at or before ts owns it, if ts is
	// within it or its tail.
	i := sort.Search(len(spans), func(i int) bool { return spans[i].first.After(ts) }) - 1
	for j := i; j >= 0; j-- {
		if sp := spans[j]; !ts.After(sp.last) {
			// Inside a connection (connections of the same ports may
			// overlap when one was evicted and another began).
			if sp.selected {
				return true
			}
		}
	}
	if i < 0 || syn {
		return false
	}
	sp := spans[i]
	return sp.selected && ts.After(sp.last) && ts.Sub(sp.last) <= Tail
}

// Input is one capture to read again.
type Input struct {
	Name string
	R    io.Reader
}

// Stats counts a Copy.
type Stats struct {
	Read, Written uint64
	// Undecoded frames had no address and port the decoder could find.
	Undecoded uint64
}

// maxFragKeys bounds the IPv4 fragment identities remembered, to find
// the later fragments of a selected datagram; the table is cleared when
// full.
const maxFragKeys = 1 << 16

type fragKey struct {
	src, dst netip.Addr
	id       uint16
	proto    layers.IPProtocol
}

// Filter says whether a frame may be copied at all (the BPF filter of
// the first reading, so that -w writes only what the filter let in); nil
// lets every frame through. data is valid only during the call.
type Filter func(linkType uint32, data []byte, ts time.Time, wireLen int) bool

// Copy reads the inputs and writes to w, in format, the frames that pass
// keep and belong to the selected connections, unchanged. Several inputs
// are merged in time order (the earlier input's frame first on a tie), as
// the dissection read them. The later fragments of a selected IPv4
// datagram are copied when they follow its first. A damaged input ends
// the copy with an error wrapping ErrCorrupt; what was copied before it
// is written out.
func Copy(w io.Writer, format Format, inputs []Input, sel *Selection, keep Filter) (Stats, error) {
	var st Stats
	out, err := newWriter(w, format)
	if err != nil {
		return st, err
	}
	firstLink := uint32(1)
	readers := make([]*reader, len(inputs))
	for i, in := range inputs {
		r, err := newReader(in.R, in.Name)
		if err != nil {
			return st, err
		}
		readers[i] = r
		if i == 0 && !r.ng {
			firstLink = r.linkType
		}
	}
	// One frame ahead from each input; a frame's data is its reader's
	// buffer, untouched until that reader is read again.
	pending := make([]frame, len(readers))
	live := make([]bool, len(readers))
	for i, r := range readers {
		switch err := r.next(&pending[i]); {
		case err == nil:
			live[i] = true
		case err != io.EOF:
			return st, finish(out, firstLink, err)
		}
	}
	if len(readers) > 0 && live[0] {
		firstLink = pending[0].linkType
	}
	frags := map[fragKey]bool{}
	for {
		i := -1
		for j := range readers {
			if live[j] && (i < 0 || pending[j].ts.Before(pending[i].ts)) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		f := &pending[i]
		st.Read++
		if keep == nil || keep(f.linkType, f.data, f.ts, f.wireLen) {
			m, decoded := matches(f, sel, frags)
			if !decoded {
				st.Undecoded++
			}
			if m {
				if err := out.write(i, f); err != nil {
					return st, err
				}
				st.Written++
			}
		}
		switch err := readers[i].next(f); {
		case err == io.EOF:
			live[i] = false
		case err != nil:
			return st, finish(out, firstLink, err)
		}
	}
	return st, out.close(firstLink)
}

// finish flushes what was copied before a reading error and returns the
// error (or the flush's, which is worse).
func finish(out *writer, linkType uint32, readErr error) error {
	if err := out.close(linkType); err != nil {
		return err
	}
	return readErr
}

// decoderFor picks gopacket's decoder for a frame of link type lt, and
// the bytes it starts at: the few link types gopacket's uint8 LinkType
// cannot name or does not decode are unwrapped here.
func decoderFor(lt uint32, data []byte) (gopacket.Decoder, []byte, bool) {
	switch lt {
	case 12, 14, 101, 228, 229: // raw IP, by the version nibble
		if len(data) == 0 {
			return nil, nil, false
		}
		switch data[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4, data, true
		case 6:
			return layers.LayerTypeIPv6, data, true
		}
		return nil, nil, false
	case 104: // Cisco HDLC: address, control, ethertype
		if len(data) < 4 {
			return nil, nil, false
		}
		return layers.EthernetType(binary.BigEndian.Uint16(data[2:4])), data[4:], true
	case 276: // Linux SLL2: protocol type first, 20-byte header
		if len(data) < 20 {
			return nil, nil, false
		}
		return layers.EthernetType(binary.BigEndian.Uint16(data[0:2])), data[20:], true
	}
	if lt > 255 {
		return nil, nil, false
	}
	return layers.LinkType(lt), data, true
}

// matches finds the frame's addresses and ports, at every depth (a
// tunnel's inner packet as well as the outer one), and reports whether
// any pair belongs to a selected connection. decoded is false when no
// transport header was found.
func matches(f *frame, sel *Selection, frags map[fragKey]bool) (match, decoded bool) {
	dec, data, ok := decoderFor(f.linkType, f.data)
	if !ok {
		return false, false
	}
	p := gopacket.NewPacket(data, dec, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var src, dst netip.Addr
	var frag *fragKey
	for _, l := range p.Layers() {
		switch t := l.(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(t.SrcIP)
			dst, _ = netip.AddrFromSlice(t.DstIP)
			frag = nil
			if t.Flags&layers.IPv4MoreFragments != 0 || t.FragOffset != 0 {
				k := fragKey{src.Unmap(), dst.Unmap(), t.Id, t.Protocol}
				if t.FragOffset != 0 {
					if frags[k] {
						return true, true
					}
					continue
				}
				frag = &k
			}
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(t.SrcIP)
			dst, _ = netip.AddrFromSlice(t.DstIP)
			frag = nil
		case *layers.TCP:
			decoded = true
			syn := t.SYN
			if src.IsValid() && sel.Match(netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort)), false, f.ts, syn) {
				if frag != nil {
					remember(frags, *frag)
				}
				return true, true
			}
		case *layers.UDP:
			decoded = true
			if src.IsValid() && sel.Match(netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort)), true, f.ts, false) {
				if frag != nil {
					remember(frags, *frag)
				}
				return true, true
			}
		}
	}
	return false, decoded
}

func remember(frags map[fragKey]bool, k fragKey) {
	if len(frags) >= maxFragKeys {
		clear(frags)
	}
	frags[k] = true
}
