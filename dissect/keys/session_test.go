package keys

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func TestSessionCache(t *testing.T) {
	k := NewKeyLog(Limits{MaxSessions: 3})
	k.RememberSession(SessionByID, []byte("off"), bytes.Repeat([]byte{1}, 48))
	if _, ok := k.LookupSession(SessionByID, []byte("off")); ok {
		t.Fatal("a session was remembered before CarrySessions")
	}
	k.CarrySessions(true)
	ms := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 48) }
	id := func(i int) []byte { return []byte(fmt.Sprintf("session-%d", i)) }
	for i := 1; i <= 3; i++ {
		k.RememberSession(SessionByID, id(i), ms(i))
	}
	// The same bytes as a ticket are another session.
	if _, ok := k.LookupSession(SessionByTicket, id(1)); ok {
		t.Fatal("a session ID was found as a ticket")
	}
	for i := 1; i <= 3; i++ {
		if got, ok := k.LookupSession(SessionByID, id(i)); !ok || !bytes.Equal(got, ms(i)) {
			t.Fatalf("session %d: %x %v", i, got, ok)
		}
	}
	// Known already: the first master secret stays, nothing is evicted.
	k.RememberSession(SessionByID, id(2), ms(9))
	if got, _ := k.LookupSession(SessionByID, id(2)); !bytes.Equal(got, ms(2)) {
		t.Fatalf("re-remembered session changed: %x", got)
	}
	// A fourth forgets the oldest, a fifth the next.
	k.RememberSession(SessionByTicket, id(4), ms(4))
	k.RememberSession(SessionByTicket, id(5), ms(5))
	for i, want := range map[int]bool{1: false, 2: false, 3: true} {
		if _, ok := k.LookupSession(SessionByID, id(i)); ok != want {
			t.Errorf("session %d held = %v, want %v", i, ok, want)
		}
	}
	for i := 4; i <= 5; i++ {
		if got, ok := k.LookupSession(SessionByTicket, id(i)); !ok || !bytes.Equal(got, ms(i)) {
			t.Errorf("ticket %d: %x %v", i, got, ok)
		}
	}
	if held, n := k.Sessions(); held != 3 || n != 5 {
		t.Errorf("Sessions() = %d, %d; want 3, 5", held, n)
	}
	// What is not a session is not kept.
	k.RememberSession(SessionByID, nil, ms(6))
	k.RememberSession(SessionByID, id(6), ms(6)[:32])
	if _, n := k.Sessions(); n != 5 {
		t.Errorf("an empty ID or a short master secret was remembered (%d)", n)
	}
	if _, ok := k.LookupSession(SessionByID, nil); ok {
		t.Error("empty ID found")
	}
	// The caller's buffer is copied.
	buf := ms(7)
	k.RememberSession(SessionByID, id(7), buf)
	buf[0] = 0xff
	if got, _ := k.LookupSession(SessionByID, id(7)); got[0] != 7 {
		t.Error("RememberSession kept the caller's buffer")
	}
}

func TestLoaded(t *testing.T) {
	k := NewKeyLog(Limits{})
	if k.Loaded() {
		t.Fatal("a new KeyLog is loaded")
	}
	k.ParseKeyLogText(nil, "empty")
	if !k.Loaded() || k.Len() != 0 {
		t.Fatalf("after an empty log: loaded %v, len %d", k.Loaded(), k.Len())
	}
	m := NewKeyLog(Limits{})
	m.Merge(NewKeyLog(Limits{}))
	if !m.Loaded() {
		t.Error("Merge did not mark the log loaded")
	}
}

// TestConcurrentAdd adds secrets while other goroutines look them up, as a
// capture's later Decryption Secrets Blocks do (run with -race).
func TestConcurrentAdd(t *testing.T) {
	k := NewKeyLog(Limits{})
	k.CarrySessions(true)
	const n = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var cr [32]byte
				cr[31] = byte(g)
				if s, ok := k.Lookup(cr); ok && len(s.MasterSecret) != 48 {
					t.Error("a partial secret was seen")
					return
				}
				k.RememberSession(SessionByID, cr[:], bytes.Repeat([]byte{1}, 48))
				k.LookupSession(SessionByID, cr[:])
				_ = k.Len()
				_ = k.Loaded()
			}
		}()
	}
	for i := 0; i < n; i++ {
		line := fmt.Sprintf("CLIENT_RANDOM %064x %s\n", i, s48)
		if errs := k.AddDSB(SecretsTypeTLSKeyLog, []byte(line), "dsb"); len(errs) != 0 {
			t.Fatal(errs)
		}
	}
	close(stop)
	wg.Wait()
	if k.Len() != n || k.Stats().Secrets != n {
		t.Fatalf("Len %d, Secrets %d; want %d", k.Len(), k.Stats().Secrets, n)
	}
	for i := 0; i < n; i++ {
		var cr [32]byte
		cr[31] = byte(i)
		cr[30] = byte(i >> 8)
		if _, ok := k.Lookup(cr); !ok {
			t.Fatalf("secret %d lost", i)
		}
	}
}
