package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"
)

// These known-answer tests run a crypto/tls client and server over
// net.Pipe with a KeyLogWriter, record the bytes each side writes, and open
// the records with this package alone: crypto/tls is the independent
// implementation the keys are checked against.

// recConn records what is written through it.
type recConn struct {
	net.Conn
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *recConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *recConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// testCerts makes a self-signed RSA and an ECDSA certificate once: RSA key
// generation is slow. The clock is fixed.
var testCerts = sync.OnceValues(func() ([]tls.Certificate, error) {
	var out []tls.Certificate
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []any{rk, ek} {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "keys.test"},
			DNSNames:     []string{"keys.test"},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(100 * 365 * 24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		}
		var pub any
		switch k := k.(type) {
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		case *ecdsa.PrivateKey:
			pub = &k.PublicKey
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, k)
		if err != nil {
			return nil, err
		}
		out = append(out, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k})
	}
	return out, nil
})

// session is one recorded connection.
type session struct {
	client, server []byte // the bytes each side wrote
	keylog         []byte
	state          tls.ConnectionState
	request, reply []byte
}

// runTLS runs one connection: the client sends request, the server answers
// reply, the client closes with close_notify.
func runTLS(t *testing.T, version uint16, suite uint16) session {
	t.Helper()
	certs, err := testCerts()
	if err != nil {
		t.Fatal(err)
	}
	var klog bytes.Buffer
	ccfg := &tls.Config{
		InsecureSkipVerify: true,
		ServerName:         "keys.test",
		MinVersion:         version,
		MaxVersion:         version,
		KeyLogWriter:       &klog,
		ClientSessionCache: tls.NewLRUClientSessionCache(1), // so that TLS 1.3 servers send NewSessionTicket
		Time:               func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	}
	scfg := &tls.Config{
		Certificates: certs,
		MinVersion:   version,
		MaxVersion:   version,
		Time:         ccfg.Time,
	}
	if suite != 0 && version < tls.VersionTLS13 {
		ccfg.CipherSuites = []uint16{suite}
		scfg.CipherSuites = []uint16{suite}
	}
	cp, sp := net.Pipe()
	crec, srec := &recConn{Conn: cp}, &recConn{Conn: sp}
	// Sizes that cross records and blocks: a 16 KiB record and a tail.
	request := bytes.Repeat([]byte("GET /keys HTTP/1.1\r\n"), 3)
	reply := make([]byte, 20000)
	for i := range reply {
		reply[i] = byte(i * 7)
	}
	errc := make(chan error, 1)
	go func() {
		s := tls.Server(srec, scfg)
		defer s.Close()
		buf := make([]byte, len(request))
		if _, err := io.ReadFull(s, buf); err != nil {
			errc <- err
			return
		}
		if _, err := s.Write(reply); err != nil {
			errc <- err
			return
		}
		_, err := io.Copy(io.Discard, s) // until close_notify
		errc <- err
	}()
	c := tls.Client(crec, ccfg)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(request); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(reply))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	st := c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatal(err)
	}
	return session{client: crec.bytes(), server: srec.bytes(), keylog: klog.Bytes(), state: st, request: request, reply: reply}
}

type record struct {
	hdr, body []byte
}

func splitRecords(t *testing.T, b []byte) []record {
	t.Helper()
	var out []record
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("%d stray bytes", len(b))
		}
		n := int(b[3])<<8 | int(b[4])
		if len(b) < 5+n {
			t.Fatalf("record of %d bytes cut at %d", n, len(b)-5)
		}
		out = append(out, record{hdr: b[:5:5], body: bytes.Clone(b[5 : 5+n])})
		b = b[5+n:]
	}
	return out
}

// helloRandom is the random of a ClientHello or ServerHello record.
func helloRandom(t *testing.T, r record) []byte {
	t.Helper()
	// handshake header (4), legacy_version (2), random (32)
	if r.hdr[0] != 22 || len(r.body) < 38 {
		t.Fatal("first record is not a hello")
	}
	return r.body[6:38]
}

// seen is what one direction carried once decrypted.
type seen struct {
	handshake []uint8 // handshake message types of encrypted records
	appData   []byte
	alerts    [][2]byte
}

// hsTypes lists the handshake message types in a run of handshake bytes,
// keeping an incomplete tail in *pending.
func hsTypes(pending *[]byte, p []byte) []uint8 {
	*pending = append(*pending, p...)
	var out []uint8
	for len(*pending) >= 4 {
		b := *pending
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if len(b) < 4+n {
			break
		}
		out = append(out, b[0])
		*pending = b[4+n:]
	}
	return out
}

