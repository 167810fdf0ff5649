package flows

import (
	"crypto/dsa" //nolint:staticcheck // DSA keys are still met on the wire; only their size is read
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
)

// fault is one thing wrong with the server's chain that a client may
// refuse it for.
type fault struct {
	reason string
	// what completes "the certificate for NAME ...", e.g. "expired
	// 2025-01-01, 30 days before the capture".
	what string
	fact string // for Failure.Evidence
}

// Key sizes below which clients refuse a certificate: OpenSSL's default
// security level 2 (112-bit security: RSA and DSA of 2048 bits, curves of
// 224), which Debian and most distributions ship. Before rsa2048Since
// (CA/Browser Forum: no 1024-bit RSA after 2013) clients took 1024 bits.
const (
	minRSABits = 2048
	minDSABits = 2048
	minECBits  = 224
	oldMinBits = 1024
)

// When clients stopped accepting what they accepted before: a capture is
// judged by the rules of its own time (a 2014 client took SHA-1).
var (
	rsa2048Since = time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	sha1Until    = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC) // browsers and OpenSSL refuse SHA-1 leaves from 2017
	md5Until     = time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC)
)

// certFaults lists what is wrong with the chain ev holds at the capture
// time, in the order clients check (validity, name, then the chain's
// cryptography and usage, then its completeness). The trust store is not
// consulted: our store is not the client's.
func certFaults(ev *evidence) []fault {
	lf := ev.leaf
	if lf == nil || lf.cert == nil {
		return nil
	}
	name := ev.leafName()
	var out []fault
	for i, c := range ev.chain {
		if c.cert == nil {
			continue
		}
		who := "the server certificate for " + name
		if i > 0 {
			who = "the intermediate " + c.subject
		}
		switch {
		case ev.at.After(c.notAfter):
			out = append(out, fault{ReasonCertificateExpired,
				fmt.Sprintf("expired %s, %s before the capture", c.notAfter.UTC().Format("2006-01-02"), days(ev.at.Sub(c.notAfter))),
				who + " expired " + c.notAfter.UTC().Format("2006-01-02")})
			if i > 0 {
				out[len(out)-1].what = "is issued under " + who + ", which " + out[len(out)-1].what
			}
		case ev.at.Before(c.notBefore):
			out = append(out, fault{ReasonCertificateNotYetValid,
				fmt.Sprintf("is valid only from %s, %s after the capture", c.notBefore.UTC().Format("2006-01-02"), days(c.notBefore.Sub(ev.at))),
				who + " is valid only from " + c.notBefore.UTC().Format("2006-01-02")})
			if i > 0 {
				out[len(out)-1].what = "is issued under " + who + ", which " + out[len(out)-1].what
			}
		}
	}
	if ev.sni != "" && !nameMatches(ev.sni, lf) {
		out = append(out, fault{ReasonHostnameMismatch,
			fmt.Sprintf("is for %s, not %s", strings.Join(firstN(lf.names, 4), ", "), ev.sni),
			fmt.Sprintf("client asked for %s, the certificate names %s", ev.sni, strings.Join(firstN(lf.names, 4), ", "))})
	}
	if lf.selfSigned {
		out = append(out, fault{ReasonSelfSignedCertificate, fmt.Sprintf("is self-signed (issuer %s)", lf.issuer), "the server certificate is self-signed"})
	}
	for i, c := range ev.chain {
		if c.cert == nil || (c.selfSigned && i > 0) {
			continue // a root's own key and signature are the client's business
		}
		who := "the server certificate"
		if i > 0 {
			who = "the intermediate " + c.subject
		}
		if k := weakKey(c.cert, ev.at); k != "" {
			out = append(out, fault{ReasonWeakKey, "has a weak key: " + who + " has a " + k + " key", who + " has a " + k + " key"})
		}
		if sa := c.cert.SignatureAlgorithm; weakSignature(sa, ev.at) && !c.selfSigned {
			out = append(out, fault{ReasonWeakSignature, "has a weak signature: " + who + " is signed with " + sa.String(), who + " is signed with " + sa.String()})
		}
	}
	if u := badUsage(ev.chain); u != "" {
		out = append(out, fault{ReasonKeyUsage, "does not allow TLS server authentication: " + u, u})
	}
	if why := incompleteChain(ev); why != "" {
		out = append(out, fault{ReasonIncompleteChain, "comes without its intermediate certificate: " + why, why})
	}
	if why := interception(ev); why != "" {
		out = append(out, fault{ReasonInterceptionSuspected, "looks minted by a TLS-inspecting middlebox: " + why, why})
	}
	return out
}

