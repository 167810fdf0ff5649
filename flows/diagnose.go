package flows

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// evidence is everything the diagnosis of a failed handshake weighs. It is
// built from a connection's state at close; tests build it by hand.
type evidence struct {
	at time.Time // when the handshake ended (the alert, else the close)

	sawCH, sawSH  bool
	tls13         bool
	clientMax     dissect.Version // highest version offered
	clientMin     dissect.Version // lowest in supported_versions; 0 when not said
	serverVersion dissect.Version // chosen by the ServerHello
	suites        int             // cipher suites offered
	alpnOffered   []string
	sni           string

	alert *dissect.AlertEvent // the alert that ended it; nil when none

	serverFlight    bool   // the server answered the ClientHello
	serverCert      bool   // its Certificate was seen in clear
	serverBytes     uint64 // TCP payload the server sent, TLS or not
	clientFlight    bool   // the client answered the server's flight
	clientKX        bool   // ... with a ClientKeyExchange or Finished
	heartbleed      bool   // a heartbeat of the Heartbleed pattern was seen
	clientFlightLen int    // TLS 1.3: bytes of the client's encrypted records after the server's flight
	lastFrom        packet.Dir
	certRequested   bool // the server sent a CertificateRequest in clear
	clientCertSent  bool // the client sent a Certificate message
	clientCertEmpty bool // ... with no certificate in it
	malformed       bool
	closeReason     reassembly.CloseReason

	// validation is Record.Validation: the server chain checked against
	// the configured trust store ("" when none is configured).
	validation string

	leaf *leafFacts
	// otherLeaf: a different leaf was seen for the same SNI earlier in
	// the capture.
	otherLeaf bool
}

// leafFacts is what the diagnosis needs of the server's leaf certificate.
type leafFacts struct {
	subject, issuer     string
	notBefore, notAfter time.Time
	selfSigned          bool
	sha256              string
	cert                *x509.Certificate // nil when it did not parse
	names               []string          // DNS SANs, else the CN
}

// evidence gathers a connection's facts for diagnose.
func (c *conn) evidence(info reassembly.CloseInfo) *evidence {
	st := c.dc.State()
	ev := &evidence{
		at:             info.Timestamp,
		sawCH:          st.ClientHello != nil,
		sawSH:          st.ServerHello != nil,
		tls13:          st.TLS13(),
		alert:          st.Fatal,
		serverFlight:   st.ServerAnswered,
		serverCert:     st.ServerCertificate || st.ServerChain != nil,
		clientKX:       st.ClientKeyExchange,
		heartbleed:     st.Heartbleed,
		lastFrom:       st.LastFrom,
		certRequested:  st.CertificateRequest,
		clientCertSent: st.ClientCertificate,
		malformed:      st.Malformed,
		closeReason:    info.Reason,
		validation:     c.rec.Validation,
	}
	// A warning alert ended the handshake only if nothing followed it
	// (an unrecognized_name warning is often followed by a full handshake).
	if a := st.LastAlert; ev.alert == nil && a != nil && st.LastFrom == a.From && st.LastAt[a.From].Equal(a.Timestamp) {
		ev.alert = a
	}
	if ev.alert != nil {
		ev.at = ev.alert.Timestamp
	}
	if ch := st.ClientHello; ch != nil {
		ev.clientMax, ev.clientMin = maxOffered(ch)
		ev.suites = len(ch.CipherSuites)
		ev.alpnOffered = ch.ALPN
		ev.sni = ch.ServerName
	}
	if st.ServerHello != nil {
		ev.serverVersion = st.ServerHello.Version()
	}
	ev.clientCertEmpty = st.ClientCertificate && len(st.ClientChain) == 0 && !st.ClientChainUnread
	// The client answered the server's flight: anything it sent after the
	// server's first record.
	ev.clientFlight = st.ClientAnswered()
	if c.swapped {
		ev.serverBytes = info.Delivered[packet.FromClient]
	} else {
		ev.serverBytes = info.Delivered[packet.FromServer]
	}
	if ev.tls13 {
		ev.clientFlightLen = st.ClientFlightLen13()
	}
	if len(st.ServerChain) > 0 {
		ev.leaf = c.t.leafFacts(st.ServerChain[0], c.leafSHA256())
		if ev.sni != "" && ev.leaf.sha256 != "" {
			if prev, ok := c.t.lineage.find(c.t.lineage.sniLeaf, ev.sni, c.closeAt); ok && prev.leaf != ev.leaf.sha256 {
				ev.otherLeaf = true
			}
		}
	}
	return ev
}

