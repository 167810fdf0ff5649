package reassembly_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// printer prints what one connection delivers.
type printer struct{ id uint64 }

func (p printer) Data(d packet.Dir, _ time.Time, b []byte) { fmt.Printf("%d %v %q\n", p.id, d, b) }
func (p printer) Gap(d packet.Dir, _ time.Time, n int) {
	fmt.Printf("%d %v gap of %d\n", p.id, d, n)
}
func (p printer) Anomaly(a reassembly.Anomaly) { fmt.Printf("%d anomaly %s\n", p.id, a.Kind) }
func (p printer) Close(ci reassembly.CloseInfo) {
	fmt.Printf("%d closed (%v): delivered %v, missing %v\n", p.id, ci.Reason, ci.Delivered, ci.Missing)
}

type factory struct{}

func (factory) New(info reassembly.ConnInfo) reassembly.Handler {
	fmt.Printf("%d new: client %v server %v\n", info.ID, info.Client, info.Server)
	return printer{info.ID}
}

func Example() {
	c := netip.MustParseAddrPort("192.0.2.1:50000")
	s := netip.MustParseAddrPort("198.51.100.7:443")
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := reassembly.New(reassembly.Config{}, factory{})
	var i uint64
	for _, seg := range []packet.Segment{
		{Timestamp: t, Src: c, Dst: s, Seq: 100, Flags: packet.FlagSYN},
		{Timestamp: t, Src: s, Dst: c, Seq: 900, Ack: 101, Flags: packet.FlagSYN | packet.FlagACK},
		{Timestamp: t, Src: c, Dst: s, Seq: 106, Ack: 901, Flags: packet.FlagACK, Payload: []byte("world")}, // ahead of a hole
		{Timestamp: t, Src: c, Dst: s, Seq: 101, Ack: 901, Flags: packet.FlagACK, Payload: []byte("hello")},
		{Timestamp: t, Src: s, Dst: c, Seq: 901, Ack: 111, Flags: packet.FlagACK, Payload: []byte("hi")},
	} {
		// The driver numbers the segments and keeps the clock (see
		// Place); a real one also calls Tick every Config.TickEvery.
		i++
		a.Add(&seg, reassembly.Place{Index: i, Clock: t})
	}
	a.CloseAll(t)
	// Output:
	// 1 new: client 192.0.2.1:50000 server 198.51.100.7:443
	// 1 client "hello"
	// 1 client "world"
	// 1 server "hi"
	// 1 anomaly out_of_order
	// 1 closed (end_of_input): delivered [10 2], missing [0 0]
}
