package reassembly

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// CloseInfo tells how the connection began and ended, by the packets: the
// SYN and SYN-ACK times, each side's FIN, and who reset it.
func TestCloseInfoEnds(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	syn := []step{
		{from: packet.FromClient, flags: fS, seq: 1000},
		{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001, at: ms(20)},
		{from: packet.FromClient, flags: fA, seq: 1001, ack: 5001, at: ms(21)},
		{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello", at: ms(22)},
	}
	tests := []struct {
		name                 string
		steps                []step
		synAt, synAckAt      time.Duration // -1: not seen
		finClient, finServer time.Duration // -1: none
		rstAt                time.Duration // -1: none
		rstFrom              packet.Dir
		reason               CloseReason
	}{
		{
			name: "FIN both ways, the server first",
			steps: script(syn, []step{
				{from: packet.FromServer, flags: fFA, seq: 5001, ack: 1006, at: ms(40)},
				{from: packet.FromClient, flags: fFA, seq: 1006, ack: 5002, at: ms(41)},
			}),
			synAt: 0, synAckAt: ms(20), finClient: ms(41), finServer: ms(40), rstAt: -1, reason: CloseFIN,
		},
		{
			name: "the client resets",
			steps: script(syn, []step{
				{from: packet.FromClient, flags: fRA, seq: 1006, ack: 5001, at: ms(50)},
			}),
			synAt: 0, synAckAt: ms(20), finClient: -1, finServer: -1, rstAt: ms(50), rstFrom: packet.FromClient, reason: CloseRST,
		},
		{
			name: "the server's FIN, then its reset; no handshake captured",
			steps: []step{
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello", at: ms(22)},
				{from: packet.FromServer, flags: fFA, seq: 5001, ack: 1006, at: ms(40)},
				{from: packet.FromServer, flags: fR, seq: 5002, at: ms(45)},
			},
			synAt: -1, synAckAt: -1, finClient: -1, finServer: ms(40), rstAt: ms(45), rstFrom: packet.FromServer, reason: CloseRST,
		},
	}
	at := func(d time.Duration) time.Time {
		if d < 0 {
			return time.Time{}
		}
		return t0.Add(d)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := run(t, Config{}, tt.steps)
			a.CloseAll(t0.Add(time.Minute))
			if len(f.conns) != 1 {
				t.Fatalf("%d connections", len(f.conns))
			}
			c := f.conns[0].close
			if c.Reason != tt.reason || !c.SynAt.Equal(at(tt.synAt)) || !c.SynAckAt.Equal(at(tt.synAckAt)) ||
				!c.FinAt[0].Equal(at(tt.finClient)) || !c.FinAt[1].Equal(at(tt.finServer)) ||
				!c.RstAt.Equal(at(tt.rstAt)) || (tt.rstAt >= 0 && c.RstFrom != tt.rstFrom) {
				t.Errorf("close info %+v", c)
			}
		})
	}
}

// A message sent in one-byte segments ahead of its first byte, in order
// or backwards, is held in few pieces and delivered whole: the piece cap
// (maxChunksPerDir) is no limit on it (issue: a 5 KB ClientHello lost its
// SNI this way).
func TestTinySegmentsJoined(t *testing.T) {
	const n = 3 * maxChunksPerDir / 2 // more one-byte segments than the piece cap
	msg := make([]byte, n)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	for _, reverse := range []bool{false, true} {
		var steps []step
		steps = append(steps, handshake...)
		for k := 1; k < n; k++ {
			i := k
			if reverse {
				i = n - k
			}
			steps = append(steps, step{from: packet.FromClient, flags: fPA, seq: 1001 + uint32(i), ack: 5001, data: string(msg[i : i+1]), at: time.Duration(k) * time.Microsecond})
		}
		steps = append(steps, step{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: string(msg[:1]), at: time.Duration(n) * time.Microsecond})
		f := &recFactory{t: t, nolog: true}
		a := drive(Config{}, f)
		maxPieces := 0
		for _, s := range steps {
			a.Add(s.segment(cli, srv))
			if c := a.conns[keyOf(cli, srv)]; c != nil {
				maxPieces = max(maxPieces, c.d[0].q.len())
			}
		}
		a.CloseAll(t0.Add(time.Minute))
		r := f.conns[0]
		if string(r.streams[0]) != string(msg) || r.gaps[0] != 0 {
			t.Errorf("reverse=%v: delivered %d of %d bytes, %d missing", reverse, len(r.streams[0]), n, r.gaps[0])
		}
		if maxPieces > n/1024+2 {
			t.Errorf("reverse=%v: %d pieces held for %d bytes", reverse, maxPieces, n)
		}
		if s := a.Stats(); s.BufferedBytes != 0 {
			t.Errorf("reverse=%v: %d bytes still counted as buffered", reverse, s.BufferedBytes)
		}
	}
}

