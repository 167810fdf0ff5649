package reassembly

import (
	"slices"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// TestRSTWindow pins the edges of the reset acceptance window (RFC 9293
// 3.10.7.4): a reset is believed from one before the next expected byte up
// to the receiver's window, whose size is the advertised window scaled by
// 2^8 and never below 64 KiB.
func TestRSTWindow(t *testing.T) {
	hello := step{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello"}
	const next = 5001 // the server's next sequence number
	for _, tc := range []struct {
		name   string
		win    uint16 // the client's advertised window
		seq    uint32
		closes bool
	}{
		{"one before next", 65535, next - 1, true},
		{"two before next", 65535, next - 2, false},
		{"at next", 65535, next, true},
		{"last byte of a scaled window", 65535, next + 65535<<8 - 1, true},
		{"just past a scaled window", 65535, next + 65535<<8, false},
		{"last byte of the 64 KiB floor", 1, next + 1<<16 - 1, true},
		{"just past the 64 KiB floor", 1, next + 1<<16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps := []step{
				{from: packet.FromClient, flags: fS, seq: 1000, win: tc.win},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
				{from: packet.FromClient, flags: fA, seq: 1001, ack: 5001, win: tc.win},
				hello,
				{from: packet.FromServer, flags: fR, seq: tc.seq},
			}
			if tc.win != 0 {
				steps[3].win = tc.win
			}
			a, f := run(t, testConfig(), steps)
			a.CloseAll(t0.Add(time.Hour))
			closed := slices.Contains(f.log, "1 close:rst")
			if closed != tc.closes {
				t.Errorf("reset at %d with window %d: closed %v, want %v (log %q)", tc.seq, tc.win, closed, tc.closes, f.log)
			}
		})
	}
	// A reset answering a SYN is checked by its ACK: up to one past the
	// highest byte the client sent, and no further.
	for _, tc := range []struct {
		ack    uint32
		closes bool
	}{{1001, true}, {1002, false}, {1001 + (1<<32 - 1<<16), true}, {1001 + (1<<32 - 1<<16 - 1), false}} {
		// The server's window (1, so the 64 KiB floor) bounds how far
		// back the ACK may lie.
		steps := []step{
			{from: packet.FromClient, flags: fS, seq: 1000, win: 1},
			{from: packet.FromServer, flags: fRA, seq: 0, ack: tc.ack, win: 1},
		}
		a, f := run(t, testConfig(), steps)
		a.CloseAll(t0.Add(time.Hour))
		if closed := slices.Contains(f.log, "1 close:rst"); closed != tc.closes {
			t.Errorf("reset answering a SYN with ack %d: closed %v, want %v", tc.ack, closed, tc.closes)
		}
	}
}

// TestOverlapConflictBytes: a segment overlapping two held pieces, each
// with different bytes, reports the differing bytes of both, whether it
// arrives ahead of the stream (held too) or in order (delivered).
func TestOverlapConflictBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"ahead of the stream", []step{
			{from: packet.FromClient, flags: fPA, seq: 1003, ack: 5001, data: "LL"}, // held: 1003-1004
			{from: packet.FromClient, flags: fPA, seq: 1007, ack: 5001, data: "OO"}, // held: 1007-1008
			{from: packet.FromClient, flags: fPA, seq: 1002, ack: 5001, data: "eXXyzZZ"},
		}},
		{"in order", []step{
			{from: packet.FromClient, flags: fPA, seq: 1002, ack: 5001, data: "EE"}, // held: 1002-1003
			{from: packet.FromClient, flags: fPA, seq: 1005, ack: 5001, data: "OO"}, // held: 1005-1006
			{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hxxlyy"},
		}},
	} {
		a, f := run(t, testConfig(), script(handshake, tc.steps))
		a.CloseAll(t0.Add(time.Hour))
		var conflict []int
		for _, an := range f.conns[0].anomalies {
			if an.Kind == AnomalyOverlapConflict {
				conflict = append(conflict, an.Bytes)
			}
		}
		if !slices.Equal(conflict, []int{4}) {
			t.Errorf("%s: conflict reports %v, want one of 4 bytes (2 against each held piece)", tc.name, conflict)
		}
	}
}
