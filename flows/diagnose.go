package flows

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"math"
	"net/netip"
	"strconv"
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

	sawCH, sawSH bool
	// chUnread: a ClientHello was sent (it is in the sequence) but not
	// read: cut short by the snap length or lost in a gap. What it
	// offered is then missing, and is said to be.
	chUnread      bool
	tls13         bool
	clientMax     dissect.Version // highest version offered
	clientMin     dissect.Version // lowest in supported_versions; 0 when not said
	serverVersion dissect.Version // chosen by the ServerHello
	suites        int             // cipher suites offered
	alpnOffered   []string
	sni           string

	alert *dissect.AlertEvent // the alert that ended it; nil when none
	keys  dissect.KeyStatus   // what the key log did for the connection

	serverFlight    bool   // the server answered the ClientHello
	serverCert      bool   // its Certificate was seen in clear
	serverBytes     uint64 // TCP payload the server sent, TLS or not
	clientBytes     uint64 // TCP payload the client sent, TLS or not
	clientFlight    bool   // the client answered the server's flight
	clientKX        bool   // ... with a ClientKeyExchange or Finished
	heartbleed      bool   // a heartbeat of the Heartbleed pattern was seen
	clientFlightLen int    // TLS 1.3: bytes of the client's encrypted records after the server's flight
	lastFrom        packet.Dir
	lastAt          time.Time // the last TLS record, either way
	closeAt         time.Time // the last packet of the connection
	certRequested   bool      // the server sent a CertificateRequest in clear
	clientCertSent  bool      // the client sent a Certificate message
	clientCertEmpty bool      // ... with no certificate in it
	malformed       bool
	closeReason     reassembly.CloseReason
	// closedBy is the side whose FIN or RST came first (in TLS roles);
	// closerKnown says the packets told it.
	closedBy    packet.Dir
	closerKnown bool
	// afterHandshake: the handshake completed, the client sent no
	// application data, and the connection was then reset or ended by the
	// client's fatal alert (a client that rejects the server once its own
	// Finished is out).
	afterHandshake bool

	// validation is Record.Validation: the server chain checked against
	// the configured trust store ("" when none is configured).
	validation string

	leaf  *leafFacts
	chain []*leafFacts // the server chain, leaf first; nil when not seen
	// borrowedFrom is the uid of the connection of this capture the chain
	// was seen on in clear, when it was not visible on this one (TLS 1.3
	// without keys): the same server's certificate, most likely the same.
	borrowedFrom string
	// otherLeaf: a different leaf was accepted for the same SNI earlier in
	// the capture (two genuine certificates of one service are common:
	// no sign of interception by itself).
	otherLeaf bool
	// issuerSites counts the distinct sites the leaf's issuer signed for
	// in the capture, this one included.
	issuerSites int
	// issuerSeenAsCA: a certificate whose subject is the issuer of the top
	// of the chain was sent as an intermediate on another connection.
	issuerSeenAsCA string
	// serverNegotiated is a version the same server negotiated with
	// another client in the capture (0 when none), and on which uid.
	serverNegotiated    dissect.Version
	serverNegotiatedUID string
}

