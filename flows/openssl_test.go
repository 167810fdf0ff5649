package flows

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// TestOpenSSLFailures diagnoses real OpenSSL handshakes (s_client against
// s_server, the Debian openssl package) that fail for each cause the
// diagnosis names: each scenario runs a TLS 1.2 and then a TLS 1.3
// connection to the same server, relayed through this test, which hands
// what each side said to a Tracker. In TLS 1.3 the certificate is
// encrypted: the diagnosis has to use the one the TLS 1.2 connection
// showed. Opt-in (TLSDISSECT_OPENSSL=1): it runs external programs and
// takes some seconds.
func TestOpenSSLFailures(t *testing.T) {
	if os.Getenv("TLSDISSECT_OPENSSL") == "" {
		t.Skip("set TLSDISSECT_OPENSSL=1 to run OpenSSL's s_client and s_server")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	dir := t.TempDir()
	now := time.Now()
	root := newRSAPKI(t, "Lab Root CA")
	writePEM(t, dir, "root", root.caDER, nil)
	inter := root.intermediate(t, "Lab Issuing CA")
	other := newRSAPKI(t, "Other Root CA")
	writePEM(t, dir, "inter", inter.caDER, nil)
	const host = "www.lab.example"
	leaf := func(name string, p *pki, key crypto.Signer, mod func(*x509.Certificate)) {
		tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
			NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(0, 3, 0),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if mod != nil {
			mod(tmpl)
		}
		if key == nil {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			key = k
		}
		writePEM(t, dir, name, p.issue(t, tmpl, key.Public()), key)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	leaf("good", inter, nil, nil)
	leaf("expired", inter, nil, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-1, 0, 0), now.AddDate(0, 0, -20) })
	leaf("notyet", inter, nil, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(0, 0, 20), now.AddDate(1, 0, 0) })
	leaf("untrusted", other, nil, nil)
	leaf("weakkey", inter, rsa1024, nil)
	leaf("sha1", inter, nil, func(c *x509.Certificate) { c.SignatureAlgorithm = x509.ECDSAWithSHA1 })
	leaf("eku", inter, nil, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} })
	leaf("aia", inter, nil, func(c *x509.Certificate) { c.IssuingCertificateURL = []string{"http://ca.lab.example/issuing.der"} })
	selfKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	selfTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0)}
	selfDER, err := x509.CreateCertificate(rand.Reader, selfTmpl, selfTmpl, selfKey.Public(), selfKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, dir, "self", selfDER, selfKey)

	weak := []string{"-cipher", "DEFAULT@SECLEVEL=0"} // lets s_server load what clients refuse
	both := []string{"-tls1_2", "-tls1_3"}
	tests := []struct {
		name, cert string
		chain      bool
		server     []string
		client     []string
		sni        string
		versions   []string
		want       string // reason, or "established"
	}{
		{"good", "good", true, nil, nil, host, both, StatusEstablished},
		{"expired", "expired", true, nil, nil, host, both, ReasonCertificateExpired},
		{"not yet valid", "notyet", true, nil, nil, host, both, ReasonCertificateNotYetValid},
		{"self-signed", "self", false, nil, nil, host, both, ReasonSelfSignedCertificate},
		{"untrusted root", "untrusted", false, nil, nil, host, both, ReasonUnknownCA},
		{"hostname", "good", true, nil, nil, "other.lab.example", both, ReasonHostnameMismatch},
		{"missing intermediate", "aia", false, nil, nil, host, both, ReasonIncompleteChain},
		{"1024-bit key at security level 2", "weakkey", true, weak, []string{"-auth_level", "2"}, host, both, ReasonWeakKey},
		{"SHA-1 signature", "sha1", true, weak, nil, host, both, ReasonWeakSignature},
		{"clientAuth EKU", "eku", true, nil, nil, host, both, ReasonKeyUsage},
		{"client certificate required", "good", true, []string{"-Verify", "1", "-CAfile", filepath.Join(dir, "root.pem")}, nil, host, both, ReasonClientCertRequired},
		{"TLS 1.1 client", "good", true, nil, nil, host, []string{"-tls1_1"}, ReasonProtocolVersionMismatch},
		{"no shared cipher", "good", true, []string{"-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, []string{"-cipher", "ECDHE-ECDSA-AES128-SHA"}, host, []string{"-tls1_2"}, ReasonNoSharedCipher},
	}
	right, total := 0, 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			srvPort := freePort(t)
			args := []string{"s_server", "-accept", "127.0.0.1:" + strconv.Itoa(srvPort), "-cert", filepath.Join(dir, tc.cert+".pem"),
				"-key", filepath.Join(dir, tc.cert+".key"), "-naccept", strconv.Itoa(len(tc.versions) + 1), "-quiet"} // +1: waitListening's probe
			if tc.chain {
				args = append(args, "-cert_chain", filepath.Join(dir, "inter.pem"))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := exec.CommandContext(ctx, "openssl", append(args, tc.server...)...)
			srv.Stdin = nil
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
			waitListening(t, srvPort)
			for i, v := range tc.versions {
				r := relayOne(t, h, srvPort, i, func(port int) *exec.Cmd {
					c := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", "127.0.0.1:" + strconv.Itoa(port),
						"-servername", tc.sni, "-verify_hostname", tc.sni, "-CAfile", filepath.Join(dir, "root.pem"), "-verify_return_error", v}, tc.client...)...)
					return c
				})
				got := r.Status
				if r.Status == StatusFailed {
					got = r.Failure.Reason
					checkCalibrated(t, r)
				}
				total++
				if got == tc.want {
					right++
				} else {
					t.Errorf("%s: %s, want %s (%+v)", v, got, tc.want, r.Failure)
				}
			}
		})
	}
	t.Logf("OpenSSL %d/%d right", right, total)

	// TLS 1.3 alone: the certificate is never seen in clear, nor anywhere
	// else. A diagnosis may then fall back on the alert's own word
	// (bad_certificate, unknown_ca for any trust fault), but must not
	// name a wrong fault, nor be certain of one it cannot see.
	trust := map[string]bool{ReasonUnknownCA: true, ReasonSelfSignedCertificate: true, ReasonIncompleteChain: true}
	right, total = 0, 0
	for _, tc := range tests {
		if len(tc.versions) != 2 || tc.want == StatusEstablished {
			continue
		}
		t.Run(tc.name+" tls1.3 alone", func(t *testing.T) {
			h := newHarness(t, Config{})
			srvPort := freePort(t)
			args := []string{"s_server", "-accept", "127.0.0.1:" + strconv.Itoa(srvPort), "-cert", filepath.Join(dir, tc.cert+".pem"),
				"-key", filepath.Join(dir, tc.cert+".key"), "-naccept", "2", "-quiet"}
			if tc.chain {
				args = append(args, "-cert_chain", filepath.Join(dir, "inter.pem"))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := exec.CommandContext(ctx, "openssl", append(args, tc.server...)...)
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
			waitListening(t, srvPort)
			r := relayOne(t, h, srvPort, 0, func(port int) *exec.Cmd {
				return exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", "127.0.0.1:" + strconv.Itoa(port),
					"-servername", tc.sni, "-verify_hostname", tc.sni, "-CAfile", filepath.Join(dir, "root.pem"), "-verify_return_error", "-tls1_3"}, tc.client...)...)
			})
			if r.Status != StatusFailed {
				t.Fatalf("status %s", r.Status)
			}
			f := r.Failure
			checkCalibrated(t, r)
			total++
			switch {
			case f.Reason == tc.want:
				right++
			case f.Reason == ReasonBadCertificate || (f.Reason == ReasonUnknownCA && trust[tc.want]):
				t.Logf("%s: %s (%s), the alert's own word", tc.want, f.Reason, f.Confidence)
			default:
				t.Errorf("%s (%s), want %s or the alert's word", f.Reason, f.Confidence, tc.want)
			}
		})
	}
	t.Logf("OpenSSL TLS 1.3 alone: %d/%d right, the rest the alert's own word", right, total)
}

