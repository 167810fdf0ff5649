package testgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
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
// (WeakKey's is RSA-1024) generated from a seeded reader, every serial is fixed and every validity
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

	// Certificates clients refuse for a fault of their own (the failure
	// diagnosis' classes): all for www.example.com, valid now, issued by
	// Intermediate and sent with it unless said.
	WeakKey   *Identity // a 1024-bit RSA key
	SHA1      *Identity // signed with ecdsa-with-SHA1
	ClientEKU *Identity // extended key usage clientAuth only
	LeafOnly  *Identity // names its issuer's URL (AIA) and is sent without the intermediate

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
	mk(&p.WeakKey, certSpec{cn: "www.example.com", serial: 0x1006, dns: dns, from: -30 * day, to: 60 * day, parent: p.Intermediate, rsaBits: 1024})
	mk(&p.SHA1, certSpec{cn: "www.example.com", serial: 0x1007, dns: dns, from: -30 * day, to: 60 * day, parent: p.Intermediate, sigAlg: x509.ECDSAWithSHA1})
	mk(&p.ClientEKU, certSpec{cn: "www.example.com", serial: 0x1008, dns: dns, from: -30 * day, to: 60 * day, parent: p.Intermediate, client: true})
	mk(&p.LeafOnly, certSpec{cn: "www.example.com", serial: 0x1009, dns: dns, from: -30 * day, to: 60 * day, parent: p.Intermediate,
		aia: "http://ca.example.com/tlsgen-issuing-ca-1.der", leafOnly: true})
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
	from, to time.Duration           // validity relative to now
	parent   *Identity               // nil: self-signed
	rsaBits  int                     // an RSA key of this size instead of ECDSA P-256
	sigAlg   x509.SignatureAlgorithm // instead of ecdsa-with-SHA256
	aia      string                  // the issuer's certificate URL (AIA caIssuers)
	leafOnly bool                    // the chain sent is the leaf alone
}

func (g *pkiGen) issue(s certSpec) (*Identity, error) {
	label := fmt.Sprintf("pki/%d", s.serial)
	var key crypto.Signer
	var err error
	if s.rsaBits > 0 {
		key, err = rsa.GenerateKey(NewRand(g.seed, label+"/key"), s.rsaBits)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), NewRand(g.seed, label+"/key"))
	}
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
	if s.sigAlg != 0 {
		tmpl.SignatureAlgorithm = s.sigAlg
	}
	if s.aia != "" {
		tmpl.IssuingCertificateURL = []string{s.aia}
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
	parent, signer := tmpl, key
	var chain []*x509.Certificate
	if s.parent != nil {
		parent, signer = s.parent.Leaf(), s.parent.Key
		// The chain a server sends: the parent's chain without its root.
		if !isSelfSigned(s.parent.Leaf()) && !s.leafOnly {
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
