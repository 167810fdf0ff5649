package capture

import (
	"bytes"
	"time"
)

// IP fragment reassembly, for IPv4 (RFC 791) and IPv6 (RFC 8200 section
// 4.5), by capture time and under a byte budget.
//
// Policy, chosen because a passive observer cannot know which copy of an
// overlapping byte the receiver kept:
//   - overlapping fragments that carry the same bytes (retransmissions,
//     duplicated frames) are accepted;
//   - overlapping fragments that disagree abandon the whole datagram
//     (for IPv6 this is what RFC 5722 requires of the receiver; for IPv4 it
//     refuses to pick a winner in a classic evasion technique);
//   - a datagram is abandoned when it outlives the timeout (measured in
//     capture time from its first fragment), when it would grow past
//     65535 bytes, when it has more than maxFragsPerDatagram fragments, or
//     when the budget is needed for newer datagrams (oldest go first).
// Every fragment thrown away is counted in Stats.FragmentsDropped.

const (
	// maxDatagram is the largest reassembled payload: the IPv4 total
	// length and the IPv6 payload length are 16-bit fields.
	maxDatagram = 65535
	// maxFragsPerDatagram bounds the work and the span list of one
	// datagram; real senders use a handful (FreeBSD accepts 16).
	maxFragsPerDatagram = 64
	// datagramOverhead is what a datagram costs beyond its buffer: the
	// struct, its map entry and span list, rounded up. Charged to the
	// budget so that many tiny fragments cannot exhaust memory either.
	datagramOverhead = 256 + maxFragsPerDatagram*16
)

// fragKey identifies the fragments of one datagram: source, destination,
// identification, and for IPv4 the protocol (RFC 791). IPv4 addresses use
// the first 4 bytes.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

// span is a half-open byte range [start, end) of a datagram.
type span struct{ start, end int }

type datagram struct {
	key   fragKey
	first time.Time // capture time of the first fragment seen
	buf   []byte    // bytes received so far, at their offsets; len = highest end
	have  []span    // sorted, disjoint, non-adjacent ranges present in buf
	total int       // payload length, known from the last fragment; -1 before
	inner uint8     // IPv6: header type of the fragmentable part
	frags int       // fragments accepted
	cost  int       // bytes charged to the budget

	older, newer *datagram // in order of creation
}

// reassembler holds incomplete datagrams. It is not safe for concurrent use.
type reassembler struct {
	max     int           // budget in bytes (buffers + overhead)
	timeout time.Duration // by capture time
	stats   *Stats

	held           int // bytes charged
	pending        map[fragKey]*datagram
	oldest, newest *datagram
	// done is the buffer of the datagram handed out last: it must stay
	// valid until the next packet, after which it is reused.
	done []byte
}

func newReassembler(maxBytes int, timeout time.Duration, stats *Stats) reassembler {
	return reassembler{max: maxBytes, timeout: timeout, stats: stats, pending: make(map[fragKey]*datagram)}
}

// expire drops datagrams whose first fragment is older than the timeout
// at capture time now. Datagrams are created in capture order, so only
// the oldest need checking; when the clock of a capture goes backwards,
// expiry simply waits.
func (r *reassembler) expire(now time.Time) {
	for r.oldest != nil && now.Sub(r.oldest.first) > r.timeout {
		r.drop(r.oldest)
	}
}

// drop abandons a datagram, counting its fragments as dropped.
func (r *reassembler) drop(dg *datagram) {
	r.stats.FragmentsDropped += uint64(dg.frags)
	r.remove(dg)
}

func (r *reassembler) remove(dg *datagram) {
	delete(r.pending, dg.key)
	if dg.older != nil {
		dg.older.newer = dg.newer
	} else {
		r.oldest = dg.newer
	}
	if dg.newer != nil {
		dg.newer.older = dg.older
	} else {
		r.newest = dg.older
	}
	dg.older, dg.newer = nil, nil
	r.held -= dg.cost
	dg.cost = 0
}

