package reassembly

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// dgRec is a DatagramFactory that claims flows whose first payload starts
// with "Q" (swapping the roles when it starts with "S"), and records what
// each flow's handler is told.
type dgRec struct {
	flows []*dgFlowRec
	asked int
}

type dgFlowRec struct {
	info   ConnInfo
	events []string
	closes int
	close  CloseInfo
}

func (r *dgRec) NewDatagram(info *ConnInfo, first []byte) DatagramHandler {
	r.asked++
	if len(first) == 0 || (first[0] != 'Q' && first[0] != 'S') {
		return nil
	}
	if first[0] == 'S' {
		info.Client, info.Server = info.Server, info.Client
	}
	f := &dgFlowRec{info: *info}
	r.flows = append(r.flows, f)
	return f
}

func (f *dgFlowRec) Datagram(dir packet.Dir, ts time.Time, payload []byte) {
	f.events = append(f.events, fmt.Sprintf("%s:%s", dir, payload))
}

func (f *dgFlowRec) Close(info CloseInfo) {
	f.closes++
	f.close = info
}

func dg(src, dst netip.AddrPort, at time.Duration, payload string) *packet.Datagram {
	return &packet.Datagram{Timestamp: t0.Add(at), Src: src, Dst: dst, Payload: []byte(payload)}
}

func TestDatagrams(t *testing.T) {
	other := netip.MustParseAddrPort("10.0.0.3:53")
	tests := []struct {
		name  string
		cfg   Config
		steps []*packet.Datagram
		tick  time.Duration // Tick at t0+tick after the steps, if set
		// want: per flow, its client, events, and close reason.
		want []string
		// ignored: datagrams no handler claimed.
		ignored uint64
	}{
		{
			name:  "both directions find one flow",
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qhello"), dg(srv, cli, time.Millisecond, "answer"), dg(cli, srv, 2*time.Millisecond, "more")},
			want:  []string{"10.0.0.1:51000 [client:Qhello server:answer client:more] end_of_input"},
		},
		{
			name:    "a flow not claimed is asked again, and claimed later",
			steps:   []*packet.Datagram{dg(cli, srv, 0, "dns?"), dg(cli, srv, time.Millisecond, "Qnow")},
			want:    []string{"10.0.0.1:51000 [client:Qnow] end_of_input"},
			ignored: 1,
		},
		{
			name:  "the factory swaps the roles",
			steps: []*packet.Datagram{dg(srv, cli, 0, "Sserver first"), dg(cli, srv, time.Millisecond, "client")},
			want:  []string{"10.0.0.1:51000 [server:Sserver first client:client] end_of_input"},
		},
		{
			name:  "idle flows close on Tick, with their last packet's time",
			cfg:   Config{IdleTimeout: 10 * time.Second},
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qa"), dg(other, srv, 5*time.Second, "Qb")},
			tick:  12 * time.Second,
			want:  []string{"10.0.0.1:51000 [client:Qa] idle", "10.0.0.3:53 [client:Qb] end_of_input"},
		},
		{
			name:  "the idle timeout is at most DefaultDatagramIdle",
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qa")},
			tick:  DefaultDatagramIdle,
			want:  []string{"10.0.0.1:51000 [client:Qa] idle"},
		},
		{
			name: "a flow only one side spoke in times out first",
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qasked"), dg(srv, cli, time.Millisecond, "answered"),
				dg(other, srv, 0, "Qnever answered")},
			tick: DatagramOneSidedIdle + time.Second,
			want: []string{"10.0.0.1:51000 [client:Qasked server:answered] end_of_input", "10.0.0.3:53 [client:Qnever answered] idle"},
		},
		{
			name:  "eviction takes a one-sided flow before an answered one",
			cfg:   Config{MaxConns: 2},
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qa"), dg(srv, cli, 0, "b"), dg(other, srv, time.Second, "Qc"), dg(cli, netip.MustParseAddrPort("10.0.0.9:443"), 2*time.Second, "Qd")},
			want:  []string{"10.0.0.1:51000 [client:Qa server:b] end_of_input", "10.0.0.3:53 [client:Qc] evicted", "10.0.0.1:51000 [client:Qd] end_of_input"},
		},
		{
			name:  "past MaxConns the least recently active flow is evicted",
			cfg:   Config{MaxConns: 1},
			steps: []*packet.Datagram{dg(cli, srv, 0, "Qa"), dg(other, srv, time.Second, "Qb"), dg(cli, srv, 2*time.Second, "Qc")},
			want:  []string{"10.0.0.1:51000 [client:Qa] evicted", "10.0.0.3:53 [client:Qb] evicted", "10.0.0.1:51000 [client:Qc] end_of_input"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &dgRec{}
			tab := NewDatagrams(tt.cfg, r)
			for i, d := range tt.steps {
				tab.Add(d, Place{Index: uint64(i + 1), Clock: d.Timestamp})
			}
			if tt.tick > 0 {
				tab.Tick(t0.Add(tt.tick))
			}
			tab.CloseAll(t0.Add(time.Hour))
			if tab.Open() != 0 {
				t.Errorf("Open() = %d after CloseAll", tab.Open())
			}
			var got []string
			for _, f := range r.flows {
				if f.closes != 1 {
					t.Errorf("flow %v closed %d times", f.info.Client, f.closes)
				}
				got = append(got, fmt.Sprintf("%s [%s] %s", f.info.Client, strings.Join(f.events, " "), f.close.Reason))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if st := tab.Stats(); st.Ignored != tt.ignored || st.Flows != uint64(len(tt.want)) || st.Datagrams != uint64(len(tt.steps)) {
				t.Errorf("stats %+v, want %d ignored, %d flows", st, tt.ignored, len(tt.want))
			}
		})
	}
}

