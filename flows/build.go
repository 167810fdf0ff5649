package flows

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/dissect/certs"
	"github.com/tlsdissect/tlsdissect/dissect/fingerprint"
	"github.com/tlsdissect/tlsdissect/flows/communityid"
	"github.com/tlsdissect/tlsdissect/packet"
	"github.com/tlsdissect/tlsdissect/reassembly"
)

// build makes the Record of a closed connection; nil when it is not to be
// reported (no TLS, and not asked for).
func (c *conn) build(info reassembly.CloseInfo) *Record {
	r := &c.rec
	isTLS := c.sawTLS || c.dc.SawTLS()
	if !isTLS {
		c.t.stats.NotTLS++
		if !c.t.cfg.ReportNonTLS {
			return nil
		}
	} else {
		c.t.stats.TLS++
	}
	c.settleProbableAlerts()

	r.Schema = Schema
	r.TS = Time{c.info.Start}
	r.EndTS = Time{info.Timestamp}
	if r.EndTS.IsZero() {
		r.EndTS = r.TS
	}
	r.UID = c.uid
	client, server := c.info.Client, c.info.Server
	cl, sv := packet.FromClient, packet.FromServer
	if c.swapped {
		client, server = server, client
		cl, sv = sv, cl
	}
	r.Client = Endpoint{IP: client.Addr().Unmap().String(), Port: client.Port()}
	r.Server = Endpoint{IP: server.Addr().Unmap().String(), Port: server.Port()}
	r.CommunityID = communityid.V1(c.t.cfg.CommunitySeed, communityid.TCP, client, server)
	r.Close = info.Reason.String()
	r.ClientBytes = info.Delivered[cl]
	r.ServerBytes = info.Delivered[sv]
	r.MissingBytes = info.Missing[0] + info.Missing[1]
	if info.Missing[0]+info.Missing[1] > 0 && !c.gapSeen[0] && !c.gapSeen[1] {
		c.gapSeen[0] = info.Missing[cl] > 0
		c.gapSeen[1] = info.Missing[sv] > 0
	}
	if c.msgDrops > 0 {
		c.addAnomaly("messages_truncated", "", info.Timestamp, c.msgDrops, "messages past the per-connection cap were not kept")
	}

	if !isTLS {
		r.Status = StatusNotTLS
		normalise(r)
		return r
	}

	hist := c.history
	if c.swapped {
		hist = append([]byte{'^'}, hist...)
	}
	r.History = string(hist)
	c.resolveLineage()
	c.negotiation(r)
	c.resumption(r)
	c.certificates(r)
	c.fingerprints(r)
	c.outcome(r, info)
	normalise(r)
	return r
}

// alertEndedHandshake13 reports whether a TLS 1.3 encrypted alert at
// message index i ended the handshake rather than the connection: the
// client's alert stood where its Finished should have been, or the server's
// was its first record after the client's Finished (a server rejecting the
// client's flight, typically its certificate, answers so).
func (c *conn) alertEndedHandshake13(d packet.Dir, i int) bool {
	if !c.finished[0] || c.clientFinMsg < 0 {
		return false
	}
	if d == packet.FromClient {
		return i == c.clientFinMsg && c.encAfter[0] <= 1
	}
	if i <= c.clientFinMsg || c.rec.Messages[i].Count > 1 {
		return false // server records came after the client's Finished
	}
	// A client asked for a certificate answers with a Certificate (empty
	// or not) before its Finished. A flight that is one Finished alone
	// means none was asked for: the alert is then no rejection of the
	// client's flight, only the server closing.
	if c.clientFlightLen13() <= finishedRecordLen(c.sh.CipherSuite) {
		return false
	}
	for _, m := range c.rec.Messages[c.clientFinMsg+1 : i] {
		if m.From == "server" {
			return false
		}
	}
	return true
}

// finishedRecordLen is the size of a TLS 1.3 record holding a Finished
// alone: the handshake header, the suite's hash, the inner content type
// and the AEAD tag (RFC 8446 4.4.4, 5.2).
func finishedRecordLen(suite uint16) int {
	hash, tag := 32, 16
	switch suite {
	case 0x1302: // TLS_AES_256_GCM_SHA384
		hash = 48
	case 0x1305: // TLS_AES_128_CCM_8_SHA256
		tag = 8
	}
	return 4 + hash + 1 + tag
}

