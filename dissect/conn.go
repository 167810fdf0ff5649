package dissect

import "time"

// Conn dissects the two byte streams of one connection.
// CONTRACT STUB: the dissect work replaces this file; signatures stay.
type Conn struct {
	cfg  Config
	sink Sink
}

// NewConn returns a Conn that reports to sink.
func NewConn(cfg Config, sink Sink) *Conn { return &Conn{cfg: cfg, sink: sink} }

// Data feeds the next contiguous bytes of dir. b is only read during the call.
func (c *Conn) Data(dir Dir, ts time.Time, b []byte) {}

// Gap says n bytes of dir are lost; the framer resynchronises after them.
func (c *Conn) Gap(dir Dir, ts time.Time, n int) {}

// End says both streams are over; a record cut short is reported.
func (c *Conn) End(ts time.Time) {}

// SawTLS reports whether anything TLS was recognised on this connection.
func (c *Conn) SawTLS() bool { return false }
