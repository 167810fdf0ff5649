package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveLoopback captures on the loopback interface while a crypto/tls
// client and server (in this test) make a full TLS 1.2 handshake that
// issues a ticket and then resume it; SIGINT then makes the real binary
// flush both records. Capture needs root (CI runs as root); set
// TLSDISSECT_SKIP_LIVE=1 to opt out explicitly elsewhere.
func TestLiveLoopback(t *testing.T) {
	if os.Getenv("TLSDISSECT_SKIP_LIVE") != "" {
		t.Skip("TLSDISSECT_SKIP_LIVE is set")
	}
	if os.Geteuid() != 0 {
		t.Fatal("live capture on lo needs root or CAP_NET_RAW+CAP_NET_ADMIN; run as root or set TLSDISSECT_SKIP_LIVE=1 to skip")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	// -w during the capture: the packets of both connections, kept as
	// they came and written as each closed.
	pcapFile := filepath.Join(t.TempDir(), "live.pcapng")
	cmd := exec.Command(binary(t), "-i", "lo", "-F", "json", "-w", pcapFile, "tcp port "+strconv.Itoa(port))
	stdout, _ := cmd.StdoutPipe()
	stderrPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	errLines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			errLines <- sc.Text()
		}
		close(errLines)
	}()
	var stderrText strings.Builder
	select {
	case l, ok := <-errLines:
		stderrText.WriteString(l + "\n")
		if !ok || !strings.Contains(l, "listening on lo") {
			t.Fatalf("capture did not start: %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("capture did not start within 10 s")
	}

	cert := selfSigned(t)
	go serveEcho(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}, 5)
	cache := tls.NewLRUClientSessionCache(4)
	cli := &tls.Config{InsecureSkipVerify: true, ServerName: "live.test", ClientSessionCache: cache, MaxVersion: tls.VersionTLS12}
	for i := 0; i < 2; i++ {
		c, err := tls.Dial("tcp", ln.Addr().String(), cli)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hello"))
		io.ReadFull(c, make([]byte, 5))
		if resumed := c.ConnectionState().DidResume; resumed != (i == 1) {
			t.Fatalf("connection %d: DidResume = %v", i, resumed)
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	// Live, each record is written as its connection ends, whatever the
	// number of workers: both must arrive before the capture is stopped.
	outLines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			outLines <- sc.Text()
		}
		close(outLines)
	}()
	var out strings.Builder
	for n := 0; n < 2; n++ {
		select {
		case l := <-outLines:
			out.WriteString(l + "\n")
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of 2 records written within 5 s of the connections' end:\n%s", n, out.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	for l := range outLines {
		out.WriteString(l + "\n")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		for l := range errLines {
			stderrText.WriteString(l + "\n")
		}
		if err != nil {
			t.Fatalf("exit after SIGINT: %v; stderr %s", err, stderrText.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10 s of SIGINT")
	}
	recs := readRecords(t, out.String())
	if len(recs) != 2 {
		t.Fatalf("want 2 records, got %d:\n%s\nstderr: %s", len(recs), out.String(), stderrText.String())
	}
	written := map[pair]int{}
	for _, sg := range segments(t, pcapFile) {
		written[pairOf(sg.src, sg.dst)]++
	}
	for _, r := range recs {
		p := pairOf(netip.AddrPortFrom(netip.MustParseAddr(r.Client.IP), r.Client.Port), netip.AddrPortFrom(netip.MustParseAddr(r.Server.IP), r.Server.Port))
		if written[p] < 6 { // a handshake and a FIN each way at the least
			t.Errorf("-w %s holds %d packets of %s → %s", pcapFile, written[p], r.Client.IP, r.Server.IP)
		}
		delete(written, p)
	}
	if len(written) > 0 {
		t.Errorf("-w %s holds packets of other connections: %v", pcapFile, written)
	}
	first, second := recs[0], recs[1]
	if !first.SessionTicket.Issued || first.Status != "established" {
		t.Errorf("first connection: status %q, ticket issued %v", first.Status, first.SessionTicket.Issued)
	}
	if !second.Resumed || second.Resumption != "ticket" || second.SessionTicket.IssuedBy != first.UID {
		t.Errorf("second connection: resumed %v by %q, issued_by %q, want %q", second.Resumed, second.Resumption, second.SessionTicket.IssuedBy, first.UID)
	}
	if !strings.Contains(stderrText.String(), "libpcap") {
		t.Errorf("summary lacks libpcap counters: %s", stderrText.String())
	}
}

// serveEcho accepts TLS connections on ln until it is closed, and echoes
// the first n bytes of each back.
func serveEcho(ln net.Listener, cfg *tls.Config, n int64) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			tc := tls.Server(c, cfg)
			if tc.Handshake() == nil {
				io.Copy(tc, io.LimitReader(tc, n))
			}
		}()
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "live.test"},
		DNSNames:     []string{"live.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
