package capture

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"
	"time"
)

// Capture files are read by our own readers of the pcap format
// (draft-ietf-opsawg-pcap) and the pcapng format (draft-ietf-opsawg-pcapng)
// rather than by gopacket's pcapgo, because pcapgo v1.1.19 is not safe on
// hostile files: NgReader panics with a division by zero on an if_tsresol
// option of 0x7f or more, and both readers allocate a packet buffer of
// whatever size a header claims (up to 4 GiB). Ours cap every length, turn
// every inconsistency into a one-line error naming the file, and hand out
// packets without copying them: a packet is a slice of the read buffer,
// valid until the next read, or until released (see chunkReader).

const (
	// maxCaptureLen is the largest packet we accept, libpcap's
	// MAXIMUM_SNAPLEN; a record claiming more is corrupt (libpcap agrees).
	maxCaptureLen = 262144
	// readBufSize holds one packet with room to spare for pcapng options,
	// so that a whole block can be peeked at once.
	readBufSize = maxCaptureLen + 64<<10
	// maxInterfaces bounds the interface table of a pcapng section.
	maxInterfaces = 4096
	// maxSecretsBytes bounds the key log text kept from Decryption
	// Secrets Blocks: some 90,000 lines of NSS key log, far more than a
	// capture that fits in memory needs. Blocks beyond it are counted in
	// Stats.SecretsDropped and skipped.
	maxSecretsBytes = 16 << 20
)

// File magic numbers, as read little-endian from the first four bytes.
const (
	magicPcapMicro      = 0xa1b2c3d4
	magicPcapMicroSwap  = 0xd4c3b2a1
	magicPcapNano       = 0xa1b23c4d
	magicPcapNanoSwap   = 0x4d3cb2a1
	magicPcapModified   = 0xa1b2cd34 // Alexey Kuznetzov's patched libpcap: 8 more bytes per record
	magicPcapModSwap    = 0x34cdb2a1
	pcapngSHB           = 0x0a0d0d0a // section header block type, a palindrome
	pcapngByteOrder     = 0x1a2b3c4d
	pcapngIDB           = 1
	pcapngPacketBlock   = 2 // obsolete Packet Block
	pcapngSimplePacket  = 3
	pcapngEnhancedPkt   = 6
	pcapngDSB           = 0x0a       // Decryption Secrets Block
	pcapngSecretsTLS    = 0x544c534b // "TLSK": an NSS key log
	pcapngOptEndOfOpt   = 0
	pcapngOptTSResol    = 9
	pcapngOptTSOffset   = 14
	pcapngMajorVersion  = 1
	pcapHeaderLen       = 24
	pcapRecordHeaderLen = 16
)

// packet is one frame read from a file.
type rawPacket struct {
	data     []byte // captured bytes, owned by the reader
	ts       time.Time
	wireLen  int
	linkType LinkType
}

// ngInterface is what we keep of a pcapng Interface Description Block.
type ngInterface struct {
	linkType    LinkType
	snaplen     uint32
	unitsPerSec uint64 // from if_tsresol; 10^6 by default
	offset      int64  // if_tsoffset, seconds
}

// countingReader counts the bytes read from the file itself, for Offset
// when the content is compressed.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// fileReader reads packets from a pcap or pcapng stream.
type fileReader struct {
	name  string
	br    *chunkReader
	src   *countingReader
	gz    bool
	pos   int64        // bytes consumed of the (decompressed) stream
	shown atomic.Int64 // Offset as published to other goroutines
	stats *Stats
	good  uint64 // packets read whole, for error messages

	ng        bool
	bigEndian bool
	// pcap
	nanos    bool
	extra    int // bytes after the 16-byte record header (modified pcap)
	linkType LinkType
	// pcapng
	ifaces []ngInterface
	lastTS time.Time
	// secrets are the TLS key logs of Decryption Secrets Blocks, copied
	// out of the read buffer; secretBytes is their total length.
	secrets     [][]byte
	secretBytes int
	// onSecrets, when set, is handed each key log kept, as it is read.
	onSecrets func(text []byte)
}

