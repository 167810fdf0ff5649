package reassembly

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

var (
	t0  = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cli = netip.MustParseAddrPort("10.0.0.1:51000")
	srv = netip.MustParseAddrPort("10.0.0.2:443")
)

// Flag shorthands for the tables.
const (
	fS  = packet.FlagSYN
	fSA = packet.FlagSYN | packet.FlagACK
	fA  = packet.FlagACK
	fPA = packet.FlagPSH | packet.FlagACK
	fFA = packet.FlagFIN | packet.FlagACK
	fR  = packet.FlagRST
	fRA = packet.FlagRST | packet.FlagACK
)

// step is one line of a test script: a segment from one side of the
// (cli, srv) pair, or (tick) a call to Tick, at t0+at.
type step struct {
	from  packet.Dir // packet.FromClient: cli -> srv
	flags uint8
	seq   uint32
	ack   uint32
	data  string
	trunc int
	win   uint16
	at    time.Duration
	tick  bool
	cport uint16 // the client's port, when not cli's
}

func (s step) segment(c, v netip.AddrPort) *packet.Segment {
	if s.cport != 0 {
		c = netip.AddrPortFrom(c.Addr(), s.cport)
	}
	src, dst := c, v
	if s.from == packet.FromServer {
		src, dst = v, c
	}
	win := s.win
	if win == 0 {
		win = 65535
	}
	return &packet.Segment{
		Timestamp: t0.Add(s.at),
		Src:       src, Dst: dst,
		Seq: s.seq, Ack: s.ack,
		Flags: s.flags, Window: win,
		Payload:   []byte(s.data),
		Truncated: s.trunc,
	}
}

// handshake is the start of a connection: client ISN 1000, server ISN 5000.
var handshake = []step{
	{from: packet.FromClient, flags: fS, seq: 1000},
	{from: packet.FromServer, flags: fSA, seq: 5000, ack: 1001},
	{from: packet.FromClient, flags: fA, seq: 1001, ack: 5001},
}

func script(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// recorder is a Handler that writes down what it is told, and fails the test
// on anything after Close.
type recorder struct {
	t         testing.TB
	log       *[]string
	info      ConnInfo
	streams   [2][]byte
	gaps      [2]int
	anomalies []Anomaly
	closed    int
	close     CloseInfo
	dataAfter int
}

func (r *recorder) Data(d packet.Dir, ts time.Time, b []byte) {
	if r.closed > 0 {
		r.dataAfter++
		r.t.Errorf("conn %d: Data after Close", r.info.ID)
	}
	if len(b) == 0 {
		r.t.Errorf("conn %d: empty Data", r.info.ID)
	}
	r.streams[d] = append(r.streams[d], b...)
	if r.log != nil {
		*r.log = append(*r.log, fmt.Sprintf("%d %v:%s", r.info.ID, d, b))
	}
}

func (r *recorder) Gap(d packet.Dir, ts time.Time, n int) {
	if r.closed > 0 {
		r.t.Errorf("conn %d: Gap after Close", r.info.ID)
	}
	if n <= 0 {
		r.t.Errorf("conn %d: Gap of %d", r.info.ID, n)
	}
	r.gaps[d] += n
	if r.log != nil {
		*r.log = append(*r.log, fmt.Sprintf("%d gap %v %d", r.info.ID, d, n))
	}
}

func (r *recorder) Anomaly(a Anomaly) {
	if r.closed > 0 {
		r.t.Errorf("conn %d: Anomaly after Close", r.info.ID)
	}
	r.anomalies = append(r.anomalies, a)
}

func (r *recorder) Close(info CloseInfo) {
	r.closed++
	if r.closed > 1 {
		r.t.Errorf("conn %d: Close called %d times", r.info.ID, r.closed)
	}
	r.close = info
	if r.log != nil {
		*r.log = append(*r.log, fmt.Sprintf("%d close:%v", r.info.ID, info.Reason))
	}
}

func (r *recorder) kinds() []string {
	var k []string
	for _, a := range r.anomalies {
		k = append(k, a.Kind)
	}
	return k
}

func (r *recorder) anomaly(kind string) (Anomaly, bool) {
	for _, a := range r.anomalies {
		if a.Kind == kind {
			return a, true
		}
	}
	return Anomaly{}, false
}

type recFactory struct {
	t     testing.TB
	log   []string
	conns []*recorder
	nolog bool
}

func (f *recFactory) New(info ConnInfo) Handler {
	r := &recorder{t: f.t, info: info}
	if !f.nolog {
		r.log = &f.log
	}
	f.conns = append(f.conns, r)
	return r
}

// driven is an Assembler fed as the pipeline feeds one: segments numbered
// in capture order, the capture's clock kept, and a Tick every TickEvery.
type driven struct {
	*Assembler
	index           uint64
	clock, lastTick time.Time
	every           time.Duration
}

func drive(cfg Config, f Factory) *driven {
	return &driven{Assembler: New(cfg, f), every: cfg.TickEvery()}
}

// Add places seg and ticks first when the clock says so.
func (d *driven) Add(seg *packet.Segment) {
	d.index++
	if seg.Timestamp.After(d.clock) {
		d.clock = seg.Timestamp
	}
	if d.clock.Sub(d.lastTick) >= d.every {
		d.Tick(d.clock)
	}
	d.Assembler.Add(seg, Place{Index: d.index, Clock: d.clock})
}

func (d *driven) Tick(now time.Time) {
	if now.After(d.clock) {
		d.clock = now
	}
	d.lastTick = d.clock
	d.Assembler.Tick(now)
}

// run feeds a script to a new Assembler and returns it, unclosed.
func run(t testing.TB, cfg Config, steps []step) (*driven, *recFactory) {
	t.Helper()
	f := &recFactory{t: t}
	a := drive(cfg, f)
	for _, s := range steps {
		if s.tick {
			a.Tick(t0.Add(s.at))
			continue
		}
		a.Add(s.segment(cli, srv))
	}
	return a, f
}
