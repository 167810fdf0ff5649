package reassembly

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

func testConfig() Config {
	return Config{
		MaxBufferedPerConn: 1 << 16,
		MaxBufferedTotal:   1 << 20,
		MaxConns:           16,
		IdleTimeout:        60 * time.Second,
		GapTimeout:         time.Second,
		TimeWait:           10 * time.Second,
	}
}

func TestAssembler(t *testing.T) {
	fins := []step{
		{from: packet.FromClient, flags: fFA, seq: 1006, ack: 5006},
		{from: packet.FromServer, flags: fFA, seq: 5006, ack: 1007},
	}
	hello := step{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello"}
	world := step{from: packet.FromServer, flags: fPA, seq: 5001, ack: 1006, data: "world"}

	tests := []struct {
		name     string
		cfg      func(*Config)
		steps    []step
		closeAll bool
		want     []string // the log of every connection, in call order
		kinds    []string // anomaly kinds of connection 1, in order
		check    func(t *testing.T, a *driven, f *recFactory)
	}{
		{
			name:  "handshake data and FINs",
			steps: script(handshake, []step{hello, world}, fins),
			want:  []string{"1 client:hello", "1 server:world", "1 close:fin"},
			check: func(t *testing.T, a *driven, f *recFactory) {
				r := f.conns[0]
				if r.info.Client != cli || r.info.Server != srv || r.info.RolesInferred {
					t.Errorf("roles %v -> %v inferred=%v", r.info.Client, r.info.Server, r.info.RolesInferred)
				}
				ci := r.close
				if ci.Delivered != [2]uint64{5, 5} || ci.Missing != [2]uint64{} || ci.Packets != [2]uint64{4, 3} {
					t.Errorf("close info %+v", ci)
				}
				if !ci.Timestamp.Equal(t0) {
					t.Errorf("close timestamp %v", ci.Timestamp)
				}
				if a.Open() != 0 {
					t.Errorf("Open() = %d after FIN/FIN", a.Open())
				}
			},
		},
		{
			// A server that answers with SYN-ACKs of different ISNs (it
			// lost its half-open state; seen with TCP Fast Open): the ISN
			// the client acknowledges is the one its data follows.
			name: "several SYN-ACKs: the acknowledged one wins",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
				{from: packet.FromServer, flags: fSA, seq: 900000, ack: 1001},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 900001, data: "hello"},
				{from: packet.FromServer, flags: fPA, seq: 900001, ack: 1006, data: "world"},
				{from: packet.FromClient, flags: fFA, seq: 1006, ack: 900006},
				{from: packet.FromServer, flags: fFA, seq: 900006, ack: 1007},
			},
			want: []string{"1 client:hello", "1 server:world", "1 close:fin"},
		},
		{
			name: "close right after the second FIN's data",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fFA | packet.FlagPSH, seq: 1001, ack: 5001, data: "bye"},
				{from: packet.FromServer, flags: fFA | packet.FlagPSH, seq: 5001, ack: 1005, data: "ciao"},
				{from: packet.FromClient, flags: fA, seq: 1005, ack: 5006}, // the last ACK: a late packet
			}),
			want: []string{"1 client:bye", "1 server:ciao", "1 close:fin"},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.Ignored != 1 {
					t.Errorf("Ignored = %d, want the last ACK absorbed", s.Ignored)
				}
			},
		},
		{
			name: "server FIN first, half-closed client keeps sending",
			steps: script(handshake, []step{
				hello,
				{from: packet.FromServer, flags: fFA, seq: 5001, ack: 1006},
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5002, data: "more"},
				{from: packet.FromServer, flags: fA, seq: 5002, ack: 1010},
				{from: packet.FromClient, flags: fFA, seq: 1010, ack: 5002},
			}),
			want: []string{"1 client:hello", "1 client:more", "1 close:fin"},
		},
		{
			name: "FIN ahead of the data before it",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fFA, seq: 1006, ack: 5001},
				hello,
				{from: packet.FromServer, flags: fFA, seq: 5001, ack: 1007},
			}),
			want:  []string{"1 client:hello", "1 close:fin"},
			kinds: nil,
		},
		{
			name:  "midstream: lower port is the server",
			steps: []step{{from: packet.FromServer, flags: fPA, seq: 7000, ack: 3000, data: "x"}, {from: packet.FromClient, flags: fPA, seq: 3000, ack: 7001, data: "y"}},
			want:  []string{"1 server:x", "1 client:y"},
			kinds: []string{AnomalyMidstream},
			check: func(t *testing.T, a *driven, f *recFactory) {
				r := f.conns[0]
				if r.info.Client != cli || r.info.Server != srv || !r.info.RolesInferred {
					t.Errorf("roles %v -> %v inferred=%v", r.info.Client, r.info.Server, r.info.RolesInferred)
				}
			},
		},
		{
			name: "midstream: the peer starts where the first packet's ACK says",
			steps: []step{
				{from: packet.FromClient, flags: fPA, seq: 3000, ack: 7000, data: "a"},
				{from: packet.FromServer, flags: fPA, seq: 7005, ack: 3001, data: "later"}, // a hole of 5
				{from: packet.FromServer, flags: fPA, seq: 7000, ack: 3001, data: "first"},
			},
			want:  []string{"1 client:a", "1 server:first", "1 server:later"},
			kinds: []string{AnomalyMidstream},
		},
		{
			name:  "SYN-ACK without SYN gives the roles",
			steps: []step{{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001}, hello},
			want:  []string{"1 client:hello"},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if r := f.conns[0]; r.info.Client != cli || r.info.RolesInferred {
					t.Errorf("roles %v inferred=%v", r.info.Client, r.info.RolesInferred)
				}
			},
		},
		{
			name: "strays create nothing",
			steps: []step{
				{from: packet.FromClient, flags: fA, seq: 1, ack: 2},
				{from: packet.FromServer, flags: fRA, seq: 2, ack: 1},
				{from: packet.FromClient, flags: fFA, seq: 1, ack: 2},
				{from: packet.FromClient, flags: fR, seq: 1, data: "rst text"},
				{from: packet.FromClient, flags: fFA | packet.FlagPSH, seq: 1, ack: 2, data: "fin data"},
			},
			want: nil,
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.Ignored != 5 || s.Connections != 0 || a.Open() != 0 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name: "out of order released in order",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
				{from: packet.FromClient, flags: fPA, seq: 1011, ack: 5001, data: "!"},
				hello,
			}),
			closeAll: true,
			// The two held pieces are adjacent: held, and delivered, as one.
			want:  []string{"1 client:hello", "1 client:world!", "1 close:end_of_input"},
			kinds: []string{AnomalyOutOfOrder},
			check: func(t *testing.T, a *driven, f *recFactory) {
				an, _ := f.conns[0].anomaly(AnomalyOutOfOrder)
				if an.Bytes != 6 || an.Detail != "2 client, 0 server segments" {
					t.Errorf("out_of_order anomaly %+v", an)
				}
				if s := a.Stats(); s.OutOfOrder != 2 || s.BufferedBytes != 0 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name:     "duplicates dropped, retransmission reported once with a count",
			steps:    script(handshake, []step{hello, hello, hello, world, world}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 server:world", "1 close:end_of_input"},
			kinds:    []string{AnomalyRetransmission},
			check: func(t *testing.T, a *driven, f *recFactory) {
				an := f.conns[0].anomalies
				if an[0].Dir != packet.FromClient || an[0].Bytes != 15 || an[0].Detail != "2 client, 1 server segments" {
					t.Errorf("retransmission %+v", an[0])
				}
				if s := a.Stats(); s.Retransmissions != 3 {
					t.Errorf("Retransmissions = %d", s.Retransmissions)
				}
			},
		},
		{
			name: "overlap: first copy wins, conflict counted",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1003, ack: 5001, data: "LLO"},
				{from: packet.FromClient, flags: fPA, seq: 1002, ack: 5001, data: "eXXo"},
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello"},
			}),
			closeAll: true,
			// Held: 1003 "LLO". Then 1002 "eXXo": 1002 'e' new, 1003..1006 "XXo" vs "LLO": 3 differ.
			// Then "hello" in order: 'h', then held 'e' ("e" vs "e"), then "LLO" vs "llo": 3 differ.
			// 'e' joins the held "LLO" in front: one piece, "eLLO".
			want:  []string{"1 client:h", "1 client:eLLO", "1 close:end_of_input"},
			kinds: []string{AnomalyOverlapConflict, AnomalyOverlapConflict, AnomalyRetransmission, AnomalyOutOfOrder},
			check: func(t *testing.T, a *driven, f *recFactory) {
				an := f.conns[0].anomalies
				if an[0].Bytes != 3 || an[1].Bytes != 3 {
					t.Errorf("conflict bytes %d, %d; want 3, 3", an[0].Bytes, an[1].Bytes)
				}
				if s := a.Stats(); s.OverlapConflict != 2 {
					t.Errorf("OverlapConflict = %d", s.OverlapConflict)
				}
			},
		},
		{
			name: "gap after GapTimeout of capture time",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
				{tick: true, at: 900 * time.Millisecond},
				{tick: true, at: time.Second},
				{from: packet.FromClient, flags: fPA, seq: 1011, ack: 5001, data: "!", at: time.Second},
			}),
			want: []string{"1 gap client 5", "1 client:world", "1 client:!"},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.GapBytes != 5 {
					t.Errorf("GapBytes = %d", s.GapBytes)
				}
			},
		},
		{
			name: "gap certain when the peer ACKs unseen data; released before the peer's data",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
				{from: packet.FromServer, flags: fPA, seq: 5001, ack: 1011, data: "resp"},
			}),
			want: []string{"1 gap client 5", "1 client:world", "1 server:resp"},
		},
		{
			name: "an ACK of bytes never sent declares nothing",
			steps: script(handshake, []step{
				hello,
				{from: packet.FromServer, flags: fPA, seq: 5001, ack: 1500, data: "resp"},
			}),
			want: []string{"1 client:hello", "1 server:resp"},
		},
		{
			name: "per-connection budget flushes the hole as a gap",
			cfg:  func(c *Config) { c.MaxBufferedPerConn = 100 },
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1011, ack: 5001, data: "aaaaa"},
				{from: packet.FromClient, flags: fPA, seq: 1021, ack: 5001, data: "bbbbb"},
			}),
			want:  []string{"1 gap client 10", "1 client:aaaaa", "1 gap client 5", "1 client:bbbbb"},
			kinds: []string{AnomalyBudget},
		},
		{
			name: "close releases what waits beyond a hole after a gap",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
			}),
			closeAll: true,
			want:     []string{"1 gap client 5", "1 client:world", "1 close:end_of_input"},
			kinds:    []string{AnomalyOutOfOrder},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if ci := f.conns[0].close; ci.Missing[0] != 5 || ci.Delivered[0] != 5 {
					t.Errorf("close info %+v", ci)
				}
			},
		},
		{
			name: "sequence numbers across the 2^32 wrap",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 0xfffffff0},
				{from: packet.FromServer, flags: fSA, seq: 0xfffffffe, ack: 0xfffffff1},
				{from: packet.FromClient, flags: fPA, seq: 0, ack: 0xffffffff, data: "fXYZ"},
				{from: packet.FromClient, flags: fPA, seq: 0xfffffff1, ack: 0xffffffff, data: "0123456789abcde"},
				{from: packet.FromServer, flags: fPA, seq: 0xffffffff, ack: 4, data: "wrap"},
				{from: packet.FromClient, flags: fFA, seq: 4, ack: 3},
				{from: packet.FromServer, flags: fFA, seq: 3, ack: 5},
			},
			want:  []string{"1 client:0123456789abcde", "1 client:fXYZ", "1 server:wrap", "1 close:fin"},
			kinds: []string{AnomalyOutOfOrder},
		},
		{
			name: "keep-alives are neither data nor retransmissions",
			steps: script(handshake, []step{
				hello,
				{from: packet.FromClient, flags: fA, seq: 1005, ack: 5001, at: time.Minute / 2},
				{from: packet.FromClient, flags: fA, seq: 1005, ack: 5001, data: "o", at: time.Minute / 2},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:end_of_input"},
			kinds:    nil,
		},
		{
			name: "zero-window probe then the full segment",
			steps: script(handshake, []step{
				{from: packet.FromServer, flags: fA, seq: 5001, ack: 1001, win: 0},
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "h"},
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hello"},
			}),
			closeAll: true,
			want:     []string{"1 client:h", "1 client:ello", "1 close:end_of_input"},
			kinds:    []string{AnomalyRetransmission},
		},
		{
			name: "SYN retransmitted is the same connection",
			steps: script([]step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromClient, flags: fS, seq: 1000, at: time.Second},
			}, handshake[1:], []step{hello}),
			want: []string{"1 client:hello"},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.Connections != 1 {
					t.Errorf("Connections = %d", s.Connections)
				}
			},
		},
		{
			name: "TCP Fast Open: data on the SYN starts at ISN+1",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000, data: "early"},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1006},
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "late"},
				{from: packet.FromClient, flags: fS, seq: 1000, data: "early"}, // retransmitted SYN
			},
			want:  []string{"1 client:early", "1 client:late"},
			kinds: nil,
		},
		{
			name:  "RST in the window closes",
			steps: script(handshake, []step{hello, {from: packet.FromServer, flags: fRA, seq: 5001, ack: 1006}}),
			want:  []string{"1 client:hello", "1 close:rst"},
		},
		{
			name: "RST out of the window is reported and ignored",
			steps: script(handshake, []step{
				{from: packet.FromServer, flags: fRA, seq: 5001 + 1<<31, ack: 1001},
				{from: packet.FromServer, flags: fR, seq: 5001 + (1<<32 - 70000)},
				hello, world,
			}, fins),
			want:  []string{"1 client:hello", "1 server:world", "1 close:fin"},
			kinds: []string{AnomalyBadRST, AnomalyBadRST},
		},
		{
			name:  "RST with data: the data in sequence is delivered, then the close",
			steps: script(handshake, []step{hello, {from: packet.FromServer, flags: fRA, seq: 5001, ack: 1006, data: "denied"}}),
			want:  []string{"1 client:hello", "1 server:denied", "1 close:rst"},
		},
		{
			name: "RST answering a SYN",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromServer, flags: fRA, seq: 0, ack: 1001},
			},
			want: []string{"1 close:rst"},
		},
		{
			name: "RST answering a SYN with a wrong ACK is ignored",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromServer, flags: fRA, seq: 0, ack: 0x80000000},
			},
			closeAll: true,
			want:     []string{"1 close:end_of_input"},
			kinds:    []string{AnomalyBadRST},
		},
		{
			name: "port reuse after FIN: a new SYN starts a new connection",
			steps: script(handshake, []step{hello, world}, fins, []step{
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5006, data: "hello"}, // late retransmission: absorbed
				{from: packet.FromClient, flags: fS, seq: 90000, at: time.Second},
				{from: packet.FromServer, flags: fSA, seq: 20000, ack: 90001, at: time.Second},
				{from: packet.FromClient, flags: fPA, seq: 90001, ack: 20001, data: "again", at: time.Second},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 server:world", "1 close:fin", "9 client:again", "9 close:end_of_input"},
		},
		{
			name: "port reuse after RST",
			steps: script(handshake, []step{hello, {from: packet.FromClient, flags: fR, seq: 1006},
				{from: packet.FromClient, flags: fS, seq: 90000},
				{from: packet.FromClient, flags: fPA, seq: 90001, data: "again"},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:rst", "6 client:again", "6 close:end_of_input"},
		},
		{
			name: "port reuse after one FIN closes the old one first",
			steps: script(handshake, []step{hello, {from: packet.FromClient, flags: fFA, seq: 1006, ack: 5001},
				{from: packet.FromClient, flags: fS, seq: 90000},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:fin", "6 close:end_of_input"},
		},
		{
			name: "a new SYN far outside the window takes over the 4-tuple",
			steps: script(handshake, []step{hello,
				{from: packet.FromClient, flags: fS, seq: 1006 + 1<<31},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:reused", "5 close:end_of_input"},
		},
		{
			name: "an in-window SYN changes nothing",
			steps: script(handshake, []step{hello,
				{from: packet.FromClient, flags: fS, seq: 1010},
				world,
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 server:world", "1 close:end_of_input"},
		},
		{
			name: "idle connections close after IdleTimeout of capture time",
			steps: script(handshake, []step{
				hello,
				{tick: true, at: 59 * time.Second},
				{tick: true, at: 60 * time.Second},
			}),
			want: []string{"1 client:hello", "1 close:idle"},
		},
		{
			name: "idle after one FIN closes as FIN",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fFA, seq: 1001, ack: 5001},
				{tick: true, at: 61 * time.Second},
			}),
			want: []string{"1 close:fin"},
		},
		{
			name: "an expired connection not yet swept closes before the next packet",
			cfg:  func(c *Config) { c.GapTimeout = time.Hour; c.TimeWait = time.Hour }, // Add ticks rarely
			steps: script(handshake, []step{
				hello,
				{tick: true, at: 50 * time.Second},
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "x", at: 61 * time.Second},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:idle", "5 client:x", "5 close:end_of_input"},
		},
		{
			name: "truncated segment: the missing bytes are a gap",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5001, data: "hel", trunc: 2},
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
			}),
			want:  []string{"1 client:hel", "1 gap client 2", "1 client:world"},
			kinds: []string{AnomalyTruncated},
		},
		{
			name: "truncated segment out of order",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "wo", trunc: 3},
				hello,
			}),
			want:  []string{"1 client:hello", "1 client:wo", "1 gap client 3"},
			kinds: []string{AnomalyTruncated},
		},
		{
			name: "both directions in capture order: the hello before its answer",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
				hello,
				{from: packet.FromServer, flags: fPA, seq: 5001, ack: 1011, data: "answer"},
			}),
			want: []string{"1 client:hello", "1 client:world", "1 server:answer"},
		},
		{
			name: "total budget: the oldest waiting buffer of another connection is flushed",
			cfg:  func(c *Config) { c.MaxBufferedTotal = 200 },
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000, cport: 2000},
				{from: packet.FromClient, flags: fPA, seq: 1011, data: "0123456789", cport: 2000}, // cost 74
				{from: packet.FromClient, flags: fS, seq: 1000, cport: 3000},
				{from: packet.FromClient, flags: fPA, seq: 1011, data: "abcdefghij", cport: 3000}, // 74
				{from: packet.FromClient, flags: fPA, seq: 1031, data: "ABCDEFGHIJ", cport: 3000}, // 74: over 200
			},
			want:  []string{"1 gap client 10", "1 client:0123456789"},
			kinds: []string{AnomalyBudget},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.BufferedBytes != 148 || s.GapBytes != 10 {
					t.Errorf("stats %+v", s)
				}
			},
		},
		{
			name: "data after the FIN is not part of the stream",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fFA | packet.FlagPSH, seq: 1001, ack: 5001, data: "hello"},
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "extra"},
				{from: packet.FromClient, flags: fPA, seq: 1003, ack: 5001, data: "lloXX"},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 close:end_of_input"},
			kinds:    []string{AnomalyRetransmission},
			check: func(t *testing.T, a *driven, f *recFactory) {
				if s := a.Stats(); s.DroppedBytes != 7 {
					t.Errorf("DroppedBytes = %d, want 7", s.DroppedBytes)
				}
			},
		},
		{
			name: "after TimeWait a late data packet starts a mid-stream connection",
			steps: script(handshake, []step{hello, world}, fins, []step{
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5006, data: "hello", at: 5 * time.Second},
				{from: packet.FromClient, flags: fPA, seq: 1001, ack: 5006, data: "hello", at: 11 * time.Second},
			}),
			closeAll: true,
			want:     []string{"1 client:hello", "1 server:world", "1 close:fin", "9 client:hello", "9 close:end_of_input"},
		},
		{
			name: "simultaneous open",
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromServer, flags: fS, seq: 5000},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
				{from: packet.FromClient, flags: fSA, seq: 1000, ack: 5001},
				hello, world,
			},
			want: []string{"1 client:hello", "1 server:world"},
		},
		{
			name: "an ACK of unseen data reaches a waiting FIN",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fFA, seq: 1006, ack: 5001},
				{from: packet.FromServer, flags: fFA, seq: 5001, ack: 1007},
			}),
			want: []string{"1 gap client 5", "1 close:fin"},
		},
		{
			name: "a gap is declared by the amortised Tick of another connection's packet",
			steps: script(handshake, []step{
				{from: packet.FromClient, flags: fPA, seq: 1006, ack: 5001, data: "world"},
				{from: packet.FromClient, flags: fS, seq: 1, cport: 4000, at: 2 * time.Second},
			}),
			want: []string{"1 gap client 5", "1 client:world"},
		},
		{
			name: "MaxConns evicts unanswered SYNs first, then the least recently active",
			cfg:  func(c *Config) { c.MaxConns = 2 },
			steps: []step{
				{from: packet.FromClient, flags: fS, seq: 1000},
				{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
			},
			check: func(t *testing.T, a *driven, f *recFactory) {
				for i, port := range []uint16{1, 2, 3} {
					a.Add(&packet.Segment{Timestamp: t0.Add(time.Duration(i+1) * time.Second), Src: netip.AddrPortFrom(cli.Addr(), port), Dst: srv, Flags: fS, Seq: 1})
				}
				// Connection 1 was answered: the SYN-only ones go before it.
				want := []string{"3 close:evicted", "4 close:evicted"}
				if !slices.Equal(f.log, want) {
					t.Errorf("log %q, want %q", f.log, want)
				}
				if s := a.Stats(); s.Evicted != 2 || a.Open() != 2 || s.Connections != 4 {
					t.Errorf("stats %+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			a, f := run(t, cfg, tt.steps)
			if tt.closeAll {
				a.CloseAll(t0.Add(time.Hour))
			}
			if tt.check == nil || tt.want != nil {
				if !slices.Equal(f.log, tt.want) {
					t.Errorf("log:\n got %q\nwant %q", f.log, tt.want)
				}
			}
			if len(f.conns) > 0 {
				if got := f.conns[0].kinds(); !slices.Equal(got, tt.kinds) {
					t.Errorf("anomalies of conn 1: got %q, want %q", got, tt.kinds)
				}
			}
			if tt.check != nil {
				tt.check(t, a, f)
			}
		})
	}
}

func TestServerSide(t *testing.T) {
	tests := []struct {
		src, dst    uint16
		srcIsServer bool
	}{
		{443, 51000, true},
		{51000, 443, false},
		{1234, 8443, false}, // a low ephemeral port against a TLS port
		{8443, 1234, true},
		{80, 51000, true},
		{5000, 9000, true}, // neither known: the lower
		{9000, 5000, false},
		{5000, 5000, false}, // a tie: the destination is the server
		{993, 443, false},   // both TLS ports: the lower
	}
	for _, tt := range tests {
		if got := ServerSide(tt.src, tt.dst); got != tt.srcIsServer {
			t.Errorf("ServerSide(%d, %d) = %v, want %v", tt.src, tt.dst, got, tt.srcIsServer)
		}
	}
}