// weakKey describes a public key shorter than clients accept at at, ""
// if it is not.
func weakKey(c *x509.Certificate, at time.Time) string {
	minBits := minRSABits
	if at.Before(rsa2048Since) {
		minBits = oldMinBits
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minBits {
			return fmt.Sprintf("%d-bit RSA", n)
		}
	case *dsa.PublicKey:
		if n := k.P.BitLen(); n < min(minBits, minDSABits) {
			return fmt.Sprintf("%d-bit DSA", n)
		}
	case *ecdsa.PublicKey:
		if n := k.Curve.Params().BitSize; n < minECBits {
			return fmt.Sprintf("%d-bit EC", n)
		}
	}
	return ""
}

// weakSignature: MD2, MD5 and SHA-1 signatures, which clients refuse on
// certificates (SHA-1 since 2017, MD5 since 2009) at at.
func weakSignature(a x509.SignatureAlgorithm, at time.Time) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA:
		return !at.Before(md5Until)
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return !at.Before(sha1Until)
	}
	return false
}

// badUsage says how the chain's key usages forbid serverAuth (RFC 5280
// 4.2.1.3 and 4.2.1.12; an intermediate's EKU constrains its leaves, as
// browsers and crypto/x509 read it), "" when they allow it.
func badUsage(chain []*leafFacts) string {
	for i, c := range chain {
		if c.cert == nil || (i > 0 && c.selfSigned) {
			continue
		}
		if eku := c.cert.ExtKeyUsage; len(eku) > 0 || len(c.cert.UnknownExtKeyUsage) > 0 {
			ok := false
			for _, u := range eku {
				if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
					ok = true
				}
			}
			if !ok {
				who := "the server certificate's"
				if i > 0 {
					who = "the intermediate " + c.subject + "'s"
				}
				return who + " extended key usage lacks serverAuth"
			}
		}
		if i == 0 {
			ku := c.cert.KeyUsage
			if ku != 0 && ku&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
				return "the server certificate's key usage allows neither digitalSignature nor keyEncipherment"
			}
		}
	}
	return ""
}

// incompleteChain says why the server most likely left out an intermediate,
// "" when nothing shows it: the chain does not end at a self-signed
// certificate nor verify, and its top is a leaf that names where its
// issuer's certificate is (AIA caIssuers, as public CAs' leaves do), or
// its issuer was sent as an intermediate on another connection. A top
// whose issuer is simply unknown is unknown_ca, not this.
func incompleteChain(ev *evidence) string {
	if len(ev.chain) == 0 || ev.validation == "ok" {
		return ""
	}
	top := ev.chain[len(ev.chain)-1]
	if top.cert == nil || top.selfSigned {
		return ""
	}
	for _, c := range ev.chain {
		if c.cert != nil && string(c.cert.RawSubject) == string(top.cert.RawIssuer) {
			return "" // the issuer is in the chain: the order is odd, not short
		}
	}
	switch {
	case ev.issuerSeenAsCA != "":
		return fmt.Sprintf("its issuer %s was sent as an intermediate on %s, not on this connection", top.issuer, ev.issuerSeenAsCA)
	case !top.cert.IsCA && len(top.cert.IssuingCertificateURL) > 0:
		return fmt.Sprintf("the chain ends at a leaf whose issuer %s (to fetch from %s) was not sent", top.issuer, top.cert.IssuingCertificateURL[0])
	}
	return ""
}