// rememberLeaf notes the leaf a client accepted for an SNI, for the
// interception check of later connections. It is noted at the close, not
// when the Record is built, so that a sharded pipeline knows it before
// building any later connection.
func (c *conn) rememberLeaf() {
	st := c.dc.State()
	if st.ClientHello == nil || st.ClientHello.ServerName == "" || len(st.ServerChain) == 0 || !st.Established {
		return
	}
	c.t.lineage.note(c.t.lineage.sniLeaf, st.ClientHello.ServerName, fact{at: c.now(), leaf: c.leafSHA256()})
}

// leafFacts returns what the diagnosis asks of a server's leaf, parsed
// once per distinct certificate: a busy server's leaf is seen by every
// connection, and parsing it and checking its self-signature each time
// costs more than the rest of the connection. Facts are read-only once made.
func (t *Tracker) leafFacts(der []byte, sha string) *leafFacts {
	if lf, ok := t.leaves.get(sha); ok {
		return lf
	}
	lf := leafOf(der, sha)
	t.leaves.put(sha, lf)
	return lf
}

// leafOf parses the leaf der whose SHA-256 (hex) is sha.
func leafOf(der []byte, sha string) *leafFacts {
	lf := &leafFacts{sha256: sha}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return lf
	}
	lf.cert = cert
	lf.subject = cert.Subject.String()
	lf.issuer = cert.Issuer.String()
	lf.notBefore, lf.notAfter = cert.NotBefore, cert.NotAfter
	lf.names = cert.DNSNames
	if len(lf.names) == 0 && cert.Subject.CommonName != "" {
		lf.names = []string{cert.Subject.CommonName}
	}
	lf.selfSigned = bytes.Equal(cert.RawIssuer, cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
	return lf
}

// interceptionIssuers are issuer name fragments of TLS-inspecting
// products: a leaf for a public name issued by one of these was minted by
// a middlebox, not by the site.
var interceptionIssuers = [...]string{
	"Fortinet", "FortiGate", "Palo Alto", "Zscaler", "Blue Coat", "Symantec Web Security",
	"Cisco Umbrella", "Netskope", "Sophos", "Kaspersky Anti-Virus Personal Root", "Avast",
	"Bitdefender", "ESET SSL Filter", "mitmproxy", "Charles Proxy", "Burp",
}

func interceptingIssuer(issuer string) string {
	l := strings.ToLower(issuer)
	for _, s := range interceptionIssuers {
		if strings.Contains(l, strings.ToLower(s)) {
			return s
		}
	}
	return ""
}

// publicName reports a DNS name under a public-looking suffix (not an IP
// address, not a single label, not a private-use suffix).
func publicName(n string) bool {
	n = strings.TrimSuffix(strings.ToLower(n), ".")
	if n == "" || !strings.Contains(n, ".") {
		return false
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return false
	}
	for _, s := range [...]string{".local", ".internal", ".lan", ".corp", ".home", ".localdomain", ".localhost", ".test", ".invalid", ".example", ".intranet", ".home.arpa"} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	return true
}

// leafName names a leaf for a sentence: the SNI, else its first name,
// else its subject.
func (ev *evidence) leafName() string {
	if ev.sni != "" {
		return ev.sni
	}
	if ev.leaf != nil && len(ev.leaf.names) > 0 {
		return ev.leaf.names[0]
	}
	if ev.leaf != nil && ev.leaf.subject != "" {
		return ev.leaf.subject
	}
	return "the server"
}