func (r *fileReader) u16(b []byte) uint16 {
	if r.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *fileReader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *fileReader) fail(sentinel error, field, format string, args ...any) *FileError {
	return &FileError{Name: r.name, Offset: r.pos, Packets: r.good, Field: field, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// peek returns the next n bytes without consuming them. At a clean end of
// input (no byte available and eofOK) it returns io.EOF; an end inside
// the n bytes is a truncation.
func (r *fileReader) peek(n int, field string, eofOK bool) ([]byte, error) {
	b, err := r.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if eofOK && len(b) == 0 {
			return nil, io.EOF
		}
		return nil, r.fail(ErrTruncated, field, "truncated: the file ends after %d of %d bytes", len(b), n)
	}
	if errors.Is(err, errBufferFull) { // cannot happen: callers bound n
		return nil, r.fail(ErrCorrupt, field, "%d bytes do not fit the read buffer", n)
	}
	return nil, &FileError{Name: r.name, Offset: r.pos, Field: field, Msg: err.Error(), Err: err}
}

// skip consumes n bytes.
func (r *fileReader) skip(n int, field string) error {
	m, err := r.br.Discard(n)
	r.pos += int64(m)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail(ErrTruncated, field, "truncated: the file ends %d bytes short", n-m)
	}
	return &FileError{Name: r.name, Offset: r.pos, Field: field, Msg: err.Error(), Err: err}
}

// publish makes the current position visible to Offset.
func (r *fileReader) publish() {
	if r.gz {
		r.shown.Store(r.src.n.Load())
	} else {
		r.shown.Store(r.pos)
	}
}

// newFileReader detects the format from the magic number and reads the
// file header (pcap) or the first section header and interface (pcapng).
func newFileReader(in io.Reader, name string, stats *Stats, chunk int) (*fileReader, error) {
	src := &countingReader{r: in}
	r := &fileReader{name: name, src: src, br: newChunkReader(src, chunk), stats: stats}
	magic, err := r.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// gzip, as written by "tcpdump -w - | gzip" and read by
		// libpcap 1.10+ and Wireshark.
		zr, err := gzip.NewReader(r.br)
		if err != nil {
			return nil, r.fail(ErrNotCapture, "gzip header", "%v", err)
		}
		r.gz = true
		r.br = newChunkReader(zr, chunk)
		magic, err = r.br.Peek(4)
		if err != nil && len(magic) == 0 && !errors.Is(err, io.EOF) {
			return nil, r.fail(ErrNotCapture, "gzip data", "%v", err)
		}
	}
	if len(magic) < 4 {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &FileError{Name: name, Offset: -1, Msg: err.Error(), Err: err}
		}
		if len(magic) == 0 {
			return nil, &FileError{Name: name, Offset: -1, Msg: "empty file, not a pcap or pcapng file", Err: ErrNotCapture}
		}
		return nil, &FileError{Name: name, Offset: -1,
			Msg: fmt.Sprintf("only %d bytes, not a pcap or pcapng file", len(magic)), Err: ErrNotCapture}
	}
	switch m := binary.LittleEndian.Uint32(magic); m {
	case magicPcapMicro, magicPcapNano, magicPcapModified:
		return r, r.readPcapHeader(false, m == magicPcapNano, m == magicPcapModified)
	case magicPcapMicroSwap, magicPcapNanoSwap, magicPcapModSwap:
		return r, r.readPcapHeader(true, m == magicPcapNanoSwap, m == magicPcapModSwap)
	case pcapngSHB:
		r.ng = true
		return r, r.readFirstInterface()
	}
	return nil, &FileError{Name: name, Offset: -1, Err: ErrNotCapture,
		Msg: fmt.Sprintf("not a pcap or pcapng file (magic %#08x, %q)", binary.BigEndian.Uint32(magic), magic[:4])}
}

// readPcapHeader reads the 24-byte pcap file header: magic(4) major(2)
// minor(2) thiszone(4) sigfigs(4) snaplen(4) linktype(4).
func (r *fileReader) readPcapHeader(bigEndian, nanos, modified bool) error {
	r.bigEndian, r.nanos = bigEndian, nanos
	if modified {
		r.extra = 8 // ifindex(4) protocol(2) pkt_type(1) pad(1)
	}
	h, err := r.peek(pcapHeaderLen, "pcap file header", false)
	if err != nil {
		return err
	}
	if major := r.u16(h[4:6]); major != 2 {
		return r.fail(ErrCorrupt, "pcap file header", "unsupported version %d.%d", major, r.u16(h[6:8]))
	}
	// The upper bits carry FCS information (draft-ietf-opsawg-pcap
	// section 5.8); the link type is the low 16 bits.
	r.linkType = LinkType(r.u32(h[20:24]) & 0xffff)
	// A link type we do not decode is no reason to refuse the file:
	// its packets are counted as skipped (SkipLinkType).
	if err := r.skip(pcapHeaderLen, "pcap file header"); err != nil {
		return err
	}
	r.publish()
	return nil
}