// settleProbableAlerts turns a probable encrypted alert that nothing
// followed into an alert, and the record it named into an alert message.
func (c *conn) settleProbableAlerts() {
	// Decide on the sequence as it was which alerts ended the handshake,
	// then rewrite the messages, earlier alert first.
	var ended [2]bool
	for d, p := range c.probAlert {
		if p != nil && p.msg >= 0 && p.msg < len(c.rec.Messages) && c.tls13() {
			ended[d] = c.alertEndedHandshake13(packet.Dir(d), p.msg)
		}
	}
	order := [2]int{0, 1}
	if p0, p1 := c.probAlert[0], c.probAlert[1]; p0 != nil && p1 != nil && p1.a.Timestamp.Before(p0.a.Timestamp) {
		order = [2]int{1, 0}
	}
	for _, d := range order {
		p := c.probAlert[d]
		if p == nil {
			continue
		}
		c.probAlert[d] = nil
		if p.msg >= 0 && p.msg < len(c.rec.Messages) {
			m := &c.rec.Messages[p.msg]
			if m.Count > 1 {
				// The alert was folded into a run: split it off, right
				// after the run.
				m.Count--
				m.Bytes -= p.a.Bytes
				if len(c.rec.Messages) < maxMessages {
					al := Message{TS: Time{p.a.Timestamp}, From: m.From, Type: "alert", Length: p.a.Bytes, Encrypted: true, Count: 1, Bytes: p.a.Bytes}
					c.rec.Messages = slices.Insert(c.rec.Messages, p.msg+1, al)
					if c.clientFinMsg > p.msg {
						c.clientFinMsg++
					}
					if o := c.probAlert[d^1]; o != nil && o.msg > p.msg {
						o.msg++
					}
				}
			} else {
				m.Type = "alert"
				m.Encrypted = true
			}
		}
		if ended[d] {
			c.finished[0] = false
			c.established = false
			c.fatal = nil // the alert added below is the one that ended it
		}
		c.addAlert(&alertFact{from: packet.Dir(d), ts: p.a.Timestamp, encrypted: true})
	}
}

func (c *conn) negotiation(r *Record) {
	if ch := c.ch; ch != nil {
		r.SNI = ch.ServerName
		r.ALPNOffered = append(r.ALPNOffered, ch.ALPN...)
		r.OfferedVersions = offeredVersions(ch)
	}
	switch {
	case c.sh != nil:
		r.Version = versionName(c.sh.Version())
		r.Cipher = cipherName(c.sh.CipherSuite)
		r.ALPN = c.sh.ALPN
		if !c.hrr || c.sh.KeyShareGroup != 0 {
			r.Curve = groupName(c.sh.KeyShareGroup)
		}
	case c.sslv2:
		r.Version = versionName(dissect.VersionSSL2)
	}
	if c.ske != nil && c.ske.NamedCurve != 0 {
		r.Curve = groupName(c.ske.NamedCurve)
	}
	if c.ch != nil && c.ch.EarlyData {
		r.EarlyData = c.earlyData()
	}
}

// earlyData says what became of 0-RTT data offered (RFC 8446 4.2.10). The
// server's answer is in its encrypted EncryptedExtensions, so we infer:
//   - rejected: the server answered with a HelloRetryRequest, or did not
//     accept a PSK, or accepted another than the first identity (early data
//     is only ever sent under the first);
//   - accepted: the PSK was accepted and, after the server's flight, the
//     client's first encrypted record is no larger than an EndOfEarlyData,
//     which a client sends only when early data was accepted;
//   - offered: otherwise (we cannot tell).
func (c *conn) earlyData() string {
	if c.hrr && c.sh != nil {
		return "rejected"
	}
	if c.sh == nil {
		return "offered"
	}
	if !is13(c.sh.Version()) || !c.sh.HasPreSharedKey || c.sh.SelectedIdentity != 0 {
		return "rejected"
	}
	if c.eoedSeen {
		return "accepted"
	}
	return "offered"
}

// offeredVersions lists the versions the client said it supports, highest
// first: supported_versions without GREASE, else the legacy version.
func offeredVersions(ch *dissect.ClientHello) []string {
	vs := make([]dissect.Version, 0, len(ch.SupportedVersions))
	for _, v := range ch.SupportedVersions {
		if !isGREASE(uint16(v)) && !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		if ch.LegacyVersion == 0 {
			return []string{}
		}
		vs = append(vs, ch.LegacyVersion)
	}
	slices.SortFunc(vs, func(a, b dissect.Version) int { return versionRank(b) - versionRank(a) })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = versionName(v)
	}
	return out
}

// versionRank orders versions, TLS 1.3 drafts just below TLS 1.3.
func versionRank(v dissect.Version) int {
	if v>>8 == 0x7f {
		return 0x0304*256 - 256 + int(v&0xff)
	}
	return int(v) * 256
}

