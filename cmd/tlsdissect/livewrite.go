package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/pcapout"
)

// -w during a live capture. A file is read a second time once every
// record is known (writePackets); an interface cannot be. So the raw
// frames of each open connection are kept as they are read, and when the
// connection's Record comes out (at its close) they are written if the
// Record passed -Y and dropped otherwise. The memory is bounded twice:
// per connection (-w-max-conn; a connection past it keeps its first
// frames, the handshake) and in all (-w-max-memory); what neither let in
// is counted and said at the end. The output holds each connection's
// frames in order, connection after connection as they close, not the
// capture's order across connections (Wireshark sorts by time on demand).

// Defaults of the live -w bounds.
const (
	defaultWMaxConn   = 1 << 20
	defaultWMaxMemory = 64 << 20
)

// closeGrace is how long (capture time) frames of a connection closed by
// its packets (a RST, a FIN each way) wait for its Record before they are
// dropped: a connection that carried no TLS never gets one.
const closeGrace = 60 * time.Second

// maxClosed bounds the connections remembered after their Record, for
// the stragglers that follow it (the last ACK, a late RST).
const maxClosed = 1 << 18

// maxHeldConns bounds the connections held open at once (an entry
// without frames still counts what the bounds refused it).
const maxHeldConns = 1 << 20

// frameSource is a packet source that can tell the raw frame of the
// packet it returned last: *capture.Source.
type frameSource interface {
	packetSource
	RawFrame() capture.RawFrame
}

// keepingSource hands packets to the pipeline and their frames to a
// liveWriter, on the pipeline's reading goroutine.
type keepingSource struct {
	frameSource
	lw *liveWriter
}

func (k *keepingSource) NextPacket(p *packet.Packet) error {
	err := k.frameSource.NextPacket(p)
	if err == nil {
		k.lw.add(p, k.frameSource.RawFrame())
	}
	return err
}

// wkey is a connection by its endpoints, in either direction.
type wkey struct {
	lo, hi netip.AddrPort
	udp    bool
}

func wkeyOf(a, b netip.AddrPort, udp bool) wkey {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	b = netip.AddrPortFrom(b.Addr().Unmap(), b.Port())
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return wkey{a, b, udp}
}

// heldFrame is a copy of a frame, owned by the liveWriter.
type heldFrame struct {
	data     []byte
	linkType uint32
	ts       time.Time
	wireLen  int
	syn      bool
}

// heldConn is what is kept of an open connection.
type heldConn struct {
	frames     []heldFrame
	bytes      int
	last       time.Time // capture time of the last frame
	first      netip.AddrPort
	finA, finB bool // a FIN from first, from the other side
	closedAt   time.Time
	// Frames refused by the bounds, counted against the connection if
	// its Record is selected.
	overConn, overTotal, overBytes uint64
	fragmented                     uint64
}

// closedConn is a connection whose Record came out: its last time and
// whether it was selected, for the frames that trail it.
type closedConn struct {
	end      time.Time
	selected bool
}

// liveStats counts a live -w.
type liveStats struct {
	conns, frames uint64 // written
	// Packets of selected connections not written: over the
	// per-connection bound, over the total bound.
	overConn, overTotal, overBytes uint64
	// Packets rebuilt from IP fragments, not kept: the earlier fragments
	// are gone.
	fragmented uint64
	// Packets left without a Record (not TLS, or never ended), and
	// packets of connections -Y left out.
	unclaimed, dropped uint64
}

// liveWriter keeps frames until their connection's Record says whether
// to write them. add runs on the pipeline's reading goroutine, record on
// its merger: a mutex orders them.
type liveWriter struct {
	mu         sync.Mutex
	name       string
	f          *os.File
	format     pcapout.Format
	out        *pcapout.Writer // from the first frame written
	linkType   uint32          // of the first frame read: an empty pcap's
	maxConn    int
	maxTotal   int
	idle       time.Duration // a connection idle this long has had its Record
	held       int
	conns      map[wkey]*heldConn
	closed     map[wkey]closedConn
	lastSweep  time.Time
	st         liveStats
	err        error // the first write error; nothing is written after it
	onErr      func()
	formatName string
}

// newLiveWriter creates -w's file, now, so that a file that cannot be
// written is said before the capture; what it holds begins with the
// first frame written, whose link type a pcap header needs.
func newLiveWriter(o *options, onErr func()) (*liveWriter, error) {
	f, err := os.OpenFile(o.writeFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("-w: %w", err)
	}
	format := pcapout.FormatFor(o.writeFile)
	return &liveWriter{
		name: o.writeFile, f: f, format: format, formatName: format.String(),
		maxConn: o.wMaxConn, maxTotal: o.wMaxMemory,
		idle:  o.idleTimeout + o.gapTimeout + closeGrace,
		conns: map[wkey]*heldConn{}, closed: map[wkey]closedConn{},
		onErr: onErr,
	}, nil
}

