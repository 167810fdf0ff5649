package quic

import "bytes"

// DefaultCryptoBuffer is how far ahead of its delivered prefix a CRYPTO
// stream accepts data, in bytes. A ClientHello with post-quantum key
// shares spans two or three Initials and a certificate chain some
// kilobytes; 64 KiB is the largest handshake message crypto/tls accepts
// but for certificates.
const DefaultCryptoBuffer = 64 << 10

// maxSegments bounds how many separate out-of-order pieces a stream keeps,
// so that a flood of one-byte frames with gaps between them costs a fixed
// amount of bookkeeping, not one slice per byte.
const maxSegments = 64

// CryptoStream reassembles one CRYPTO stream (one encryption level, one
// direction; RFC 9000 section 19.6): frames arrive at any offset, out of
// order, overlapping or repeated, and the stream hands on its contiguous
// prefix exactly once, in order.
//
// Data beyond the prefix is copied and kept, up to the buffer size given
// to NewCryptoStream; bytes handed to deliver alias either the frame given
// to Add or the stream's own buffer, and are valid only during the call.
type CryptoStream struct {
	limit    int
	next     uint64 // offset of the first byte not yet delivered
	segs     []cseg // sorted by offset, disjoint, not adjacent, all beyond next
	buffered int
}

type cseg struct {
	off  uint64
	data []byte // owned by the stream
}

func (s cseg) end() uint64 { return s.off + uint64(len(s.data)) }

// AddResult says what one Add did with the frame's bytes.
type AddResult struct {
	Delivered int // bytes delivered (from this frame and from the buffer)
	Buffered  int // bytes of this frame kept for later
	Duplicate int // bytes of this frame already delivered or buffered
	// Conflict reports bytes of this frame that differ from bytes of the
	// same offsets already buffered: the first copy wins, unless the new
	// one extends the prefix (then it is delivered and the buffered copy
	// dropped).
	Conflict bool
}

// NewCryptoStream returns a stream that buffers up to limit bytes ahead of
// its prefix (DefaultCryptoBuffer if limit <= 0).
func NewCryptoStream(limit int) *CryptoStream {
	if limit <= 0 {
		limit = DefaultCryptoBuffer
	}
	return &CryptoStream{limit: limit}
}

// Next returns the length of the prefix delivered so far.
func (s *CryptoStream) Next() uint64 { return s.next }

// Buffered returns how many bytes wait beyond the prefix.
func (s *CryptoStream) Buffered() int { return s.buffered }

// Reset forgets everything: after a Retry or Version Negotiation the
// client's CRYPTO stream starts again at offset 0.
func (s *CryptoStream) Reset() {
	s.next, s.segs, s.buffered = 0, s.segs[:0], 0
}

// Add takes the data of a CRYPTO frame at offset off and delivers what it
// makes contiguous. It fails with ErrCryptoOverflow, and keeps nothing of
// the frame, when the frame ends more than the buffer size beyond the
// prefix or would split the buffer into too many pieces; with ErrMalformed
// when the frame ends beyond 2^62-1.
func (s *CryptoStream) Add(off uint64, data []byte, deliver func([]byte)) (AddResult, error) {
	var r AddResult
	if off > MaxVarint || uint64(len(data)) > MaxVarint-off {
		return r, &ParseError{Msg: "crypto", Field: "offset", Err: ErrMalformed}
	}
	end := off + uint64(len(data))
	if end <= s.next {
		r.Duplicate = len(data)
		return r, nil
	}
	if off < s.next {
		r.Duplicate = int(s.next - off)
		data = data[s.next-off:]
		off = s.next
	}
	if end-s.next > uint64(s.limit) {
		return r, ErrCryptoOverflow
	}
	// Compare with the buffered pieces this frame overlaps.
	for _, sg := range s.segs {
		if sg.off >= end {
			break
		}
		if sg.end() <= off {
			continue
		}
		lo, hi := max(off, sg.off), min(end, sg.end())
		if !bytes.Equal(data[lo-off:hi-off], sg.data[lo-sg.off:hi-sg.off]) {
			r.Conflict = true
		}
	}
	if off == s.next {
		deliver(data)
		r.Delivered = len(data)
		s.next = end
		n := 0
		for _, sg := range s.segs {
			if sg.off > s.next {
				break
			}
			if sg.end() > s.next {
				part := sg.data[s.next-sg.off:]
				deliver(part)
				r.Delivered += len(part)
				s.next = sg.end()
			}
			s.buffered -= len(sg.data)
			n++
		}
		s.segs = s.segs[:copy(s.segs, s.segs[n:])]
		return r, nil
	}
	return r, s.insert(off, data, &r)
}

// insert keeps the parts of [off, off+len(data)) no piece holds yet,
// merging pieces that touch.
func (s *CryptoStream) insert(off uint64, data []byte, r *AddResult) error {
	end := off + uint64(len(data))
	merged := make([]cseg, 0, len(s.segs)+2)
	add := func(sg cseg, own bool) {
		if n := len(merged); n > 0 && merged[n-1].end() == sg.off {
			merged[n-1].data = append(merged[n-1].data, sg.data...)
			return
		}
		if !own {
			sg.data = append([]byte(nil), sg.data...)
		}
		merged = append(merged, sg)
	}
	pos, kept := off, 0
	gap := func(hi uint64) {
		if hi > pos {
			add(cseg{pos, data[pos-off : hi-off]}, false)
			kept += int(hi - pos)
		}
	}
	for _, sg := range s.segs {
		if pos < end && sg.off >= pos {
			gap(min(sg.off, end))
		}
		add(sg, true)
		pos = max(pos, sg.end())
	}
	if pos < end {
		gap(end)
	}
	if len(merged) > maxSegments {
		return ErrCryptoOverflow
	}
	s.segs = merged
	s.buffered += kept
	r.Buffered = kept
	r.Duplicate += len(data) - kept
	return nil
}