// maxOffered is the client's highest version (0 without a ClientHello).
func maxOffered(ch *dissect.ClientHello) (max, min dissect.Version) {
	if ch == nil {
		return 0, 0
	}
	for _, v := range ch.SupportedVersions {
		if isGREASE(uint16(v)) {
			continue
		}
		if max == 0 || versionRank(v) > versionRank(max) {
			max = v
		}
		if min == 0 || versionRank(v) < versionRank(min) {
			min = v
		}
	}
	if max == 0 {
		max = ch.LegacyVersion
	}
	return max, min
}

func (c *conn) resumption(r *Record) {
	st := &r.SessionTicket
	switch {
	case c.tls13():
		if c.sh.HasPreSharedKey {
			r.Resumption = "psk"
		}
	case c.sslv2:
		if c.sslv2Hit {
			r.Resumption = "session_id"
		}
	case c.sh != nil:
		// An abbreviated handshake: the server went from its hello to
		// ChangeCipherSpec with no Certificate and no key exchange.
		abbreviated := c.chain == nil && c.ske == nil && (c.ccs[1] || c.finished[1])
		if !abbreviated {
			break
		}
		switch {
		case c.ch != nil && len(c.ch.SessionTicket) > 0:
			r.Resumption = "ticket"
		case c.sidEcho:
			r.Resumption = "session_id"
		}
	}
	// The server agreed to resume (it accepted the PSK, or went straight
	// to ChangeCipherSpec) even if the capture or the handshake ended
	// before both Finished: status says whether it completed.
	if r.Resumption != "" {
		r.Resumed = true
		r.ResumedFrom = c.resumedFrom
	}
	st.Renewed = st.Issued && r.Resumed && r.Resumption == "ticket"
}

func (c *conn) certificates(r *Record) {
	for i, der := range c.chain {
		r.Certificates = append(r.Certificates, certOf(c.t.certs.SummarizeSum(der, c.chainSum(i))))
	}
	for _, der := range c.cchain {
		r.ClientCertificates = append(r.ClientCertificates, certOf(c.t.certs.Summarize(der)))
	}
	if len(c.chain) == 0 {
		return
	}
	if roots := c.t.cfg.RootsFunc(); roots != nil {
		at := c.certTime()
		key := validationKey(r.Certificates, at, r.SNI)
		v, ok := c.t.validations.get(key)
		if !ok {
			v = validate(c.chain, roots, at, r.SNI)
			c.t.validations.put(key, v)
		}
		r.Validation = v
	}
}

// validationKey names everything a chain's verdict depends on: the
// certificates, the name asked for, and where the capture time falls in
// each certificate's validity period (before, within, after). Two
// connections with the same key get the same verdict from x509.Verify,
// so the signatures are checked once per chain, not per connection.
func validationKey(chain []Certificate, at time.Time, sni string) string {
	var b strings.Builder
	b.Grow(len(chain)*66 + len(sni) + 1)
	for _, c := range chain {
		b.WriteString(c.SHA256)
		switch {
		case at.Before(c.NotBefore.Time):
			b.WriteByte('<')
		case at.After(c.NotAfter.Time):
			b.WriteByte('>')
		default:
			b.WriteByte('=')
		}
	}
	b.WriteByte('/')
	b.WriteString(sni)
	return b.String()
}

// certTime is the capture time the server certificate is judged at.
func (c *conn) certTime() time.Time {
	if !c.certTS.IsZero() {
		return c.certTS
	}
	return c.info.Start
}

func certOf(s *certs.Summary) Certificate {
	if s == nil {
		return Certificate{SAN: []string{}}
	}
	san := s.SAN
	if san == nil {
		san = []string{}
	}
	return Certificate{
		Subject: s.Subject, Issuer: s.Issuer, Serial: s.Serial,
		NotBefore: Time{s.NotBefore}, NotAfter: Time{s.NotAfter},
		SAN: san, SHA256: s.SHA256, SHA1: s.SHA1, Key: s.Key, SignatureAlgorithm: s.SignatureAlgorithm,
		SelfSigned: s.SelfSigned, ParseError: s.ParseError,
	}
}

// validate verifies the server chain as of the capture time.
func validate(chain [][]byte, roots *x509.CertPool, at time.Time, sni string) string {
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return "invalid"
	}
	inter := x509.NewCertPool()
	for _, der := range chain[1:] {
		if ic, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(ic)
		}
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if sni != "" {
		opts.DNSName = sni
	}
	_, err = leaf.Verify(opts)
	if err == nil {
		return "ok"
	}
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var he x509.HostnameError
	switch {
	case errors.As(err, &ua):
		return "unknown_authority"
	case errors.As(err, &he):
		return "hostname_mismatch"
	case errors.As(err, &ci):
		if ci.Reason == x509.Expired {
			if ci.Cert != nil && at.Before(ci.Cert.NotBefore) {
				return "not_yet_valid"
			}
			return "expired"
		}
	}
	return "invalid"
}

