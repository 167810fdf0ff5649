package flows

// boundedMap is a map from string keys that holds at most max entries and
// forgets the oldest (by first insertion) when a new key would exceed that.
// The lineage maps of a Tracker use it so that a capture of a million
// connections keeps a bounded memory of tickets, session IDs and leaves.
type boundedMap[V any] struct {
	max   int
	m     map[string]V
	order []string // keys in insertion order; order[head:] are live
	head  int
}

func newBoundedMap[V any](max int) *boundedMap[V] {
	if max < 1 {
		max = 1
	}
	return &boundedMap[V]{max: max, m: make(map[string]V)}
}

func (b *boundedMap[V]) get(k string) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

// put sets k to v. A key already present keeps its place in the eviction
// order, so that repeated updates cannot grow the order slice.
func (b *boundedMap[V]) put(k string, v V) {
	if _, ok := b.m[k]; ok {
		b.m[k] = v
		return
	}
	for len(b.m) >= b.max {
		old := b.order[b.head]
		b.order[b.head] = ""
		b.head++
		delete(b.m, old)
	}
	// Compact the order slice once its dead prefix dominates, so that it
	// stays within twice the live size.
	if b.head > 64 && b.head > len(b.order)/2 {
		n := copy(b.order, b.order[b.head:])
		clear(b.order[n:])
		b.order = b.order[:n]
		b.head = 0
	}
	b.m[k] = v
	b.order = append(b.order, k)
}

func (b *boundedMap[V]) len() int { return len(b.m) }
