package flows

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/netip"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// base is the capture time of the test scripts.
var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	tb   testing.TB
	tr   *Tracker
	recs []*Record
	next uint64
	// pos places each step in the capture, as the pipeline does.
	pos uint64
	// late leaves closed connections unbuilt until the test calls
	// BuildClosed, as when other Trackers have not yet passed the close.
	late bool
}

// step places the next step of the capture.
func (h *harness) step() {
	h.pos++
	h.tr.At(h.pos)
}

func newHarness(tb testing.TB, cfg Config) *harness {
	h := &harness{tb: tb}
	h.tr = NewTracker(cfg, func(r *Record) { h.recs = append(h.recs, r) })
	return h
}

// script drives one connection through its reassembly.Handler with TLS
// bytes built from the message structs of package dissect: the state
// machine under test is the real one, fed as reassembly would feed it.
type script struct {
	h  *harness
	c  *conn
	ts time.Time
	// flip sends every record in the other wire direction, as when the
	// capture missed the SYN and reassembly guessed the roles wrong.
	flip bool
	// encrypted is set per direction by its ChangeCipherSpec: its later
	// records are ciphertext.
	encrypted [2]bool
	// tls13 is set by a TLS 1.3 ServerHello: from then on ciphertext
	// travels as application_data and ChangeCipherSpec changes nothing.
	tls13 bool
	// extra is TCP payload that carried no TLS, per direction.
	extra [2]uint64
	// wire is the bytes delivered per wire direction.
	wire [2]uint64
	// ends are the FINs and the RST the close reports (see fin, rst).
	ends reassembly.CloseInfo
}

// fin notes a FIN from d (a TLS role) now.
func (s *script) fin(d packet.Dir) *script {
	s.ends.FinAt[s.wireDir(d)] = s.ts
	return s
}

// rst notes a reset from d now.
func (s *script) rst(d packet.Dir) *script {
	s.ends.RstAt, s.ends.RstFrom = s.ts, s.wireDir(d)
	return s
}

func (s *script) wireDir(d packet.Dir) packet.Dir {
	if s.flip {
		return d ^ 1
	}
	return d
}

func (h *harness) conn() *script { return h.connAt(base.Add(time.Duration(h.next) * time.Second)) }

