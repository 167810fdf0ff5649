package dtlsgen

import (
	"net"
	"os"
	"sync"
	"time"

	"github.com/tlsdissect/tlsdissect/internal/testgen"
)

// datagram is one UDP payload on the pipe.
type datagram struct {
	from testgen.Dir
	data []byte
}

// pipe is an in-memory datagram link between a client and a server. Every
// datagram written is offered to drop, then, unless dropped, logged (the
// capture point is at the receiver: a dropped datagram is never seen) and
// queued for the peer. Timestamps come from a fixed clock that advances
// by step per datagram logged, never from the wall clock; only pion's
// retransmission timers run on real time.
type pipe struct {
	mu     sync.Mutex
	log    []testgen.Packet
	clock  time.Time
	step   time.Duration
	drop   func(n int, from testgen.Dir, b []byte) bool
	sent   [2]int // datagrams written per direction
	ends   [2]*end
	closed bool
}

func newPipe(start time.Time, step time.Duration, drop func(int, testgen.Dir, []byte) bool) *pipe {
	p := &pipe{clock: start, step: step, drop: drop}
	for i := range p.ends {
		p.ends[i] = &end{p: p, dir: testgen.Dir(i), in: make(chan []byte, 256), done: make(chan struct{}), kick: make(chan struct{})}
	}
	return p
}

func (p *pipe) send(from testgen.Dir, b []byte) {
	p.mu.Lock()
	n := p.sent[from]
	p.sent[from]++
	if p.closed || (p.drop != nil && p.drop(n, from, b)) {
		p.mu.Unlock()
		return
	}
	c := append([]byte(nil), b...)
	p.clock = p.clock.Add(p.step)
	p.log = append(p.log, testgen.Packet{Time: p.clock, From: from, Payload: c})
	peer := p.ends[1-from]
	p.mu.Unlock()
	select {
	case peer.in <- c:
	default: // the peer's queue is full: lost, as UDP would lose it
	}
}

func (p *pipe) packets() []testgen.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return append([]testgen.Packet(nil), p.log...)
}

// end is one side's net.PacketConn.
type end struct {
	p    *pipe
	dir  testgen.Dir
	in   chan []byte
	once sync.Once
	done chan struct{}

	mu       sync.Mutex
	deadline time.Time
	kick     chan struct{} // closed and replaced when the deadline changes
}

type pipeAddr testgen.Dir

func (a pipeAddr) Network() string { return "dtlsgen" }
func (a pipeAddr) String() string  { return testgen.Dir(a).String() }

var errClosed = net.ErrClosed

func (e *end) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		e.mu.Lock()
		dl, kick := e.deadline, e.kick
		e.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			// pion's deadlines are wall-clock time (netctx moves them
			// to the past to interrupt a read): its timers are the one
			// thing here that runs on real time.
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case d := <-e.in:
			return copy(b, d), pipeAddr(1 - e.dir), nil
		case <-e.done:
			return 0, nil, errClosed
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-kick: // the deadline moved: look again
		}
	}
}

func (e *end) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-e.done:
		return 0, errClosed
	default:
	}
	e.p.send(e.dir, b)
	return len(b), nil
}

func (e *end) Close() error {
	e.once.Do(func() { close(e.done) })
	return nil
}

func (e *end) LocalAddr() net.Addr { return pipeAddr(e.dir) }

func (e *end) SetDeadline(t time.Time) error { return e.SetReadDeadline(t) }

func (e *end) SetReadDeadline(t time.Time) error {
	e.mu.Lock()
	e.deadline = t
	close(e.kick)
	e.kick = make(chan struct{})
	e.mu.Unlock()
	return nil
}

func (e *end) SetWriteDeadline(time.Time) error { return nil }

var _ net.PacketConn = (*end)(nil)
