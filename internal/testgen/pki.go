package testgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// Identity is a certificate chain (leaf first) with the leaf's private key.
type Identity struct {
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// Leaf is the end-entity certificate.
func (id *Identity) Leaf() *x509.Certificate { return id.Chain[0] }

// TLS returns the identity as a tls.Certificate (the chain as sent on the
// wire: leaf, then intermediates; never the root).
func (id *Identity) TLS() tls.Certificate {
	c := tls.Certificate{PrivateKey: id.Key, Leaf: id.Chain[0]}
	for _, x := range id.Chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// PKI is the set of certificates the scenarios use. Every key is ECDSA P-256
// generated from a seeded reader, every serial is fixed and every validity
// period is relative to Now, so the same seed and Now give the same DER.
type PKI struct {
	Now time.Time

	Root         *Identity // "tlsgen Root CA", self-signed, trusted by clients
	Intermediate *Identity // "tlsgen Issuing CA 1", signed by Root
	OtherRoot    *Identity // "Elsewhere Root CA": a CA the clients do not trust

	Server      *Identity // www.example.com, example.com; valid now; chain leaf+intermediate
	Expired     *Identity // www.example.com, expired 10 days before Now
	NotYetValid *Identity // www.example.com, valid from 30 days after Now
	SelfSigned  *Identity // www.example.com, self-signed
	Untrusted   *Identity // www.example.com, issued by OtherRoot
	Client      *Identity // client certificate "client-1", issued by Intermediate

	Roots *x509.CertPool // pool holding Root only
}

// NewPKI builds the scenario certificates from a seed and the capture time.
// It needs GODEBUG=cryptocustomrand=1 to be deterministic (see
// CustomRandEnabled).
func NewPKI(seed uint64, now time.Time) (*PKI, error) {
	g := &pkiGen{seed: seed, now: now.UTC()}
	p := &PKI{Now: now.UTC()}
	day := 24 * time.Hour
	var err error
	mk := func(dst **Identity, spec certSpec) {
		if err != nil {
			return
		}
		*dst, err = g.issue(spec)
	}
	mk(&p.Root, certSpec{cn: "tlsgen Root CA", serial: 1, ca: true, from: -365 * day, to: 3650 * day})
	mk(&p.OtherRoot, certSpec{cn: "Elsewhere Root CA", serial: 2, ca: true, from: -365 * day, to: 3650 * day})
	mk(&p.Intermediate, certSpec{cn: "tlsgen Issuing CA 1", serial: 3, ca: true, from: -180 * day, to: 1825 * day, parent: p.Root})
	dns := []string{"www.example.com", "example.com"}
	mk(&p.Server, certSpec{cn: "www.example.com", serial: 0x1001, dns: dns, from: -30 * day, to: 60 * day, parent: p.Intermediate})
	mk(&p.Expired, certSpec{cn: "www.example.com", serial: 0x1002, dns: dns, from: -400 * day, to: -10 * day, parent: p.Intermediate})
	mk(&p.NotYetValid, certSpec{cn: "www.example.com", serial: 0x1003, dns: dns, from: 30 * day, to: 120 * day, parent: p.Intermediate})
	mk(&p.SelfSigned, certSpec{cn: "www.example.com", serial: 0x1004, dns: dns, from: -30 * day, to: 335 * day})
	mk(&p.Untrusted, certSpec{cn: "www.example.com", serial: 0x1005, dns: dns, from: -30 * day, to: 60 * day, parent: p.OtherRoot})
	mk(&p.Client, certSpec{cn: "client-1", serial: 0x2001, client: true, from: -30 * day, to: 60 * day, parent: p.Intermediate})
	if err != nil {
		return nil, err
	}
	p.Roots = x509.NewCertPool()
	p.Roots.AddCert(p.Root.Leaf())
	return p, nil
}

type pkiGen struct {
	seed uint64
	now  time.Time
}

type certSpec struct {
	cn       string
	serial   int64
	ca       bool
	client   bool
	dns      []string
	from, to time.Duration // validity relative to now
	parent   *Identity     // nil: self-signed
}

func (g *pkiGen) issue(s certSpec) (*Identity, error) {
	label := fmt.Sprintf("pki/%d", s.serial)
	key, err := ecdsa.GenerateKey(elliptic.P256(), NewRand(g.seed, label+"/key"))
	if err != nil {
		return nil, fmt.Errorf("testgen: key for %q: %w", s.cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(s.serial),
		Subject:      pkix.Name{CommonName: s.cn, Organization: []string{"tlsgen test"}, Country: []string{"ZZ"}},
		NotBefore:    g.now.Add(s.from),
		NotAfter:     g.now.Add(s.to),
		DNSNames:     s.dns,
		// Fixed so that x509 does not pick one from the clock or randomness.
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
		BasicConstraintsValid: true,
	}
	switch {
	case s.ca:
		tmpl.IsCA = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case s.client:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, crypto.Signer(key)
	var chain []*x509.Certificate
	if s.parent != nil {
		parent, signer = s.parent.Leaf(), s.parent.Key
		// The chain a server sends: the parent's chain without its root.
		if !isSelfSigned(s.parent.Leaf()) {
			chain = s.parent.Chain
		}
	}
	der, err := x509.CreateCertificate(NewRand(g.seed, label+"/sig"), tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("testgen: certificate %q: %w", s.cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testgen: parse certificate %q: %w", s.cn, err)
	}
	return &Identity{Chain: append([]*x509.Certificate{cert}, chain...), Key: key}, nil
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil
}