func (c *conn) fingerprints(r *Record) {
	if c.ch != nil {
		r.JA3, r.JA3String = fingerprint.JA3(c.ch)
		r.JA4, r.JA4R = fingerprint.JA4(c.ch, 't')
	}
	if c.sh != nil {
		r.JA3S, r.JA3SString = fingerprint.JA3S(c.sh)
		r.JA4S, r.JA4SR = fingerprint.JA4S(c.sh, 't')
	}
	for i, der := range c.chain {
		// A certificate is seen by many connections: its JA4X is kept
		// by SHA-256 (from its summary) and computed once.
		key := ""
		if i < len(r.Certificates) {
			key = r.Certificates[i].SHA256
		}
		fp, ok := c.t.ja4x.get(key)
		if !ok || key == "" {
			fp = fingerprint.JA4X(der)
			if key != "" {
				c.t.ja4x.put(key, fp)
			}
		}
		if fp != "" {
			r.JA4X = append(r.JA4X, fp)
		}
	}
}

// outcome decides status and failure.
func (c *conn) outcome(r *Record, info reassembly.CloseInfo) {
	r.Established = c.established
	switch {
	case c.established && r.Resumed:
		r.Status = StatusResumed
	case c.established:
		r.Status = StatusEstablished
	case c.fatal != nil:
		r.Status = StatusFailed
	case c.ch == nil:
		// Picked up after the ClientHello, or the client's side did not
		// parse: too little of the handshake was seen to call it failed.
		r.Status = StatusIncomplete
	case !c.srvFlight && c.clientKX:
		// The client went on to its key exchange, so the server did
		// answer: its direction was not captured.
		r.Status = StatusIncomplete
	case info.Reason == reassembly.CloseEndOfInput || info.Reason == reassembly.CloseIdle || info.Reason == reassembly.CloseEvicted:
		r.Status = StatusIncomplete
	case c.gapSeen[0] || c.gapSeen[1]:
		r.Status = StatusIncomplete
	default:
		r.Status = StatusFailed
	}
	if r.Status == StatusFailed {
		r.Failure = diagnose(c.evidence(info))
	}
}

// normalise writes every list as [] rather than null.
func normalise(r *Record) {
	if r.ALPNOffered == nil {
		r.ALPNOffered = []string{}
	}
	if r.OfferedVersions == nil {
		r.OfferedVersions = []string{}
	}
	if r.Messages == nil {
		r.Messages = []Message{}
	}
	if r.Certificates == nil {
		r.Certificates = []Certificate{}
	}
	if r.ClientCertificates == nil {
		r.ClientCertificates = []Certificate{}
	}
	for i := range r.Certificates {
		if r.Certificates[i].SAN == nil {
			r.Certificates[i].SAN = []string{}
		}
	}
	for i := range r.ClientCertificates {
		if r.ClientCertificates[i].SAN == nil {
			r.ClientCertificates[i].SAN = []string{}
		}
	}
	if r.Alerts == nil {
		r.Alerts = []Alert{}
	}
	if r.JA4X == nil {
		r.JA4X = []string{}
	}
	if r.Anomalies == nil {
		r.Anomalies = []string{}
	}
	if r.AnomalyDetails == nil {
		r.AnomalyDetails = []Anomaly{}
	}
}

// resolveLineage answers the lineage questions the connection asked: was
// its ticket or PSK identity presented before, by whom was it issued, and
// which full handshake set the session ID the server echoed.
func (c *conn) resolveLineage() {
	l := c.t.lineage
	st := &c.rec.SessionTicket
	if q := c.ticketQ; q != nil {
		if first, ok := l.find(l.presented, st.OfferedSHA256, q.at); ok && first.uid != c.uid {
			st.Reused = true
			c.addAnomaly("ticket_reused", "client", q.ts, q.len, "a ticket or PSK identity presented by an earlier connection ("+first.uid+") was presented again")
		}
		if is, ok := l.find(l.tickets, st.OfferedSHA256, q.at); ok {
			st.IssuedBy = is.uid
			st.RedeemedAfter = q.ts.Sub(is.ts).Seconds()
			st.LifetimeExpired = is.lifetime > 0 && st.RedeemedAfter > float64(is.lifetime)
			c.resumedFrom = is.uid
		}
	}
	if c.sidKey != "" && c.resumedFrom == "" {
		if full, ok := l.find(l.sessions, c.sidKey, c.sidAt); ok {
			c.resumedFrom = full.uid
		}
	}
}