func days(d time.Duration) string {
	n := int(math.Round(math.Abs(d.Hours()) / 24))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func versionSpan(min, max dissect.Version) string {
	if min == 0 || min == max {
		return "at most " + versionName(max)
	}
	lo, hi := versionName(min), versionName(max)
	if strings.HasPrefix(lo, "TLS ") && strings.HasPrefix(hi, "TLS ") {
		hi = strings.TrimPrefix(hi, "TLS ")
	}
	return lo + "–" + hi + " only"
}

func isCertAlert(d dissect.AlertDescription) bool {
	switch d {
	case dissect.AlertBadCertificate, dissect.AlertUnsupportedCertificate, dissect.AlertCertificateRevoked,
		dissect.AlertCertificateExpired, dissect.AlertCertificateUnknown, dissect.AlertUnknownCA, dissect.AlertAccessDenied:
		return true
	}
	return false
}

// diagnose decides why a handshake failed from all the evidence, not the
// alert code alone.
func diagnose(ev *evidence) *Failure {
	f := diagnoseReason(ev)
	switch {
	case ev.alert == nil || ev.alert.Encrypted:
	case ev.alert.SSLv2Error != 0:
		f.Alert = "sslv2_error"
	default:
		f.Alert = ev.alert.Description.String()
	}
	return f
}

func diagnoseReason(ev *evidence) *Failure {
	a := ev.alert
	if a == nil {
		return diagnoseSilent(ev)
	}
	by := a.From.String()
	if a.Encrypted {
		return diagnoseEncrypted(ev)
	}
	if a.SSLv2Error != 0 {
		return diagnoseSSLv2(ev)
	}
	name := a.Description.String()
	fromServer := a.From == packet.FromServer
	legacyOnly := ev.clientMax != 0 && versionRank(ev.clientMax) < versionRank(dissect.VersionTLS12)

	switch {
	case a.Description == dissect.AlertProtocolVersion:
		if fromServer {
			why := "the server supports none of them (it answered protocol_version)"
			if legacyOnly {
				why = "the server requires TLS 1.2 or later (it answered protocol_version)"
			}
			return &Failure{Reason: ReasonProtocolVersionMismatch, By: by,
				Explanation: fmt.Sprintf("client offered %s; %s", versionSpan(ev.clientMin, ev.clientMax), why)}
		}
		return &Failure{Reason: ReasonProtocolVersionMismatch, By: by,
			Explanation: fmt.Sprintf("server chose %s, which the client refused with protocol_version", orUnknown(versionName(ev.serverVersion)))}
	case fromServer && !ev.sawSH && legacyOnly && (a.Description == dissect.AlertHandshakeFailure || a.Description == dissect.AlertInternalError || a.Description == dissect.AlertInsufficientSecurity || a.Description == dissect.AlertIllegalParameter):
		return &Failure{Reason: ReasonProtocolVersionMismatch, By: by,
			Explanation: fmt.Sprintf("client offered %s; the server answered %s without a ServerHello, as servers that require TLS 1.2 or later do", versionSpan(ev.clientMin, ev.clientMax), name)}
	case a.Description == dissect.AlertCloseNotify || a.Description == dissect.AlertUserCanceled:
		if fromServer {
			return &Failure{Reason: ReasonAbortedByServer, By: by,
				Explanation: fmt.Sprintf("server gave up the handshake with %s %s", name, ev.position(a.From))}
		}
		what := "the server's hello"
		if ev.serverCert {
			what = "the server's certificate"
		}
		if !ev.serverFlight {
			what = "its ClientHello, before any answer"
		}
		return &Failure{Reason: ReasonAbortedByClient, By: by,
			Explanation: fmt.Sprintf("client gave up the handshake with %s after %s, as a client does that rejects the certificate without saying why", name, what)}
	case a.Description == dissect.AlertInappropriateFallback:
		return &Failure{Reason: ReasonInappropriateFallback, By: by,
			Explanation: fmt.Sprintf("client retried with %s and signalled a fallback (TLS_FALLBACK_SCSV); the server supports a higher version, so a downgrade was refused", orUnknown(versionName(ev.clientMax)))}
	case a.Description == dissect.AlertUnrecognizedName:
		if ev.sni == "" {
			return &Failure{Reason: ReasonUnrecognizedName, By: by,
				Explanation: "the handshake ended with unrecognized_name although the client sent no server name: the server wants one"}
		}
		return &Failure{Reason: ReasonUnrecognizedName, By: by,
			Explanation: fmt.Sprintf("server does not serve the name %s the client asked for", ev.sni)}
	case a.Description == dissect.AlertNoApplicationProtocol:
		if len(ev.alpnOffered) == 0 {
			return &Failure{Reason: ReasonNoApplicationProtocol, By: by,
				Explanation: "the handshake ended with no_application_protocol although the client offered no ALPN list: the server wants one"}
		}
		return &Failure{Reason: ReasonNoApplicationProtocol, By: by,
			Explanation: fmt.Sprintf("none of the application protocols the client offered (%s) is acceptable to the server", strings.Join(ev.alpnOffered, ", "))}
	case a.Description == dissect.AlertDecodeError:
		return &Failure{Reason: ReasonDecodeError, By: by,
			Explanation: fmt.Sprintf("the %s could not parse a message from the %s (decode_error)", by, other(by))}
	case fromServer && !ev.sawSH && (a.Description == dissect.AlertHandshakeFailure || a.Description == dissect.AlertInsufficientSecurity):
		return &Failure{Reason: ReasonNoSharedCipher, By: by,
			Explanation: fmt.Sprintf("server answered the ClientHello with %s and no ServerHello: most likely none of the %d cipher suites the client offered is acceptable to it", name, ev.suites)}
	case !fromServer && isCertAlert(a.Description):
		return diagnoseServerCert(ev, name)
	case fromServer && a.Description == dissect.AlertCertificateRequired:
		return &Failure{Reason: ReasonClientCertRequired, By: by,
			Explanation: "server requires a client certificate and the client sent none (certificate_required)"}
	case fromServer && ev.certRequested && (!ev.clientCertSent || ev.clientCertEmpty) && ev.clientFlight &&
		(a.Description == dissect.AlertHandshakeFailure || a.Description == dissect.AlertBadCertificate || a.Description == dissect.AlertNoCertificate):
		return &Failure{Reason: ReasonClientCertRequired, By: by,
			Explanation: fmt.Sprintf("server asked for a client certificate, the client sent none, and the server ended the handshake with %s", name)}
	case fromServer && ev.clientCertSent && !ev.clientCertEmpty && (isCertAlert(a.Description) || a.Description == dissect.AlertDecryptError):
		return &Failure{Reason: ReasonClientCertUntrusted, By: by,
			Explanation: fmt.Sprintf("server rejected the client's certificate with %s", name)}
	case ev.malformed:
		return &Failure{Reason: ReasonDecodeError, By: by,
			Explanation: fmt.Sprintf("a handshake message did not parse (see the anomalies), and the %s ended the handshake with %s", by, name)}
	}
	return &Failure{Reason: ReasonOther, By: by,
		Explanation: fmt.Sprintf("the %s ended the handshake with %s %s", by, name, ev.position(a.From))}
}

// position says where in the handshake the sender of an alert stopped.
func (ev *evidence) position(from packet.Dir) string {
	switch {
	case !ev.sawCH:
		return "before any ClientHello was seen"
	case from == packet.FromServer && !ev.sawSH && !ev.serverFlight:
		return "in answer to the ClientHello"
	case from == packet.FromClient && !ev.serverFlight:
		return "before any answer from the server"
	case from == packet.FromClient && !ev.clientFlight:
		return "after the server's first flight"
	case from == packet.FromServer && ev.clientFlight && ev.clientKX:
		return "after the client's key exchange"
	case from == packet.FromServer && ev.clientFlight:
		return "after the client's reply to its flight"
	}
	return "during the handshake"
}

// diagnoseServerCert: the client rejected the server's certificate. What
// the certificate says, at the capture time, decides the reason.
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
		return &Failure{Reason: reason, By: by,
			Explanation: fmt.Sprintf("client rejected the server's certificate with %s; the certificate was not visible to check", alert)}
	}
	name := ev.leafName()
	expired := ev.at.After(lf.notAfter)
	notYet := ev.at.Before(lf.notBefore)
	mismatch := ev.sni != "" && !nameMatches(ev.sni, lf)
	product := interceptingIssuer(lf.issuer)
	public := publicName(name)
	expiredF := func() *Failure {
		return &Failure{Reason: ReasonCertificateExpired, By: by,
			Explanation: fmt.Sprintf("server certificate for %s expired %s, %s before the capture", name, lf.notAfter.UTC().Format("2006-01-02"), days(ev.at.Sub(lf.notAfter)))}
	}
	notYetF := func() *Failure {
		return &Failure{Reason: ReasonCertificateNotYetValid, By: by,
			Explanation: fmt.Sprintf("server certificate for %s is valid only from %s, %s after the capture; the client answered %s", name, lf.notBefore.UTC().Format("2006-01-02"), days(lf.notBefore.Sub(ev.at)), alert)}
	}
	selfF := func() *Failure {
		return &Failure{Reason: ReasonSelfSignedCertificate, By: by,
			Explanation: fmt.Sprintf("server certificate for %s is self-signed (issuer %s); the client answered %s", name, lf.issuer, alert)}
	}
	intercept := func() *Failure {
		if product != "" && public {
			return &Failure{Reason: ReasonInterceptionSuspected, By: by,
				Explanation: fmt.Sprintf("certificate for the public name %s was issued by %s, which looks like a TLS-inspecting product (%s); the client answered %s", name, lf.issuer, product, alert)}
		}
		if ev.otherLeaf {
			return &Failure{Reason: ReasonInterceptionSuspected, By: by,
				Explanation: fmt.Sprintf("certificate for %s differs from the one served for the same name earlier in the capture, and the client answered %s", name, alert)}
		}
		return nil
	}
	switch ev.alert.Description {
	case dissect.AlertUnknownCA:
		if lf.selfSigned {
			return selfF()
		}
		if f := intercept(); f != nil {
			return f
		}
		return &Failure{Reason: ReasonUnknownCA, By: by,
			Explanation: fmt.Sprintf("client does not trust the issuer of the certificate for %s (%s)", name, lf.issuer)}
	case dissect.AlertCertificateExpired:
		switch {
		case expired:
			return expiredF()
		case notYet:
			return notYetF()
		}
		return &Failure{Reason: ReasonClientClockSkew, By: by,
			Explanation: fmt.Sprintf("client called the certificate for %s expired, but it is valid from %s to %s at capture time: the client's clock is probably wrong", name, lf.notBefore.UTC().Format("2006-01-02"), lf.notAfter.UTC().Format("2006-01-02"))}
	}
	switch {
	case expired:
		return expiredF()
	case notYet:
		return notYetF()
	case mismatch:
		return &Failure{Reason: ReasonHostnameMismatch, By: by,
			Explanation: fmt.Sprintf("client asked for %s but the certificate is for %s; the client answered %s", ev.sni, strings.Join(firstN(lf.names, 4), ", "), alert)}
	case lf.selfSigned:
		return selfF()
	}
	if f := intercept(); f != nil {
		return f
	}
	if ev.validation == "unknown_authority" {
		return &Failure{Reason: ReasonUnknownCA, By: by,
			Explanation: fmt.Sprintf("client rejected the certificate for %s with %s, and its chain does not lead to a root of the configured trust store either (issuer %s)", name, alert, lf.issuer)}
	}
	return &Failure{Reason: ReasonBadCertificate, By: by,
		Explanation: fmt.Sprintf("client rejected the certificate for %s with %s although it is within its validity period and matches the name", name, alert)}
}

