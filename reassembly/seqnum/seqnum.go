// Package seqnum does TCP sequence number arithmetic.
//
// Sequence numbers live in a space of 2^32 values that wraps around
// (RFC 9293 section 3.4). Comparing them as plain integers goes wrong at the
// wrap; comparing the signed 32-bit difference (RFC 1982 serial number
// arithmetic) does not, as long as the two numbers are less than 2^31 apart,
// which TCP's window limit of 2^30 (RFC 7323 section 2.3) guarantees for any
// two numbers that matter at the same time.
package seqnum

// Value is a TCP sequence number.
type Value uint32

// Size is a distance in sequence space (a byte count).
type Size uint32

// LessThan reports whether v comes before w.
func (v Value) LessThan(w Value) bool { return int32(v-w) < 0 }

// LessThanEq reports whether v comes before w or is w.
func (v Value) LessThanEq(w Value) bool { return int32(v-w) <= 0 }

// InRange reports whether first <= v < end. An empty or inverted range
// contains nothing.
func (v Value) InRange(first, end Value) bool {
	return !v.LessThan(first) && v.LessThan(end)
}

// InWindow reports whether v lies in the size bytes starting at first.
func (v Value) InWindow(first Value, size Size) bool {
	return v.InRange(first, first.Add(size))
}

// Add returns v advanced by s.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Size returns the distance from v forward to w (w - v). It is meaningful
// only when v.LessThanEq(w).
func (v Value) Size(w Value) Size { return Size(w - v) }

// Diff returns w - v as a signed distance: positive when w is after v.
func (v Value) Diff(w Value) int32 { return int32(w - v) }

// Max returns the later of v and w.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns the earlier of v and w.
func Min(v, w Value) Value {
	if v.LessThan(w) {
		return v
	}
	return w
}

// Overlap reports whether the ranges [a, a+as) and [b, b+bs) share a value.
func Overlap(a Value, as Size, b Value, bs Size) bool {
	return a.LessThan(b.Add(bs)) && b.LessThan(a.Add(as)) && as > 0 && bs > 0
}