// leafFacts is what the diagnosis needs of one certificate of a server's
// chain.
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
		closeAt:        info.Timestamp,
		sawCH:          st.ClientHello != nil,
		sawSH:          st.ServerHello != nil,
		tls13:          st.TLS13(),
		alert:          st.Fatal,
		keys:           st.Keys,
		serverFlight:   st.ServerAnswered,
		serverCert:     st.ServerCertificate || st.ServerChain != nil,
		clientKX:       st.ClientKeyExchange,
		heartbleed:     st.Heartbleed,
		lastFrom:       st.LastFrom,
		lastAt:         st.LastAt[st.LastFrom&1],
		certRequested:  st.CertificateRequest,
		clientCertSent: st.ClientCertificate,
		malformed:      st.Malformed,
		closeReason:    info.Reason,
		validation:     c.rec.Validation,
	}
	ev.closedBy, ev.closerKnown = c.closer(info)
	// A warning alert ended the handshake only if nothing followed it
	// (an unrecognized_name warning is often followed by a full handshake).
	if a := st.LastAlert; ev.alert == nil && a != nil && st.LastFrom == a.From && st.LastAt[a.From].Equal(a.Timestamp) {
		ev.alert = a
	}
	if st.Established {
		ev.afterHandshake = true
		ev.alert = nil
		if a := st.LastAlert; a != nil && a.From == packet.FromClient && !a.Encrypted && a.Level == dissect.AlertFatal {
			ev.alert = a
		}
	}
	if ev.alert != nil {
		ev.at = ev.alert.Timestamp
	}
	if st.ClientHello == nil {
		for _, m := range st.Messages {
			if m.From == packet.FromClient && (m.Type == dissect.HandshakeMsg(dissect.TypeClientHello) || m.Type == dissect.MsgSSLv2ClientHello) {
				ev.chUnread = true
				break
			}
		}
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
	cl, sv := packet.FromClient, packet.FromServer
	if c.swapped {
		cl, sv = sv, cl
	}
	ev.serverBytes, ev.clientBytes = info.Delivered[sv], info.Delivered[cl]
	if ev.tls13 {
		ev.clientFlightLen = st.ClientFlightLen13()
	}
	l := c.t.lineage
	if len(st.ServerChain) > 0 {
		ev.chain = c.chainFacts()
		ev.leaf = ev.chain[0]
		if ev.sni != "" && ev.leaf.sha256 != "" {
			if prev, ok := l.find(l.sniLeaf, ev.sni, c.closeAt); ok && prev.leaf != ev.leaf.sha256 {
				ev.otherLeaf = true
			}
		}
	} else if prev, ok := l.find(l.chains, c.serverKey(), c.closeAt); ok && len(prev.chain) > 0 && ev.tls13 && ev.serverFlight {
		// Only a TLS 1.3 flight hides the certificate the server did
		// send; a connection that never got that far borrows nothing.
		ev.chain, ev.leaf, ev.borrowedFrom = prev.chain, prev.chain[0], prev.uid
	}
	if ev.leaf != nil && ev.leaf.cert != nil {
		// This connection's own site is noted at its close too, after
		// the question: it is counted here.
		ev.issuerSites = l.sitesBefore(string(ev.leaf.cert.RawIssuer), c.closeAt)
		if site := siteOf(ev.leafName()); site != "" && !ev.issuerSiteNoted(l, site, c.closeAt) {
			ev.issuerSites++
		}
		top := ev.chain[len(ev.chain)-1]
		if top.cert != nil && !top.selfSigned {
			if f, ok := l.find(l.inters, string(top.cert.RawIssuer), c.closeAt); ok {
				ev.issuerSeenAsCA = f.uid
			}
		}
	}
	if f, ok := l.find(l.versions, c.serverAddr(), c.closeAt); ok {
		ev.serverNegotiated, ev.serverNegotiatedUID = f.version, f.uid
	}
	return ev
}

// issuerSiteNoted reports whether the leaf's issuer was already seen
// signing for site before q.
func (ev *evidence) issuerSiteNoted(l *Lineage, site string, q order) bool {
	l.mu.Lock()
	f, _ := l.issuerSites.get(string(ev.leaf.cert.RawIssuer))
	l.mu.Unlock()
	for _, s := range f.sites {
		if s.site == site && s.at.before(q) {
			return true
		}
	}
	return false
}

// chainFacts returns the facts of each certificate of the server chain.
// The slice is made once per connection and read-only after: the
// Lineage may keep it.
func (c *conn) chainFacts() []*leafFacts {
	chain := c.dc.State().ServerChain
	if len(c.chain) == len(chain) {
		return c.chain
	}
	out := make([]*leafFacts, len(chain))
	for i, der := range chain {
		out[i] = c.t.leafFacts(der, c.chainSHA256(i))
	}
	c.chain = out
	return out
}

// serverKey names the server for the chains it was seen with: the name
// asked for, else its address.
func (c *conn) serverKey() string {
	if ch := c.dc.State().ClientHello; ch != nil && ch.ServerName != "" {
		return "sni:" + ch.ServerName + "@" + strconv.Itoa(int(c.serverPort()))
	}
	return "addr:" + c.serverAddr()
}

func (c *conn) serverAddr() string {
	if c.swapped {
		return c.info.Client.String()
	}
	return c.info.Server.String()
}

func (c *conn) serverPort() uint16 {
	if c.swapped {
		return c.info.Client.Port()
	}
	return c.info.Server.Port()
}

