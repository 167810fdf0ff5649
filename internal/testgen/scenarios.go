package testgen

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// DefaultStart is the capture start of every committed scenario.
func DefaultStart() time.Time { return time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC) }

// DefaultSeed seeds the committed scenarios (PKI, connections, impairments).
const DefaultSeed = 2026

// ServerName is the name the certificates are for and the clients ask for.
const ServerName = "www.example.com"

// Catalog builds the committed scenarios: one PKI, one start time, one seed.
type Catalog struct {
	Seed  uint64
	Start time.Time
	PKI   *PKI
}

// NewCatalog builds the PKI of the scenarios.
func NewCatalog(seed uint64, start time.Time) (*Catalog, error) {
	p, err := NewPKI(seed, start)
	if err != nil {
		return nil, err
	}
	return &Catalog{Seed: seed, Start: start, PKI: p}, nil
}

func (k *Catalog) seed(name string) uint64 { return subSeed(k.Seed, "conn/"+name) }

func (k *Catalog) ticketKey(name string) [32]byte { return seedKey(k.Seed, "ticket-key/"+name) }

// Addresses from the documentation ranges (RFC 5737, RFC 3849).
func v4Client(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + n)}), uint16(50000+n*7))
}

func v4Server(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 20}), port)
}

func v6Client(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8:c::%x", 0x10+n)), uint16(50000+n*7))
}

func v6Server(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("2001:db8:5::443"), port)
}

// serverConfig is a server template with id as its certificate. The server
// accepts only classical key exchanges: crypto/tls's ML-KEM encapsulation
// (X25519MLKEM768 on the server side) draws from the process-wide DRBG and
// ignores Config.Rand, so a hybrid ServerHello could not be reproduced. The
// client still offers X25519MLKEM768, as Go clients do by default.
func (k *Catalog) serverConfig(id *Identity, ticketKey string) *tls.Config {
	return &tls.Config{
		Certificates:     []tls.Certificate{id.TLS()},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
		SessionTicketKey: k.ticketKey(ticketKey),
	}
}

func (k *Catalog) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: k.PKI.Roots, ServerName: ServerName}
}

func tls12(c *tls.Config) *tls.Config {
	c.MaxVersion = tls.VersionTLS12
	return c
}

// conn fills the fields every scenario connection shares.
func (k *Catalog) conn(name string, n int, client, server *tls.Config) Conn {
	return Conn{
		Name: name, Seed: k.seed(name), Client: client, Server: server,
		ClientAddr: v4Client(n), ServerAddr: v4Server(443),
		ClientSends: 180, ServerSends: 900,
	}
}

// Named scenario connections, shared by several captures.

func (k *Catalog) tls12Ticket(name string, n int, cache tls.ClientSessionCache) Conn {
	c := tls12(k.clientConfig())
	c.ClientSessionCache = cache
	return k.conn(name, n, c, tls12(k.serverConfig(k.PKI.Server, "tls12")))
}

// tls12TicketBig is tls12-ticket: flights of several segments both ways,
// so that its impaired twin has segments to disturb.
func (k *Catalog) tls12TicketBig(name string, cache tls.ClientSessionCache) Conn {
	cn := k.tls12Ticket(name, 0, cache)
	cn.ClientSends, cn.ServerSends = 2000, 4000
	return cn
}

func (k *Catalog) tls13Full(name string, n int, cache tls.ClientSessionCache) Conn {
	c := k.clientConfig()
	c.NextProtos = []string{"h2", "http/1.1"}
	c.ClientSessionCache = cache
	s := k.serverConfig(k.PKI.Server, "tls13")
	s.NextProtos = []string{"h2", "http/1.1"}
	return k.conn(name, n, c, s)
}

// tls13Small offers X25519 only, so the ClientHello fits in one segment.
func (k *Catalog) tls13Small(name string, n int, cache tls.ClientSessionCache) Conn {
	cn := k.tls13Full(name, n, cache)
	cn.Client.CurvePreferences = []tls.CurveID{tls.X25519}
	return cn
}