// diagnoseEncrypted: the alert that ended the handshake is ciphertext; only
// its direction and position speak.
func diagnoseEncrypted(ev *evidence) *Failure {
	a := ev.alert
	by := a.From.String()
	switch {
	case a.From == packet.FromClient && ev.serverFlight && !ev.clientFlight:
		return &Failure{Reason: ReasonBadCertificate, By: by,
			Explanation: "client sent an alert right after the server's encrypted flight instead of its Finished; the alert is encrypted, but the client probably rejected the server's certificate"}
	case a.From == packet.FromServer && ev.clientFlight && ev.tls13:
		if ev.clientFlightLen > 0 && ev.clientFlightLen < 200 {
			return &Failure{Reason: ReasonClientCertRequired, By: by,
				Explanation: fmt.Sprintf("server sent an alert after the client's final flight of %d bytes, too small to hold a certificate but larger than a Finished alone (an empty Certificate); the alert is encrypted, but the server probably required a client certificate", ev.clientFlightLen)}
		}
		if ev.clientFlightLen >= 200 {
			return &Failure{Reason: ReasonClientCertUntrusted, By: by,
				Explanation: fmt.Sprintf("server sent an alert after the client's final flight of %d bytes, large enough to hold a certificate; the alert is encrypted, but the server probably rejected the client's certificate", ev.clientFlightLen)}
		}
	}
	return &Failure{Reason: ReasonOther, By: by,
		Explanation: fmt.Sprintf("the %s ended the handshake with an encrypted alert %s; its description cannot be read", by, ev.position(a.From))}
}