// rememberLeaf notes what later connections' diagnoses ask of this one:
// the leaf a client accepted for an SNI (for the interception check), the
// chain the server showed in clear (for a TLS 1.3 connection to the same
// server seen only as ciphertext), the version it negotiated, the sites
// the leaf's issuer signs for, and the intermediates it sent. They are
// noted at the close, not when the Record is built, so that a sharded
// pipeline knows them before building any later connection.
func (c *conn) rememberLeaf() {
	if c.dc == nil {
		return // it carried nothing
	}
	st := c.dc.State()
	l := c.t.lineage
	if st.Established && st.ServerHello != nil {
		l.note(l.versions, c.serverAddr(), fact{at: c.now(), uid: c.uid, version: st.ServerHello.Version()})
	}
	if len(st.ServerChain) == 0 {
		return
	}
	at := c.now()
	l.noteLazy(l.chains, c.serverKey(), at, func() fact { return fact{uid: c.uid, chain: c.chainFacts()} })
	// The leaf and intermediates are parsed once per certificate (the
	// Tracker's cache); the slice is not kept.
	chain := c.chainFacts()
	if lf := chain[0]; lf.cert != nil {
		name := ""
		if st.ClientHello != nil {
			name = st.ClientHello.ServerName
		}
		if name == "" && len(lf.names) > 0 {
			name = lf.names[0]
		}
		if site := siteOf(name); site != "" {
			l.addSite(string(lf.cert.RawIssuer), site, at)
		}
	}
	for _, lf := range chain[1:] {
		if lf.cert != nil && lf.cert.IsCA && !lf.selfSigned {
			l.note(l.inters, string(lf.cert.RawSubject), fact{at: at, uid: c.uid})
		}
	}
	if st.ClientHello == nil || st.ClientHello.ServerName == "" || !st.Established {
		return
	}
	l.note(l.sniLeaf, st.ClientHello.ServerName, fact{at: c.now(), leaf: c.leafSHA256()})
}

// siteOf is the registrable part of a DNS name, roughly: its last two
// labels, three under the common two-label public suffixes. "" for an IP
// address or a single label.
func siteOf(name string) string {
	n := strings.TrimSuffix(strings.ToLower(name), ".")
	n = strings.TrimPrefix(n, "*.")
	if _, err := netip.ParseAddr(n); err == nil || !strings.Contains(n, ".") {
		return ""
	}
	// The last two labels, three under a two-letter country code's
	// common second level (co.uk, com.au, ne.jp, ...).
	i := strings.LastIndexByte(n, '.')
	j := strings.LastIndexByte(n[:i], '.')
	if j < 0 {
		return n
	}
	if len(n)-i-1 == 2 {
		switch n[j+1 : i] {
		case "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or":
			if k := strings.LastIndexByte(n[:j], '.'); k >= 0 {
				return n[k+1:]
			}
			return n
		}
	}
	return n[j+1:]
}

// leafFacts returns what the diagnosis asks of a server's certificate,
// parsed once per distinct certificate: a busy server's leaf is seen by
// every connection, and parsing it and checking its self-signature each
// time costs more than the rest of the connection. Facts are read-only
// once made.
func (t *Tracker) leafFacts(der []byte, sha string) *leafFacts {
	if lf, ok := t.leaves.get(sha); ok {
		return lf
	}
	lf := leafOf(der, sha)
	if len(der) <= maxSummedDER {
		// Larger ones are parsed each time: 4096 parsed certificates of a
		// few KiB each is the cache's bound in bytes.
		t.leaves.put(sha, lf)
	}
	return lf
}

// leafOf parses the certificate der whose SHA-256 (hex) is sha.
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
	if max == 0 {
		return "versions the capture does not show (its ClientHello was not read)"
	}
	if min == 0 || min == max {
		return "at most " + versionName(max)
	}
	lo, hi := versionName(min), versionName(max)
	if strings.HasPrefix(lo, "TLS ") && strings.HasPrefix(hi, "TLS ") {
		hi = strings.TrimPrefix(hi, "TLS ")
	}
	return lo + "–" + hi + " only"
}

// diagnose decides why a handshake failed from all the evidence, not the
// alert code alone, and how sure that is.
func diagnose(ev *evidence) *Failure {
	var f *Failure
	if ev.afterHandshake {
		f = diagnoseAfterHandshake(ev)
	} else {
		f = diagnoseReason(ev)
	}
	switch {
	case ev.alert == nil || ev.alert.Encrypted:
	case ev.alert.SSLv2Error != 0:
		f.Alert = "sslv2_error"
	default:
		f.Alert = ev.alert.Description.String()
	}
	f.Evidence = append(ev.baseFacts(), f.Evidence...)
	calibrate(ev, f)
	return f
}

// fail makes a Failure; facts are the evidence the rule used.
func fail(reason, by, confidence, explanation string, facts ...string) *Failure {
	return &Failure{Reason: reason, By: by, Confidence: confidence, Explanation: explanation, Evidence: facts}
}

