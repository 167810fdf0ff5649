package dissect

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// segment is one write of one side, in the order they happened.
type segment struct {
	dir  packet.Dir
	data []byte
}

// recorder logs writes of both sides of a pipe in order.
type recorder struct {
	mu   sync.Mutex
	segs []segment
}

type recConn struct {
	net.Conn
	dir packet.Dir
	rec *recorder
}

func (c *recConn) Write(b []byte) (int, error) {
	// Logged as written: a write can only happen after whatever it answers
	// was written, so the log is in capture order.
	c.rec.mu.Lock()
	c.rec.segs = append(c.rec.segs, segment{c.dir, append([]byte(nil), b...)})
	c.rec.mu.Unlock()
	return c.Conn.Write(b)
}

// bufPipe is an in-memory connection whose writes never block (net.Pipe's
// do, and TLS 1.3 peers may both write at once: a CCS after an HRR, say).
// Each side's Write appends to the other side's buffer.
type bufPipe struct {
	mu     *sync.Mutex
	cond   *sync.Cond
	in     *[]byte // what this side reads
	out    *[]byte // what the peer reads
	closed *bool
}

func newBufPipe() (net.Conn, net.Conn) {
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	var a, b []byte
	closed := false
	return &bufPipe{&mu, cond, &a, &b, &closed}, &bufPipe{&mu, cond, &b, &a, &closed}
}

func (p *bufPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(*p.in) == 0 && !*p.closed {
		p.cond.Wait()
	}
	if len(*p.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, *p.in)
	*p.in = (*p.in)[n:]
	return n, nil
}

func (p *bufPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *p.closed {
		return 0, io.ErrClosedPipe
	}
	*p.out = append(*p.out, b...)
	p.cond.Broadcast()
	return len(b), nil
}

func (p *bufPipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	*p.closed = true
	p.cond.Broadcast()
	return nil
}

func (p *bufPipe) LocalAddr() net.Addr                { return pipeAddr{} }
func (p *bufPipe) RemoteAddr() net.Addr               { return pipeAddr{} }
func (p *bufPipe) SetDeadline(t time.Time) error      { return nil }
func (p *bufPipe) SetReadDeadline(t time.Time) error  { return nil }
func (p *bufPipe) SetWriteDeadline(t time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// testCert makes a self-signed ECDSA certificate for the test servers.
func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "dissect.test"},
		DNSNames:     []string{"dissect.test"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

var (
	certOnce sync.Once
	certVal  tls.Certificate
)

func sharedCert(t testing.TB) tls.Certificate {
	certOnce.Do(func() { certVal = testCert(t) })
	return certVal
}

// exchange runs a crypto/tls client and server over an in-memory pipe and returns
// both directions' bytes in write order. After the handshake the server
// writes "world", the client reads it, writes "hello", and closes.
func exchange(t testing.TB, maxVersion uint16, tweak func(cc, sc *tls.Config)) []segment {
	t.Helper()
	cert := sharedCert(t)
	rec := &recorder{}
	cp, sp := newBufPipe()
	cconn := &recConn{cp, packet.FromClient, rec}
	sconn := &recConn{sp, packet.FromServer, rec}
	sc := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion}
	cc := &tls.Config{InsecureSkipVerify: true, ServerName: "dissect.test", MaxVersion: maxVersion, NextProtos: []string{"h2", "http/1.1"}}
	sc.NextProtos = []string{"h2"}
	if tweak != nil {
		tweak(cc, sc)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var serr error
	go func() {
		defer wg.Done()
		s := tls.Server(sconn, sc)
		if serr = s.Handshake(); serr != nil {
			sp.Close()
			return
		}
		if _, serr = s.Write([]byte("world")); serr != nil {
			return
		}
		buf := make([]byte, 5)
		if _, serr = io.ReadFull(s, buf); serr != nil {
			return
		}
		io.Copy(io.Discard, s) // until the client's close_notify
		sp.Close()
	}()
	c := tls.Client(cconn, cc)
	err := c.Handshake()
	if err == nil {
		buf := make([]byte, 5)
		_, err = io.ReadFull(c, buf)
	}
	if err == nil {
		_, err = c.Write([]byte("hello"))
	}
	c.Close()
	wg.Wait()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if serr != nil {
		t.Fatalf("server: %v", serr)
	}
	return rec.segs
}

// logSink records what a Conn reports, as readable lines.
type logSink struct {
	lines     []string
	events    []Event
	anomalies []Anomaly
	starttls  []string
}

func (s *logSink) Event(e *Event) {
	enc := ""
	if e.Encrypted {
		enc = "*"
	}
	s.lines = append(s.lines, fmt.Sprintf("%c %s%s", "CS"[e.Dir], e.Type, enc))
	s.events = append(s.events, *e)
}

func (s *logSink) Anomaly(a Anomaly) {
	s.lines = append(s.lines, fmt.Sprintf("%c !%s", "CS"[a.Dir], a.Kind))
	s.anomalies = append(s.anomalies, a)
}

func (s *logSink) StartTLS(p string) {
	s.lines = append(s.lines, "starttls "+p)
	s.starttls = append(s.starttls, p)
}

func (s *logSink) RolesSwapped() { s.lines = append(s.lines, "roles swapped") }

func (s *logSink) String() string { return strings.Join(s.lines, "\n") }

// feed runs segments through a new Conn, each segment cut into pieces of at
// most chunk bytes (0: whole), and ends it.
func feed(cfg Config, segs []segment, chunk int) *logSink {
	sink := &logSink{}
	c := NewConn(cfg, sink)
	feedConn(c, segs, chunk)
	// Probable alerts are settled at End: they are facts of the State,
	// logged after the events.
	for _, a := range c.State().Alerts {
		if a.Probable {
			sink.lines = append(sink.lines, fmt.Sprintf("%c ~probable_alert", "CS"[a.From]))
		}
	}
	return sink
}

// feedConn runs segments through c, each cut into pieces of at most chunk
// bytes (0: whole), and ends it.
func feedConn(c *Conn, segs []segment, chunk int) {
	ts := time.Unix(1700000000, 0)
	for i, s := range segs {
		b := s.data
		for len(b) > 0 {
			n := len(b)
			if chunk > 0 && n > chunk {
				n = chunk
			}
			c.Data(s.dir, ts.Add(time.Duration(i)*time.Millisecond), b[:n])
			b = b[n:]
		}
	}
	// Both sides closed (crypto/tls's Close, then the TCP close): a
	// direction's last record stands where an alert would.
	end := ts.Add(time.Hour)
	c.SetEnds([2]time.Time{end, end}, time.Time{})
	c.End(end)
}
