package testgen

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Ending says how a connection ends once the client's script is done.
type Ending uint8

const (
	// EndClose: the client sends close_notify and a FIN; the server answers
	// with its own close_notify and FIN.
	EndClose Ending = iota
	// EndFIN: the client closes TCP without close_notify. The server then
	// closes with close_notify and FIN: crypto/tls reports a bare FIN and
	// a close_notify alike (io.EOF), so the server cannot tell.
	EndFIN
	// EndRST: the client resets the connection (RST, no alert).
	EndRST
	// EndClientAbort: the client gives up during the handshake: once it has
	// heard from the server it sends nothing more and closes with a FIN (no
	// alert), as a browser does when a user walks away.
	EndClientAbort
	// EndClientReject: the client completes the handshake, then resets
	// the connection without sending data, as a client does that checks
	// the server's name only after the handshake (libpq's verify-full,
	// libldap, older Python and Java code) and finds it wrong.
	EndClientReject
)

func (e Ending) String() string {
	switch e {
	case EndClose:
		return "close"
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	case EndClientAbort:
		return "client_abort"
	case EndClientReject:
		return "client_reject"
	}
	return "Ending(?)"
}

// Timing fixes the clock of the packets of one connection. The capture point
// is the client's side: a client packet that answers the server comes Think
// after it, a server packet that answers the client comes RTT after it, and
// back-to-back segments of one side are Step apart.
type Timing struct {
	RTT   time.Duration // default 20 ms
	Think time.Duration // default 0.2 ms
	Step  time.Duration // default 0.1 ms
}

func (t Timing) withDefaults() Timing {
	if t.RTT == 0 {
		t.RTT = 20 * time.Millisecond
	}
	if t.Think == 0 {
		t.Think = 200 * time.Microsecond
	}
	if t.Step == 0 {
		t.Step = 100 * time.Microsecond
	}
	return t
}

// Line is one plaintext message of a prelude (SMTP before STARTTLS, or a
// whole plaintext conversation).
type Line struct {
	From Dir
	Text string
}

// Conn is one TCP connection of a scenario.
//
// Unless Script is set, the generator runs crypto/tls for real: Client and
// Server are templates, cloned per connection, whose Rand and Time the
// generator replaces (Rand: a ChaCha8 stream from Seed; Time: fixed, one RTT
// after the connection's SYN). Configs that share a ClientSessionCache or SessionTicketKey
// carry sessions from one Conn to the next: Conns are run in slice order.
type Conn struct {
	Name           string
	Seed           uint64
	Client, Server *tls.Config

	ClientAddr, ServerAddr netip.AddrPort
	At                     time.Duration // start (the SYN) relative to the capture start
	Timing                 Timing
	MSS                    int // payload bytes per segment; default 1460

	// Prelude is exchanged in plaintext before TLS starts (STARTTLS). Each
	// line is written by its sender and read in full by the other side.
	Prelude []Line
	// Plain: no TLS at all, the connection carries only the Prelude.
	Plain bool

	// After the handshake the client writes ClientSends bytes and reads
	// ServerSends bytes; the server reads and writes the same. The bytes
	// are a fixed pattern (they are encrypted anyway).
	ClientSends, ServerSends int
	End                      Ending

	// Rewrite, when set, rewrites the bytes of each recorded write before
	// they become packets (the peer still receives the original). It must
	// keep the stream valid TLS; see FragmentHandshake. It may keep state
	// from one write to the next.
	Rewrite func(from Dir, b []byte) []byte

	// Script, when set, is the conversation itself (hand-made records); no
	// TLS is run and Client/Server are ignored.
	Script []Event

	// Impair disturbs the packets (not the byte streams, except Gap).
	Impair Impairment

	keyLog io.Writer // from Capture.KeyLog
}

func (c *Conn) mss() int {
	if c.MSS <= 0 {
		return 1460
	}
	return c.MSS
}

// Outcome is what each side of a recorded connection saw.
type Outcome struct {
	ClientErr, ServerErr error
	// Client and Server are the connection states after a successful
	// handshake (zero values otherwise).
	Client, Server tls.ConnectionState
}

// wireLimit caps the bytes one side may have in flight on the wire before
// the writer yields to the reader.
const wireLimit = 256 << 10