// Hints: what would settle a diagnosis.
const (
	hintKeylog     = "give the client's key log with -keylog (SSLKEYLOGFILE) to read the encrypted alert and certificates"
	hintClientLog  = "the client's error message names the check that failed"
	hintTrustStore = "our trust store is not the client's: check the client's CA bundle, or give it with the client's roots"
	hintWhoClosed  = "the client's and the server's logs say which side closed; the capture shows the close but not yet its direction"
	hintVersions   = "try the client with TLS 1.2 or later enabled, or look at the server's minimum version"
	hintCipher     = "compare the client's cipher suites (and groups, signature algorithms) with the server's configuration"
	hintChain      = "check that the server sends its intermediate certificates (openssl s_client -showcerts)"
	hintServerLog  = "the server's log says why it ended the handshake"
)

// calibrate fills in the confidence and hint and caps the confidence by
// what the evidence can bear: certain needs an alert read in clear (or
// decrypted) and a certificate seen on this connection; an inferred or
// encrypted alert, or a silent close, is never certain.
func calibrate(ev *evidence, f *Failure) {
	if f.Confidence == "" {
		f.Confidence = ConfidenceLikely
	}
	readable := ev.alert != nil && !ev.alert.Encrypted && !ev.alert.Probable
	if f.Confidence == ConfidenceCertain && (!readable || ev.borrowedFrom != "") {
		f.Confidence = ConfidenceLikely
	}
	if ev.alert != nil && ev.alert.Probable && f.Confidence == ConfidenceLikely && f.Reason == ReasonOther {
		f.Confidence = ConfidenceUncertain
	}
	if f.Confidence == ConfidenceCertain {
		f.Hint = ""
		return
	}
	if f.Hint != "" {
		return
	}
	switch {
	case ev.tls13 && ev.keys != dissect.KeysFound && (ev.alert == nil || ev.alert.Encrypted):
		f.Hint = hintKeylog
	case ev.alert == nil:
		f.Hint = hintWhoClosed
	case ev.alert.From == packet.FromServer:
		f.Hint = hintServerLog
	default:
		f.Hint = hintClientLog
	}
}

// baseFacts are the facts every diagnosis rests on: the alert, or the
// close when there was none.
func (ev *evidence) baseFacts() []string {
	var out []string
	switch a := ev.alert; {
	case a == nil:
		out = append(out, "no alert was sent")
	case a.Probable:
		out = append(out, a.From.String()+"'s last encrypted record has the size of an alert (inferred, not read)")
	case a.Encrypted:
		out = append(out, a.From.String()+" sent an encrypted alert")
	case a.SSLv2Error != 0:
		out = append(out, fmt.Sprintf("%s sent SSL 2.0 error %d", a.From, a.SSLv2Error))
	default:
		lvl := "fatal"
		if a.Level == dissect.AlertWarning {
			lvl = "warning"
		}
		out = append(out, fmt.Sprintf("%s sent %s alert %s", a.From, lvl, a.Description))
	}
	if ev.alert == nil || ev.alert.Encrypted {
		switch ev.closeReason {
		case reassembly.CloseRST:
			out = append(out, "the connection was reset (RST)")
		case reassembly.CloseFIN:
			out = append(out, "the connection was closed (FIN)")
		}
	}
	return out
}

// offerFact says which versions the client offered.
func (ev *evidence) offerFact() string {
	return "client offered " + versionSpan(ev.clientMin, ev.clientMax)
}

// legacyOnly: the client offered nothing above TLS 1.1.
func (ev *evidence) legacyOnly() bool {
	return ev.clientMax != 0 && versionRank(ev.clientMax) < versionRank(dissect.VersionTLS12)
}

// serverKnownNewer reports that the same server negotiated, with another
// client of the capture, a version above what this client offered.
func (ev *evidence) serverKnownNewer() bool {
	return ev.serverNegotiated != 0 && ev.clientMax != 0 && versionRank(ev.serverNegotiated) > versionRank(ev.clientMax)
}

func (ev *evidence) serverNegotiatedFact() string {
	return fmt.Sprintf("the same server negotiated %s on %s", versionName(ev.serverNegotiated), ev.serverNegotiatedUID)
}

// refusedVersion reports that the server chose a version outside what the
// client offered in supported_versions (a client then refuses it,
// whatever it says).
func (ev *evidence) refusedVersion() bool {
	if !ev.sawSH || ev.serverVersion == 0 || ev.clientMin == 0 {
		return false
	}
	r := versionRank(ev.serverVersion)
	return r < versionRank(ev.clientMin) || r > versionRank(ev.clientMax)
}