// minInterceptSites is how many unrelated sites an issuer unknown to the
// trust store must sign for in one capture to look like an intercepting
// proxy minting certificates on the fly.
const minInterceptSites = 3

// interception says why the leaf looks minted by a TLS-inspecting
// middlebox, "" when nothing shows it. Two genuine certificates for one
// name (two servers of one service) are no sign of it.
func interception(ev *evidence) string {
	lf := ev.leaf
	if lf == nil || lf.cert == nil || lf.selfSigned {
		return ""
	}
	name := ev.leafName()
	if p := interceptingIssuer(lf.issuer); p != "" && publicName(name) {
		return fmt.Sprintf("the public name %s was issued by %s, which looks like a TLS-inspecting product (%s)", name, lf.issuer, p)
	}
	if ev.validation != "ok" && ev.issuerSites >= minInterceptSites && publicName(name) {
		unknown := "an issuer"
		if ev.validation == "unknown_authority" {
			unknown = "an issuer unknown to the trust store"
		}
		return fmt.Sprintf("%s (%s) signed certificates for %d unrelated sites in this capture", unknown, lf.issuer, ev.issuerSites)
	}
	return ""
}

func isCertAlert(d dissect.AlertDescription) bool {
	switch d {
	case dissect.AlertBadCertificate, dissect.AlertUnsupportedCertificate, dissect.AlertCertificateRevoked,
		dissect.AlertCertificateExpired, dissect.AlertCertificateUnknown, dissect.AlertUnknownCA, dissect.AlertAccessDenied:
		return true
	}
	return false
}

// certFacts are the certificate facts every certificate verdict rests on.
func (ev *evidence) certFacts(faults []fault) []string {
	var out []string
	if ev.borrowedFrom != "" {
		out = append(out, "the server's certificate was not visible here; the one it showed in clear on "+ev.borrowedFrom+" was used")
	}
	for _, f := range faults {
		out = append(out, f.fact)
	}
	if ev.validation != "" && ev.validation != "ok" {
		out = append(out, "our trust store: "+ev.validation)
	}
	if ev.otherLeaf {
		out = append(out, "a different certificate was accepted for "+ev.sni+" earlier in the capture")
	}
	return out
}

// faultFailure names the first fault; several faults leave it uncertain
// which one the client refused. how ends the sentence: what the client
// did ("the client answered bad_certificate").
func faultFailure(ev *evidence, faults []fault, how string) *Failure {
	f0 := faults[0]
	conf := ConfidenceLikely
	if len(faults) > 1 {
		conf = ConfidenceUncertain
	}
	f := fail(f0.reason, "client", conf,
		fmt.Sprintf("the certificate the server sent for %s %s; %s", ev.leafName(), f0.what, how), ev.certFacts(faults)...)
	f.Hint = hintClientLog
	if ev.tls13 && ev.keys != dissect.KeysFound && (ev.alert == nil || ev.alert.Encrypted) {
		f.Hint = hintKeylog
	}
	if f0.reason == ReasonIncompleteChain {
		f.Hint = hintChain
	}
	return f
}

// clientAbortByCert: the client ended the handshake after the server's
// certificate without saying why (a close, close_notify, an unreadable
// alert). A fault of the certificate is the likely why; nil when none is
// seen.
func clientAbortByCert(ev *evidence, how string) *Failure {
	faults := certFaults(ev)
	if len(faults) == 0 {
		return nil
	}
	return faultFailure(ev, faults, how)
}

