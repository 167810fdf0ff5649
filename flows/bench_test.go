package flows

import (
	"slices"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// chunk is what one direction sent at once.
type chunk struct {
	dir  packet.Dir
	data []byte
}

// handshakeBytes is a TLS 1.2 full handshake with a ticket and some data.
func handshakeBytes(chain [][]byte) []chunk {
	ch := ch12("www.example.com")
	ch.SessionID = make([]byte, 32)
	sh := sh12()
	sh.SessionID = []byte("server-session-id-0123456789abcd")
	hs := func(t dissect.HandshakeType, body []byte) []byte {
		return tlsRecord(dissect.ContentHandshake, dissect.VersionTLS12, handshakeMsg(t, body))
	}
	rec := func(t dissect.ContentType, body []byte) []byte { return tlsRecord(t, dissect.VersionTLS12, body) }
	out := []chunk{
		{C, hs(dissect.TypeClientHello, encodeClientHello(ch))},
		{S, slices.Concat(hs(dissect.TypeServerHello, encodeServerHello(sh)), hs(dissect.TypeCertificate, encodeCertificate(chain)),
			hs(dissect.TypeServerKeyExchange, ecdheServerKeyExchange(29)), hs(dissect.TypeServerHelloDone, nil))},
		{C, slices.Concat(hs(dissect.TypeClientKeyExchange, minimalBody(dissect.TypeClientKeyExchange)),
			rec(dissect.ContentChangeCipherSpec, []byte{1}), rec(dissect.ContentHandshake, ciphertext(40)))},
		{S, slices.Concat(hs(dissect.TypeNewSessionTicket, encodeNewSessionTicket12(make([]byte, 192), 7200)),
			rec(dissect.ContentChangeCipherSpec, []byte{1}), rec(dissect.ContentHandshake, ciphertext(40)))},
	}
	for range 8 {
		out = append(out, chunk{C, rec(dissect.ContentApplicationData, ciphertext(500))})
		out = append(out, chunk{S, rec(dissect.ContentApplicationData, ciphertext(16000))})
	}
	return append(out, chunk{C, rec(dissect.ContentAlert, ciphertext(26))})
}

// BenchmarkHandshake measures a full handshake's bytes through a
// connection handler: the dissector's state machine, the Record built and
// emitted.
func BenchmarkHandshake(b *testing.B) {
	ca := newPKI(b, "Bench CA")
	leaf := ca.leaf(b, base, base.AddDate(1, 0, 0), "www.example.com")
	chunks := handshakeBytes([][]byte{leaf, ca.caDER})
	total := 0
	for _, c := range chunks {
		total += len(c.data)
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
		ts := base
		for _, ch := range chunks {
			ts = ts.Add(time.Millisecond)
			c.Data(ch.dir, ts, ch.data)
		}
		c.Close(reassembly.CloseInfo{Reason: reassembly.CloseFIN, Timestamp: ts})
		tr.Flush()
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
	two := slices.Concat(tlsRecord(dissect.ContentApplicationData, dissect.VersionTLS12, ciphertext(16000)),
		tlsRecord(dissect.ContentApplicationData, dissect.VersionTLS12, ciphertext(16000)))
	n := testing.AllocsPerRun(1000, func() { s.c.Data(S, s.ts, two) })
	if n != 0 {
		t.Errorf("%v allocations per application data record pair, want 0", n)
	}
	r := s.close(reassembly.CloseFIN)
	last := r.Messages[len(r.Messages)-1]
	if last.Count < 2000 {
		t.Errorf("run count %d", last.Count)
	}
}
