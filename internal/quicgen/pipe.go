package quicgen

import (
	"net"
	"os"
	"sync"
	"time"
)

// datagram is one UDP payload as it crossed the pipe.
type datagram struct {
	fromServer bool
	data       []byte
}

// pipe joins a client and a server net.PacketConn in memory and records
// every datagram in the order the two sides wrote them.
type pipe struct {
	mu     sync.Mutex
	log    []datagram
	ends   [2]*end // 0 client, 1 server
	closed chan struct{}
	once   sync.Once
}

func newPipe(client, server *net.UDPAddr) *pipe {
	p := &pipe{closed: make(chan struct{})}
	p.ends[0] = &end{p: p, side: 0, addr: client, in: make(chan []byte, 256)}
	p.ends[1] = &end{p: p, side: 1, addr: server, in: make(chan []byte, 256)}
	return p
}

func (p *pipe) close() { p.once.Do(func() { close(p.closed) }) }

func (p *pipe) datagrams() []datagram {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]datagram(nil), p.log...)
}

// end is one side of the pipe: a net.PacketConn without OOB support, which
// quic-go accepts (it then sends without GSO or ECN).
type end struct {
	p    *pipe
	side int
	addr *net.UDPAddr
	in   chan []byte

	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{}
}

func (e *end) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		e.mu.Lock()
		dl := e.deadline
		if e.wake == nil {
			e.wake = make(chan struct{})
		}
		wake := e.wake
		e.mu.Unlock()
		var timer <-chan time.Time
		var t *time.Timer
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t = time.NewTimer(d)
			timer = t.C
		}
		n, err, again := 0, error(nil), false
		select {
		case d := <-e.in:
			n = copy(b, d)
		case <-e.p.closed:
			err = net.ErrClosed
		case <-timer:
			err = os.ErrDeadlineExceeded
		case <-wake:
			again = true // the deadline changed: look again
		}
		if t != nil {
			t.Stop()
		}
		if again {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		return n, e.p.ends[1-e.side].addr, nil
	}
}

func (e *end) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-e.p.closed:
		return 0, net.ErrClosed
	default:
	}
	d := append([]byte(nil), b...)
	// Logging and queueing under one lock: the capture shows datagrams
	// in the order the peer receives them.
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	select {
	case e.p.ends[1-e.side].in <- append([]byte(nil), d...):
		e.p.log = append(e.p.log, datagram{fromServer: e.side == 1, data: d})
	default: // the peer's queue is full: the datagram is lost, as UDP would lose it
	}
	return len(b), nil
}

func (e *end) Close() error                       { return nil }
func (e *end) LocalAddr() net.Addr                { return e.addr }
func (e *end) SetDeadline(t time.Time) error      { return e.SetReadDeadline(t) }
func (e *end) SetWriteDeadline(t time.Time) error { return nil }

func (e *end) SetReadDeadline(t time.Time) error {
	e.mu.Lock()
	e.deadline = t
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
	e.mu.Unlock()
	return nil
}

// SetReadBuffer and SetWriteBuffer keep quic-go from logging that it
// cannot size socket buffers: the pipe has none.
func (e *end) SetReadBuffer(int) error  { return nil }
func (e *end) SetWriteBuffer(int) error { return nil }
