package dtlsgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pion/dtls/v3"

	"github.com/tlsdissect/tlsdissect/internal/testgen"
)

// Addrs returns the addresses of the capture (documentation ranges, RFC
// 5737).
func Addrs() (client, server netip.AddrPort) {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 10}), 50000),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 20}), 4433)
}

// Start returns the fixed clock's first reading.
func Start() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// Step is the fixed clock's advance per datagram.
const Step = time.Millisecond

// ServerName is the SNI the client sends.
const ServerName = "www.example.com"

// Scenario is one association to generate.
type Scenario struct {
	Name string
	Doc  string
	// Client and Server adjust the configs built by base.
	Client, Server func(*dtls.Config)
	// Drop says whether the n-th datagram (from 0) that from writes is
	// lost before the capture point.
	Drop func(n int, from testgen.Dir, b []byte) bool
	// Fails says the handshake is meant to fail.
	Fails bool
}

// Scenarios returns the scenarios, in a fixed order.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name: "dtls12-ecdhe-ecdsa-aes128gcm",
			Doc:  "DTLS 1.2 ECDHE-ECDSA-AES128-GCM with SNI, use_srtp and the HelloVerifyRequest cookie round; one message each way, then close_notify",
		},
		{
			Name: "dtls12-retransmit",
			Doc: "as dtls12-ecdhe-ecdsa-aes128gcm, with the server's third datagram (inside its ServerHello..ServerHelloDone flight) " +
				"lost: the server resends the flight, whose captured messages are retransmissions",
			Drop: func(n int, from testgen.Dir, _ []byte) bool { return from == testgen.ServerToClient && n == 2 },
		},
		{
			Name: "dtls12-no-shared-cipher",
			Doc:  "the client offers only ECDHE-ECDSA-AES256-CBC-SHA, the server takes only ECDHE-ECDSA-AES128-GCM: the server fails the handshake with a fatal alert (pion sends insufficient_security)",
			Client: func(c *dtls.Config) {
				c.CipherSuites = []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
			},
			Fails: true,
		},
	}
}

// Capture is what a scenario produced.
type Capture struct {
	Scenario             Scenario
	Packets              []testgen.Packet // every datagram delivered, in order
	KeyLog               []byte           // NSS key log of the client
	ClientErr, ServerErr error            // handshake or exchange errors
}

// base returns the client and server configs every scenario starts from.
func base(pki *testgen.PKI, keylog io.Writer) (client, server *dtls.Config) {
	srtp := []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}
	client = &dtls.Config{
		ServerName: ServerName,
		// The PKI is valid around Start, not around the wall clock
		// pion verifies with: trust is not what these captures test.
		InsecureSkipVerify:     true,
		CipherSuites:           []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SRTPProtectionProfiles: srtp,
		KeyLogWriter:           keylog,
		FlightInterval:         100 * time.Millisecond,
		MTU:                    500, // the Certificate flight spans datagrams, the Certificate fragments
	}
	server = &dtls.Config{
		Certificates:           []tls.Certificate{pki.Server.TLS()},
		CipherSuites:           []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SRTPProtectionProfiles: srtp,
		FlightInterval:         100 * time.Millisecond,
		MTU:                    500,
	}
	return client, server
}

// Run plays one scenario. seed fixes the certificates.
func Run(ctx context.Context, s Scenario, seed uint64) (*Capture, error) {
	pki, err := testgen.NewPKI(seed, Start())
	if err != nil {
		return nil, err
	}
	var keylog syncBuffer
	ccfg, scfg := base(pki, &keylog)
	if s.Client != nil {
		s.Client(ccfg)
	}
	if s.Server != nil {
		s.Server(scfg)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	p := newPipe(Start(), Step, s.Drop)
	cEnd, sEnd := p.ends[testgen.ClientToServer], p.ends[testgen.ServerToClient]

	var wg sync.WaitGroup
	out := &Capture{Scenario: s}
	ping, pong := []byte("ping from the client"), []byte("pong from the server")
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cEnd.Close()
		out.ClientErr = client(ctx, cEnd, ccfg, ping, pong)
		if out.ClientErr != nil {
			// The client gave up (on the server's alert): the server
			// would wait for its next flight until the timeout.
			sEnd.Close()
		}
	}()
	go func() {
		defer wg.Done()
		defer sEnd.Close()
		out.ServerErr = server(ctx, sEnd, scfg, ping, pong)
	}()
	wg.Wait()
	out.Packets = p.packets()
	out.KeyLog = keylog.bytes()
	if ctx.Err() != nil {
		return out, fmt.Errorf("dtlsgen: %s: %w", s.Name, ctx.Err())
	}
	if !s.Fails && (out.ClientErr != nil || out.ServerErr != nil) {
		return out, fmt.Errorf("dtlsgen: %s: client: %v; server: %v", s.Name, out.ClientErr, out.ServerErr)
	}
	if s.Fails && out.ClientErr == nil {
		return out, fmt.Errorf("dtlsgen: %s: the handshake was meant to fail", s.Name)
	}
	return out, nil
}

func client(ctx context.Context, pc *end, cfg *dtls.Config, ping, pong []byte) error {
	c, err := dtls.Client(pc, pipeAddr(testgen.ServerToClient), cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if _, err := c.Write(ping); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.Equal(buf[:n], pong) {
		return errors.New("client read the wrong reply")
	}
	return nil
}

func server(ctx context.Context, pc *end, cfg *dtls.Config, ping, pong []byte) error {
	c, err := dtls.Server(pc, pipeAddr(testgen.ClientToServer), cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.Equal(buf[:n], ping) {
		return errors.New("server read the wrong message")
	}
	if _, err := c.Write(pong); err != nil {
		return err
	}
	// Wait for the client's close_notify, briefly.
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = c.Read(buf)
	return nil
}

// WritePcap writes the capture's datagrams as UDP packets between
// the Addrs.
func WritePcap(w io.Writer, c *Capture) error {
	pw, err := testgen.NewPacketWriter(w, testgen.FormatPcap, testgen.LinkEthernet)
	if err != nil {
		return err
	}
	ca, sa := Addrs()
	for i := range c.Packets {
		if err := pw.WriteUDP(ca, sa, &c.Packets[i]); err != nil {
			return err
		}
	}
	return pw.Flush()
}

// WriteDir runs every scenario and writes NAME.pcap and NAME.keys (the
// client's key log) into dir. It returns the captures.
func WriteDir(ctx context.Context, dir string, seed uint64) ([]*Capture, error) {
	var out []*Capture
	for _, s := range Scenarios() {
		c, err := Run(ctx, s, seed)
		if err != nil {
			return out, err
		}
		var buf bytes.Buffer
		if err := WritePcap(&buf, c); err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".pcap"), buf.Bytes(), 0o644); err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".keys"), c.KeyLog, 0o644); err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// syncBuffer is a bytes.Buffer pion's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