// diagnoseSilent: the connection closed before the handshake completed,
// with no alert.
func diagnoseSilent(ev *evidence) *Failure {
	closed := "closed"
	if ev.closeReason == reassembly.CloseRST {
		closed = "reset"
	}
	switch {
	case !ev.sawCH && !ev.sawSH:
		if ev.malformed {
			return &Failure{Reason: ReasonDecodeError, Explanation: "the TLS records did not parse, and the connection was " + closed + " before any hello was seen"}
		}
		return &Failure{Reason: ReasonOther, Explanation: "the connection was " + closed + " before any hello was seen"}
	case ev.lastFrom == packet.FromServer && ev.serverFlight:
		what := "the server's hello"
		if ev.serverCert {
			what = "the server's certificate"
		} else if ev.tls13 {
			what = "the server's encrypted flight"
		}
		return &Failure{Reason: ReasonAbortedByClient, By: "client",
			Explanation: fmt.Sprintf("client %s the connection after %s without an alert: it likely rejected the certificate silently", closed, what)}
	case ev.heartbleed:
		return &Failure{Reason: ReasonOther, By: "client",
			Explanation: fmt.Sprintf("the client sent a heartbeat claiming more payload than it carried (the Heartbleed pattern, CVE-2014-0160) instead of finishing the handshake; the connection was then %s", closed)}
	case ev.lastFrom == packet.FromClient && !ev.serverFlight && ev.serverBytes > 0:
		return &Failure{Reason: ReasonDecodeError, By: "server",
			Explanation: fmt.Sprintf("the server answered the ClientHello with %d bytes that do not parse as TLS, then the connection was %s", ev.serverBytes, closed)}
	case ev.lastFrom == packet.FromClient && !ev.serverFlight:
		return &Failure{Reason: ReasonAbortedByServer, By: "server",
			Explanation: fmt.Sprintf("the connection was %s with no answer from the server to the ClientHello", closed)}
	case ev.lastFrom == packet.FromClient && ev.clientFlight:
		what := "the client's reply to its flight"
		if ev.clientKX {
			what = "the client's key exchange"
		}
		return &Failure{Reason: ReasonAbortedByServer, By: "server",
			Explanation: fmt.Sprintf("the connection was %s after %s without the server's Finished or an alert", closed, what)}
	case ev.malformed:
		return &Failure{Reason: ReasonDecodeError, Explanation: "a handshake message did not parse, and the connection was " + closed + " before the handshake completed"}
	}
	return &Failure{Reason: ReasonOther, Explanation: "the connection was " + closed + " before the handshake completed, without an alert"}
}