// open13 decrypts one direction of a TLS 1.3 connection, switching from
// the handshake secret to the traffic secret after Finished; a second
// opener in lockstep checks that Peek agrees with Open on every record.
func open13(t *testing.T, suite uint16, recs []record, hsSecret, appSecret []byte) seen {
	t.Helper()
	var s seen
	o, err := NewTLS13Opener(suite, hsSecret)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := NewTLS13Opener(suite, hsSecret)
	handshake := true
	var pending []byte
	for i, r := range recs {
		if r.hdr[0] != 23 {
			continue // the hello, and compatibility-mode ChangeCipherSpec
		}
		ptyp, pn, perr := p.Peek(r.hdr, r.body)
		body := bytes.Clone(r.body)
		typ, pt, err := o.Open(body[:0], r.hdr, body)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if perr != nil || ptyp != typ || pn != len(pt) {
			t.Fatalf("record %d: Peek says %d, %d, %v; Open %d, %d", i, ptyp, pn, perr, typ, len(pt))
		}
		switch typ {
		case 22:
			types := hsTypes(&pending, pt)
			s.handshake = append(s.handshake, types...)
			if handshake && slices.Contains(types, 20) {
				handshake = false
				if o, err = NewTLS13Opener(suite, appSecret); err != nil {
					t.Fatal(err)
				}
				p, _ = NewTLS13Opener(suite, appSecret)
			}
		case 23:
			s.appData = append(s.appData, pt...)
		case 21:
			s.alerts = append(s.alerts, [2]byte{pt[0], pt[1]})
		}
	}
	return s
}

// open12 decrypts one direction of a TLS 1.0-1.2 connection after its
// ChangeCipherSpec.
func open12(t *testing.T, recs []record, o, p *TLS12Opener) seen {
	t.Helper()
	var s seen
	enc := false
	var pending []byte
	for i, r := range recs {
		if !enc {
			if r.hdr[0] == 20 {
				enc = true
			}
			continue
		}
		ptyp, pn, perr := p.Peek(r.hdr, r.body)
		body := bytes.Clone(r.body)
		typ, pt, err := o.Open(body[:0], r.hdr, body)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if perr != nil || ptyp != typ || pn != len(pt) {
			t.Fatalf("record %d: Peek says %d, %d, %v; Open %d, %d", i, ptyp, pn, perr, typ, len(pt))
		}
		switch typ {
		case 22:
			s.handshake = append(s.handshake, hsTypes(&pending, pt)...)
		case 23:
			s.appData = append(s.appData, pt...)
		case 21:
			s.alerts = append(s.alerts, [2]byte{pt[0], pt[1]})
		}
	}
	return s
}

func lookupSession(t *testing.T, sess session, crandom []byte) Secrets {
	t.Helper()
	kl, errs := Parse(bytes.NewReader(sess.keylog), "keylog")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	sec, ok := kl.Lookup([32]byte(crandom))
	if !ok {
		t.Fatalf("client random not in key log:\n%s", sess.keylog)
	}
	return sec
}

func checkSeen(t *testing.T, dir string, got seen, wantHS []uint8, wantApp []byte) {
	t.Helper()
	if !slices.Equal(got.handshake, wantHS) {
		t.Errorf("%s handshake types %v, want %v", dir, got.handshake, wantHS)
	}
	if !bytes.Equal(got.appData, wantApp) {
		t.Errorf("%s application data: %d bytes, want %d", dir, len(got.appData), len(wantApp))
	}
}

func testGoTLS13(t *testing.T, wantSuite uint16) {
	sess := runTLS(t, tls.VersionTLS13, 0)
	if sess.state.CipherSuite != wantSuite {
		t.Skipf("crypto/tls chose %#04x, not %#04x", sess.state.CipherSuite, wantSuite)
	}
	crecs, srecs := splitRecords(t, sess.client), splitRecords(t, sess.server)
	sec := lookupSession(t, sess, helloRandom(t, crecs[0]))
	srv := open13(t, wantSuite, srecs, sec.ServerHandshakeTraffic, sec.ServerTraffic0)
	cli := open13(t, wantSuite, crecs, sec.ClientHandshakeTraffic, sec.ClientTraffic0)
	// crypto/tls sends session tickets after its Finished.
	n := len(srv.handshake)
	if n < 5 || !slices.Equal(srv.handshake[:4], []uint8{8, 11, 15, 20}) || srv.handshake[4] != 4 {
		t.Errorf("server handshake types %v, want 8 11 15 20 4...", srv.handshake)
	}
	checkSeen(t, "server", seen{handshake: srv.handshake[:4], appData: srv.appData}, []uint8{8, 11, 15, 20}, sess.reply)
	checkSeen(t, "client", cli, []uint8{20}, sess.request)
	if !slices.Equal(cli.alerts, [][2]byte{{1, 0}}) {
		t.Errorf("client alerts %v, want close_notify", cli.alerts)
	}
}