func (k *Catalog) failCert(name string, n int, id *Identity) Conn {
	return k.conn(name, n, tls12(k.clientConfig()), tls12(k.serverConfig(id, "tls12")))
}

// securityLevel2 makes a client refuse RSA keys under 2048 bits, as
// OpenSSL's default security level does (crypto/tls itself takes 1024).
// The error makes crypto/tls send bad_certificate.
func securityLevel2(c *tls.Config) *tls.Config {
	c.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		for _, der := range raw {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return err
			}
			if k, ok := cert.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
				return fmt.Errorf("ee key too small: %d-bit RSA", k.N.BitLen())
			}
		}
		return nil
	}
	return c
}

// failAfterHandshake: the client skips crypto/tls's name check, completes
// the handshake for a name the certificate does not carry, then resets.
func (k *Catalog) failAfterHandshake(name string, n int) Conn {
	c := tls12(k.clientConfig())
	c.ServerName = "db.example.org"
	c.InsecureSkipVerify = true
	cn := k.conn(name, n, c, tls12(k.serverConfig(k.PKI.Server, "tls12")))
	cn.End = EndClientReject
	return cn
}

func (k *Catalog) failVersion(name string, n int) Conn {
	c := k.clientConfig()
	c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	s := k.serverConfig(k.PKI.Server, "tls12")
	s.MinVersion = tls.VersionTLS12
	return k.conn(name, n, c, s)
}

func (k *Catalog) failCipher(name string, n int) Conn {
	c := tls12(k.clientConfig())
	// The server holds an ECDSA key: RSA-authenticated suites cannot be used.
	c.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}
	return k.conn(name, n, c, tls12(k.serverConfig(k.PKI.Server, "tls12")))
}

func (k *Catalog) failHostname(name string, n int) Conn {
	c := tls12(k.clientConfig())
	c.ServerName = "api.example.net"
	return k.conn(name, n, c, tls12(k.serverConfig(k.PKI.Server, "tls12")))
}

func (k *Catalog) failALPN(name string, n int) Conn {
	c := k.clientConfig()
	// Not http/1.1: crypto/tls lets a client offering http/1.1 through
	// without ALPN when the server does not speak it.
	c.NextProtos = []string{"imap"}
	s := k.serverConfig(k.PKI.Server, "tls13")
	s.NextProtos = []string{"h2", "http/1.1"}
	return k.conn(name, n, c, s)
}

func (k *Catalog) clientCert(name string, n int, withCert bool, v12 bool) Conn {
	c := k.clientConfig()
	if withCert {
		c.Certificates = []tls.Certificate{k.PKI.Client.TLS()}
	}
	s := k.serverConfig(k.PKI.Server, "tls12")
	s.ClientAuth = tls.RequireAndVerifyClientCert
	s.ClientCAs = k.PKI.Roots
	if v12 {
		c, s = tls12(c), tls12(s)
	}
	return k.conn(name, n, c, s)
}