// Record runs the connection's conversation and passes every event, in
// causal order, to emit. now is the time crypto/tls sees.
func (c *Conn) Record(now time.Time, emit func(Event)) (Outcome, error) {
	if c.Script != nil {
		for _, ev := range c.Script {
			emit(ev)
		}
		return Outcome{}, nil
	}
	if c.Rewrite != nil {
		inner := emit
		emit = func(ev Event) {
			if ev.Kind == EventData {
				ev.Data = c.Rewrite(ev.From, ev.Data)
			}
			inner(ev)
		}
	}
	var out Outcome
	var ccfg, scfg *tls.Config
	if !c.Plain {
		if c.Client == nil || c.Server == nil {
			return out, fmt.Errorf("testgen: conn %q: Client and Server configs are required", c.Name)
		}
		clock := func() time.Time { return now }
		ccfg, scfg = c.Client.Clone(), c.Server.Clone()
		ccfg.Rand, ccfg.Time = NewRand(c.Seed, "client"), clock
		scfg.Rand, scfg.Time = NewRand(c.Seed, "server"), clock
		if c.keyLog != nil {
			ccfg.KeyLogWriter = c.keyLog
		}
	}
	w := newWire(wireLimit, emit)
	w.abortClient = c.End == EndClientAbort
	w.run(func(nc net.Conn) {
		out.ClientErr = c.runClient(nc, ccfg, &out.Client)
	}, func(nc net.Conn) {
		out.ServerErr = c.runServer(nc, scfg, &out.Server)
	})
	return out, nil
}

func (c *Conn) prelude(nc net.Conn, me Dir) error {
	for i, l := range c.Prelude {
		if l.From == me {
			if _, err := io.WriteString(nc, l.Text); err != nil {
				return fmt.Errorf("prelude line %d: %w", i, err)
			}
			continue
		}
		buf := make([]byte, len(l.Text))
		if _, err := io.ReadFull(nc, buf); err != nil {
			return fmt.Errorf("prelude line %d: %w", i, err)
		}
	}
	return nil
}

func (c *Conn) runClient(nc net.Conn, cfg *tls.Config, st *tls.ConnectionState) error {
	ep := nc.(*endpoint)
	if err := c.prelude(nc, ClientToServer); err != nil || c.Plain {
		return err
	}
	tc := tls.Client(nc, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	*st = tc.ConnectionState()
	if c.End == EndClientReject {
		ep.Reset()
		return nil
	}
	if err := writePattern(tc, c.ClientSends); err != nil {
		return err
	}
	if _, err := io.CopyN(io.Discard, tc, int64(c.ServerSends)); err != nil {
		return err
	}
	switch c.End {
	case EndClose:
		return tc.Close()
	case EndRST:
		ep.Reset()
	default:
		return ep.Close()
	}
	return nil
}

func (c *Conn) runServer(nc net.Conn, cfg *tls.Config, st *tls.ConnectionState) error {
	if err := c.prelude(nc, ServerToClient); err != nil || c.Plain {
		return err
	}
	tc := tls.Server(nc, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	*st = tc.ConnectionState()
	if _, err := io.CopyN(io.Discard, tc, int64(c.ClientSends)); err != nil {
		return err
	}
	if err := writePattern(tc, c.ServerSends); err != nil {
		return err
	}
	// Wait for the client to finish, then answer with close_notify and FIN;
	// after a reset there is nothing left to answer.
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return err
	}
	return tc.Close()
}

// pattern is the application payload: readable, so that a decrypted capture
// shows what it is.
const pattern = "tlsgen application data 0123456789abcdefghijklmnopqrstuvwxyz\n"

func writePattern(w io.Writer, n int) error {
	var buf [16 << 10]byte
	for i := range buf {
		buf[i] = pattern[i%len(pattern)]
	}
	for n > 0 {
		k := min(n, len(buf))
		if _, err := w.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// Describe summarises an outcome in one line: version, suite, resumption,
// ALPN, or the errors each side saw.
func Describe(o Outcome) string {
	var parts []string
	if o.Client.HandshakeComplete {
		s := fmt.Sprintf("%s %s", tls.VersionName(o.Client.Version), tls.CipherSuiteName(o.Client.CipherSuite))
		if o.Client.DidResume {
			s += " resumed"
		}
		if o.Client.NegotiatedProtocol != "" {
			s += " alpn=" + o.Client.NegotiatedProtocol
		}
		parts = append(parts, s)
	}
	if o.ClientErr != nil {
		parts = append(parts, "client: "+o.ClientErr.Error())
	}
	if o.ServerErr != nil {
		parts = append(parts, "server: "+o.ServerErr.Error())
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, "; ")
}