// diagnoseServerCert: the client rejected the server's certificate with a
// readable alert. The client's verdict (the alert) outranks our trust
// store; what the certificate shows at the capture time names the fault.
func diagnoseServerCert(ev *evidence, alert string) *Failure {
	const by = "client"
	lf := ev.leaf
	if lf == nil || lf.cert == nil {
		reason := ReasonBadCertificate
		switch ev.alert.Description {
		case dissect.AlertUnknownCA:
			reason = ReasonUnknownCA
		case dissect.AlertCertificateExpired:
			reason = ReasonCertificateExpired
		}
		f := fail(reason, by, ConfidenceLikely,
			fmt.Sprintf("client rejected the server's certificate with %s; the certificate was not visible to check", alert),
			"the server's certificate was not visible")
		f.Hint = "a capture showing the server's certificate (a TLS 1.2 connection to it, or the key log with -keylog) would show what is wrong with it"
		if reason == ReasonBadCertificate {
			f.Confidence = ConfidenceUncertain
		}
		return f
	}
	name := ev.leafName()
	faults := certFaults(ev)
	has := func(reason string) (fault, bool) {
		for _, f := range faults {
			if f.reason == reason {
				return f, true
			}
		}
		return fault{}, false
	}
	facts := ev.certFacts(faults)
	switch ev.alert.Description {
	case dissect.AlertUnknownCA:
		if lf.selfSigned {
			return fail(ReasonSelfSignedCertificate, by, ConfidenceCertain,
				fmt.Sprintf("server certificate for %s is self-signed (issuer %s); the client answered %s", name, lf.issuer, alert), facts...)
		}
		if f, ok := has(ReasonInterceptionSuspected); ok {
			return fail(ReasonInterceptionSuspected, by, ConfidenceLikely,
				fmt.Sprintf("certificate for %s %s; the client answered %s", name, strings.TrimPrefix(f.what, "looks minted by a TLS-inspecting middlebox: "), alert), facts...)
		}
		if f, ok := has(ReasonIncompleteChain); ok {
			r := fail(ReasonIncompleteChain, by, ConfidenceLikely,
				fmt.Sprintf("server certificate for %s %s; the client answered %s, as a client does that cannot build the chain", name, f.what, alert), facts...)
			r.Hint = hintChain
			return r
		}
		conf := ConfidenceCertain
		top := ev.chain[len(ev.chain)-1]
		if top.cert != nil && !top.selfSigned && ev.validation != "ok" {
			// The top's issuer may be a root the client lacks, or an
			// intermediate the server left out.
			conf = ConfidenceLikely
		}
		r := fail(ReasonUnknownCA, by, conf,
			fmt.Sprintf("client does not trust the issuer of the certificate for %s (%s)", name, lf.issuer), facts...)
		if conf != ConfidenceCertain {
			r.Hint = hintChain + "; else the client lacks the root of " + top.issuer
		}
		return r
	case dissect.AlertCertificateExpired:
		for _, f := range faults {
			if f.reason == ReasonCertificateExpired || f.reason == ReasonCertificateNotYetValid {
				return fail(f.reason, by, ConfidenceCertain,
					fmt.Sprintf("server certificate for %s %s; the client answered %s", name, f.what, alert), facts...)
			}
		}
		r := fail(ReasonClientClockSkew, by, ConfidenceLikely,
			fmt.Sprintf("client called the certificate for %s expired, but it is valid from %s to %s at capture time: the client's clock is probably wrong", name, lf.notBefore.UTC().Format("2006-01-02"), lf.notAfter.UTC().Format("2006-01-02")),
			append(facts, "every certificate of the chain is valid at capture time")...)
		r.Hint = "compare the client's clock with the capture's"
		return r
	}
	if len(faults) > 0 {
		return faultFailure(ev, faults, "the client answered "+alert)
	}
	if ev.validation == "unknown_authority" {
		// Only our trust store speaks: never more than a guess.
		r := fail(ReasonUnknownCA, by, ConfidenceUncertain,
			fmt.Sprintf("client rejected the certificate for %s with %s, and its chain does not lead to a root of the configured trust store either (issuer %s)", name, alert, lf.issuer), facts...)
		r.Hint = hintTrustStore
		return r
	}
	r := fail(ReasonBadCertificate, by, ConfidenceUncertain,
		fmt.Sprintf("client rejected the certificate for %s with %s although it is within its validity period and matches the name", name, alert), facts...)
	r.Hint = hintClientLog
	return r
}