// versionMismatch is the verdict on a client whose versions the server
// does not take, whatever it answered (alert names the answer).
func versionMismatch(ev *evidence, by, answer string) *Failure {
	conf := ConfidenceLikely
	facts := []string{ev.offerFact(), "the server sent no ServerHello"}
	if ev.serverKnownNewer() {
		facts = append(facts, ev.serverNegotiatedFact())
	} else if answer == "" || answer == "handshake_failure" || answer == "insufficient_security" {
		// A bare close, or an alert an old client's cipher suites
		// earn as well.
		conf = ConfidenceUncertain
	}
	what := "answered " + answer + " without a ServerHello"
	if answer == "" {
		what = "closed without answering"
	}
	f := fail(ReasonProtocolVersionMismatch, by, conf,
		fmt.Sprintf("client offered %s; the server %s, as servers that require TLS 1.2 or later do", versionSpan(ev.clientMin, ev.clientMax), what), facts...)
	f.Hint = hintVersions
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

	switch {
	case a.Description == dissect.AlertProtocolVersion:
		if fromServer {
			why := "the server supports none of them (it answered protocol_version)"
			if ev.legacyOnly() {
				why = "the server requires TLS 1.2 or later (it answered protocol_version)"
			}
			return fail(ReasonProtocolVersionMismatch, by, ConfidenceCertain,
				fmt.Sprintf("client offered %s; %s", versionSpan(ev.clientMin, ev.clientMax), why), ev.offerFact())
		}
		return fail(ReasonProtocolVersionMismatch, by, ConfidenceCertain,
			fmt.Sprintf("server chose %s, which the client refused with protocol_version", orUnknown(versionName(ev.serverVersion))),
			"server chose "+orUnknown(versionName(ev.serverVersion)))
	case fromServer && !ev.sawCH:
		// The server's answer to nothing: the client connected and
		// closed (or sent something else) without a ClientHello.
		if ev.clientBytes == 0 {
			return fail(ReasonAbortedByClient, "client", ConfidenceLikely,
				fmt.Sprintf("the client sent nothing and closed; the server's %s answers the empty stream", name),
				"client sent no bytes")
		}
	case fromServer && !ev.sawSH && ev.legacyOnly() && a.Description != dissect.AlertInappropriateFallback &&
		a.Description != dissect.AlertUnrecognizedName && a.Description != dissect.AlertNoApplicationProtocol &&
		a.Description != dissect.AlertDecodeError:
		return versionMismatch(ev, by, name)
	case !fromServer && ev.refusedVersion() && !isCertAlert(a.Description):
		return fail(ReasonProtocolVersionMismatch, by, ConfidenceLikely,
			fmt.Sprintf("server chose %s, outside what the client offered (%s), and the client answered %s", versionName(ev.serverVersion), versionSpan(ev.clientMin, ev.clientMax), name),
			ev.offerFact(), "server chose "+versionName(ev.serverVersion))
	}
	switch {
	case a.Description == dissect.AlertCloseNotify || a.Description == dissect.AlertUserCanceled:
		if fromServer {
			return fail(ReasonAbortedByServer, by, ConfidenceLikely,
				fmt.Sprintf("server gave up the handshake with %s %s", name, ev.position(a.From)))
		}
		if f := clientAbortByCert(ev, "the client gave up with "+name); f != nil {
			return f
		}
		what := "the server's hello"
		if ev.serverCert {
			what = "the server's certificate"
		}
		if !ev.serverFlight {
			what = "its ClientHello, before any answer"
		}
		return fail(ReasonAbortedByClient, by, ConfidenceUncertain,
			fmt.Sprintf("client gave up the handshake with %s after %s, as a client does that rejects the certificate without saying why", name, what))
	case a.Description == dissect.AlertInappropriateFallback:
		return fail(ReasonInappropriateFallback, by, ConfidenceCertain,
			fmt.Sprintf("client retried with %s and signalled a fallback (TLS_FALLBACK_SCSV); the server supports a higher version, so a downgrade was refused", orUnknown(versionName(ev.clientMax))), ev.offerFact())
	case a.Description == dissect.AlertUnrecognizedName:
		if ev.sni == "" {
			return fail(ReasonUnrecognizedName, by, ConfidenceLikely,
				"the handshake ended with unrecognized_name although the client sent no server name: the server wants one", "client sent no server_name")
		}
		return fail(ReasonUnrecognizedName, by, ConfidenceCertain,
			fmt.Sprintf("server does not serve the name %s the client asked for", ev.sni), "client asked for "+ev.sni)
	case a.Description == dissect.AlertNoApplicationProtocol:
		if len(ev.alpnOffered) == 0 {
			return fail(ReasonNoApplicationProtocol, by, ConfidenceLikely,
				"the handshake ended with no_application_protocol although the client offered no ALPN list: the server wants one", "client offered no ALPN")
		}
		return fail(ReasonNoApplicationProtocol, by, ConfidenceCertain,
			fmt.Sprintf("none of the application protocols the client offered (%s) is acceptable to the server", strings.Join(ev.alpnOffered, ", ")),
			"client offered ALPN "+strings.Join(ev.alpnOffered, ", "))
	case a.Description == dissect.AlertDecodeError:
		return fail(ReasonDecodeError, by, ConfidenceCertain,
			fmt.Sprintf("the %s could not parse a message from the %s (decode_error)", by, other(by)))
	case fromServer && !ev.sawSH && (a.Description == dissect.AlertHandshakeFailure || a.Description == dissect.AlertInsufficientSecurity):
		f := fail(ReasonNoSharedCipher, by, ConfidenceLikely,
			fmt.Sprintf("server answered the ClientHello with %s and no ServerHello: most likely none of the %d cipher suites the client offered is acceptable to it", name, ev.suites),
			fmt.Sprintf("client offered %d cipher suites", ev.suites), "the server sent no ServerHello")
		f.Hint = hintCipher
		return f
	case !fromServer && isCertAlert(a.Description):
		return diagnoseServerCert(ev, name)
	case fromServer && a.Description == dissect.AlertCertificateRequired:
		return fail(ReasonClientCertRequired, by, ConfidenceCertain,
			"server requires a client certificate and the client sent none (certificate_required)")
	case fromServer && ev.certRequested && (!ev.clientCertSent || ev.clientCertEmpty) && ev.clientFlight &&
		(a.Description == dissect.AlertHandshakeFailure || a.Description == dissect.AlertBadCertificate || a.Description == dissect.AlertNoCertificate):
		return fail(ReasonClientCertRequired, by, ConfidenceLikely,
			fmt.Sprintf("server asked for a client certificate, the client sent none, and the server ended the handshake with %s", name),
			"server sent a CertificateRequest", "client sent no certificate")
	case fromServer && ev.clientCertSent && !ev.clientCertEmpty && (isCertAlert(a.Description) || a.Description == dissect.AlertDecryptError):
		conf := ConfidenceCertain
		if a.Description == dissect.AlertDecryptError {
			conf = ConfidenceLikely // its CertificateVerify, not its chain
		}
		return fail(ReasonClientCertUntrusted, by, conf,
			fmt.Sprintf("server rejected the client's certificate with %s", name), "client sent a certificate")
	case ev.malformed:
		return fail(ReasonDecodeError, by, ConfidenceLikely,
			fmt.Sprintf("a handshake message did not parse (see the anomalies), and the %s ended the handshake with %s", by, name),
			"a handshake message did not parse")
	}
	return fail(ReasonOther, by, ConfidenceUncertain,
		fmt.Sprintf("the %s ended the handshake with %s %s", by, name, ev.position(a.From)))
}

