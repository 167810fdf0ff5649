package flows

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The open set answers like a sorted set of the live IDs, and stays the
// size of the open connections behind one that never closes.
func TestOpenSet(t *testing.T) {
	var s openSet
	ref := map[uint64]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	next := uint64(1)
	check := func() {
		t.Helper()
		var want []uint64
		for id := range ref {
			want = append(want, id)
		}
		slices.Sort(want)
		got, ok := s.min()
		if len(want) == 0 {
			if ok {
				t.Fatalf("min %d of an empty set", got)
			}
			return
		}
		if !ok || got != want[0] || s.len() != len(want) {
			t.Fatalf("min %d (%v), len %d; want min %d, len %d", got, ok, s.len(), want[0], len(want))
		}
	}
	for i := 0; i < 4000; i++ {
		switch {
		case r.IntN(3) > 0 || len(ref) == 0:
			s.add(next)
			ref[next] = true
			next += uint64(1 + r.IntN(3))
		default:
			// Remove a random live ID, or one not in the set.
			var ids []uint64
			for id := range ref {
				ids = append(ids, id)
			}
			id := ids[r.IntN(len(ids))]
			if r.IntN(10) == 0 {
				id = next + 100
			}
			s.remove(id)
			delete(ref, id)
		}
		check()
	}
	// One connection open for good, a million short ones after it.
	var long openSet
	long.add(1)
	for id := uint64(2); id < 1_000_000; id++ {
		long.add(id)
		long.remove(id)
	}
	if m, _ := long.min(); m != 1 || long.len() != 1 || cap(long.ids) > 1024 {
		t.Errorf("min %d, len %d, %d IDs held: want 1, 1, a few", m, long.len(), cap(long.ids))
	}
}
