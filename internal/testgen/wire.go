package testgen

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Dir is the direction of a byte stream: who sent it.
type Dir uint8

const (
	ClientToServer Dir = iota // sent by the client
	ServerToClient            // sent by the server
)

func (d Dir) String() string {
	switch d {
	case ClientToServer:
		return "client"
	case ServerToClient:
		return "server"
	}
	return "Dir(?)"
}

// peer is the other direction.
func (d Dir) peer() Dir { return 1 - d }

// EventKind says what an Event is.
type EventKind uint8

const (
	EventData EventKind = iota // bytes written
	EventFIN                   // the sender closed its half of the connection
	EventRST                   // the sender reset the connection
)

func (k EventKind) String() string {
	switch k {
	case EventData:
		return "data"
	case EventFIN:
		return "fin"
	case EventRST:
		return "rst"
	}
	return "EventKind(?)"
}

// Event is one entry of a conversation log: what one side did on the wire, in
// causal order. Data is owned by the event.
type Event struct {
	Kind EventKind
	From Dir
	Data []byte
}

// errDeadlock is what a Read returns when both sides wait for data that
// neither will send: the scenario's script is inconsistent.
var errDeadlock = errors.New("testgen: both sides are waiting to read")

// wire is an in-memory, turn-taking transport between a client and a server.
//
// Only the side holding the turn runs; it gives the turn away only when it
// must wait (Read with nothing buffered, a full buffer on Write, or its end).
// Every Write is logged through emit, under the lock, before the peer can
// read it. The two goroutines therefore never run crypto code at the same
// time, the log is a valid causal order, and — crypto/tls being
// deterministic given its Rand and Time — the same scenario yields the same
// log on every run, whatever the Go scheduler does.
type wire struct {
	mu      sync.Mutex
	cond    *sync.Cond
	turn    Dir
	in      [2][]byte // in[d]: bytes sent to side d, not yet read
	eof     [2]bool   // side d's peer closed its write half
	closed  [2]bool   // side d closed its write half
	waiting [2]bool   // side d waits in Read with nothing buffered
	done    [2]bool   // side d's goroutine returned
	got     [2]bool   // side d has read at least one byte
	reset   bool
	// abortClient: the client closes (FIN, no alert) instead of sending
	// anything once it has heard from the server.
	abortClient bool
	limit       int
	emit        func(Event)
}

func newWire(limit int, emit func(Event)) *wire {
	w := &wire{limit: limit, emit: emit, turn: ClientToServer}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// run executes client and server, each in its own goroutine, turn by turn,
// and returns when both have returned.
func (w *wire) run(client, server func(net.Conn)) {
	var wg sync.WaitGroup
	for _, side := range []struct {
		d  Dir
		fn func(net.Conn)
	}{{ClientToServer, client}, {ServerToClient, server}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ep := &endpoint{w: w, d: side.d}
			w.mu.Lock()
			for w.turn != side.d {
				w.cond.Wait()
			}
			w.mu.Unlock()
			side.fn(ep)
			w.mu.Lock()
			w.closeWrite(side.d)
			w.done[side.d] = true
			w.turn = side.d.peer()
			w.cond.Broadcast()
			w.mu.Unlock()
		}()
	}
	wg.Wait()
}

// yield hands the turn to the peer and waits for it to come back. Called
// with the lock held.
func (w *wire) yield(d Dir) {
	if w.done[d.peer()] {
		return
	}
	w.turn = d.peer()
	w.cond.Broadcast()
	for w.turn != d {
		w.cond.Wait()
	}
}

func (w *wire) closeWrite(d Dir) {
	if w.closed[d] || w.reset {
		return
	}
	w.closed[d] = true
	w.eof[d.peer()] = true
	w.emit(Event{Kind: EventFIN, From: d})
}

func (w *wire) doReset(d Dir) {
	if w.reset {
		return
	}
	w.emit(Event{Kind: EventRST, From: d})
	w.reset = true
	w.closed = [2]bool{true, true}
	w.eof = [2]bool{true, true}
	w.in = [2][]byte{}
}

// endpoint is one side's net.Conn.
type endpoint struct {
	w *wire
	d Dir
}

func (e *endpoint) Read(p []byte) (int, error) {
	w := e.w
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if w.reset {
			return 0, syscall.ECONNRESET
		}
		if b := w.in[e.d]; len(b) > 0 {
			n := copy(p, b)
			w.in[e.d] = b[n:]
			if len(w.in[e.d]) == 0 {
				w.in[e.d] = nil // let a drained buffer be collected
			}
			w.got[e.d] = true
			return n, nil
		}
		if w.eof[e.d] {
			return 0, io.EOF
		}
		p := e.d.peer()
		if w.done[p] || (w.waiting[p] && len(w.in[p]) == 0) {
			return 0, errDeadlock
		}
		w.waiting[e.d] = true
		w.yield(e.d)
		w.waiting[e.d] = false
	}
}

func (e *endpoint) Write(p []byte) (int, error) {
	w := e.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reset {
		return 0, syscall.ECONNRESET
	}
	if w.closed[e.d] {
		return 0, net.ErrClosed
	}
	if e.d == ClientToServer && w.abortClient && w.got[e.d] {
		w.closeWrite(e.d)
		return 0, net.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	b := append([]byte(nil), p...)
	w.emit(Event{Kind: EventData, From: e.d, Data: b})
	w.in[e.d.peer()] = append(w.in[e.d.peer()], b...)
	if len(w.in[e.d.peer()]) >= w.limit {
		w.yield(e.d) // let the peer drain: bounded memory for bulk transfers
	}
	return len(p), nil
}

// Close closes the write half (a FIN).
func (e *endpoint) Close() error {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	e.w.closeWrite(e.d)
	return nil
}

// Reset aborts the connection with a RST.
func (e *endpoint) Reset() {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	e.w.doReset(e.d)
}

func (e *endpoint) LocalAddr() net.Addr  { return pipeAddr{} }
func (e *endpoint) RemoteAddr() net.Addr { return pipeAddr{} }

// Deadlines are meaningless on a turn-taking wire: nothing ever waits on
// the clock. crypto/tls sets one in Close; accept and ignore it.
func (e *endpoint) SetDeadline(time.Time) error      { return nil }
func (e *endpoint) SetReadDeadline(time.Time) error  { return nil }
func (e *endpoint) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "testgen" }
func (pipeAddr) String() string  { return "testgen" }