func (k *Catalog) nonTLS(name string, n int) Conn {
	return Conn{
		Name: name, Seed: k.seed(name), Plain: true,
		ClientAddr: v4Client(n), ServerAddr: v4Server(80),
		Prelude: []Line{
			{ClientToServer, "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: tlsgen\r\nAccept: */*\r\n\r\n"},
			{ServerToClient, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 46\r\nConnection: close\r\n\r\n<html><body>plain, not TLS</body></html>\r\n\r\n\r\n"},
		},
	}
}

// Captures returns every committed capture. Each call builds fresh configs
// and session caches.
func (k *Catalog) Captures() ([]Capture, error) {
	cache := func() tls.ClientSessionCache { return tls.NewLRUClientSessionCache(8) }
	sec := time.Second
	var caps []Capture
	add := func(name, about string, conns ...Conn) *Capture {
		caps = append(caps, Capture{Name: name, About: about, Start: k.Start, Conns: conns})
		return &caps[len(caps)-1]
	}

	add("tls12-ticket.pcap", "TLS 1.2 full handshake, ECDHE-ECDSA, NewSessionTicket issued, data both ways (several segments each), close_notify and FIN",
		k.tls12TicketBig("tls12-ticket", cache()))

	{
		cc := cache()
		a, b := k.tls12Ticket("tls12-ticket-resumed/1", 0, cc), k.tls12Ticket("tls12-ticket-resumed/2", 1, cc)
		b.At = 2 * sec
		add("tls12-ticket-resumed.pcap", "two TLS 1.2 connections: the first is issued a ticket, the second redeems it (abbreviated handshake)", a, b)
	}

	{
		sid := make([]byte, 32)
		_, _ = io.ReadFull(NewRand(k.Seed, "session-id"), sid)
		a := k.tls12Ticket("tls12-sessionid-resumed/1", 0, nil)
		a.Server.SessionTicketsDisabled = true
		a.Server.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		a.Rewrite = SetServerSessionID(sid)
		script, err := SessionIDResumption(k.seed("tls12-sessionid-resumed/2"), ServerName, sid, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
		if err != nil {
			return nil, err
		}
		b := Conn{Name: "tls12-sessionid-resumed/2", Seed: k.seed("tls12-sessionid-resumed/2"), Script: script,
			ClientAddr: v4Client(1), ServerAddr: v4Server(443), At: 3 * sec}
		add("tls12-sessionid-resumed.pcap", "TLS 1.2 session-ID resumption: a real full handshake whose ServerHello was given a session ID, then a synthetic abbreviated handshake echoing it", a, b)
	}

	add("tls13-full.pcap", "TLS 1.3 full handshake (client offers X25519MLKEM768, ClientHello spans two segments), ALPN h2, NewSessionTicket, data, close",
		k.tls13Full("tls13-full", 0, cache()))
	{
		cc := cache()
		a, b := k.tls13Small("tls13-psk-resumed/1", 0, cc), k.tls13Small("tls13-psk-resumed/2", 1, cc)
		b.At = 2 * sec
		add("tls13-psk-resumed.pcap", "two TLS 1.3 connections: the second resumes with the PSK from the first's ticket (one-segment ClientHellos)", a, b)
	}
	{
		cn := k.tls13Full("tls13-hrr", 0, nil)
		cn.Client.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
		cn.Server.CurvePreferences = []tls.CurveID{tls.CurveP256}
		add("tls13-hrr.pcap", "TLS 1.3 with HelloRetryRequest: the client's X25519 share is refused, the server asks for P-256", cn)
	}

	add("fail-version.pcap", "client speaks TLS 1.0-1.1 only, server requires 1.2: protocol_version alert from the server", k.failVersion("fail-version", 0))
	add("fail-cipher.pcap", "TLS 1.2 client offers only ECDHE-RSA suites, server has an ECDSA key: handshake_failure from the server", k.failCipher("fail-cipher", 0))
	add("fail-untrusted.pcap", "TLS 1.2 server chain from a CA the client does not trust: client alert", k.failCert("fail-untrusted", 0, k.PKI.Untrusted))
	{
		cn := k.tls13Full("fail-untrusted-tls13", 0, nil)
		cn.Server = k.serverConfig(k.PKI.Untrusted, "tls13")
		add("fail-untrusted-tls13.pcap", "TLS 1.3 server chain from an untrusted CA: the client's alert is encrypted", cn)
	}
	add("fail-expired.pcap", "TLS 1.2 server certificate expired 10 days before the capture: client alert", k.failCert("fail-expired", 0, k.PKI.Expired))
	add("fail-notyetvalid.pcap", "TLS 1.2 server certificate valid only from 30 days after the capture: client alert", k.failCert("fail-notyetvalid", 0, k.PKI.NotYetValid))
	add("fail-selfsigned.pcap", "TLS 1.2 self-signed server certificate: client alert", k.failCert("fail-selfsigned", 0, k.PKI.SelfSigned))
	add("fail-hostname.pcap", "TLS 1.2 client asks for api.example.net, certificate is for www.example.com: client alert", k.failHostname("fail-hostname", 0))
	{
		cn := k.failCert("fail-weak-key", 0, k.PKI.WeakKey)
		cn.Client = securityLevel2(cn.Client)
		add("fail-weak-key.pcap", "TLS 1.2 server certificate with a 1024-bit RSA key, refused by a client at OpenSSL's security level 2: client alert", cn)
	}
	add("fail-sha1.pcap", "TLS 1.2 server certificate signed with ecdsa-with-SHA1: client alert", k.failCert("fail-sha1", 0, k.PKI.SHA1))
	add("fail-eku.pcap", "TLS 1.2 server certificate whose extended key usage is clientAuth only: client alert", k.failCert("fail-eku", 0, k.PKI.ClientEKU))
	add("fail-incomplete-chain.pcap", "TLS 1.2 server sends its leaf without the intermediate (the leaf names it by AIA): client alert", k.failCert("fail-incomplete-chain", 0, k.PKI.LeafOnly))
	add("fail-after-handshake.pcap", "TLS 1.2 client completes the handshake for db.example.org (certificate for www.example.com), then resets without data", k.failAfterHandshake("fail-after-handshake", 0))
	{
		a := k.failCert("fail-expired-seen/1", 0, k.PKI.Expired)
		b := k.tls13Full("fail-expired-seen/2", 1, nil)
		b.Server = k.serverConfig(k.PKI.Expired, "tls13")
		b.At = 2 * sec
		add("fail-expired-seen.pcap", "the same server's expired certificate, first over TLS 1.2 (in clear), then over TLS 1.3 (encrypted): both refused by the client", a, b)
	}
	add("fail-clientcert-required.pcap", "TLS 1.2 server requires a client certificate, client sends an empty Certificate: server alert", k.clientCert("fail-clientcert-required", 0, false, true))
	add("fail-clientcert-required-tls13.pcap", "TLS 1.3 server requires a client certificate, client has none: server alert (encrypted)", k.clientCert("fail-clientcert-required-tls13", 0, false, false))
	add("fail-alpn.pcap", "TLS 1.3 client offers ALPN imap only, server speaks h2 and http/1.1: no_application_protocol from the server", k.failALPN("fail-alpn", 0))
	{
		cn := k.tls13Full("fail-client-abort", 0, nil)
		cn.End = EndClientAbort
		add("fail-client-abort.pcap", "TLS 1.3 client closes with a FIN after the server's flight, without an alert", cn)
	}
	{
		cn := k.tls13Full("end-fin", 0, nil)
		cn.End = EndFIN
		add("end-fin.pcap", "TLS 1.3; after the response the client closes TCP without close_notify; the server answers with close_notify and FIN", cn)
		cn = k.tls13Full("end-rst", 0, nil)
		cn.End = EndRST
		add("end-rst.pcap", "TLS 1.3; after the response the client resets the connection (RST, no alert)", cn)
	}
	add("mtls.pcap", "mutual TLS 1.2: client Certificate and CertificateVerify visible", k.clientCert("mtls", 0, true, true))
	{
		cn := k.tls12Ticket("record-split", 0, nil)
		cn.MSS = 200
		add("record-split.pcap", "TLS 1.2 with MSS 200: records split across several TCP segments", cn)
	}
	{
		cn := k.tls12Ticket("handshake-split", 0, nil)
		cn.Rewrite = FragmentHandshake(100)
		add("handshake-split.pcap", "TLS 1.2 with plaintext handshake re-framed into records of at most 100 bytes: messages straddle records", cn)
	}
	{
		cn := k.tls13Full("ipv6", 0, cache())
		cn.ClientAddr, cn.ServerAddr = v6Client(0), v6Server(443)
		add("ipv6.pcap", "TLS 1.3 over IPv6", cn)
	}
	add("vlan.pcap", "TLS 1.2 over Ethernet with an 802.1Q tag (VLAN 100)", k.tls12Ticket("vlan", 0, nil)).Link = LinkVLAN
	add("sll.pcap", "TLS 1.3 in a Linux cooked (SLL) capture", k.tls13Full("sll", 0, nil)).Link = LinkSLL
	add("raw.pcap", "TLS 1.3 in a raw-IP capture (LINKTYPE_RAW)", k.tls13Full("raw", 0, nil)).Link = LinkRaw
	add("tls13-full.pcapng", "tls13-full.pcap written as pcapng", k.tls13Full("tls13-full", 0, cache())).Format = FormatPcapng

	add("multi.pcap", "twelve interleaved connections: successes, resumptions, failures, a plaintext one, a reset and an abort", k.multi()...)

	{
		cn := k.tls12TicketBig("tls12-ticket", cache())
		cn.Impair = Impairment{Seed: k.seed("impaired"), Reorder: 2, Duplicate: 2, Overlap: 2, Retransmit: 2}
		add("tls12-ticket-impaired.pcap", "tls12-ticket.pcap with reordered, duplicated, overlapping and retransmitted segments: same byte streams", cn)
	}
	{
		cn := k.tls13Full("lossy", 0, nil)
		cn.ServerSends = 12000
		cn.Impair = Impairment{Seed: k.seed("lossy"), Gap: 1}
		add("lossy.pcap", "TLS 1.3 download with one server segment of application data lost for good (a gap)", cn)
	}
	{
		cn := k.tls13Small("starttls-smtp", 0, nil)
		cn.ServerAddr = v4Server(587)
		cn.Client.NextProtos, cn.Server.NextProtos = nil, nil
		cn.Client.ServerName = ServerName
		cn.Prelude = []Line{
			{ServerToClient, "220 www.example.com ESMTP tlsgen\r\n"},
			{ClientToServer, "EHLO client.example.org\r\n"},
			{ServerToClient, "250-www.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"},
			{ClientToServer, "STARTTLS\r\n"},
			{ServerToClient, "220 2.0.0 Ready to start TLS\r\n"},
		}
		add("starttls-smtp.pcap", "SMTP on port 587: banner, EHLO, STARTTLS, then TLS 1.3", cn)
	}
	add("nontls.pcap", "a plain HTTP/1.1 exchange on port 80: no TLS", k.nonTLS("nontls", 0))
	return caps, nil
}

// multi is the mixed capture: overlapping connections with different RTTs.
func (k *Catalog) multi() []Conn {
	ms := time.Millisecond
	c13, c12 := tls.NewLRUClientSessionCache(8), tls.NewLRUClientSessionCache(8)
	conns := []Conn{
		k.tls13Full("multi/tls13", 0, c13),
		k.tls12Ticket("multi/tls12", 1, c12),
		k.failCert("multi/untrusted", 2, k.PKI.Untrusted),
		k.failVersion("multi/version", 3),
		k.nonTLS("multi/http", 4),
		k.failCert("multi/expired", 5, k.PKI.Expired),
		k.failALPN("multi/alpn", 6),
		k.clientCert("multi/mtls", 7, true, true),
		k.tls13Full("multi/rst", 8, nil),
		k.tls13Full("multi/abort", 9, nil),
		k.tls13Full("multi/tls13-resumed", 10, c13),
		k.tls12Ticket("multi/tls12-resumed", 11, c12),
	}
	conns[8].End = EndRST
	conns[9].End = EndClientAbort
	for i := range conns {
		conns[i].At = time.Duration(i) * 13 * ms
		conns[i].Timing.RTT = time.Duration(8+5*(i%5)) * ms
	}
	conns[10].At, conns[11].At = 400*ms, 415*ms
	return conns
}
