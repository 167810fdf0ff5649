package dissect

import (
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/dtls"
	"github.com/tlsdissect/tlsdissect/dissect/quic"
	"github.com/tlsdissect/tlsdissect/packet"
)

// Transport is what carries a connection's TLS.
type Transport uint8

const (
	TransportTCP  Transport = iota // TLS records in a TCP stream
	TransportQUIC                  // TLS handshake messages in QUIC CRYPTO frames (RFC 9001)
	TransportDTLS                  // DTLS records in UDP datagrams (RFC 6347, RFC 9147)
)

// String is the name of the JSON contract's transport field.
func (t Transport) String() string {
	switch t {
	case TransportQUIC:
		return "quic"
	case TransportDTLS:
		return "dtls"
	}
	return "tcp"
}

// ClassifyDatagram says which datagram transport the first UDP payload of
// a flow opens, whatever the port: a QUIC client's Initial, or DTLS records
// (also on a port WebRTC shares with STUN and SRTP: dtls.LooksLikeDTLS
// checks the whole datagram, not only the first byte of RFC 7983). A flow
// first met in the middle (QUIC short headers, DTLS ciphertext) is not
// claimed: nothing in it says who the client is or what it negotiated.
func ClassifyDatagram(b []byte) (Transport, bool) {
	switch {
	case quic.LooksLikeClientInitial(b):
		return TransportQUIC, true
	case dtls.LooksLikeDTLS(b):
		return TransportDTLS, true
	}
	return TransportTCP, false
}

// DatagramFromServer says who sent the first payload ClassifyDatagram
// claimed, when its content tells (sure): a QUIC client's Initial, or DTLS
// handshake messages only one side sends (ClientHello; ServerHello,
// HelloVerifyRequest, Certificate, ServerKeyExchange, CertificateRequest,
// ServerHelloDone).
func DatagramFromServer(t Transport, b []byte) (fromServer, sure bool) {
	switch t {
	case TransportQUIC:
		return false, quic.LooksLikeClientInitial(b)
	case TransportDTLS:
		// The first record: a plaintext handshake fragment of epoch 0
		// names the message (RFC 6347 4.1, 4.2.2).
		r, _, err := dtls.ParseRecord(b, dtls.CIDUnknown)
		if err != nil || r.Form != dtls.FormPlain || r.Type != dtls.ContentHandshake || r.Epoch != 0 {
			return false, false
		}
		f, _, err := dtls.ParseFragment(r.Fragment)
		if err != nil {
			return false, false
		}
		switch HandshakeType(f.Type) {
		case TypeClientHello:
			return false, true
		case TypeServerHello, TypeHelloVerifyRequest, TypeCertificate, TypeServerKeyExchange, TypeCertificateRequest, TypeServerHelloDone:
			return true, true
		}
	}
	return false, false
}

// NewDatagramConn returns a Conn for one UDP flow that carries t (QUIC or
// DTLS), fed with Datagram instead of Data. The same state machine tells
// the story: the datagram layer hands it handshake messages, alerts and
// the sizes of what it cannot read.
func NewDatagramConn(cfg Config, sink Sink, t Transport) *Conn {
	c := NewConn(cfg, sink)
	c.st.Transport = t
	switch t {
	case TransportQUIC:
		c.quic = newQUICFront(c, cfg)
	case TransportDTLS:
		c.dtls = newDTLSFront(c, cfg)
	}
	return c
}

// Datagram feeds one UDP payload of a Conn made by NewDatagramConn, in
// capture order. b is only read during the call.
func (c *Conn) Datagram(dir packet.Dir, ts time.Time, b []byte) {
	if dir > 1 {
		return
	}
	switch {
	case c.quic != nil:
		c.quic.dir, c.quic.ts = dir, ts
		c.quic.qc.Datagram(dir, ts, b)
	case c.dtls != nil:
		c.dtls.dc.Datagram(dir, ts, b)
	}
}

// endDatagram settles what a datagram front end knows at End.
func (c *Conn) endDatagram() {
	if c.dtls != nil {
		c.dtls.dc.Close()
	}
	if c.quic != nil {
		c.quic.end()
	}
}

// QUICConnID returns the connection ID side chose for itself (its Source
// Connection ID), which the other side puts in every packet it sends;
// nil before it is known, or on another transport.
func (c *Conn) QUICConnID(side packet.Dir) []byte {
	if c.quic == nil {
		return nil
	}
	return c.quic.qc.ConnID(side)
}