func (h *harness) connAt(start time.Time) *script {
	h.next++
	info := reassembly.ConnInfo{
		ID:     h.next,
		Client: netip.MustParseAddrPort("192.0.2.10:" + itoa(40000+int(h.next))),
		Server: netip.MustParseAddrPort("198.51.100.20:443"),
		Start:  start,
	}
	c := h.tr.New(info).(*conn)
	return &script{h: h, c: c, ts: start}
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// data delivers b from TLS direction d, a millisecond after the last.
func (s *script) data(d packet.Dir, b []byte) *script {
	s.ts = s.ts.Add(time.Millisecond)
	if s.flip {
		d ^= 1
	}
	if s.h != nil {
		s.h.step()
	}
	s.wire[d] += uint64(len(b))
	s.c.Data(d, s.ts, b)
	return s
}

// rec sends one record of content type t from d.
func (s *script) rec(d packet.Dir, t dissect.ContentType, body []byte) *script {
	return s.data(d, tlsRecord(t, dissect.VersionTLS12, body))
}

// msg sends a handshake message from d: in clear, or as ciphertext of the
// same size once d changed cipher spec.
func (s *script) msg(d packet.Dir, t dissect.HandshakeType, body []byte) *script {
	m := handshakeMsg(t, body)
	if s.encrypted[d] {
		return s.rec(d, dissect.ContentHandshake, ciphertext(len(m)+24))
	}
	return s.rec(d, dissect.ContentHandshake, m)
}

// hs sends a minimal well-formed message of type t from d.
func (s *script) hs(d packet.Dir, t dissect.HandshakeType) *script {
	return s.msg(d, t, minimalBody(t))
}

func (s *script) ch(ch *dissect.ClientHello) *script {
	return s.msg(C, dissect.TypeClientHello, encodeClientHello(ch))
}

func (s *script) sh(sh *dissect.ServerHello) *script {
	s.tls13 = s.tls13 || sh.Version().IsTLS13()
	return s.msg(S, dissect.TypeServerHello, encodeServerHello(sh))
}

func (s *script) cert(d packet.Dir, chain ...[]byte) *script {
	return s.msg(d, dissect.TypeCertificate, encodeCertificate(chain))
}

func (s *script) ske() *script {
	return s.msg(S, dissect.TypeServerKeyExchange, ecdheServerKeyExchange(23))
}

func (s *script) ccs(d packet.Dir) *script {
	s.rec(d, dissect.ContentChangeCipherSpec, []byte{1})
	s.encrypted[d] = s.encrypted[d] || !s.tls13
	return s
}

// encFin sends the Finished that follows d's ChangeCipherSpec.
func (s *script) encFin(d packet.Dir) *script {
	if s.tls13 {
		return s.app(d, 53) // a SHA-256 Finished, sealed (RFC 8446 5.2)
	}
	return s.rec(d, dissect.ContentHandshake, ciphertext(40))
}

// app sends an application_data record of n bytes from d (in TLS 1.3,
// also what the encrypted handshake travels in).
func (s *script) app(d packet.Dir, n int) *script {
	return s.rec(d, dissect.ContentApplicationData, ciphertext(n))
}

func (s *script) alert(d packet.Dir, level dissect.AlertLevel, desc dissect.AlertDescription) *script {
	return s.rec(d, dissect.ContentAlert, []byte{byte(level), byte(desc)})
}

// encAlert sends an encrypted alert record from d.
func (s *script) encAlert(d packet.Dir) *script {
	return s.rec(d, dissect.ContentAlert, ciphertext(26))
}

func (s *script) nst(ticket []byte, lifetime uint32) *script {
	return s.msg(S, dissect.TypeNewSessionTicket, encodeNewSessionTicket12(ticket, lifetime))
}

// gap reports n bytes lost in TLS direction d.
func (s *script) gap(d packet.Dir, n int) *script {
	s.ts = s.ts.Add(time.Millisecond)
	if s.flip {
		d ^= 1
	}
	s.c.Gap(d, s.ts, n)
	return s
}

// close ends the connection and returns the Record emitted for it (nil if
// none was).
func (s *script) close(reason reassembly.CloseReason) *Record {
	n := len(s.h.recs)
	delivered := s.wire
	delivered[0] += s.extra[0]
	delivered[1] += s.extra[1]
	s.h.step()
	info := s.ends
	info.Reason, info.Timestamp, info.Delivered = reason, s.ts.Add(time.Millisecond), delivered
	s.c.Close(info)
	if !s.h.late {
		s.h.tr.Flush()
	}
	if len(s.h.recs) == n {
		return nil
	}
	return s.h.recs[len(s.h.recs)-1]
}

func ch12(sni string) *dissect.ClientHello {
	return &dissect.ClientHello{
		LegacyVersion: dissect.VersionTLS12, Random: make([]byte, 32),
		CipherSuites: []uint16{0xc02f, 0xc030, 0x009c}, CompressionMethods: []uint8{0},
		ServerName: sni, ALPN: []string{"h2", "http/1.1"}, SupportedGroups: []uint16{29, 23},
	}
}

func ch13(sni string) *dissect.ClientHello {
	ch := ch12(sni)
	ch.CipherSuites = []uint16{0x1301, 0x1302, 0xc02f}
	ch.SupportedVersions = []dissect.Version{0x0a0a, dissect.VersionTLS13, dissect.VersionTLS12}
	ch.KeyShareGroups = []uint16{29}
	return ch
}

func chLegacy(max dissect.Version) *dissect.ClientHello {
	ch := ch12("old.example.com")
	ch.LegacyVersion = max
	ch.ALPN = nil
	return ch
}

func sh12() *dissect.ServerHello {
	return &dissect.ServerHello{LegacyVersion: dissect.VersionTLS12, Random: make([]byte, 32), CipherSuite: 0xc02f, ALPN: "h2"}
}

func sh13() *dissect.ServerHello {
	return &dissect.ServerHello{LegacyVersion: dissect.VersionTLS12, Random: make([]byte, 32), CipherSuite: 0x1301,
		SupportedVersion: dissect.VersionTLS13, KeyShareGroup: 29}
}

const (
	C = packet.FromClient
	S = packet.FromServer
)

// full12 plays a TLS 1.2 full handshake up to the server's Finished.
func full12(s *script, sni string, chain ...[]byte) *script {
	s.ch(ch12(sni)).sh(sh12())
	if len(chain) > 0 {
		s.cert(S, chain...)
	}
	s.ske().hs(S, dissect.TypeServerHelloDone).
		hs(C, dissect.TypeClientKeyExchange).ccs(C).encFin(C).ccs(S).encFin(S)
	return s
}

// pki makes certificates for tests, signed by a test CA.
type pki struct {
	caKey  crypto.Signer
	ca     *x509.Certificate
	caDER  []byte
	serial int64
}

func newPKI(tb testing.TB, issuer string) *pki {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: issuer, Organization: []string{issuer}},
		NotBefore: base.AddDate(-5, 0, 0), NotAfter: base.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{caKey: key, ca: ca, caDER: der, serial: 1}
}

// leaf issues a certificate for names valid from nb to na.
func (p *pki) leaf(tb testing.TB, nb, na time.Time, names ...string) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: nb, NotAfter: na, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// selfSigned makes a self-signed leaf for name.
func selfSigned(tb testing.TB, name string) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: base.AddDate(-1, 0, 0), NotAfter: base.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func netipPort(host byte, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, host}), port)
}

// cnLeaf issues a certificate naming cn in its subject only, without SANs.
func cnLeaf(tb testing.TB, p *pki, cn string) []byte {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: base.AddDate(0, -1, 0), NotAfter: base.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// wait lets d of capture time pass before the next step.
func (s *script) wait(d time.Duration) *script {
	s.ts = s.ts.Add(d)
	return s
}

// issue signs tmpl with p's CA for key (a fresh P-256 key when nil).
func (p *pki) issue(tb testing.TB, tmpl *x509.Certificate, key any) []byte {
	tb.Helper()
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		key = k.Public()
	}
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = base.AddDate(0, -1, 0), base.AddDate(1, 0, 0)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key, p.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// intermediate makes a CA under p, named name, as a pki of its own.
func (p *pki) intermediate(tb testing.TB, name string) *pki {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der := p.issue(tb, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: base.AddDate(-1, 0, 0), NotAfter: base.AddDate(3, 0, 0)}, key.Public())
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &pki{caKey: key, ca: ca, caDER: der, serial: 100}
}

// newRSAPKI is newPKI with an RSA-2048 CA, which can sign with SHA-1.
func newRSAPKI(tb testing.TB, issuer string) *pki {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: issuer, Organization: []string{issuer}},
		NotBefore: base.AddDate(-5, 0, 0), NotAfter: base.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{caKey: key, ca: ca, caDER: der, serial: 1}
}

// pool is a trust store holding p's CA alone.
func (p *pki) pool() *x509.CertPool {
	cp := x509.NewCertPool()
	cp.AddCert(p.ca)
	return cp
}
