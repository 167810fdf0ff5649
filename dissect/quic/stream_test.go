package quic

import (
	"bytes"
	"errors"
	"testing"
)

func streamBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestCryptoStream(t *testing.T) {
	data := streamBytes(3000)
	type frag struct{ lo, hi int }
	tests := []struct {
		name  string
		frags []frag
		want  int // prefix delivered at the end
	}{
		{"in order", []frag{{0, 1000}, {1000, 2000}, {2000, 3000}}, 3000},
		{"reversed", []frag{{2000, 3000}, {1000, 2000}, {0, 1000}}, 3000},
		{"overlapping", []frag{{500, 1500}, {0, 700}, {1400, 3000}}, 3000},
		{"duplicates", []frag{{0, 100}, {0, 100}, {50, 150}, {100, 200}, {0, 200}}, 200},
		{"gap", []frag{{0, 100}, {200, 300}}, 100},
		{"covering", []frag{{100, 200}, {300, 400}, {0, 3000}}, 3000},
		{"inside", []frag{{10, 20}, {0, 5}, {5, 10}}, 20},
		{"adjacent pieces", []frag{{30, 40}, {20, 30}, {10, 20}, {0, 10}}, 40},
		{"empty", []frag{{0, 0}, {5, 5}}, 0},
	}
	for _, tt := range tests {
		s := NewCryptoStream(0)
		var got []byte
		for _, f := range tt.frags {
			if _, err := s.Add(uint64(f.lo), data[f.lo:f.hi], func(b []byte) { got = append(got, b...) }); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
		if !bytes.Equal(got, data[:tt.want]) || s.Next() != uint64(tt.want) {
			t.Errorf("%s: %d bytes delivered, next %d, want %d", tt.name, len(got), s.Next(), tt.want)
		}
		if tt.want == 3000 && s.Buffered() != 0 {
			t.Errorf("%s: %d bytes still buffered", tt.name, s.Buffered())
		}
	}
}

func TestCryptoStreamLimits(t *testing.T) {
	s := NewCryptoStream(1000)
	nop := func([]byte) {}
	if _, err := s.Add(990, make([]byte, 20), nop); !errors.Is(err, ErrCryptoOverflow) {
		t.Errorf("beyond the window: %v", err)
	}
	if s.Buffered() != 0 {
		t.Error("an overflowing frame was kept")
	}
	if _, err := s.Add(MaxVarint, []byte{1}, nop); !errors.Is(err, ErrMalformed) {
		t.Errorf("beyond 2^62: %v", err)
	}
	// One-byte pieces with gaps: at most maxSegments pieces.
	var err error
	for i := 0; i < 2*maxSegments && err == nil; i++ {
		_, err = s.Add(uint64(2+2*i), []byte{1}, nop)
	}
	if !errors.Is(err, ErrCryptoOverflow) || len(s.segs) > maxSegments {
		t.Errorf("%d pieces, %v", len(s.segs), err)
	}
	// Conflicting bytes are flagged.
	s = NewCryptoStream(0)
	s.Add(10, []byte("abcd"), nop)
	if r, _ := s.Add(12, []byte("XY"), nop); !r.Conflict || r.Duplicate != 2 {
		t.Errorf("conflict %+v", r)
	}
	if r, _ := s.Add(12, []byte("cd"), nop); r.Conflict {
		t.Errorf("same bytes flagged %+v", r)
	}
	s.Reset()
	if s.Next() != 0 || s.Buffered() != 0 {
		t.Error("reset")
	}
}