// relayOne runs one client through a relay to the server on srvPort and
// returns the Record of what passed.
func relayOne(t *testing.T, h *harness, srvPort, n int, client func(port int) *exec.Cmd) *Record {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type ev struct {
		dir  packet.Dir
		ts   time.Time
		data []byte
		rst  bool
	}
	var mu sync.Mutex
	var evs []ev
	done := make(chan struct{})
	go func() {
		defer close(done)
		cc, err := ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srvPort))
		if err != nil {
			cc.Close()
			return
		}
		var wg sync.WaitGroup
		pipe := func(dst, src net.Conn, d packet.Dir) {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				k, err := src.Read(buf)
				if k > 0 {
					mu.Lock()
					evs = append(evs, ev{dir: d, ts: time.Now(), data: append([]byte(nil), buf[:k]...)})
					mu.Unlock()
					_, _ = dst.Write(buf[:k])
				}
				if err != nil {
					if errors.Is(err, syscall.ECONNRESET) {
						mu.Lock()
						evs = append(evs, ev{dir: d, ts: time.Now(), rst: true})
						mu.Unlock()
					}
					if tc, ok := dst.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					return
				}
			}
		}
		wg.Add(2)
		go pipe(sc, cc, packet.FromClient)
		go pipe(cc, sc, packet.FromServer)
		wg.Wait()
		cc.Close()
		sc.Close()
	}()
	c := client(ln.Addr().(*net.TCPAddr).Port)
	c.Stdin = nil // /dev/null: the client closes once connected
	_ = c.Run()   // a refused handshake exits non-zero
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not finish")
	}
	start := time.Now()
	if len(evs) > 0 {
		start = evs[0].ts.Add(-time.Millisecond)
	}
	h.next++
	info := reassembly.ConnInfo{ID: h.next, Client: netip.MustParseAddrPort("192.0.2.10:" + strconv.Itoa(40000+n)),
		Server: netip.MustParseAddrPort("198.51.100.20:443"), Start: start}
	hd := h.tr.New(info)
	reason := reassembly.CloseFIN
	var delivered [2]uint64
	end := start
	for _, e := range evs {
		h.step()
		end = e.ts
		if e.rst {
			reason = reassembly.CloseRST
			continue
		}
		hd.Data(e.dir, e.ts, e.data)
		delivered[e.dir] += uint64(len(e.data))
	}
	k := len(h.recs)
	h.step()
	hd.Close(reassembly.CloseInfo{Reason: reason, Timestamp: end, Delivered: delivered})
	h.tr.Flush()
	if len(h.recs) == k {
		t.Fatalf("no record (%d events)", len(evs))
	}
	return h.recs[len(h.recs)-1]
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits for s_server to accept (it says nothing with -quiet).
func waitListening(t *testing.T, port int) {
	t.Helper()
	for range 100 {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("s_server did not start")
}

func writePEM(t *testing.T, dir, name string, der []byte, key any) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if key == nil {
		return
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
