package seqnum

import "testing"

func TestLessThanAcrossWrap(t *testing.T) {
	tests := []struct {
		a, b Value
		less bool
	}{
		{0, 1, true},
		{1, 0, false},
		{5, 5, false},
		{0xffffffff, 0, true}, // the wrap: 2^32-1 comes just before 0
		{0, 0xffffffff, false},
		{0xfffffff0, 0x10, true},
		{0x10, 0xfffffff0, false},
		{0x7fffffff, 0x80000000, true},
		{0x80000000, 0x7fffffff, false},
		{100, 100 + 1<<30, true},
		{0xffff0000, 0x3fff0000, true}, // 0xffff0000 + 2^30, wrapped: still after
	}
	for _, tt := range tests {
		if got := tt.a.LessThan(tt.b); got != tt.less {
			t.Errorf("%#x.LessThan(%#x) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
		if got := tt.a.LessThanEq(tt.b); got != (tt.less || tt.a == tt.b) {
			t.Errorf("%#x.LessThanEq(%#x) = %v", tt.a, tt.b, got)
		}
	}
}

func TestInRangeAndWindow(t *testing.T) {
	tests := []struct {
		v, first, end Value
		in            bool
	}{
		{5, 0, 10, true},
		{0, 0, 10, true},
		{10, 0, 10, false},
		{0xfffffffe, 0xfffffff0, 0x10, true}, // range across the wrap
		{0x5, 0xfffffff0, 0x10, true},
		{0x10, 0xfffffff0, 0x10, false},
		{0xffffffef, 0xfffffff0, 0x10, false},
		{3, 10, 0, false}, // inverted: empty
		{7, 7, 7, false},  // empty
	}
	for _, tt := range tests {
		if got := tt.v.InRange(tt.first, tt.end); got != tt.in {
			t.Errorf("%#x.InRange(%#x, %#x) = %v, want %v", tt.v, tt.first, tt.end, got, tt.in)
		}
		if got := tt.v.InWindow(tt.first, tt.first.Size(tt.end)); tt.first.LessThanEq(tt.end) && got != tt.in {
			t.Errorf("%#x.InWindow(%#x, %d) = %v, want %v", tt.v, tt.first, tt.first.Size(tt.end), got, tt.in)
		}
	}
}

func TestArithmeticAcrossWrap(t *testing.T) {
	v := Value(0xfffffffa)
	w := v.Add(10)
	if w != 4 {
		t.Fatalf("Add across wrap = %#x, want 4", w)
	}
	if v.Size(w) != 10 || v.Diff(w) != 10 || w.Diff(v) != -10 {
		t.Fatalf("Size/Diff across wrap: %d %d %d", v.Size(w), v.Diff(w), w.Diff(v))
	}
	if Max(v, w) != w || Min(v, w) != v {
		t.Fatalf("Max/Min across wrap wrong")
	}
	if !Overlap(v, 10, 2, 5) || Overlap(v, 10, 4, 5) || Overlap(v, 0, v, 10) {
		t.Fatalf("Overlap across wrap wrong")
	}
}