func other(by string) string {
	if by == "client" {
		return "server"
	}
	return "client"
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown version"
	}
	return s
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// diagnoseSSLv2 reads an SSL 2.0 ERROR message (SSL 2.0 specification,
// error codes).
func diagnoseSSLv2(ev *evidence) *Failure {
	by := ev.alert.From.String()
	switch ev.alert.SSLv2Error {
	case 1:
		return &Failure{Reason: ReasonNoSharedCipher, By: by, Explanation: "the " + by + " answered SSL 2.0 NO-CIPHER-ERROR: no cipher kind in common"}
	case 2:
		if ev.alert.From == packet.FromServer {
			return &Failure{Reason: ReasonClientCertRequired, By: by, Explanation: "server answered SSL 2.0 NO-CERTIFICATE-ERROR: it wanted a client certificate"}
		}
		return &Failure{Reason: ReasonBadCertificate, By: by, Explanation: "client answered SSL 2.0 NO-CERTIFICATE-ERROR"}
	case 4, 6:
		if ev.alert.From == packet.FromServer {
			return &Failure{Reason: ReasonClientCertUntrusted, By: by, Explanation: "server rejected the client's certificate with an SSL 2.0 error"}
		}
		return &Failure{Reason: ReasonBadCertificate, By: by, Explanation: "client rejected the server's certificate with an SSL 2.0 error"}
	}
	return &Failure{Reason: ReasonOther, By: by, Explanation: "the " + by + " sent an SSL 2.0 error of an unknown code"}
}

// nameMatches reports whether the leaf is for host: by its DNS SANs (RFC
// 6125, crypto/x509's rules), or, when it has none, by its CN, which old
// clients still accept.
func nameMatches(host string, lf *leafFacts) bool {
	if len(lf.cert.DNSNames) > 0 || len(lf.cert.IPAddresses) > 0 {
		return lf.cert.VerifyHostname(host) == nil
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	cn := strings.ToLower(lf.cert.Subject.CommonName)
	if cn == host {
		return true
	}
	// A wildcard stands for exactly one leftmost label.
	if rest, ok := strings.CutPrefix(cn, "*."); ok {
		if _, after, found := strings.Cut(host, "."); found && after == rest {
			return true
		}
	}
	return false
}