// position says where in the handshake the sender of an alert stopped.
func (ev *evidence) position(from packet.Dir) string {
	switch {
	case !ev.sawCH && ev.chUnread:
		return "after a ClientHello the capture does not show in full"
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

// diagnoseEncrypted: the alert that ended the handshake is ciphertext; only
// its direction and position speak, with the same server's certificate
// when the capture showed it elsewhere.
func diagnoseEncrypted(ev *evidence) *Failure {
	a := ev.alert
	by := a.From.String()
	switch {
	case a.From == packet.FromClient && ev.serverFlight && !ev.clientFlight:
		if f := clientAbortByCert(ev, "the client answered with an encrypted alert instead of its Finished"); f != nil {
			return f
		}
		f := fail(ReasonBadCertificate, by, ConfidenceUncertain,
			"client sent an alert right after the server's encrypted flight instead of its Finished; the alert is encrypted, but the client probably rejected the server's certificate",
			"the client's alert stands where its Finished should be")
		f.Hint = hintKeylog
		return f
	case a.From == packet.FromServer && ev.clientFlight && ev.tls13:
		if ev.clientFlightLen > 0 && ev.clientFlightLen < 200 {
			return fail(ReasonClientCertRequired, by, ConfidenceLikely,
				fmt.Sprintf("server sent an alert after the client's final flight of %d bytes, too small to hold a certificate but larger than a Finished alone (an empty Certificate); the alert is encrypted, but the server probably required a client certificate", ev.clientFlightLen),
				fmt.Sprintf("client's final flight is %d bytes: an empty Certificate and a Finished", ev.clientFlightLen))
		}
		if ev.clientFlightLen >= 200 {
			return fail(ReasonClientCertUntrusted, by, ConfidenceLikely,
				fmt.Sprintf("server sent an alert after the client's final flight of %d bytes, large enough to hold a certificate; the alert is encrypted, but the server probably rejected the client's certificate", ev.clientFlightLen),
				fmt.Sprintf("client's final flight is %d bytes: large enough for a certificate", ev.clientFlightLen))
		}
	}
	return fail(ReasonOther, by, ConfidenceUncertain,
		fmt.Sprintf("the %s ended the handshake with an encrypted alert %s; its description cannot be read", by, ev.position(a.From)))
}

// diagnoseSilent: the connection closed before the handshake completed,
// with no alert. Which side closed is not known (the close is, not its
// direction): a verdict resting on it is at most likely.
func diagnoseSilent(ev *evidence) *Failure {
	closed := "closed"
	if ev.closeReason == reassembly.CloseRST {
		closed = "reset"
	}
	switch {
	case !ev.sawCH && !ev.sawSH && ev.chUnread:
		return fail(ReasonOther, "", ConfidenceUncertain, "the connection was "+closed+" after a ClientHello the capture does not show in full (cut short or lost); what it offered is missing",
			"the ClientHello was not read")
	case !ev.sawCH && !ev.sawSH:
		if ev.malformed {
			return fail(ReasonDecodeError, "", ConfidenceLikely, "the TLS records did not parse, and the connection was "+closed+" before any hello was seen",
				"a record did not parse")
		}
		return fail(ReasonOther, "", ConfidenceUncertain, "the connection was "+closed+" before any hello was seen")
	case ev.lastFrom == packet.FromServer && ev.serverFlight:
		if ev.refusedVersion() {
			return fail(ReasonProtocolVersionMismatch, "client", ConfidenceLikely,
				fmt.Sprintf("server chose %s, outside what the client offered (%s), and the connection was %s", versionName(ev.serverVersion), versionSpan(ev.clientMin, ev.clientMax), closed),
				ev.offerFact(), "server chose "+versionName(ev.serverVersion))
		}
		if f := clientAbortByCert(ev, "the client "+closed+" the connection without an alert"); f != nil {
			return f
		}
		what := "the server's hello"
		if ev.serverCert {
			what = "the server's certificate"
		} else if ev.tls13 {
			what = "the server's encrypted flight"
		}
		if ev.closerKnown && ev.closedBy == packet.FromClient {
			// The client's FIN or RST says it was the client: the abort is
			// a fact, why it aborted the likely guess.
			return fail(ReasonAbortedByClient, "client", ConfidenceLikely,
				fmt.Sprintf("client %s the connection after %s without an alert: it likely rejected the certificate silently", closed, what),
				"the server's flight was the last record", "the client sent the first "+closerPacket(ev))
		}
		return fail(ReasonAbortedByClient, "client", ConfidenceUncertain,
			fmt.Sprintf("client %s the connection after %s without an alert: it likely rejected the certificate silently", closed, what),
			"the server's flight was the last record")
	case ev.heartbleed:
		return fail(ReasonOther, "client", ConfidenceLikely,
			fmt.Sprintf("the client sent a heartbeat claiming more payload than it carried (the Heartbleed pattern, CVE-2014-0160) instead of finishing the handshake; the connection was then %s", closed),
			"a heartbeat claimed more payload than it carried")
	case ev.lastFrom == packet.FromClient && !ev.serverFlight && ev.serverBytes > 0:
		return fail(ReasonDecodeError, "server", ConfidenceLikely,
			fmt.Sprintf("the server answered the ClientHello with %d bytes that do not parse as TLS, then the connection was %s", ev.serverBytes, closed),
			fmt.Sprintf("server sent %d bytes that are not TLS", ev.serverBytes))
	case ev.lastFrom == packet.FromClient && !ev.serverFlight:
		if ev.legacyOnly() {
			return versionMismatch(ev, "server", "")
		}
		wait := ev.closeAt.Sub(ev.lastAt)
		if ev.closerKnown {
			// The FIN or RST says who ended it.
			if ev.closedBy == packet.FromClient {
				return fail(ReasonAbortedByClient, "client", ConfidenceLikely,
					fmt.Sprintf("the server never answered the ClientHello; the client %s the connection %s later, as a client does that gives up waiting", closed, wait.Round(time.Millisecond)),
					"the server sent nothing", "the client sent the first "+closerPacket(ev))
			}
			return fail(ReasonAbortedByServer, "server", ConfidenceLikely,
				fmt.Sprintf("the server %s the connection %s after the ClientHello without answering it", closed, wait.Round(time.Millisecond)),
				"the server sent nothing", "the server sent the first "+closerPacket(ev))
		}
		if wait >= clientGiveUp {
			return fail(ReasonAbortedByClient, "client", ConfidenceUncertain,
				fmt.Sprintf("the server never answered the ClientHello; the connection was %s %s later, as a client does that gives up waiting", closed, wait.Round(time.Millisecond)),
				"the server sent nothing", fmt.Sprintf("the close came %s after the ClientHello", wait.Round(time.Millisecond)))
		}
		return fail(ReasonAbortedByServer, "server", ConfidenceUncertain,
			fmt.Sprintf("the connection was %s with no answer from the server to the ClientHello", closed),
			"the server sent nothing", fmt.Sprintf("the close came %s after the ClientHello", wait.Round(time.Millisecond)))
	case ev.lastFrom == packet.FromClient && ev.clientFlight:
		what := "the client's reply to its flight"
		if ev.clientKX {
			what = "the client's key exchange"
		}
		return fail(ReasonAbortedByServer, "server", ConfidenceUncertain,
			fmt.Sprintf("the connection was %s after %s without the server's Finished or an alert", closed, what),
			"the client's flight was the last record")
	case ev.malformed:
		return fail(ReasonDecodeError, "", ConfidenceLikely, "a handshake message did not parse, and the connection was "+closed+" before the handshake completed",
			"a handshake message did not parse")
	}
	return fail(ReasonOther, "", ConfidenceUncertain, "the connection was "+closed+" before the handshake completed, without an alert")
}

// closerPacket names the packet that ended the connection.
func closerPacket(ev *evidence) string {
	if ev.closeReason == reassembly.CloseRST {
		return "RST"
	}
	return "FIN"
}

// closer says which side (in TLS roles) sent the first FIN or the RST that
// ended the connection, when the capture has it.
func (c *conn) closer(info reassembly.CloseInfo) (packet.Dir, bool) {
	var d packet.Dir
	switch {
	case !info.RstAt.IsZero() && (info.FinAt[0].IsZero() || !info.FinAt[0].Before(info.RstAt)) && (info.FinAt[1].IsZero() || !info.FinAt[1].Before(info.RstAt)):
		d = info.RstFrom
	case !info.FinAt[0].IsZero() && (info.FinAt[1].IsZero() || !info.FinAt[1].Before(info.FinAt[0])):
		d = packet.FromClient
	case !info.FinAt[1].IsZero():
		d = packet.FromServer
	default:
		return 0, false
	}
	if c.swapped {
		d ^= 1 // the TCP client turned out to be the TLS server
	}
	return d, true
}

// clientGiveUp is how long after its ClientHello a close with no answer
// is read as the client giving up rather than the server refusing: a
// server that refuses closes within a round trip, a client waits for its
// timeout (seconds).
const clientGiveUp = 2 * time.Second

// diagnoseAfterHandshake: the handshake completed, but the client sent no
// application data and the connection was reset, or the client sent a
// fatal alert: a client that checks the server (its name, as libpq,
// libldap and older Python and Java code do) after its own Finished.
func diagnoseAfterHandshake(ev *evidence) *Failure {
	if a := ev.alert; a != nil && !a.Encrypted && isCertAlert(a.Description) {
		f := diagnoseServerCert(ev, a.Description.String())
		f.Evidence = append(f.Evidence, "the alert came after the handshake completed")
		return f
	}
	what := "a fatal alert"
	if ev.alert == nil {
		what = "a reset"
	}
	if ev.alert == nil || ev.alert.From == packet.FromClient {
		if f := clientAbortByCert(ev, "the client ended the connection with "+what+" right after the handshake, before any data"); f != nil {
			f.Evidence = append(f.Evidence, "the handshake completed", "the client sent no application data")
			return f
		}
	}
	name := "reset the connection"
	if ev.alert != nil {
		name = "sent " + ev.alert.Description.String()
	}
	return fail(ReasonAbortedByClient, "client", ConfidenceUncertain,
		fmt.Sprintf("the handshake completed, but the connection ended (%s) before the client sent any data: the client probably rejected the server after its own Finished", name),
		"the handshake completed", "the client sent no application data")
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
