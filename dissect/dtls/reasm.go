package dtls

import (
	"slices"
	"strconv"
	"time"
)

// span is a byte range [start, end) of a message that fragments covered.
type span struct{ start, end int }

// msgBuf is one handshake message being joined, or joined and waiting for
// an earlier message_seq. It owns buf.
type msgBuf struct {
	seq         uint16
	typ         HandshakeType
	length      int
	epoch       uint16
	buf         []byte
	spans       []span // sorted, disjoint, not touching
	have        int    // bytes covered
	frags       int
	first, last time.Time
	done        bool // every byte is there
	conflict    bool // overlap_conflict was reported for it
	incomplete  bool // given up: delivered without its bytes
	gap         int  // message_seq values skipped just before it
}

// histEntry remembers a delivered message, to tell its retransmissions
// from a new handshake that reuses the message_seq.
type histEntry struct {
	used       bool
	seq        uint16
	typ        HandshakeType
	length     int
	hash       uint64 // FNV-1a of the body; 0 for an incomplete message
	incomplete bool
	count      int // times seen again
}

// histLen is how many delivered messages a direction remembers: more than
// any flight holds.
const histLen = 32

// fragResult is what became of one fragment.
type fragResult uint8

const (
	fragNew     fragResult = iota // new bytes of a message not yet complete
	fragDup                       // bytes already held, of a message not yet complete
	fragRetx                      // the first fragment of a message seen again after it was complete
	fragRetxDup                   // another fragment of a message seen again after it was complete
	fragLate                      // of a message_seq long passed and forgotten
	fragDropped                   // over a cap, or disagreeing with its message: dropped
)

// reasm joins the handshake fragments of one direction into messages and
// delivers them once, in message_seq order (RFC 6347 4.2.2, RFC 9147
// 5.5). It is not safe for concurrent use.
type reasm struct {
	cfg    Config
	report func(kind string, n int, detail string) // anomalies; set by the owner

	next      uint16 // message_seq of the next message to deliver
	delivered int
	pending   []*msgBuf // at most cfg.MaxPendingMessages
	pendBytes int
	ready     []*msgBuf // delivered, not yet handed on by the owner
	free      []*msgBuf
	hist      [histLen]histEntry
	histPos   int

	bigSeq uint16 // message_seq of the last message too large, to report it once
	bigSet bool

	fragments, dupFragments, dupBytes, late, dropped int
}

// maxFree bounds the buffers a reasm keeps for reuse, and the size of
// one it keeps: a large Certificate's buffer is let go.
const (
	maxFree    = 4
	maxFreeCap = 16 << 10
)

func (r *reasm) anomaly(kind string, n int, detail string) {
	if r.report != nil {
		r.report(kind, n, detail)
	}
}

// insert takes one fragment that arrived at ts in a record of epoch. Data
// is copied; the caller's buffer is not kept. For fragRetx the history
// entry of the message is returned.
func (r *reasm) insert(f Fragment, epoch uint16, ts time.Time) (fragResult, *histEntry) {
	r.fragments++
	if f.Length > r.cfg.MaxMessage {
		if !r.bigSet || r.bigSeq != f.MessageSeq {
			r.bigSet, r.bigSeq = true, f.MessageSeq
			r.anomaly(AnomalyHandshakeTooLarge, f.Length, f.Type.String()+" of "+strconv.Itoa(f.Length)+" bytes, message_seq "+strconv.Itoa(int(f.MessageSeq)))
		}
		r.dropped++
		return fragDropped, nil
	}
	d := int(int16(f.MessageSeq - r.next))
	if m := r.find(f.MessageSeq); m != nil {
		return r.add(m, f, ts)
	}
	if d < 0 {
		h := r.lookup(f.MessageSeq)
		if h == nil {
			r.late++
			return fragLate, nil
		}
		if h.typ == f.Type && h.length == f.Length && (len(f.Data) != f.Length || h.incomplete || fnv(f.Data) == h.hash) {
			return r.retransmitted(h, f)
		}
		// The same message_seq with another message: the peer started
		// over (a stateless server answers a HelloVerifyRequest's
		// ClientHello from message_seq 0 again, a client restarts).
		r.flushGaps()
		r.next = f.MessageSeq
		d = 0
	}
	if d >= r.cfg.MaxSeqAhead {
		if r.delivered > 0 || len(r.pending) > 0 {
			r.anomaly(AnomalySeqJump, len(f.Data), "message_seq "+strconv.Itoa(int(f.MessageSeq))+" while "+strconv.Itoa(int(r.next))+" is expected")
			r.dropped++
			return fragDropped, nil
		}
		// Nothing seen yet this way: the capture began mid-handshake.
		r.next = f.MessageSeq
	}
	if len(r.pending) >= r.cfg.MaxPendingMessages || r.pendBytes+f.Length > r.cfg.MaxPendingBytes {
		r.anomaly(AnomalyTooManyPending, f.Length, f.Type.String()+" message_seq "+strconv.Itoa(int(f.MessageSeq)))
		r.dropped++
		return fragDropped, nil
	}
	m := r.alloc(f.Length)
	m.seq, m.typ, m.length, m.epoch, m.first = f.MessageSeq, f.Type, f.Length, epoch, ts
	r.pending = append(r.pending, m)
	r.pendBytes += f.Length
	return r.add(m, f, ts)
}