func TestGoTLS13AES128GCM(t *testing.T) { testGoTLS13(t, tls.TLS_AES_128_GCM_SHA256) }

// crypto/tls picks ChaCha20 only without AES hardware, so this test runs
// itself again with the AES CPU feature masked.
func TestGoTLS13ChaCha20(t *testing.T) {
	if os.Getenv("KEYS_TEST_NOAES") == "1" {
		testGoTLS13(t, tls.TLS_CHACHA20_POLY1305_SHA256)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestGoTLS13ChaCha20$", "-test.v")
	cmd.Env = append(os.Environ(), "KEYS_TEST_NOAES=1", "GODEBUG=cpu.aes=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("--- SKIP")) {
		t.Skipf("%s", out)
	}
}

func TestGoTLS12(t *testing.T) {
	for _, tc := range []struct {
		version uint16
		suite   uint16
	}{
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
		{tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
		{tls.VersionTLS11, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
		{tls.VersionTLS10, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}, // chained IV
		{tls.VersionTLS10, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},
	} {
		t.Run(tls.VersionName(tc.version)+"/"+tls.CipherSuiteName(tc.suite), func(t *testing.T) {
			sess := runTLS(t, tc.version, tc.suite)
			if sess.state.CipherSuite != tc.suite || sess.state.Version != tc.version {
				t.Fatalf("negotiated %#04x %#04x", sess.state.Version, sess.state.CipherSuite)
			}
			crecs, srecs := splitRecords(t, sess.client), splitRecords(t, sess.server)
			cr, sr := helloRandom(t, crecs[0]), helloRandom(t, srecs[0])
			sec := lookupSession(t, sess, cr)
			p := Params{Suite: tc.suite, Version: tc.version, ClientRandom: cr, ServerRandom: sr}
			co, so, err := NewTLS12Openers(p, sec.MasterSecret)
			if err != nil {
				t.Fatal(err)
			}
			cp, sp, _ := NewTLS12Openers(p, sec.MasterSecret)
			checkSeen(t, "server", open12(t, srecs, so, sp), []uint8{20}, sess.reply)
			cli := open12(t, crecs, co, cp)
			checkSeen(t, "client", cli, []uint8{20}, sess.request)
			if !slices.Equal(cli.alerts, [][2]byte{{1, 0}}) {
				t.Errorf("client alerts %v, want close_notify", cli.alerts)
			}

			// A wrong master secret fails on the first record (Finished).
			bad := bytes.Clone(sec.MasterSecret)
			bad[0] ^= 1
			_, wo, _ := NewTLS12Openers(p, bad)
			for i, r := range srecs {
				if r.hdr[0] == 20 {
					f := srecs[i+1]
					if _, _, err := wo.Open(nil, f.hdr, f.body); !errors.Is(err, ErrAuthentication) {
						t.Errorf("wrong key: %v, want ErrAuthentication", err)
					}
					break
				}
			}
		})
	}
}

func TestGoTLS13WrongKey(t *testing.T) {
	sess := runTLS(t, tls.VersionTLS13, 0)
	crecs, srecs := splitRecords(t, sess.client), splitRecords(t, sess.server)
	sec := lookupSession(t, sess, helloRandom(t, crecs[0]))
	for _, secret := range [][]byte{sec.ServerTraffic0, sec.ClientHandshakeTraffic} { // wrong for the server's handshake
		o, err := NewTLS13Opener(sess.state.CipherSuite, secret)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range srecs {
			if r.hdr[0] == 23 {
				if _, _, err := o.Open(nil, r.hdr, r.body); !errors.Is(err, ErrAuthentication) {
					t.Errorf("wrong secret: %v, want ErrAuthentication", err)
				}
				break
			}
		}
	}
}