func TestDatagramsCloseInfo(t *testing.T) {
	r := &dgRec{}
	tab := NewDatagrams(Config{}, r)
	tab.Add(dg(cli, srv, 0, "Q12"), Place{Index: 7})
	tab.Add(dg(srv, cli, time.Second, "12345"), Place{Index: 8})
	tab.CloseAll(t0.Add(time.Hour))
	f := r.flows[0]
	if f.info.ID != 7 || !f.info.RolesInferred || f.info.Start != t0 {
		t.Errorf("info %+v: want ID 7 (the opening place), roles inferred, start t0", f.info)
	}
	c := f.close
	if c.Packets != [2]uint64{1, 1} || c.Delivered != [2]uint64{3, 5} || !c.Timestamp.Equal(t0.Add(time.Second)) {
		t.Errorf("close %+v", c)
	}
}

// FuzzDatagrams: any sequence of datagrams over a few endpoints, with
// ticks, leaves every claimed flow closed exactly once, every datagram of
// a claimed flow delivered to it, and at most MaxConns open at a time.
func FuzzDatagrams(f *testing.F) {
	f.Add([]byte("Q\x00\x01S\x01\x00a\x02\x03b\xff"))
	f.Add([]byte{0, 'Q', 1, 'x', 2, 'S', 3, 'y', 0xff, 0xfe, 4, 'Q'})
	f.Fuzz(func(t *testing.T, b []byte) {
		eps := []netip.AddrPort{cli, srv, netip.MustParseAddrPort("10.0.0.3:53"), netip.MustParseAddrPort("[2001:db8::1]:443")}
		r := &dgRec{}
		const maxConns = 2
		tab := NewDatagrams(Config{MaxConns: maxConns, IdleTimeout: 3 * time.Second}, r)
		at := time.Duration(0)
		added := uint64(0)
		for i := 0; i+1 < len(b); i += 2 {
			op, arg := b[i], b[i+1]
			at += time.Duration(op&0x0f) * 500 * time.Millisecond
			if op == 0xff {
				tab.Tick(t0.Add(at))
				continue
			}
			src, dst := eps[int(op>>4)%len(eps)], eps[int(arg)%len(eps)]
			if src == dst {
				continue
			}
			tab.Add(&packet.Datagram{Timestamp: t0.Add(at), Src: src, Dst: dst, Payload: []byte{arg}}, Place{Index: uint64(i + 1)})
			added++
			if tab.Open() > maxConns {
				t.Fatalf("%d flows open, MaxConns %d", tab.Open(), maxConns)
			}
		}
		tab.CloseAll(t0.Add(at))
		delivered := uint64(0)
		for _, fl := range r.flows {
			if fl.closes != 1 {
				t.Fatalf("flow closed %d times", fl.closes)
			}
			delivered += uint64(len(fl.events))
			if fl.close.Packets[0]+fl.close.Packets[1] != uint64(len(fl.events)) {
				t.Fatalf("close counts %v packets, handler saw %d", fl.close.Packets, len(fl.events))
			}
		}
		st := tab.Stats()
		if delivered+st.Ignored != added || st.Datagrams != added {
			t.Fatalf("%d added, %d delivered, %d ignored (stats %+v)", added, delivered, st.Ignored, st)
		}
	})
}