func (r *reasm) retransmitted(h *histEntry, f Fragment) (fragResult, *histEntry) {
	r.dupFragments++
	r.dupBytes += len(f.Data)
	if f.Offset != 0 {
		return fragRetxDup, h
	}
	h.count++
	return fragRetx, h
}

// add copies a fragment into m. Bytes already held are compared, not
// overwritten: the first copy wins, and a different one is reported.
func (r *reasm) add(m *msgBuf, f Fragment, ts time.Time) (fragResult, *histEntry) {
	if m.typ != f.Type || m.length != f.Length {
		r.anomaly(AnomalyFragmentMismatch, len(f.Data), f.Type.String()+" of "+strconv.Itoa(f.Length)+" bytes at message_seq "+
			strconv.Itoa(int(f.MessageSeq))+", which holds "+m.typ.String()+" of "+strconv.Itoa(m.length))
		r.dropped++
		return fragDropped, nil
	}
	m.last = ts
	if m.done {
		// Complete but waiting for an earlier message: seen again.
		r.dupFragments++
		r.dupBytes += len(f.Data)
		if !m.conflict && string(m.buf[f.Offset:f.Offset+len(f.Data)]) != string(f.Data) {
			m.conflict = true
			r.anomaly(AnomalyFragmentConflict, len(f.Data), m.typ.String()+" message_seq "+strconv.Itoa(int(m.seq)))
		}
		if f.Offset == 0 {
			return fragRetx, &histEntry{seq: m.seq, typ: m.typ, length: m.length, count: 1}
		}
		return fragRetxDup, nil
	}
	m.frags++
	start, end := f.Offset, f.Offset+len(f.Data)
	fresh := 0
	// Walk the spans that touch [start, end): compare what they hold,
	// copy what lies between them.
	pos := start
	i := 0
	for i < len(m.spans) && m.spans[i].end < start {
		i++
	}
	for j := i; j < len(m.spans) && m.spans[j].start <= end && pos < end; j++ {
		s := m.spans[j]
		if s.start > pos {
			fresh += copy(m.buf[pos:s.start], f.Data[pos-start:s.start-start])
			pos = s.start
		}
		if ov := min(s.end, end); ov > pos {
			if !m.conflict && string(m.buf[pos:ov]) != string(f.Data[pos-start:ov-start]) {
				m.conflict = true
				r.anomaly(AnomalyFragmentConflict, ov-pos, m.typ.String()+" message_seq "+strconv.Itoa(int(m.seq)))
			}
			pos = ov
		}
	}
	if pos < end {
		fresh += copy(m.buf[pos:end], f.Data[pos-start:])
	}
	m.have += fresh
	if fresh < len(f.Data) {
		r.dupBytes += len(f.Data) - fresh
	}
	if len(f.Data) > 0 {
		m.spans = mergeSpan(m.spans, span{start, end})
	}
	if len(m.spans) > r.cfg.MaxPieces {
		r.anomaly(AnomalyTooManyPieces, m.length, m.typ.String()+" message_seq "+strconv.Itoa(int(m.seq))+" in more than "+strconv.Itoa(r.cfg.MaxPieces)+" pieces")
		r.remove(m)
		r.release(m)
		r.dropped++
		return fragDropped, nil
	}
	res := fragNew
	if fresh == 0 && len(f.Data) > 0 {
		r.dupFragments++
		res = fragDup
	}
	if m.have == m.length {
		m.done = true
		r.deliverChain()
	}
	return res, nil
}

