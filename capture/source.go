package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/pcap"
	"github.com/tlsdissect/tlsdissect/packet"
)

// Defaults for Options.
const (
	DefaultSnaplen          = 262144
	DefaultMaxFragmentBytes = 4 << 20
	DefaultFragmentTimeout  = 30 * time.Second
	// DefaultLiveTimeout is the libpcap read timeout used when
	// LiveOptions.Timeout is zero. It also bounds how long Close from
	// another goroutine waits for a blocked read to notice.
	DefaultLiveTimeout = 200 * time.Millisecond
)

// Options configure a Source.
type Options struct {
	// Filter is a BPF filter in tcpdump syntax; it applies to files too.
	// "" means no filter.
	Filter string
	// Snaplen is used to compile the filter (and, live, as the capture
	// length). 0 means DefaultSnaplen.
	Snaplen int
	// MaxFragmentBytes caps the memory held by incomplete IPv4 and IPv6
	// datagrams. 0 means DefaultMaxFragmentBytes.
	MaxFragmentBytes int
	// FragmentTimeout abandons an incomplete datagram this long (in
	// capture time) after its first fragment. 0 means DefaultFragmentTimeout.
	FragmentTimeout time.Duration

	chunk int // tests: the read buffer's size instead of chunkSize
}

func (o Options) withDefaults() Options {
	if o.Snaplen <= 0 {
		o.Snaplen = DefaultSnaplen
	}
	if o.MaxFragmentBytes <= 0 {
		o.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	if o.FragmentTimeout <= 0 {
		o.FragmentTimeout = DefaultFragmentTimeout
	}
	return o
}

// Source reads packets from a capture file or an interface and hands out
// TCP segments and UDP datagrams. Next and NextPacket must be called from
// one goroutine; Offset, Size,
// LinkType and Close may be called from any, Stats from any for a live
// capture (see Stats).
type Source struct {
	name     string
	linkType LinkType
	size     int64
	stats    Stats
	dec      decoder
	filter   *filter
	err      error // sticky error from the reader

	file   *fileReader
	closer io.Closer
	pkt    rawPacket
	// Retaining: buffers to release once packets are done (see Done).
	marks    []bufferMark
	lastMark uint64
	handed   uint64 // segments and datagrams returned by Next and NextPacket
	done     uint64 // ... of which Done released the first done

	handle   *pcap.Handle
	liveMu   sync.Mutex // guards handle use by Stats against Close, pcap and shared
	pcap     [3]uint64  // libpcap's received, dropped, interface-dropped
	shared   Stats      // live: the counters as of the last publishLive
	closed   atomic.Bool
	closeErr error
	// wakeOnTimeout: Next returns ErrNoPacket on a live read timeout.
	wakeOnTimeout bool
	// frame is the raw frame of the packet Next or NextPacket returned
	// last (see RawFrame).
	frame RawFrame
}

// RawFrame is a packet as the capture held it, before decoding.
type RawFrame struct {
	// Data is the captured bytes, the link-layer header first. It is the
	// Source's (or libpcap's) buffer, valid only until the next call to
	// Next or NextPacket and never after Close: whatever is kept is
	// copied.
	Data      []byte
	LinkType  LinkType
	Timestamp time.Time
	WireLen   int // the length on the wire, at least len(Data)
	// Reassembled: the packet was rebuilt from IP fragments, and Data is
	// only the fragment that completed it; the earlier ones were read
	// before and are not kept.
	Reassembled bool
}

// RawFrame returns the raw frame of the segment or datagram Next or
// NextPacket returned last, so that a caller (a live -w) can write the
// packets it decoded without reading the capture again. Only from the
// goroutine that calls Next; zero before the first packet.
func (s *Source) RawFrame() RawFrame { return s.frame }

// bufferMark: chunk mark began with the packet numbered packet (1 = the
// first Next or NextPacket returned); the chunks before it hold earlier
// packets.
type bufferMark struct {
	packet, mark uint64
}

func newSource(name string, opts Options) *Source {
	s := &Source{name: name}
	s.dec.stats = &s.stats
	s.dec.frag = newReassembler(opts.MaxFragmentBytes, opts.FragmentTimeout, &s.stats)
	return s
}

// OpenFile opens a pcap or pcapng file ("-" for standard input), detecting
// the format and byte order from its magic number. gzip-compressed files
// are read too.
func OpenFile(path string, opts Options) (*Source, error) {
	if path == "-" {
		s, err := openReader(os.Stdin, "-", opts)
		if err != nil {
			return nil, err
		}
		s.closer = os.Stdin
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			f.Close()
			return nil, &FileError{Name: path, Offset: -1, Msg: "is a directory, not a capture file", Err: ErrNotCapture}
		}
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	s, err := openReader(f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.closer = f
	s.size = size
	return s, nil
}

func openError(path string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg = "no such file"
	case errors.Is(err, fs.ErrPermission):
		msg = "permission denied"
	}
	return &FileError{Name: path, Offset: -1, Msg: msg, Err: err}
}

// OpenReader reads a pcap or pcapng capture from r, as OpenFile does a
// file; name is used in errors ("-" reads as "stdin"). Close does not
// close r.
func OpenReader(r io.Reader, name string, opts Options) (*Source, error) {
	return openReader(r, name, opts)
}

// openReader reads a capture from r; name is used in errors. It does not
// close r.
func openReader(r io.Reader, name string, opts Options) (*Source, error) {
	opts = opts.withDefaults()
	s := newSource(name, opts)
	fr, err := newFileReader(r, name, &s.stats, opts.chunk)
	if err != nil {
		return nil, err
	}
	s.file = fr
	s.linkType = fr.linkType
	if opts.Filter != "" && s.linkType != linkTypeNone {
		s.filter = &filter{expr: opts.Filter, snaplen: opts.Snaplen}
		// Compile now for the file's link type so that a bad
		// expression is reported at open time. A link type we do not
		// decode is skipped before filtering: check the expression
		// against Ethernet instead, which every libpcap compiles for.
		lt := s.linkType
		if !lt.Supported() {
			lt = LinkTypeEthernet
		}
		if err := s.filter.compile(lt); err != nil {
			return nil, &FileError{Name: name, Offset: -1, Err: errors.Join(ErrFilter, err),
				Msg: fmt.Sprintf("invalid filter %q: %v", opts.Filter, err)}
		}
	}
	return s, nil
}

// Next fills seg with the next TCP segment. It returns io.EOF at the
// clean end of the input or after Close. Payload is valid until the next
// call. Packets that are not TCP (UDP included), are rejected by the
// filter, or cannot be decoded are counted in Stats and skipped.
func (s *Source) Next(seg *packet.Segment) error {
	return s.next(seg, nil, nil)
}

// NextPacket fills p with the next TCP segment or UDP datagram, as
// p.Transport says, and p.Frame with the packet's number in the capture
// (1 for the first packet read, as tshark numbers frames). Fragments of
// both are reassembled; UDP datagrams to the registered ports of GTP-U,
// VXLAN, VXLAN-GPE and GENEVE are decapsulated instead of handed out. It
// returns io.EOF at the clean end of the input or after Close. Payload is
// valid until the next call to Next or NextPacket, or longer when
// retained (see Retain). Mixing calls to Next and NextPacket is allowed
// but rarely useful: UDP datagrams Next passes over are gone.
func (s *Source) NextPacket(p *packet.Packet) error {
	return s.next(&p.Segment, &p.Datagram, p)
}

// next reads packets until one decodes to a segment (into seg) or, when
// dg is not nil, a datagram (into dg). p, when not nil, gets the
// transport and the frame number.
func (s *Source) next(seg *packet.Segment, dg *packet.Datagram, p *packet.Packet) error {
	if s.handle != nil {
		// Live counters are read by a status printer on another
		// goroutine: publish them whenever Next returns.
		defer s.publishLive()
	}
	for {
		if s.closed.Load() {
			return io.EOF
		}
		if s.err != nil {
			return s.err
		}
		if s.file != nil && s.file.br.retain && s.done == s.handed && len(s.file.br.held) > 0 {
			// Every packet handed out is done: the buffers left behind
			// hold only packets that were skipped (filtered, not TCP,
			// not decodable), and a stretch of those must not keep the
			// file in memory until the next packet is handed out.
			s.file.br.release(s.file.br.mark())
		}
		var (
			data []byte
			ts   time.Time
			wire int
			lt   = s.linkType
		)
		if s.handle != nil {
			d, ci, err := s.handle.ZeroCopyReadPacketData()
			if err != nil {
				if errors.Is(err, pcap.NextErrorTimeoutExpired) {
					s.publishLive() // an idle or non-TCP-only link
					if s.wakeOnTimeout {
						return ErrNoPacket
					}
					continue
				}
				if s.closed.Load() || errors.Is(err, io.EOF) {
					return io.EOF
				}
				s.err = &FileError{Name: s.name, Offset: -1, Msg: "read: " + err.Error(), Err: errors.Join(ErrLive, err)}
				return s.err
			}
			data, ts, wire = d, ci.Timestamp.UTC(), ci.Length
		} else {
			if err := s.file.next(&s.pkt); err != nil {
				if s.closed.Load() {
					return io.EOF
				}
				s.err = err
				return err
			}
			data, ts, wire, lt = s.pkt.data, s.pkt.ts, s.pkt.wireLen, s.pkt.linkType
		}
		s.stats.Packets++
		s.stats.Bytes += uint64(len(data))
		if !lt.Supported() {
			// Before the filter, which may not compile for lt.
			if s.stats.Skipped[SkipLinkType] == 0 {
				s.stats.UnsupportedLinkType = lt
			}
			s.stats.Skipped[SkipLinkType]++
			s.stats.NonTCP++
			continue
		}
		if s.filter != nil && !s.filter.match(lt, data, ts, wire) {
			s.stats.Filtered++
			continue
		}
		s.dec.frag.expire(ts)
		switch v := s.dec.decode(lt, data, wire, ts, seg, dg); v {
		case vSegment, vDatagram:
			if v == vSegment {
				s.stats.TCPSegments++
			} else {
				s.stats.UDPDatagrams++
			}
			s.handed++
			s.frame = RawFrame{Data: data, LinkType: lt, Timestamp: ts, WireLen: wire, Reassembled: s.dec.reassembled}
			if p != nil {
				p.Transport = packet.TCP
				if v == vDatagram {
					p.Transport = packet.UDP
				}
				p.Frame = s.stats.Packets
			}
			if s.file != nil && s.file.br.retain {
				// This packet is the first of a new buffer: the ones
				// before it are free once their packets are done.
				if m := s.file.br.mark(); m != s.lastMark {
					s.marks = append(s.marks, bufferMark{packet: s.handed, mark: m})
					s.lastMark = m
				}
			}
			return nil
		case vSkip:
			s.stats.NonTCP++
			s.stats.Skipped[s.dec.reason]++
		case vBad:
			s.stats.DecodeErrors++
		}
	}
}

// Retain keeps the payloads of a file's segments and datagrams valid
// after the next call to Next or NextPacket, until Done says they are no
// longer in use: the file is
// read into fresh buffers instead of one reused buffer, so a payload can
// be handed to another goroutine without a copy. The buffers held grow
// until Done is called; a caller keeps them bounded by calling it as its
// consumers finish. Payloads of a live capture, and of datagrams rebuilt
// from IP fragments, are never retained (see Retained). Call it before
// the first Next.
func (s *Source) Retain() {
	if s.file != nil {
		s.file.br.retain = true
	}
}

// Retained reports whether the payload of the segment or datagram Next
// or NextPacket returned last stays valid until released.
func (s *Source) Retained() bool {
	return s.file != nil && s.file.br.retain && !s.dec.reassembled
}

// Done tells a retaining Source that the payloads of the first n packets
// (segments and datagrams) Next and NextPacket returned are no longer in
// use: the buffers that held only those may be reused.
func (s *Source) Done(n uint64) {
	s.done = max(s.done, n)
	for len(s.marks) > 0 && s.marks[0].packet <= n {
		s.file.br.release(s.marks[0].mark)
		s.marks = s.marks[1:]
	}
}

// Stats returns the counters so far; for a live capture it includes
// libpcap's received and dropped counts. For a live capture Stats may be
// called from any goroutine (it then reports the counters as of the last
// return of Next, or of the last read timeout); for a file, only from the
// goroutine that calls Next.
func (s *Source) Stats() Stats {
	if s.handle != nil {
		s.liveMu.Lock()
		if !s.closed.Load() {
			s.pcapStats()
		}
		st := s.shared
		st.PcapReceived, st.PcapDropped, st.PcapIfDropped = s.pcap[0], s.pcap[1], s.pcap[2]
		s.liveMu.Unlock()
		return st
	}
	return s.stats
}

// publishLive makes the live counters visible to Stats.
func (s *Source) publishLive() {
	s.liveMu.Lock()
	s.shared = s.stats
	s.liveMu.Unlock()
}

// Secrets returns copies of the TLS key logs (NSS key log text, as
// SSLKEYLOGFILE writes it) found so far in the file's pcapng Decryption
// Secrets Blocks, in file order; nil when there are none. Such blocks
// usually precede the packets they decrypt, so the ones before the first
// interface are there as soon as the file is open; call it again after
// reading packets for the others. Only from the goroutine that calls Next.
func (s *Source) Secrets() [][]byte {
	if s.file == nil || len(s.file.secrets) == 0 {
		return nil
	}
	out := make([][]byte, len(s.file.secrets))
	for i, b := range s.file.secrets {
		out[i] = bytes.Clone(b)
	}
	return out
}

// OnSecrets has f called with the TLS key log of each pcapng Decryption
// Secrets Block read from now on, as it is read: within the Next or
// NextPacket call that reaches the block, so before any packet after it in
// the file is returned. A capture may carry several (one per key rotation,
// or as a capturing tool learns them); the blocks read before the call
// (those ahead of the first interface, read at open) are in Secrets. f is
// called on the goroutine that calls Next; text is valid only during the
// call (Secrets hands out copies for later). nil stops the calls. It
// reports whether the source can carry such blocks at all, that is whether
// it is a pcapng file; f is not kept otherwise.
func (s *Source) OnSecrets(f func(text []byte)) bool {
	if s.file == nil || !s.file.ng {
		return false
	}
	s.file.onSecrets = f
	return true
}

// LinkType names the link layer as libpcap does ("EN10MB", "LINUX_SLL", ...).
// For a pcapng file it is the first interface's.
func (s *Source) LinkType() string { return s.linkType.String() }

// Offset returns how many bytes of the file have been consumed, for a
// progress bar (compressed bytes for a gzip file). 0 for a live capture.
func (s *Source) Offset() int64 {
	if s.file == nil {
		return 0
	}
	return s.file.shown.Load()
}

// Size returns the size of the file in bytes, 0 when unknown (standard
// input, a pipe, a live capture).
func (s *Source) Size() int64 { return s.size }

// Close releases the file or interface. It may be called from another
// goroutine to stop a capture: Next then returns io.EOF. Closing twice is
// harmless. The Payload of a live capture's last segment points into
// libpcap's ring and must not be used after Close.
func (s *Source) Close() error {
	if s.handle != nil {
		s.liveMu.Lock()
		if s.closed.Swap(true) {
			s.liveMu.Unlock()
			return nil
		}
		s.pcapStats() // keep the final counts for Stats after Close
		s.liveMu.Unlock()
		s.handle.Close() // waits for a pending read, at most the read timeout
		return nil
	}
	if s.closed.Swap(true) {
		return s.closeErr
	}
	if s.closer != nil {
		s.closeErr = s.closer.Close()
	}
	return s.closeErr
}