// add files one fragment: offset and data are its position and bytes in
// the reassembled payload, more its More Fragments flag, inner the
// protocol (IPv4) or first header type of the fragmentable part (IPv6).
// When this completes the datagram, add returns its payload (valid until
// the next call) and the inner protocol of the fragment at offset 0.
func (r *reassembler) add(key fragKey, ts time.Time, offset int, more bool, data []byte, inner uint8) (payload []byte, first uint8, ok bool) {
	r.expire(ts)
	end := offset + len(data)
	if end > maxDatagram || (more && (len(data) == 0 || len(data)%8 != 0)) {
		// Too long, or a non-final fragment whose length is not a
		// multiple of 8 octets: malformed. Its datagram cannot be
		// completed correctly either.
		r.stats.FragmentsDropped++
		if dg := r.pending[key]; dg != nil {
			r.drop(dg)
		}
		return nil, 0, false
	}

	dg := r.pending[key]
	if dg == nil {
		if datagramOverhead+end > r.max || !r.makeRoom(nil, datagramOverhead) {
			r.stats.FragmentsDropped++
			return nil, 0, false
		}
		dg = &datagram{key: key, first: ts, total: -1, cost: datagramOverhead}
		r.pending[key] = dg
		if r.newest != nil {
			r.newest.newer = dg
			dg.older = r.newest
		} else {
			r.oldest = dg
		}
		r.newest = dg
		r.held += dg.cost
	}

	// Consistency with what is known of the datagram's length.
	if !more {
		if (dg.total >= 0 && dg.total != end) || len(dg.buf) > end {
			r.stats.FragmentsDropped++
			r.drop(dg)
			return nil, 0, false
		}
	} else if dg.total >= 0 && end > dg.total {
		r.stats.FragmentsDropped++
		r.drop(dg)
		return nil, 0, false
	}

	// Overlaps must agree byte for byte.
	for _, s := range dg.have {
		lo, hi := max(s.start, offset), min(s.end, end)
		if lo < hi && !bytes.Equal(dg.buf[lo:hi], data[lo-offset:hi-offset]) {
			r.stats.FragmentsDropped++
			r.drop(dg)
			return nil, 0, false
		}
	}
	if dg.frags == maxFragsPerDatagram {
		r.stats.FragmentsDropped++
		r.drop(dg)
		return nil, 0, false
	}

	// Grow the buffer, within the budget.
	if end > cap(dg.buf) {
		newCap := min(max(end, 2*cap(dg.buf), 1500), maxDatagram)
		if !r.makeRoom(dg, newCap-cap(dg.buf)) {
			r.stats.FragmentsDropped++
			r.drop(dg)
			return nil, 0, false
		}
		var nb []byte
		if cap(r.done) >= newCap {
			// Reuse the buffer of the datagram completed last; the
			// packet that used it is gone. The one spare buffer is
			// outside the budget, which it cannot exceed by more
			// than maxDatagram.
			nb, r.done = r.done[:len(dg.buf):newCap], nil
		} else {
			nb = make([]byte, len(dg.buf), newCap)
		}
		copy(nb, dg.buf)
		r.held += newCap - cap(dg.buf)
		dg.cost += newCap - cap(dg.buf)
		dg.buf = nb
	}
	if end > len(dg.buf) {
		dg.buf = dg.buf[:end]
	}
	if len(data) > 0 { // an empty last fragment only announces the length
		copy(dg.buf[offset:end], data)
		dg.have = addSpan(dg.have, span{offset, end})
	}
	dg.frags++
	if !more {
		dg.total = end
	}
	if offset == 0 {
		dg.inner = inner
	}

	if dg.total < 0 || len(dg.have) != 1 || dg.have[0].start != 0 || dg.have[0].end != dg.total {
		return nil, 0, false
	}
	r.remove(dg)
	r.done = dg.buf
	return dg.buf[:dg.total], dg.inner, true
}

// makeRoom evicts the oldest datagrams other than dg (which may be nil)
// until need more bytes fit in the budget. It reports whether they do.
func (r *reassembler) makeRoom(dg *datagram, need int) bool {
	for r.held+need > r.max {
		victim := r.oldest
		if victim == dg {
			victim = dg.newer
		}
		if victim == nil {
			return false
		}
		r.drop(victim)
	}
	return true
}

// addSpan returns the sorted disjoint list have with s added, merging
// overlapping and adjacent spans. It has at most maxFragsPerDatagram
// entries, since each fragment adds at most one.
func addSpan(have []span, s span) []span {
	out := make([]span, 0, len(have)+1)
	i := 0
	for ; i < len(have) && have[i].end < s.start; i++ {
		out = append(out, have[i])
	}
	for ; i < len(have) && have[i].start <= s.end; i++ {
		s.start = min(s.start, have[i].start)
		s.end = max(s.end, have[i].end)
	}
	out = append(out, s)
	return append(out, have[i:]...)
}