// next reads the next packet into p. It returns io.EOF at a clean end.
func (r *fileReader) next(p *rawPacket) error {
	var err error
	if r.ng {
		err = r.nextNg(p)
	} else {
		err = r.nextPcap(p)
	}
	if err == nil {
		r.good++
	}
	r.publish()
	return err
}

func (r *fileReader) nextPcap(p *rawPacket) error {
	n := pcapRecordHeaderLen + r.extra
	h, err := r.peek(n, "packet record header", true)
	if err != nil {
		return err
	}
	sec, frac := r.u32(h[0:4]), r.u32(h[4:8])
	capLen, wireLen := r.u32(h[8:12]), r.u32(h[12:16])
	if capLen > maxCaptureLen {
		// The framing of the rest of the file is lost.
		return r.fail(ErrCorrupt, "packet record header",
			"captured length %d exceeds the maximum of %d", capLen, maxCaptureLen)
	}
	if err := r.skip(n, "packet record header"); err != nil {
		return err
	}
	data, err := r.peek(int(capLen), "packet data", false)
	if err != nil {
		return err
	}
	if err := r.skip(int(capLen), "packet data"); err != nil { // data stays valid: Discard does not refill
		return err
	}
	nsec := int64(frac)
	if !r.nanos {
		nsec *= 1000
	}
	p.data = data
	p.ts = time.Unix(int64(sec), nsec).UTC()
	p.wireLen = max(int(wireLen), int(capLen))
	p.linkType = r.linkType
	return nil
}

// blockHeader reads a pcapng block's type and total length, switching
// byte order at a section header. It does not consume anything.
func (r *fileReader) blockHeader(eofOK bool) (typ, length uint32, err error) {
	h, err := r.peek(8, "block header", eofOK)
	if err != nil {
		return 0, 0, err
	}
	if typ = binary.LittleEndian.Uint32(h[0:4]); typ == pcapngSHB {
		h, err = r.peek(12, "section header block", false)
		if err != nil {
			return 0, 0, err
		}
		switch {
		case binary.LittleEndian.Uint32(h[8:12]) == pcapngByteOrder:
			r.bigEndian = false
		case binary.BigEndian.Uint32(h[8:12]) == pcapngByteOrder:
			r.bigEndian = true
		default:
			return 0, 0, r.fail(ErrCorrupt, "section header block", "bad byte-order magic %#08x", binary.BigEndian.Uint32(h[8:12]))
		}
	} else {
		typ = r.u32(h[0:4])
	}
	length = r.u32(h[4:8])
	if length < 12 || length%4 != 0 {
		return 0, 0, r.fail(ErrCorrupt, "block header", "block type %#x has invalid total length %d", typ, length)
	}
	return typ, length, nil
}

// block peeks at a whole block of the given total length and checks its
// trailing length copy. It does not consume it.
func (r *fileReader) block(length uint32, field string) ([]byte, error) {
	if length > readBufSize {
		return nil, r.fail(ErrCorrupt, field, "block of %d bytes exceeds the maximum of %d", length, readBufSize)
	}
	b, err := r.peek(int(length), field, false)
	if err != nil {
		return nil, err
	}
	if trailer := r.u32(b[length-4:]); trailer != length {
		return nil, r.fail(ErrCorrupt, field, "trailing block length %d differs from %d", trailer, length)
	}
	return b, nil
}

// sectionHeader reads a Section Header Block: type(4) length(4)
// byte-order magic(4) major(2) minor(2) section length(8) options.
func (r *fileReader) sectionHeader(length uint32) error {
	b, err := r.block(length, "section header block")
	if err != nil {
		return err
	}
	if len(b) < 28 {
		return r.fail(ErrCorrupt, "section header block", "too short (%d bytes)", len(b))
	}
	if major, minor := r.u16(b[12:14]), r.u16(b[14:16]); major != pcapngMajorVersion {
		return r.fail(ErrCorrupt, "section header block", "unsupported pcapng version %d.%d", major, minor)
	}
	r.ifaces = r.ifaces[:0] // interface numbers are per section
	return r.skip(int(length), "section header block")
}

