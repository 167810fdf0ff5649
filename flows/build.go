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
	isTLS := c.dc != nil && c.dc.SawTLS()
	if !isTLS && !c.t.cfg.ReportNonTLS {
		c.t.stats.NotTLS++
		return nil
	}
	c.start() // a connection that carried nothing, reported as not TLS
	r := c.rec
	st := c.dc.State()
	if !isTLS {
		c.t.stats.NotTLS++
	} else {
		c.t.stats.TLS++
	}

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
	r.Transport = c.transport.String()
	proto := uint8(communityid.TCP)
	if c.transport != dissect.TransportTCP {
		proto = communityid.UDP
	}
	r.CommunityID = communityid.V1(c.t.cfg.CommunitySeed, proto, client, server)
	r.Close = info.Reason.String()
	if c.transport == dissect.TransportTCP {
		e := &TCPEnds{SYN: Time{info.SynAt}, SYNACK: Time{info.SynAckAt}, ClientFIN: Time{info.FinAt[cl]}, ServerFIN: Time{info.FinAt[sv]}}
		if !info.RstAt.IsZero() {
			e.RST = Time{info.RstAt}
			e.RSTFrom = "client"
			if info.RstFrom == sv {
				e.RSTFrom = "server"
			}
		}
		r.TCP = e
	}
	r.ClientBytes = info.Delivered[cl]
	r.ServerBytes = info.Delivered[sv]
	r.MissingBytes = info.Missing[0] + info.Missing[1]
	if info.Missing[0]+info.Missing[1] > 0 && !c.gapSeen[0] && !c.gapSeen[1] {
		c.gapSeen[0] = info.Missing[cl] > 0
		c.gapSeen[1] = info.Missing[sv] > 0
	}
	if st.MessagesDropped > 0 {
		c.addAnomaly("messages_truncated", "", info.Timestamp, st.MessagesDropped, "messages past the per-connection cap were not kept")
	}

	if !isTLS {
		r.Status = StatusNotTLS
		normalise(r)
		return r
	}

	hist := st.History
	if c.swapped {
		hist = append([]byte{'^'}, hist...)
	}
	r.History = string(hist)
	c.transcript(r, st)
	c.resolveLineage()
	c.negotiation(r)
	c.resumption(r)
	c.certificates(r)
	c.fingerprints(r)
	c.outcome(r, info)
	c.datagramFacts(r, st)
	normalise(r)
	return r
}

// transcript writes the state machine's message sequence and alerts.
func (c *conn) transcript(r *Record, st *dissect.State) {
	r.Messages = make([]Message, len(st.Messages))
	for i, m := range st.Messages {
		r.Messages[i] = Message{TS: Time{m.Timestamp}, From: m.From, Type: m.Type, Length: m.Length, Decrypted: m.Decrypted,
			Encrypted: m.Encrypted, Count: m.Count, Bytes: m.Bytes}
	}
	r.Renegotiations = st.Renegotiations
	for _, rn := range st.Renegotiation {
		r.RenegotiationAttempts = append(r.RenegotiationAttempts, Renegotiation{TS: Time{rn.Timestamp}, By: rn.By.String(), Done: rn.Done})
	}
	r.Keys = st.Keys.String()
	if len(st.Alerts) > 0 {
		r.Alerts = make([]Alert, 0, len(st.Alerts))
	}
	for _, a := range st.Alerts {
		al := Alert{TS: Time{a.Timestamp}, From: a.From, Code: -1, Encrypted: a.Encrypted, Inferred: a.Probable}
		if !a.Encrypted {
			al.Level = alertLevelName(a.Level)
			al.Description = a.Description.String()
			al.Code = int(a.Description)
		}
		r.Alerts = append(r.Alerts, al)
	}
}

func (c *conn) negotiation(r *Record) {
	st := c.dc.State()
	if ch := st.ClientHello; ch != nil {
		r.SNI = ch.ServerName
		r.ALPNOffered = append(r.ALPNOffered, ch.ALPN...)
		r.OfferedVersions = offeredVersions(ch)
	}
	switch sh := st.ServerHello; {
	case sh != nil:
		r.Version = versionName(sh.Version())
		r.Cipher = sh.CipherSuite.String()
		r.ALPN = sh.ALPN
		if ee := st.EncryptedExtensions; ee != nil && r.ALPN == "" {
			r.ALPN = ee.ALPN // TLS 1.3 says it in EncryptedExtensions
		}
		if !st.HelloRetryRequest || sh.KeyShareGroup != 0 {
			r.Curve = groupName(sh.KeyShareGroup)
		}
	case st.SSLv2:
		r.Version = versionName(dissect.VersionSSL2)
	}
	if ske := st.ServerKeyExchange; ske != nil && ske.NamedCurve != 0 {
		r.Curve = groupName(ske.NamedCurve)
	}
	if st.HelloRetryGroup != 0 {
		r.HelloRetryGroup = groupName(st.HelloRetryGroup)
	}
	r.EarlyData = st.EarlyData().String()
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
	// The server agreed to resume (it accepted the PSK, or went straight
	// to ChangeCipherSpec) even if the capture or the handshake ended
	// before both Finished: status says whether it completed.
	if res := c.dc.State().Resumption(); res != dissect.ResumptionNone {
		r.Resumption = res.String()
		r.Resumed = true
		r.ResumedFrom = c.resumedFrom
	}
	st.Renewed = st.Issued && r.Resumed && r.Resumption == "ticket"
}

