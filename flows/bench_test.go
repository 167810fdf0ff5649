package flows

import (
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// handshakeEvents is a TLS 1.2 full handshake with a ticket and some data.
func handshakeEvents(chain [][]byte) []dissect.Event {
	ch := ch12("www.example.com")
	ch.SessionID = make([]byte, 32)
	sh := sh12()
	sh.SessionID = []byte("server-session-id-0123456789abcd")
	hs := func(d packet.Dir, t dissect.HandshakeType, n int) dissect.Event {
		return dissect.Event{Dir: d, Type: dissect.HandshakeMsg(t), Length: n}
	}
	ev := []dissect.Event{
		{Dir: C, Type: dissect.HandshakeMsg(dissect.TypeClientHello), Length: 512, ClientHello: ch},
		{Dir: S, Type: dissect.HandshakeMsg(dissect.TypeServerHello), Length: 80, ServerHello: sh},
		{Dir: S, Type: dissect.HandshakeMsg(dissect.TypeCertificate), Length: 2500, Certificate: &dissect.Certificate{Chain: chain}},
		{Dir: S, Type: dissect.HandshakeMsg(dissect.TypeServerKeyExchange), Length: 300, ServerKeyExchange: &dissect.ServerKeyExchange{Kind: "ecdhe", NamedCurve: 29}},
		hs(S, dissect.TypeServerHelloDone, 0),
		hs(C, dissect.TypeClientKeyExchange, 33),
		{Dir: C, Type: dissect.MsgChangeCipherSpec, Length: 1},
		{Dir: C, Type: dissect.HandshakeMsg(dissect.TypeFinished), Length: 40, Encrypted: true},
		{Dir: S, Type: dissect.HandshakeMsg(dissect.TypeNewSessionTicket), Length: 200, NewSessionTicket: &dissect.NewSessionTicket{LifetimeHint: 7200, Ticket: make([]byte, 192)}},
		{Dir: S, Type: dissect.MsgChangeCipherSpec, Length: 1},
		{Dir: S, Type: dissect.HandshakeMsg(dissect.TypeFinished), Length: 40, Encrypted: true},
	}
	for range 8 {
		ev = append(ev, dissect.Event{Dir: C, Type: dissect.MsgApplicationData, Length: 500, Encrypted: true})
		ev = append(ev, dissect.Event{Dir: S, Type: dissect.MsgApplicationData, Length: 16000, Encrypted: true})
	}
	ev = append(ev, dissect.Event{Dir: C, Type: dissect.MsgAlert, Length: 26, Encrypted: true, Alert: &dissect.Alert{}})
	return ev
}

// BenchmarkHandshakeEvents measures a full handshake's events through a
// connection handler, Record built and emitted included. Bytes are the
// TLS bytes the events stand for.
func BenchmarkHandshakeEvents(b *testing.B) {
	ca := newPKI(b, "Bench CA")
	leaf := ca.leaf(b, base, base.AddDate(1, 0, 0), "www.example.com")
	events := handshakeEvents([][]byte{leaf, ca.caDER})
	total := 0
	for _, e := range events {
		total += e.Length + 5
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	var emitted int
	tr := NewTracker(Config{CommunitySeed: 0}, func(*Record) { emitted++ })
	info := reassembly.ConnInfo{Client: netipPort(1, 40000), Server: netipPort(2, 443), Start: base}
	b.ResetTimer()
	for i := range b.N {
		info.ID = uint64(i + 1)
		c := tr.New(info).(*conn)
		s := sinkAdapter{c}
		ts := base
		for j := range events {
			ts = ts.Add(time.Millisecond)
			events[j].Timestamp = ts
			s.Event(&events[j])
		}
		c.Close(reassembly.CloseInfo{Reason: reassembly.CloseFIN, Timestamp: ts})
	}
	if emitted != b.N {
		b.Fatalf("emitted %d of %d", emitted, b.N)
	}
}

// TestApplicationDataDoesNotAllocate guards the hot path: once the
// handshake is over, each application data record folds into the run
// without allocating.
func TestApplicationDataDoesNotAllocate(t *testing.T) {
	h := newHarness(t, Config{})
	s := full12(h.conn(), "a.example", []byte{1}).app(C, 10).app(S, 10)
	ev := []dissect.Event{
		{Dir: S, Type: dissect.MsgApplicationData, Length: 16000, Encrypted: true, Timestamp: base},
		{Dir: S, Type: dissect.MsgApplicationData, Length: 16000, Encrypted: true, Timestamp: base},
	}
	n := testing.AllocsPerRun(1000, func() {
		s.sink.Event(&ev[0])
		s.sink.Event(&ev[1])
	})
	if n != 0 {
		t.Errorf("%v allocations per application data record pair, want 0", n)
	}
	r := s.close(reassembly.CloseFIN)
	last := r.Messages[len(r.Messages)-1]
	if last.Count < 2000 {
		t.Errorf("run count %d", last.Count)
	}
}