// mergeSpan inserts s into the sorted spans and joins those it touches.
func mergeSpan(spans []span, s span) []span {
	i := 0
	for i < len(spans) && spans[i].end < s.start {
		i++
	}
	j := i
	for j < len(spans) && spans[j].start <= s.end {
		s.start = min(s.start, spans[j].start)
		s.end = max(s.end, spans[j].end)
		j++
	}
	if i == j {
		return slices.Insert(spans, i, s)
	}
	spans[i] = s
	return slices.Delete(spans, i+1, j)
}

// deliverChain moves complete messages that are next in order to ready.
func (r *reasm) deliverChain() {
	for {
		m := r.find(r.next)
		if m == nil || !m.done {
			return
		}
		r.deliver(m)
	}
}

func (r *reasm) deliver(m *msgBuf) {
	r.remove(m)
	r.ready = append(r.ready, m)
	r.next = m.seq + 1
	r.delivered++
	h := &r.hist[r.histPos]
	r.histPos = (r.histPos + 1) % histLen
	*h = histEntry{used: true, seq: m.seq, typ: m.typ, length: m.length, incomplete: m.incomplete}
	if !m.incomplete {
		h.hash = fnv(m.buf[:m.length])
	}
}

// flushGaps delivers every pending message in message_seq order, skipping
// the message_seq values that never came and giving up on messages not
// complete: the peer has moved on, so what is missing was lost to the
// capture, not to the network.
func (r *reasm) flushGaps() {
	if len(r.pending) == 0 {
		return
	}
	next := r.next
	slices.SortFunc(r.pending, func(a, b *msgBuf) int {
		return int(a.seq-next) - int(b.seq-next)
	})
	for len(r.pending) > 0 {
		m := r.pending[0]
		m.gap = int(m.seq - r.next)
		if !m.done {
			m.incomplete = true
		}
		r.deliver(m)
	}
}

// release hands a delivered message back for reuse.
func (r *reasm) release(m *msgBuf) {
	if len(r.free) < maxFree && cap(m.buf) <= maxFreeCap {
		*m = msgBuf{buf: m.buf[:0], spans: m.spans[:0]}
		r.free = append(r.free, m)
	}
}

func (r *reasm) alloc(n int) *msgBuf {
	if k := len(r.free); k > 0 {
		m := r.free[k-1]
		r.free = r.free[:k-1]
		if cap(m.buf) >= n {
			m.buf = m.buf[:n]
			return m
		}
		m.buf = make([]byte, n)
		return m
	}
	return &msgBuf{buf: make([]byte, n)}
}

func (r *reasm) find(seq uint16) *msgBuf {
	for _, m := range r.pending {
		if m.seq == seq {
			return m
		}
	}
	return nil
}

func (r *reasm) remove(m *msgBuf) {
	for i, p := range r.pending {
		if p == m {
			r.pending = slices.Delete(r.pending, i, i+1)
			r.pendBytes -= m.length
			return
		}
	}
}

// lookup returns the latest history entry of seq.
func (r *reasm) lookup(seq uint16) *histEntry {
	for k := 1; k <= histLen; k++ {
		h := &r.hist[(r.histPos-k+histLen)%histLen]
		if h.used && h.seq == seq {
			return h
		}
	}
	return nil
}

// fnv is 64-bit FNV-1a: a cheap fingerprint of a delivered message, to
// tell its retransmission from another message of the same length.
func fnv(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
