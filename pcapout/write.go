package pcapout

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is the kind of file written.
type Format uint8

const (
	PcapNG Format = iota // pcapng, one interface per input interface
	Pcap                 // pcap with nanosecond timestamps, one link type
)

func (f Format) String() string {
	if f == Pcap {
		return "pcap"
	}
	return "pcapng"
}

// FormatFor picks the format by the file name, as tcpdump users expect:
// pcap for a name ending in .pcap (or .cap), pcapng otherwise.
func FormatFor(name string) Format {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".cap") || strings.HasSuffix(n, ".pcap.gz") {
		return Pcap
	}
	return PcapNG
}

// ifaceKey names an interface of the input: which input, which pcapng
// section and interface, and its link type.
type ifaceKey struct {
	input, section, iface int
	linkType              uint32
}

// writer writes frames as they were read. Both formats are written
// little-endian, as libpcap and Wireshark do on the machines we run on.
type writer struct {
	w      *bufio.Writer
	format Format
	ids    map[ifaceKey]uint32 // pcapng: output interface numbers
	next   uint32
	// pcap: the one link type, and whether the header is out.
	linkType uint32
	started  bool
	hdr      [32]byte
}

func newWriter(w io.Writer, format Format) (*writer, error) {
	wr := &writer{w: bufio.NewWriterSize(w, 256<<10), format: format, ids: map[ifaceKey]uint32{}}
	if format == PcapNG {
		if err := wr.sectionHeader(); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// sectionHeader: type, length, byte-order magic, version 1.0, section
// length unknown (-1), shb_userappl, end of options, length.
func (w *writer) sectionHeader() error {
	const app = "tlsdissect"
	opt := 4 + (len(app)+3)&^3 + 4
	length := uint32(28 + opt)
	b := binary.LittleEndian
	var h [24]byte
	b.PutUint32(h[0:4], 0x0a0d0d0a)
	b.PutUint32(h[4:8], length)
	b.PutUint32(h[8:12], 0x1a2b3c4d)
	b.PutUint16(h[12:14], 1)
	b.PutUint16(h[14:16], 0)
	b.PutUint64(h[16:24], ^uint64(0))
	w.w.Write(h[:])
	w.option(4, []byte(app))
	w.option(0, nil)
	_, err := w.w.Write(b.AppendUint32(nil, length))
	return err
}

// option writes one pcapng option, padded to 32 bits.
func (w *writer) option(code uint16, val []byte) {
	var h [4]byte
	binary.LittleEndian.PutUint16(h[0:2], code)
	binary.LittleEndian.PutUint16(h[2:4], uint16(len(val)))
	w.w.Write(h[:])
	w.w.Write(val)
	w.w.Write(make([]byte, (4-len(val)%4)%4))
}

// iface returns the output interface of k, describing it first if new:
// its link type, its snaplen, and nanosecond timestamps.
func (w *writer) iface(k ifaceKey, snaplen uint32) (uint32, error) {
	if id, ok := w.ids[k]; ok {
		return id, nil
	}
	if k.linkType > 0xffff {
		return 0, fmt.Errorf("link type %d does not fit a pcapng interface", k.linkType)
	}
	b := binary.LittleEndian
	const length = 20 + 8 + 4 // header, if_tsresol option, end of options
	var h [16]byte
	b.PutUint32(h[0:4], 1)
	b.PutUint32(h[4:8], length)
	b.PutUint16(h[8:10], uint16(k.linkType))
	b.PutUint32(h[12:16], snaplen)
	w.w.Write(h[:])
	w.option(9, []byte{9}) // if_tsresol: 10^-9
	w.option(0, nil)
	if _, err := w.w.Write(b.AppendUint32(nil, length)); err != nil {
		return 0, err
	}
	id := w.next
	w.ids[k] = id
	w.next++
	return id, nil
}

// write copies one frame of input in.
func (w *writer) write(in int, f *frame) error {
	b := binary.LittleEndian
	ns := uint64(f.ts.UnixNano())
	if f.ts.IsZero() {
		ns = 0
	}
	if w.format == Pcap {
		if !w.started {
			if err := w.pcapHeader(f.linkType); err != nil {
				return err
			}
		} else if f.linkType != w.linkType {
			return fmt.Errorf("the input mixes link types %d and %d, which a pcap file cannot hold: write pcapng", w.linkType, f.linkType)
		}
		h := w.hdr[:16]
		b.PutUint32(h[0:4], uint32(ns/1e9))
		b.PutUint32(h[4:8], uint32(ns%1e9))
		b.PutUint32(h[8:12], uint32(len(f.data)))
		b.PutUint32(h[12:16], uint32(f.wireLen))
		w.w.Write(h)
		_, err := w.w.Write(f.data)
		return err
	}
	id, err := w.iface(ifaceKey{in, f.section, f.iface, f.linkType}, f.snaplen)
	if err != nil {
		return err
	}
	pad := (4 - len(f.data)%4) % 4
	length := uint32(32 + len(f.data) + pad)
	h := w.hdr[:28]
	b.PutUint32(h[0:4], 6)
	b.PutUint32(h[4:8], length)
	b.PutUint32(h[8:12], id)
	b.PutUint32(h[12:16], uint32(ns>>32))
	b.PutUint32(h[16:20], uint32(ns))
	b.PutUint32(h[20:24], uint32(len(f.data)))
	b.PutUint32(h[24:28], uint32(f.wireLen))
	w.w.Write(h)
	w.w.Write(f.data)
	w.w.Write(make([]byte, pad))
	_, err = w.w.Write(b.AppendUint32(nil, length))
	return err
}

// pcapHeader writes a nanosecond pcap header of linkType.
func (w *writer) pcapHeader(linkType uint32) error {
	b := binary.LittleEndian
	w.linkType, w.started = linkType, true
	var h [24]byte
	b.PutUint32(h[0:4], 0xa1b23c4d)
	b.PutUint16(h[4:6], 2)
	b.PutUint16(h[6:8], 4)
	b.PutUint32(h[16:20], MaxCaptureLen)
	b.PutUint32(h[20:24], linkType)
	_, err := w.w.Write(h[:])
	return err
}

// close writes what a file needs even without packets (a pcap header, of
// the first input's link type) and flushes.
func (w *writer) close(linkType uint32) error {
	if w.format == Pcap && !w.started {
		if err := w.pcapHeader(linkType); err != nil {
			return err
		}
	}
	return w.w.Flush()
}

// Writer writes frames one at a time, as they come (a live capture's),
// in pcapng with one interface per link type, or in pcap. It buffers;
// Flush pushes what was written to the underlying writer.
type Writer struct {
	w        *writer
	linkType uint32
	frames   uint64
}

// NewWriter starts a file in format on w. linkType is what an empty pcap
// file says it holds (pcap must name one in its header).
func NewWriter(w io.Writer, format Format, linkType uint32) (*Writer, error) {
	wr, err := newWriter(w, format)
	if err != nil {
		return nil, err
	}
	return &Writer{w: wr, linkType: linkType}, nil
}

// WriteFrame writes one frame: its captured bytes (not kept past the
// call), link type, capture time and length on the wire (raised to
// len(data) when less). A pcap file holds one link type: a frame of
// another is an error.
func (w *Writer) WriteFrame(linkType uint32, data []byte, ts time.Time, wireLen int) error {
	if len(data) > MaxCaptureLen {
		return fmt.Errorf("frame of %d bytes exceeds the %d a capture file may hold", len(data), MaxCaptureLen)
	}
	f := frame{data: data, ts: ts, wireLen: max(wireLen, len(data)), linkType: linkType, snaplen: MaxCaptureLen}
	if err := w.w.write(0, &f); err != nil {
		return err
	}
	w.frames++
	return nil
}

// Frames is the number of frames written.
func (w *Writer) Frames() uint64 { return w.frames }

// Flush pushes the buffered frames out.
func (w *Writer) Flush() error { return w.w.w.Flush() }

// Close finishes the file (an empty pcap gets its header) and flushes;
// it does not close the underlying writer.
func (w *Writer) Close() error { return w.w.close(w.linkType) }