// tsRec records the time of each Data call.
type tsRec struct {
	recorder
	times []time.Duration
}

func (r *tsRec) Data(d packet.Dir, ts time.Time, b []byte) {
	r.times = append(r.times, ts.Sub(t0))
	r.recorder.Data(d, ts, b)
}

type tsFactory struct {
	t *testing.T
	r *tsRec
}

func (f *tsFactory) New(info ConnInfo) Handler {
	f.r = &tsRec{recorder: recorder{t: f.t, info: info}}
	return f.r
}

// Bytes held behind a hole keep the time they were captured at.
func TestHeldBytesKeepTheirTime(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	steps := script(handshake, []step{
		{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world", at: ms(5)},
		{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello", at: ms(9)},
	})
	f := &tsFactory{t: t}
	a := drive(Config{}, f)
	for _, s := range steps {
		a.Add(s.segment(cli, srv))
	}
	a.CloseAll(t0.Add(time.Minute))
	if got := string(f.r.streams[0]); got != "helloworld" {
		t.Fatalf("stream %q", got)
	}
	if len(f.r.times) != 2 || f.r.times[0] != ms(9) || f.r.times[1] != ms(5) {
		t.Errorf("Data times %v, want [9ms 5ms]: the held piece keeps its own", f.r.times)
	}
}

// A SYN nobody answers is closed after HalfOpenTimeout; an answered
// connection waits for the idle timeout.
func TestHalfOpenTimeout(t *testing.T) {
	other := netip.MustParseAddrPort("10.0.0.7:52000")
	f := &recFactory{t: t}
	a := drive(Config{HalfOpenTimeout: 5 * time.Second, IdleTimeout: time.Minute}, f)
	a.Add(&packet.Segment{Timestamp: t0, Src: cli, Dst: srv, Flags: fS, Seq: 1000})
	a.Add(&packet.Segment{Timestamp: t0.Add(time.Millisecond), Src: srv, Dst: cli, Flags: fSA, Seq: 5000, Ack: 1001})
	a.Add(&packet.Segment{Timestamp: t0, Src: other, Dst: srv, Flags: fS, Seq: 1})
	a.Add(&packet.Segment{Timestamp: t0.Add(3 * time.Second), Src: other, Dst: srv, Flags: fS, Seq: 1}) // a retry
	a.Tick(t0.Add(7 * time.Second))
	if len(f.conns) != 2 || f.conns[1].closed != 0 || f.conns[0].closed != 0 {
		t.Fatalf("after 7 s: the retried SYN (at 3 s) must still wait")
	}
	a.Tick(t0.Add(9 * time.Second))
	if f.conns[1].closed != 1 || f.conns[1].close.Reason != CloseIdle || f.conns[0].closed != 0 {
		t.Errorf("after 9 s: half-open closed %d (%v), answered closed %d", f.conns[1].closed, f.conns[1].close.Reason, f.conns[0].closed)
	}
	if s := a.Stats(); s.HalfOpenExpired != 1 || s.Open != 1 {
		t.Errorf("stats %+v", s)
	}
}

// A hole closed to make room is counted as the budget's, a hole that
// timed out as the capture's.
func TestBudgetGapsApart(t *testing.T) {
	big := string(make([]byte, 1000))
	steps := script(handshake, []step{
		// 10 bytes never come; 1000 held behind them; the next 1000
		// overrun the 1500-byte budget: the hole is closed.
		{from: packet.FromClient, flags: fPA, seq: 1011, ack: 5001, data: big, at: time.Millisecond},
		{from: packet.FromClient, flags: fPA, seq: 2011, ack: 5001, data: big, at: 2 * time.Millisecond},
		// The server's side: 5 bytes missing, found out by the gap timeout.
		{from: packet.FromServer, flags: fPA, seq: 5006, ack: 1001, data: "later", at: 3 * time.Millisecond},
		{tick: true, at: 5 * time.Second},
	})
	a, _ := run(t, Config{MaxBufferedPerConn: 1500, GapTimeout: time.Second}, steps)
	a.CloseAll(t0.Add(time.Minute))
	s := a.Stats()
	if s.GapBytes != 15 || s.BudgetGapBytes != 10 {
		t.Errorf("gap bytes %d, of them the budget's %d; want 15 and 10", s.GapBytes, s.BudgetGapBytes)
	}
}