// add keeps (a copy of) the frame of packet p, or writes or drops it at
// once when it trails a connection already decided.
func (lw *liveWriter) add(p *packet.Packet, raw capture.RawFrame) {
	src, dst, ts, udp := p.Segment.Src, p.Segment.Dst, p.Segment.Timestamp, false
	var flags uint8
	if p.Transport == packet.UDP {
		src, dst, ts, udp = p.Datagram.Src, p.Datagram.Dst, p.Datagram.Timestamp, true
	} else {
		flags = p.Segment.Flags
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.linkType == 0 {
		lw.linkType = uint32(raw.LinkType)
	}
	lw.sweep(ts)
	k := wkeyOf(src, dst, udp)
	syn := flags&packet.FlagSYN != 0 && flags&packet.FlagACK == 0
	if c, ok := lw.closed[k]; ok {
		if udp || syn || ts.Sub(c.end) > pcapout.Tail {
			delete(lw.closed, k)
		} else {
			if c.selected {
				lw.write([]heldFrame{{data: raw.Data, linkType: uint32(raw.LinkType), ts: raw.Timestamp, wireLen: raw.WireLen}})
				lw.flush()
			} else {
				lw.st.dropped++
			}
			return
		}
	}
	hc := lw.conns[k]
	if hc == nil {
		if len(lw.conns) >= maxHeldConns {
			lw.st.overTotal++
			lw.st.overBytes += uint64(len(raw.Data))
			return
		}
		hc = &heldConn{first: src}
		lw.conns[k] = hc
	}
	hc.last = ts
	if raw.Reassembled {
		// Only the last fragment is at hand: a file with it alone would
		// show a packet that never was.
		hc.fragmented++
		return
	}
	n := len(raw.Data)
	if hc.bytes+n > lw.maxConn {
		hc.overConn++
		hc.overBytes += uint64(n)
		return
	}
	if lw.held+n > lw.maxTotal {
		hc.overTotal++
		hc.overBytes += uint64(n)
		return
	}
	hc.frames = append(hc.frames, heldFrame{data: bytes.Clone(raw.Data), linkType: uint32(raw.LinkType), ts: raw.Timestamp, wireLen: raw.WireLen, syn: syn})
	hc.bytes += n
	lw.held += n
	switch {
	case flags&packet.FlagRST != 0:
		hc.closedAt = ts
	case flags&packet.FlagFIN != 0:
		if src == hc.first {
			hc.finA = true
		} else {
			hc.finB = true
		}
		if hc.finA && hc.finB {
			hc.closedAt = ts
		}
	}
}

// sweep drops, once a second of capture time, the frames of connections
// that will get no Record: closed by their packets closeGrace ago, or
// idle past every timeout; and forgets connections decided more than a
// straggler's time ago.
func (lw *liveWriter) sweep(now time.Time) {
	if now.Sub(lw.lastSweep) < time.Second {
		return
	}
	lw.lastSweep = now
	for k, hc := range lw.conns {
		if (!hc.closedAt.IsZero() && now.Sub(hc.closedAt) > closeGrace) || now.Sub(hc.last) > lw.idle {
			lw.unclaim(k, hc)
		}
	}
	for k, c := range lw.closed {
		if now.Sub(c.end) > pcapout.Tail {
			delete(lw.closed, k)
		}
	}
}

// unclaim drops a connection that got no Record.
func (lw *liveWriter) unclaim(k wkey, hc *heldConn) {
	lw.st.unclaimed += uint64(len(hc.frames))
	lw.release(k, hc)
}

func (lw *liveWriter) release(k wkey, hc *heldConn) {
	lw.held -= hc.bytes
	delete(lw.conns, k)
}

// record is told every Record as it comes out, and whether -Y selected
// it: the connection's frames up to its end are written or dropped, and
// the frames after it are kept for the next connection of the same
// endpoints, or follow it as stragglers.
func (lw *liveWriter) record(r *flows.Record, selected bool) {
	c, errC := netip.ParseAddr(r.Client.IP)
	s, errS := netip.ParseAddr(r.Server.IP)
	if errC != nil || errS != nil {
		return
	}
	udp := r.Transport == "quic" || r.Transport == "dtls" || r.Transport == "udp"
	k := wkeyOf(netip.AddrPortFrom(c, r.Client.Port), netip.AddrPortFrom(s, r.Server.Port), udp)
	first, end := r.TS.Time, r.EndTS.Time
	lw.mu.Lock()
	defer lw.mu.Unlock()
	hc := lw.conns[k]
	if !udp && len(lw.closed) < maxClosed {
		lw.closed[k] = closedConn{end: end, selected: selected}
	}
	if hc == nil {
		return
	}
	lw.release(k, hc)
	var mine, after []heldFrame
	for _, f := range hc.frames {
		switch {
		case f.ts.Before(first):
			// An earlier connection's that got no Record.
			lw.st.unclaimed++
		case !f.ts.After(end):
			mine = append(mine, f)
		default:
			after = append(after, f)
		}
	}
	if selected {
		lw.write(mine)
		lw.st.conns++
		lw.st.overConn += hc.overConn
		lw.st.overTotal += hc.overTotal
		lw.st.overBytes += hc.overBytes
		lw.st.fragmented += hc.fragmented
		lw.flush()
	} else {
		lw.st.dropped += uint64(len(mine))
	}
	// What came after the end: stragglers of this connection, or the
	// start of the next one on the same ports.
	var rest *heldConn
	for i, f := range after {
		if !udp && !f.syn && f.ts.Sub(end) <= pcapout.Tail && rest == nil {
			if selected {
				lw.write(after[i : i+1])
			} else {
				lw.st.dropped++
			}
			continue
		}
		if rest == nil {
			rest = &heldConn{first: hc.first}
			delete(lw.closed, k)
		}
		rest.frames = append(rest.frames, f)
		rest.bytes += len(f.data)
		rest.last = f.ts
	}
	if rest != nil {
		lw.conns[k] = rest
		lw.held += rest.bytes
	}
}

// start begins the file, in the link type of its first frame (pcap has
// one).
func (lw *liveWriter) start(linkType uint32) bool {
	if lw.out != nil {
		return true
	}
	out, err := pcapout.NewWriter(lw.f, lw.format, linkType)
	if err != nil {
		lw.fail(err)
		return false
	}
	lw.out = out
	return true
}

// write writes frames, unless a write failed before.
func (lw *liveWriter) write(frames []heldFrame) {
	for _, f := range frames {
		if lw.err != nil || !lw.start(f.linkType) {
			return
		}
		if err := lw.out.WriteFrame(f.linkType, f.data, f.ts, f.wireLen); err != nil {
			lw.fail(err)
			return
		}
		lw.st.frames++
	}
}

// flush pushes a decided connection to the file, so that a reader of it
// sees whole connections as they close.
func (lw *liveWriter) flush() {
	if lw.err == nil && lw.out != nil {
		if err := lw.out.Flush(); err != nil {
			lw.fail(err)
		}
	}
}

func (lw *liveWriter) fail(err error) {
	lw.err = fmt.Errorf("-w %s: %w", lw.name, err)
	if lw.onErr != nil {
		lw.onErr()
	}
}

// close drops what is still held (connections that got no Record) and
// finishes the file; the error is the first write's or the close's.
func (lw *liveWriter) close() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for k, hc := range lw.conns {
		lw.unclaim(k, hc)
	}
	if lw.err == nil && lw.start(max(lw.linkType, 1)) {
		if err := lw.out.Close(); err != nil {
			lw.fail(err)
		}
	}
	if err := lw.f.Close(); err != nil && lw.err == nil {
		lw.err = fmt.Errorf("-w %s: %w", lw.name, err)
	}
	return lw.err
}

// report says what was written, and what the bounds left out (always:
// a file missing packets must not pass unnoticed).
func (lw *liveWriter) report(w io.Writer, verbose bool) {
	st := lw.st
	if verbose {
		fmt.Fprintf(w, "%s: -w %s: %d packets of %d connections, %s\n", progName, lw.name, st.frames, st.conns, lw.formatName)
	}
	var lost []string
	if st.overConn > 0 {
		lost = append(lost, fmt.Sprintf("%d over -w-max-conn %d", st.overConn, lw.maxConn))
	}
	if st.overTotal > 0 {
		lost = append(lost, fmt.Sprintf("%d over -w-max-memory %d", st.overTotal, lw.maxTotal))
	}
	if st.overConn+st.overTotal > 0 {
		lost[len(lost)-1] += fmt.Sprintf(" (%d bytes in all)", st.overBytes)
	}
	if st.fragmented > 0 {
		lost = append(lost, fmt.Sprintf("%d rebuilt from IP fragments", st.fragmented))
	}
	if len(lost) > 0 {
		fmt.Fprintf(w, "%s: warning: -w %s lacks packets of the connections selected: %s\n", progName, lw.name, strings.Join(lost, ", "))
	}
}
