// Package pcapout writes the packets of chosen connections to a new capture
// file: tlsdissect -r day.pcap -Y 'status == "failed"' -w failed.pcapng.
//
// It reads the input again, frame by frame, finds each frame's addresses
// and ports, and copies the frames of the selected connections as they
// were: link type, timestamps, captured and original length. Output is
// pcapng, or pcap (nanosecond) when asked.
//
// The reader here is its own, not gopacket's pcapgo (which allocates
// whatever a header claims and panics on some if_tsresol values; see
// capture/file.go): every length is checked against the block it is in
// and capped at libpcap's largest snapshot length. Frames are decoded
// with gopacket's layers, which recover from their own decoding panics.
package pcapout

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Limits of the reader.
const (
	// MaxCaptureLen is libpcap's MAXIMUM_SNAPLEN: a frame claiming more
	// is damage.
	MaxCaptureLen = 262144
	// maxPacketBlock bounds a pcapng packet block: the frame and room
	// for options.
	maxPacketBlock = MaxCaptureLen + 64<<10
	// maxInterfaces bounds a pcapng section's interface table.
	maxInterfaces = 4096
	// maxIDB bounds an interface description block (link type, snaplen,
	// options); larger ones are damage.
	maxIDB = 64 << 10
)

// ErrCorrupt is wrapped by every error about the input's structure.
var ErrCorrupt = errors.New("corrupt capture")

// frame is one packet as the file holds it. data is the reader's buffer,
// valid until the next call to next.
type frame struct {
	data     []byte
	ts       time.Time
	wireLen  int
	linkType uint32
	snaplen  uint32
	iface    int // pcapng interface number in its section; 0 for pcap
	section  int // pcapng section number, from 0
}

type ngIface struct {
	linkType    uint32
	snaplen     uint32
	unitsPerSec uint64
	offset      int64
}

// reader reads pcap (micro- or nanosecond, either byte order, Kuznetzov's
// modified records) and pcapng, gzipped or not.
type reader struct {
	r       *bufio.Reader
	name    string
	order   binary.ByteOrder
	ng      bool
	buf     []byte // the frame or block being read, reused
	hdr     [24]byte
	section int

	// pcap
	nanos    bool
	modified bool
	linkType uint32
	snaplen  uint32

	// pcapng
	ifaces []ngIface
}

func (r *reader) corrupt(format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", r.name, ErrCorrupt, fmt.Sprintf(format, args...))
}

func newReader(in io.Reader, name string) (*reader, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	if m, err := br.Peek(2); err == nil && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: gzip: %v", name, ErrCorrupt, err)
		}
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	r := &reader{r: br, name: name}
	m, err := br.Peek(4)
	if err != nil {
		return nil, r.corrupt("no file header: %v", err)
	}
	magic := binary.LittleEndian.Uint32(m)
	switch magic {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34:
		r.order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1, 0x34cdb2a1:
		r.order = binary.BigEndian
	case 0x0a0d0d0a:
		r.ng = true
		return r, nil
	default:
		return nil, r.corrupt("not a pcap or pcapng file (magic %08x)", magic)
	}
	if _, err := io.ReadFull(br, r.hdr[:24]); err != nil {
		return nil, r.corrupt("file header: %v", err)
	}
	m32 := r.order.Uint32(r.hdr[0:4])
	r.nanos = m32 == 0xa1b23c4d
	r.modified = m32 == 0xa1b2cd34
	r.snaplen = r.order.Uint32(r.hdr[16:20])
	// The upper bits carry the FCS length; the link type is the low 16.
	r.linkType = r.order.Uint32(r.hdr[20:24]) & 0xffff
	return r, nil
}

// next reads the next frame; io.EOF at a clean end.
func (r *reader) next(f *frame) error {
	if r.ng {
		return r.nextNg(f)
	}
	n := 16
	if r.modified {
		n = 24
	}
	if _, err := io.ReadFull(r.r, r.hdr[:n]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return r.corrupt("truncated record header")
	}
	sec, frac := r.order.Uint32(r.hdr[0:4]), r.order.Uint32(r.hdr[4:8])
	caplen, wire := r.order.Uint32(r.hdr[8:12]), r.order.Uint32(r.hdr[12:16])
	if caplen > MaxCaptureLen {
		return r.corrupt("record of %d bytes, more than %d", caplen, MaxCaptureLen)
	}
	if err := r.fill(int(caplen)); err != nil {
		return err
	}
	nsec := int64(frac)
	if !r.nanos {
		nsec *= 1000
	}
	*f = frame{data: r.buf, ts: time.Unix(int64(sec), nsec).UTC(), wireLen: int(max(wire, caplen)),
		linkType: r.linkType, snaplen: r.snaplen}
	return nil
}

// fill reads n bytes into r.buf.
func (r *reader) fill(n int) error {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return r.corrupt("truncated: %d bytes announced", n)
	}
	return nil
}

func (r *reader) u16(b []byte) uint16 { return r.order.Uint16(b) }
func (r *reader) u32(b []byte) uint32 { return r.order.Uint32(b) }