func (c *conn) certificates(r *Record) {
	st := c.dc.State()
	for i, der := range st.ServerChain {
		r.Certificates = append(r.Certificates, certOf(c.t.certs.SummarizeSum(der, c.chainSum(i))))
	}
	for _, der := range st.ClientChain {
		r.ClientCertificates = append(r.ClientCertificates, certOf(c.t.certs.Summarize(der)))
	}
	if len(st.ServerChain) == 0 {
		return
	}
	if roots := c.t.cfg.RootsFunc(); roots != nil {
		at := c.certTime()
		key := validationKey(r.Certificates, at, r.SNI)
		v, ok := c.t.validations.get(key)
		if !ok {
			v = validate(st.ServerChain, roots, at, r.SNI)
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
	if at := c.dc.State().ServerChainAt; !at.IsZero() {
		return at
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
		SAN: san, SHA256: s.SHA256, SHA1: s.SHA1, MD5: s.MD5, Key: s.Key, KeyExponent: s.KeyExponent,
		Version: s.Version, CA: s.IsCA, SignatureAlgorithm: s.SignatureAlgorithm,
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
	st := c.dc.State()
	// JA4's first letter is the transport (FoxIO's JA4 specification).
	tr := byte('t')
	switch c.transport {
	case dissect.TransportQUIC:
		tr = 'q'
	case dissect.TransportDTLS:
		tr = 'd'
	}
	if ch := st.ClientHello; ch != nil {
		r.JA3, r.JA3String = fingerprint.JA3(ch)
		r.JA4, r.JA4R = c.t.ja4.JA4(ch, tr)
	}
	if sh := st.ServerHello; sh != nil {
		r.JA3S, r.JA3SString = fingerprint.JA3S(sh)
		r.JA4S, r.JA4SR = c.t.ja4.JA4S(sh, tr)
	}
	for i, der := range st.ServerChain {
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
	st := c.dc.State()
	r.Established = st.Established
	switch {
	case st.Established && !r.Resumed && rejectedAfterHandshake(st, info):
		// The handshake completed (Established stays true: it did), but
		// the client turned the server down before saying anything.
		r.Status = StatusFailed
	case st.Established && r.Resumed:
		r.Status = StatusResumed
	case st.Established:
		r.Status = StatusEstablished
	case st.Fatal != nil:
		r.Status = StatusFailed
	case st.ClientHello == nil:
		// Picked up after the ClientHello, or the client's side did not
		// parse: too little of the handshake was seen to call it failed.
		r.Status = StatusIncomplete
	case !st.ServerAnswered && st.ClientKeyExchange:
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

// rejectedAfterHandshake reports a client that rejected the server once
// the handshake was done: it sent no application data, and either sent a
// readable fatal alert (decrypted with the key log) or the connection was
// reset right after the last handshake record. Clients that check the
// server's name only after the handshake (libpq, libldap, older Python and
// Java code) end so; a client that simply closes sends close_notify and a
// FIN, which stays established.
func rejectedAfterHandshake(st *dissect.State, info reassembly.CloseInfo) bool {
	for _, m := range st.Messages {
		if m.From == packet.FromClient && m.Type == dissect.MsgApplicationData {
			return false
		}
	}
	if a := st.LastAlert; a != nil && a.From == packet.FromClient && !a.Encrypted && a.Level == dissect.AlertFatal {
		return true
	}
	// Any alert (an encrypted close_notify, most often) or heartbeat
	// after the handshake is a connection closing or used, not a reset
	// right after the handshake.
	if len(st.Alerts) > 0 || len(st.Messages) == 0 {
		return false
	}
	switch last := st.Messages[len(st.Messages)-1]; {
	case last.Type == dissect.HandshakeMsg(dissect.TypeFinished), last.Type == dissect.HandshakeMsg(dissect.TypeNewSessionTicket),
		last.Type == dissect.MsgChangeCipherSpec:
	case st.TLS13() && last.From == packet.FromServer && last.Type == dissect.MsgApplicationData:
		// The server's NewSessionTicket records, unreadable.
	default:
		return false
	}
	lastAt := st.LastAt[st.LastFrom&1]
	return info.Reason == reassembly.CloseRST && !lastAt.IsZero() && info.Timestamp.Sub(lastAt) < clientGiveUp
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
	if r.RenegotiationAttempts == nil {
		r.RenegotiationAttempts = []Renegotiation{}
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
		// RFC 5077 lets a client present a TLS 1.2 ticket again (OpenSSL's
		// -reconnect does, five times); a TLS 1.3 PSK identity is meant to
		// be used once (RFC 8446 C.4): only its reuse is a replay sign.
		if first, ok := l.find(l.presented, st.OfferedSHA256, q.at); ok && first.uid != c.uid && q.psk {
			st.Reused = true
			c.addAnomaly("ticket_reused", "client", q.ts, q.len, "a TLS 1.3 PSK identity presented by an earlier connection ("+first.uid+") was presented again")
		}
		if is, ok := l.find(l.tickets, st.OfferedSHA256, q.at); ok {
			st.IssuedBy = is.uid
			// A redemption only when the server took the ticket.
			switch c.dc.State().Resumption() {
			case dissect.ResumptionTicket, dissect.ResumptionPSK:
				st.RedeemedAfter = q.ts.Sub(is.ts).Seconds()
				st.LifetimeExpired = is.lifetime > 0 && st.RedeemedAfter > float64(is.lifetime)
			}
			c.resumedFrom = is.uid
		}
	}
	if c.sidKey != "" && c.resumedFrom == "" {
		if full, ok := l.find(l.sessions, c.sidKey, c.sidAt); ok {
			c.resumedFrom = full.uid
		}
	}
}
