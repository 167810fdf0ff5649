//go:build openssl

package keys

// A cross-check against OpenSSL, for what crypto/tls cannot do: TLS 1.3
// AES-256-GCM and CCM, TLS 1.2 CCM and encrypt-then-MAC (on by default in
// OpenSSL for CBC suites). Opt in: go test -tags openssl -run OpenSSL.
// It needs the openssl command and loopback TCP.

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	certs, err := testCerts()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kder, _ := x509.MarshalPKCS8PrivateKey(certs[0].PrivateKey.(*rsa.PrivateKey))
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)

	for _, tc := range []struct {
		name    string
		args    []string // for both ends
		suite   uint16
		version uint16
		etm     bool
	}{
		{"tls13-aes256gcm", []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"}, 0x1302, VersionTLS13, false},
		{"tls13-ccm", []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"}, 0x1304, VersionTLS13, false},
		{"tls13-ccm8", []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"}, 0x1305, VersionTLS13, false},
		{"tls12-cbc-sha-etm", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"}, 0xc013, VersionTLS12, true},
		{"tls12-cbc-sha384-etm", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"}, 0xc028, VersionTLS12, true},
		{"tls12-cbc-sha384-mte", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384", "-no_etm"}, 0xc028, VersionTLS12, false},
		{"tls12-ccm", []string{"-tls1_2", "-cipher", "AES128-CCM"}, 0xc09c, VersionTLS12, false},
		{"tls12-ccm8", []string{"-tls1_2", "-cipher", "AES128-CCM8"}, 0xc0a0, VersionTLS12, false},
		{"tls12-gcm384", []string{"-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"}, 0x009f, VersionTLS12, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server, keylog := runOpenSSL(t, dir, certFile, keyFile, tc.args)
			crecs, srecs := splitRecords(t, client), splitRecords(t, server)
			cr, sr := helloRandom(t, crecs[0]), helloRandom(t, srecs[0])
			kl, errs := Parse(bytes.NewReader(keylog), "openssl")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			sec, ok := kl.Lookup([32]byte(cr))
			if !ok {
				t.Fatalf("no keys:\n%s", keylog)
			}
			var srv, cli seen
			if tc.version == VersionTLS13 {
				srv = open13(t, tc.suite, srecs, sec.ServerHandshakeTraffic, sec.ServerTraffic0)
				cli = open13(t, tc.suite, crecs, sec.ClientHandshakeTraffic, sec.ClientTraffic0)
			} else {
				p := Params{Suite: tc.suite, Version: tc.version, ClientRandom: cr, ServerRandom: sr, EncryptThenMAC: tc.etm}
				co, so, err := NewTLS12Openers(p, sec.MasterSecret)
				if err != nil {
					t.Fatal(err)
				}
				cp, sp, _ := NewTLS12Openers(p, sec.MasterSecret)
				srv, cli = open12(t, srecs, so, sp), open12(t, crecs, co, cp)
			}
			if !bytes.HasPrefix(cli.appData, []byte("GET / HTTP/1.0")) || !bytes.HasPrefix(srv.appData, []byte("HTTP/1.0 200 ok")) {
				t.Fatalf("application data: %q / %.40q", cli.appData, srv.appData)
			}
			if len(srv.handshake) == 0 || len(cli.handshake) == 0 {
				t.Fatalf("handshake types %v %v", srv.handshake, cli.handshake)
			}
			t.Logf("server %v, client %v, %d bytes of reply", srv.handshake, cli.handshake, len(srv.appData))
		})
	}
}

// runOpenSSL runs s_server -www and s_client through a recording relay.
func runOpenSSL(t *testing.T, dir, cert, key string, args []string) (client, server, keylog []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	sl, _ := net.Listen("tcp", "127.0.0.1:0")
	sport := sl.Addr().(*net.TCPAddr).Port
	sl.Close()
	srv := exec.Command("openssl", append([]string{"s_server", "-www", "-accept", strconv.Itoa(sport), "-cert", cert, "-key", key, "-naccept", "1"}, args...)...)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	var sc net.Conn
	for range 50 {
		if sc, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(sport)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // waiting for a subprocess to listen, not a timed assertion
	}
	if sc == nil {
		t.Fatal(err)
	}
	klog := filepath.Join(dir, "keylog.txt")
	os.Remove(klog)
	cli := exec.Command("openssl", append([]string{"s_client", "-connect", l.Addr().String(), "-keylogfile", klog, "-ign_eof", "-quiet"}, args...)...)
	cli.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	cc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	var c2s, s2c bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(io.MultiWriter(sc, &c2s), cc); sc.(*net.TCPConn).CloseWrite(); wg.Done() }()
	go func() { io.Copy(io.MultiWriter(cc, &s2c), sc); cc.(*net.TCPConn).CloseWrite(); wg.Done() }()
	wg.Wait()
	cli.Wait()
	keylog, _ = os.ReadFile(klog)
	return c2s.Bytes(), s2c.Bytes(), keylog
}