// nextNg reads blocks until a packet block.
func (r *reader) nextNg(f *frame) error {
	for {
		var h [12]byte
		n, err := io.ReadFull(r.r, h[:8])
		if err == io.EOF && n == 0 {
			return io.EOF
		}
		if err != nil {
			return r.corrupt("truncated block header")
		}
		typ := binary.LittleEndian.Uint32(h[0:4])
		if typ == 0x0a0d0d0a {
			// A section header: its byte order magic says how to read
			// the length that came before it.
			if _, err := io.ReadFull(r.r, h[8:12]); err != nil {
				return r.corrupt("truncated section header")
			}
			switch binary.LittleEndian.Uint32(h[8:12]) {
			case 0x1a2b3c4d:
				r.order = binary.LittleEndian
			case 0x4d3c2b1a:
				r.order = binary.BigEndian
			default:
				return r.corrupt("section header byte-order magic %x", h[8:12])
			}
			length := r.u32(h[4:8])
			if length < 28 || length%4 != 0 || length > maxIDB {
				return r.corrupt("section header of %d bytes", length)
			}
			if _, err := r.r.Discard(int(length) - 12); err != nil {
				return r.corrupt("truncated section header")
			}
			if r.ifaces != nil {
				r.section++
			}
			r.ifaces = r.ifaces[:0]
			continue
		}
		if r.order == nil {
			return r.corrupt("block before the section header")
		}
		typ = r.u32(h[0:4])
		length := r.u32(h[4:8])
		if length < 12 || length%4 != 0 {
			return r.corrupt("block of %d bytes", length)
		}
		body := int(length) - 12 // less type, length and trailing length
		switch typ {
		case 1: // interface description
			if length > maxIDB {
				return r.corrupt("interface description of %d bytes", length)
			}
			if err := r.fill(body + 4); err != nil {
				return err
			}
			if err := r.interfaceDescription(r.buf[:body]); err != nil {
				return err
			}
		case 2, 3, 6: // packet, simple packet, enhanced packet
			if length > maxPacketBlock {
				return r.corrupt("packet block of %d bytes", length)
			}
			if err := r.fill(body + 4); err != nil {
				return err
			}
			ok, err := r.packet(typ, r.buf[:body], f)
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
		default:
			if _, err := r.r.Discard(body + 4); err != nil {
				return r.corrupt("truncated block of type %#x", typ)
			}
		}
	}
}

func (r *reader) interfaceDescription(b []byte) error {
	if len(b) < 8 {
		return r.corrupt("interface description of %d bytes", len(b))
	}
	if len(r.ifaces) == maxInterfaces {
		return r.corrupt("more than %d interfaces in a section", maxInterfaces)
	}
	ifc := ngIface{linkType: uint32(r.u16(b[0:2])), snaplen: r.u32(b[4:8]), unitsPerSec: 1e6}
	opts := b[8:]
	for len(opts) >= 4 {
		code, n := r.u16(opts[0:2]), int(r.u16(opts[2:4]))
		padded := (n + 3) &^ 3
		if code == 0 || 4+padded > len(opts) {
			break
		}
		val := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			v := val[0]
			if v&0x80 != 0 {
				if v&0x7f > 63 {
					return r.corrupt("if_tsresol 2^-%d", v&0x7f)
				}
				ifc.unitsPerSec = 1 << (v & 0x7f)
			} else {
				if v > 19 {
					return r.corrupt("if_tsresol 10^-%d", v)
				}
				ifc.unitsPerSec = 1
				for range v {
					ifc.unitsPerSec *= 10
				}
			}
		case code == 14 && n == 8: // if_tsoffset, seconds
			ifc.offset = int64(r.order.Uint64(val))
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// packet decodes a packet block's body (after type and length, before the
// trailing length). ok is false for a block to skip.
func (r *reader) packet(typ uint32, b []byte, f *frame) (ok bool, err error) {
	var ifc, caplen, wire int
	var tsHi, tsLo uint32
	var data []byte
	switch typ {
	case 6, 2: // enhanced, obsolete packet: iface, ts, caplen, len, data
		if len(b) < 20 {
			return false, r.corrupt("packet block of %d bytes", len(b))
		}
		if typ == 6 {
			ifc = int(r.u32(b[0:4]))
		} else {
			ifc = int(r.u16(b[0:2]))
		}
		tsHi, tsLo = r.u32(b[4:8]), r.u32(b[8:12])
		c, w := r.u32(b[12:16]), r.u32(b[16:20])
		if uint64(c) > uint64(len(b)-20) {
			return false, r.corrupt("packet of %d bytes in a block of %d", c, len(b))
		}
		caplen, wire = int(c), int(w)
		data = b[20 : 20+caplen]
	case 3: // simple: len, data up to the first interface's snaplen
		if len(b) < 4 {
			return false, r.corrupt("simple packet block of %d bytes", len(b))
		}
		wire = int(r.u32(b[0:4]))
		caplen = min(wire, len(b)-4)
		data = b[4 : 4+caplen]
	}
	if ifc >= len(r.ifaces) {
		return false, r.corrupt("packet of interface %d, %d described", ifc, len(r.ifaces))
	}
	in := &r.ifaces[ifc]
	var ts time.Time
	if typ != 3 {
		ts = in.timestamp(uint64(tsHi)<<32 | uint64(tsLo))
	}
	*f = frame{data: data, ts: ts, wireLen: max(wire, caplen), linkType: in.linkType, snaplen: in.snaplen, iface: ifc, section: r.section}
	return true, nil
}

func (ifc *ngIface) timestamp(t uint64) time.Time {
	sec, frac := t/ifc.unitsPerSec, t%ifc.unitsPerSec
	// frac < unitsPerSec, so the high word is below the divisor.
	hi, lo := bits.Mul64(frac, 1e9)
	nsec, _ := bits.Div64(hi, lo, ifc.unitsPerSec)
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}
