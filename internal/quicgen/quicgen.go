// Package quicgen writes small QUIC captures for tests: a real client and
// server (quic-go) talk over an in-memory packet pipe, every datagram is
// recorded, and the conversation is written as a pcap of UDP packets with
// the client's TLS key log next to it, so that Wireshark (and tlsdissect)
// can decrypt the Handshake and 1-RTT packets.
//
// The certificates come from internal/testgen's seeded PKI and the TLS
// randoms from its seeded reader, but quic-go draws connection IDs and
// its own timers from the system, so two runs differ in bytes; the
// structure of each scenario (packet types, CRYPTO contents, close codes)
// does not.
package quicgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/tlsdissect/tlsdissect/internal/testgen"
)

// Scenario is one QUIC connection to record.
type Scenario struct {
	Name  string // file stem: Name+".pcap", Name+".keys"
	About string
	// Version is the only version both sides speak.
	Version quic.Version
	// ServerALPN is what the server accepts; the client offers "h3".
	ServerALPN []string
	// Retry makes the server validate the client's address first.
	Retry bool
	// WantFail says the handshake is expected to fail.
	WantFail bool
}

// Scenarios returns the captures Write produces.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "quic-v1-h3", About: "QUIC v1 handshake, ALPN h3, SNI www.example.com, closed by the client", Version: quic.Version1, ServerALPN: []string{"h3"}},
		{Name: "quic-alpn-mismatch", About: "QUIC v1, the server speaks only ALPN \"hq-interop\": CONNECTION_CLOSE 0x178 (TLS alert no_application_protocol)", Version: quic.Version1, ServerALPN: []string{"hq-interop"}, WantFail: true},
		{Name: "quic-retry", About: "QUIC v1 with a Retry (address validation), then a full handshake", Version: quic.Version1, ServerALPN: []string{"h3"}, Retry: true},
		{Name: "quic-v2-h3", About: "QUIC version 2 (RFC 9369) handshake, ALPN h3", Version: quic.Version2, ServerALPN: []string{"h3"}},
	}
}

// Addresses of the recorded connection.
var (
	ClientAddr = netip.MustParseAddrPort("192.0.2.10:50123")
	ServerAddr = netip.MustParseAddrPort("198.51.100.20:443")
)

// Start is the capture time of the first datagram, and the clock both TLS
// stacks check certificates against.
var Start = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// Datagram is one recorded UDP payload.
type Datagram struct {
	FromServer bool
	Time       time.Time
	Payload    []byte
}

// Result is what one scenario produced.
type Result struct {
	Scenario  Scenario
	Datagrams []Datagram
	KeyLog    []byte
	// HandshakeErr is the client's Dial error (nil on success).
	HandshakeErr error
}

// Record runs one scenario and returns its datagrams and key log.
func Record(s Scenario) (Result, error) {
	res := Result{Scenario: s}
	pki, err := testgen.NewPKI(1, Start)
	if err != nil {
		return res, err
	}
	now := func() time.Time { return Start }
	var keyLog keyLogBuffer
	serverTLS := &tls.Config{
		Certificates: []tls.Certificate{pki.Server.TLS()},
		NextProtos:   s.ServerALPN,
		Time:         now,
		Rand:         testgen.NewRand(1, s.Name+"/server"),
		MinVersion:   tls.VersionTLS13,
	}
	clientTLS := &tls.Config{
		ServerName:   "www.example.com",
		RootCAs:      pki.Roots,
		NextProtos:   []string{"h3"},
		Time:         now,
		Rand:         testgen.NewRand(1, s.Name+"/client"),
		KeyLogWriter: &keyLog,
		MinVersion:   tls.VersionTLS13,
	}
	conf := &quic.Config{
		Versions:             []quic.Version{s.Version},
		HandshakeIdleTimeout: 3 * time.Second,
		MaxIdleTimeout:       5 * time.Second,
	}
	p := newPipe(net.UDPAddrFromAddrPort(ClientAddr), net.UDPAddrFromAddrPort(ServerAddr))
	defer p.close()
	st := &quic.Transport{Conn: p.ends[1], ConnectionIDLength: 8}
	if s.Retry {
		st.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	ct := &quic.Transport{Conn: p.ends[0], ConnectionIDLength: 8}
	defer ct.Close()
	defer st.Close()
	ln, err := st.Listen(serverTLS, conf)
	if err != nil {
		return res, fmt.Errorf("quicgen: listen: %w", err)
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		sc, err := ln.Accept(ctx)
		if err != nil {
			served <- err
			return
		}
		// Wait for the client to close.
		<-sc.Context().Done()
		served <- nil
	}()
	cc, err := ct.Dial(ctx, p.ends[1].addr, clientTLS, conf)
	res.HandshakeErr = err
	if err == nil {
		_ = cc.CloseWithError(0, "done")
		select {
		case <-served:
		case <-ctx.Done():
			return res, fmt.Errorf("quicgen: %s: server did not see the close", s.Name)
		}
	} else if !s.WantFail {
		return res, fmt.Errorf("quicgen: %s: dial: %w", s.Name, err)
	}
	if s.WantFail && err == nil {
		return res, fmt.Errorf("quicgen: %s: handshake succeeded, want failure", s.Name)
	}
	// Let the last datagrams (the close, its answer) land in the log.
	time.Sleep(50 * time.Millisecond)
	for i, d := range p.datagrams() {
		res.Datagrams = append(res.Datagrams, Datagram{
			FromServer: d.fromServer,
			Time:       Start.Add(time.Duration(i) * 700 * time.Microsecond),
			Payload:    d.data,
		})
	}
	res.KeyLog = keyLog.bytes()
	return res, nil
}

// WritePcap writes the datagrams of a result as a pcap of UDP packets.
func WritePcap(w io.Writer, res Result) error {
	pw, err := testgen.NewPacketWriter(w, testgen.FormatPcap, testgen.LinkEthernet)
	if err != nil {
		return err
	}
	for _, d := range res.Datagrams {
		p := testgen.Packet{Time: d.Time, From: testgen.ClientToServer, Payload: d.Payload}
		if d.FromServer {
			p.From = testgen.ServerToClient
		}
		if err := pw.WriteUDP(ClientAddr, ServerAddr, &p); err != nil {
			return err
		}
	}
	return pw.Flush()
}

// Write records every scenario into dir: NAME.pcap and NAME.keys (the
// NSS key log).
func Write(dir string) ([]Result, error) {
	var out []Result
	for _, s := range Scenarios() {
		res, err := Record(s)
		if err != nil {
			return out, err
		}
		out = append(out, res)
		f, err := os.Create(filepath.Join(dir, s.Name+".pcap"))
		if err != nil {
			return out, err
		}
		err = WritePcap(f, res)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(dir, s.Name+".keys"), res.KeyLog, 0o644); err != nil {
			return out, err
		}
	}
	return out, nil
}

// keyLogBuffer collects key log lines; quic-go's TLS writes from its own
// goroutines.
type keyLogBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (k *keyLogBuffer) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.buf = append(k.buf, p...)
	return len(p), nil
}

func (k *keyLogBuffer) bytes() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]byte(nil), k.buf...)
}