// interfaceDescription reads an Interface Description Block: type(4)
// length(4) link type(2) reserved(2) snaplen(4) options.
func (r *fileReader) interfaceDescription(length uint32) error {
	const field = "interface description block"
	b, err := r.block(length, field)
	if err != nil {
		return err
	}
	if len(b) < 20 {
		return r.fail(ErrCorrupt, field, "too short (%d bytes)", len(b))
	}
	if len(r.ifaces) == maxInterfaces {
		return r.fail(ErrCorrupt, field, "more than %d interfaces in one section", maxInterfaces)
	}
	ifc := ngInterface{linkType: LinkType(r.u16(b[8:10])), snaplen: r.u32(b[12:16]), unitsPerSec: 1e6}
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, n := r.u16(opts[0:2]), int(r.u16(opts[2:4]))
		padded := (n + 3) &^ 3
		if code == pcapngOptEndOfOpt || 4+padded > len(opts) {
			break // malformed options end the list; the block is still usable
		}
		val := opts[4 : 4+n]
		switch {
		case code == pcapngOptTSResol && n >= 1:
			v := val[0]
			if v&0x80 != 0 {
				if v&0x7f > 63 {
					return r.fail(ErrCorrupt, field, "if_tsresol 2^-%d is out of range", v&0x7f)
				}
				ifc.unitsPerSec = 1 << (v & 0x7f)
			} else {
				if v > 19 { // 10^19 is the largest power of ten in a uint64
					return r.fail(ErrCorrupt, field, "if_tsresol 10^-%d is out of range", v)
				}
				ifc.unitsPerSec = 1
				for range v {
					ifc.unitsPerSec *= 10
				}
			}
		case code == pcapngOptTSOffset && n == 8:
			if r.bigEndian {
				ifc.offset = int64(binary.BigEndian.Uint64(val))
			} else {
				ifc.offset = int64(binary.LittleEndian.Uint64(val))
			}
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return r.skip(int(length), field)
}

// readFirstInterface reads the first section header and the blocks up to
// the first interface description, whose link type becomes the Source's.
func (r *fileReader) readFirstInterface() error {
	typ, length, err := r.blockHeader(false)
	if err != nil {
		return err
	}
	if err := r.sectionHeader(length); err != nil {
		return err
	}
	for len(r.ifaces) == 0 {
		typ, length, err = r.blockHeader(true)
		if err == io.EOF {
			r.linkType = linkTypeNone
			r.publish()
			return nil // a capture without interfaces has no packets either
		}
		if err != nil {
			return err
		}
		switch typ {
		case pcapngSHB:
			err = r.sectionHeader(length)
		case pcapngIDB:
			err = r.interfaceDescription(length)
		case pcapngPacketBlock, pcapngSimplePacket, pcapngEnhancedPkt:
			return r.fail(ErrCorrupt, "packet block", "packet before any interface description block")
		case pcapngDSB:
			err = r.secretsBlock(length)
		default:
			err = r.skip(int(length), "block")
		}
		if err != nil {
			return err
		}
	}
	r.linkType = r.ifaces[0].linkType // other interfaces may differ; unsupported ones are skipped
	r.publish()
	return nil
}

// timestamp converts a pcapng timestamp in the interface's units.
func (ifc *ngInterface) timestamp(t uint64) time.Time {
	sec := t / ifc.unitsPerSec
	frac := t % ifc.unitsPerSec
	// frac*1e9/unitsPerSec without overflow: frac < unitsPerSec, so the
	// high word of the product is below the divisor and Div64 cannot panic.
	hi, lo := bits.Mul64(frac, 1e9)
	nsec, _ := bits.Div64(hi, lo, ifc.unitsPerSec)
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}

// nextNg reads blocks until a packet. A packet block that is internally
// inconsistent but correctly framed is counted as a packet and a decode
// error, and skipped; damage to the framing itself is fatal.
func (r *fileReader) nextNg(p *rawPacket) error {
	for {
		typ, length, err := r.blockHeader(true)
		if err != nil {
			return err
		}
		switch typ {
		case pcapngSHB:
			err = r.sectionHeader(length)
		case pcapngIDB:
			err = r.interfaceDescription(length)
		case pcapngEnhancedPkt, pcapngPacketBlock, pcapngSimplePacket:
			var ok bool
			ok, err = r.packetBlock(typ, length, p)
			if ok {
				return nil
			}
		case pcapngDSB:
			err = r.secretsBlock(length)
		default:
			// Name resolution, interface statistics, custom blocks:
			// not ours.
			err = r.skip(int(length), "block")
		}
		if err != nil {
			return err
		}
	}
}

// packetBlock reads an Enhanced Packet Block, a Simple Packet Block or an
// obsolete Packet Block. ok is false when the block was skipped.
func (r *fileReader) packetBlock(typ, length uint32, p *rawPacket) (ok bool, err error) {
	const field = "packet block"
	if length > readBufSize {
		// Larger than any packet we accept plus generous options.
		r.stats.Packets++
		r.stats.DecodeErrors++
		return false, r.skip(int(length), field)
	}
	b, err := r.block(length, field)
	if err != nil {
		return false, err
	}
	var ifID, capLen, wireLen uint32
	var data []byte
	var ts time.Time
	bad := false
	switch typ {
	case pcapngEnhancedPkt, pcapngPacketBlock:
		// EPB: interface(4) ts high(4) ts low(4) captured(4) original(4) data options
		// PB:  interface(2) drops(2) ts high(4) ts low(4) captured(4) original(4) data options
		if len(b) < 32 {
			bad = true
			break
		}
		if typ == pcapngEnhancedPkt {
			ifID = r.u32(b[8:12])
		} else {
			ifID = uint32(r.u16(b[8:10]))
		}
		capLen, wireLen = r.u32(b[20:24]), r.u32(b[24:28])
		if ifID >= uint32(len(r.ifaces)) || uint64(capLen) > uint64(len(b)-32) {
			bad = true
			break
		}
		data = b[28 : 28+capLen]
		ts = r.ifaces[ifID].timestamp(uint64(r.u32(b[12:16]))<<32 | uint64(r.u32(b[16:20])))
	case pcapngSimplePacket:
		// SPB: original length(4) data; the captured length is implied.
		if len(b) < 16 || len(r.ifaces) == 0 {
			bad = true
			break
		}
		wireLen = r.u32(b[8:12])
		capLen = min(wireLen, uint32(len(b)-16))
		if snap := r.ifaces[0].snaplen; snap != 0 {
			capLen = min(capLen, snap)
		}
		data = b[12 : 12+capLen]
		ts = r.lastTS // an SPB has no timestamp: reuse the last one
	}
	if bad {
		// Counted here because Next never sees it.
		r.stats.Packets++
		r.stats.DecodeErrors++
		return false, r.skip(int(length), field)
	}
	r.lastTS = ts
	p.data = data
	p.ts = ts
	p.wireLen = max(int(wireLen), len(data))
	p.linkType = r.ifaces[ifID].linkType
	// data stays valid: Discard does not refill the buffer.
	return true, r.skip(int(length), field)
}

// secretsBlock reads a Decryption Secrets Block: type(4) length(4)
// secrets type(4) secrets length(4) secrets data, padded to 4 octets,
// options, length(4). A TLS key log ("TLSK") is kept; other secrets
// (WireGuard, ZigBee, ...) are skipped. The block may be larger than the
// read buffer (editcap --inject-secrets writes a whole key log file into
// one), so its data is copied out in pieces rather than peeked at whole.
// A block whose secrets length overruns it is skipped as malformed.
func (r *fileReader) secretsBlock(length uint32) error {
	const field = "decryption secrets block"
	if length < 20 {
		r.stats.SecretsDropped++
		return r.skip(int(length), field)
	}
	h, err := r.peek(16, field, false)
	if err != nil {
		return err
	}
	typ, n := r.u32(h[8:12]), r.u32(h[12:16])
	if typ != pcapngSecretsTLS || n > length-20 {
		if typ == pcapngSecretsTLS {
			r.stats.SecretsDropped++
		}
		return r.skipBlock(length, 0, field)
	}
	if err := r.skip(16, field); err != nil {
		return err
	}
	keep := r.secretBytes+int(n) <= maxSecretsBytes
	var text []byte
	if keep {
		text = make([]byte, 0, n) // n is bounded by maxSecretsBytes here
	}
	for left := int(n); left > 0; {
		k := min(left, 64<<10)
		b, err := r.peek(k, field, false)
		if err != nil {
			return err
		}
		if keep {
			text = append(text, b...)
		}
		if err := r.skip(k, field); err != nil {
			return err
		}
		left -= k
	}
	if keep {
		r.secrets = append(r.secrets, text)
		r.secretBytes += len(text)
		r.stats.Secrets++
		if r.onSecrets != nil {
			r.onSecrets(text)
		}
	} else {
		r.stats.SecretsDropped++
	}
	return r.skipBlock(length, 16+int64(n), field)
}

// skipBlock skips the rest of a block of which done bytes were consumed,
// checking its trailing length copy, without holding the block in the
// read buffer.
func (r *fileReader) skipBlock(length uint32, done int64, field string) error {
	if err := r.skip(int(int64(length)-done-4), field); err != nil {
		return err
	}
	t, err := r.peek(4, field, false)
	if err != nil {
		return err
	}
	if trailer := r.u32(t); trailer != length {
		return r.fail(ErrCorrupt, field, "trailing block length %d differs from %d", trailer, length)
	}
	return r.skip(4, field)
}
