package dissect

import (
	"time"

	"github.com/tlsdissect/tlsdissect/dissect/dtls"
	"github.com/tlsdissect/tlsdissect/packet"
)

// DTLSFacts is what a DTLS association's datagrams told beyond the TLS
// story.
type DTLSFacts struct {
	// Retransmissions counts handshake messages sent again per direction
	// (a flight resent after a timeout, RFC 6347 4.2.4): folded, not in
	// the message sequence.
	Retransmissions [2]int
	Cookie          bool // a HelloVerifyRequest asked for a cookie round (RFC 6347 4.2.1)
	// SRTPProfiles are the use_srtp profiles (RFC 5764) the client
	// offered; SRTPProfile the server's choice, 0 if none.
	SRTPProfiles []uint16
	SRTPProfile  uint16
	ACKs         [2]int // DTLS 1.3 ACK records per direction (RFC 9147 7)
}

// dtlsFront is the DTLS layer of a datagram Conn. The dtls.Conn joins
// fragments, folds retransmissions and finds the records; the front end
// hands each record on to the Conn's TLS framer as the TLS record it
// corresponds to (RFC 6347: DTLS is TLS with explicit sequence numbers
// and fragmentation), so that one state machine labels ciphertext,
// infers Finished messages and reads alerts for both. What is ciphertext
// is framed as that many zero bytes: only its size is ever looked at.
type dtlsFront struct {
	c   *Conn
	dc  *dtls.Conn
	buf []byte // the TLS ClientHello made from the DTLS one
	ct  []byte // a record being opened (OpenRecord), reused
	msg []byte // a decrypted handshake message in the TLS layout
}

func newDTLSFront(c *Conn, cfg Config) *dtlsFront {
	f := &dtlsFront{c: c}
	dcfg := dtls.DefaultConfig()
	dcfg.MaxMessage = cfg.MaxHandshake
	f.dc = dtls.NewConn(dcfg, f)
	c.st.DTLS = &DTLSFacts{}
	return f
}

// zeroBody stands for a record body the Conn only counts; never written.
var zeroBody [maxRecordLen]byte

// record feeds one TLS record of type typ to the Conn's framer.
func (f *dtlsFront) record(dir packet.Dir, ts time.Time, typ ContentType, body []byte) {
	// The TLS version whose formats the DTLS one uses: the framer checks
	// the record version, and the hellos still say DTLS.
	v := Version(f.dc.Version()).tlsEquivalent()
	if v != VersionTLS11 {
		v = VersionTLS12 // DTLS 1.2, 1.3 (whose records say 1.2), or not yet known
	}
	for {
		n := min(len(body), 1<<14)
		hdr := [recordHeaderLen]byte{byte(typ), byte(v >> 8), byte(v), byte(n >> 8), byte(n)}
		f.c.Data(dir, ts, hdr[:])
		f.c.Data(dir, ts, body[:n])
		body = body[n:]
		if len(body) == 0 {
			return
		}
	}
}

// sized feeds a record of which only the size is known.
func (f *dtlsFront) sized(dir packet.Dir, ts time.Time, typ ContentType, size int) {
	f.record(dir, ts, typ, zeroBody[:min(max(size, 0), len(zeroBody))])
}

// Handshake implements dtls.Sink.
func (f *dtlsFront) Handshake(dir packet.Dir, ts time.Time, epoch uint16, typ dtls.HandshakeType, msg []byte, retransmission bool) {
	st := f.c.st.DTLS
	if retransmission {
		st.Retransmissions[f.c.role(dir)&1]++
		return
	}
	switch typ {
	case dtls.TypeClientHello:
		if len(st.SRTPProfiles) == 0 && len(msg) > 4 {
			if data, ok, _ := dtls.FindExtension(msg[4:], true, dtls.ExtUseSRTP); ok {
				if u, err := dtls.ParseUseSRTP(data); err == nil {
					for _, p := range u.Profiles {
						st.SRTPProfiles = append(st.SRTPProfiles, uint16(p))
					}
				}
			}
		}
		tls, _, err := dtls.ClientHelloMessageTLS(f.buf[:0], msg)
		if err != nil {
			f.c.anomaly(&f.c.h[dir], ts, AnomalyMalformedHandshake, len(msg), "DTLS ClientHello: "+err.Error())
			return
		}
		f.buf = tls
		msg = tls
	case dtls.TypeServerHello:
		if data, ok, _ := dtls.FindExtension(msg[min(4, len(msg)):], false, dtls.ExtUseSRTP); ok {
			if u, err := dtls.ParseUseSRTP(data); err == nil && len(u.Profiles) > 0 {
				st.SRTPProfile = uint16(u.Profiles[0])
			}
		}
	case dtls.TypeHelloVerifyRequest:
		st.Cookie = true
	}
	f.record(dir, ts, ContentHandshake, msg)
	if typ == dtls.TypeServerHello && f.c.tls13 && f.c.keys.have && f.c.keys.status != KeysFailed {
		// DTLS 1.3 encrypts record numbers too (RFC 9147 4.2.3), which the
		// TLS openers do not undo: say so rather than "found".
		f.c.keys.setStatus(KeysFailed)
		f.c.anomaly(&f.c.h[dir], ts, AnomalyKeysUnsupported, 0, "DTLS 1.3 records are not opened (record number encryption, RFC 9147 4.2.3); the key log has the secrets")
	}
}

// Alert implements dtls.Sink.
func (f *dtlsFront) Alert(dir packet.Dir, ts time.Time, epoch uint16, level, description uint8, encrypted bool, size int) {
	if encrypted {
		f.sized(dir, ts, ContentAlert, size)
		return
	}
	f.record(dir, ts, ContentAlert, []byte{level, description})
}

// ChangeCipherSpec implements dtls.Sink.
func (f *dtlsFront) ChangeCipherSpec(dir packet.Dir, ts time.Time) {
	f.record(dir, ts, ContentChangeCipherSpec, []byte{1})
}

// ApplicationData implements dtls.Sink.
func (f *dtlsFront) ApplicationData(dir packet.Dir, ts time.Time, epoch uint16, size int) {
	f.sized(dir, ts, ContentApplicationData, size)
}

// ACK implements dtls.Sink: a DTLS 1.3 ACK is transport, not story.
func (f *dtlsFront) ACK(dir packet.Dir, ts time.Time, epoch uint16, records []dtls.RecordNumber, encrypted bool, size int) {
	f.c.st.DTLS.ACKs[f.c.role(dir)&1]++
}

// Encrypted implements dtls.Sink.
func (f *dtlsFront) Encrypted(dir packet.Dir, ts time.Time, epoch uint16, typ dtls.ContentType, size int) {
	switch typ {
	case dtls.ContentHandshake, dtls.ContentHeartbeat, dtls.ContentTLS12CID:
		f.sized(dir, ts, ContentType(typ), size)
	default:
		// A unified-header record (DTLS 1.3): its type is inside, as in a
		// TLS 1.3 application_data record.
		f.sized(dir, ts, ContentApplicationData, size)
	}
}

// OpenRecord implements dtls.RecordOpener: with the key log's secrets a
// DTLS 1.0 or 1.2 record is opened by the TLS opener of the same suite,
// its sequence number the epoch and the record's own (RFC 6347 4.1.2.1:
// the MAC and AEAD input are TLS's with that 64-bit number, the header's
// DTLS version and length). Records are opened in any order, as DTLS
// numbers each; a record that fails is reported as ciphertext.
func (f *dtlsFront) OpenRecord(dir packet.Dir, ts time.Time, epoch uint16, r dtls.Record) bool {
	c := f.c
	k := &c.keys
	o := k.open[c.role(dir)]
	if o == nil || c.tls13 || len(r.Fragment) > maxCiphertext || r.Seq >= 1<<48 {
		return false
	}
	f.ct = append(f.ct[:0], r.Fragment...)
	n := len(f.ct)
	hdr := [recordHeaderLen]byte{byte(r.Type), byte(r.Version >> 8), byte(r.Version), byte(n >> 8), byte(n)}
	o.SetSeq(uint64(epoch)<<48 | r.Seq)
	typ, pt, err := o.Open(f.ct[:0], hdr[:], f.ct)
	if err != nil {
		k.setStatus(KeysFailed)
		return false
	}
	d := &c.h[dir]
	if ContentType(typ) != ContentHandshake {
		c.emitOpened(d, ts, ContentType(typ), pt, n)
		return true
	}
	// The plaintext is DTLS handshake fragments: a whole message goes on
	// in the TLS layout; pieces of one (rare after the keys change) are
	// not joined.
	for len(pt) > 0 {
		fr, used, err := dtls.ParseFragment(pt)
		if err != nil {
			c.anomaly(d, ts, AnomalyMalformedHandshake, len(pt), "decrypted DTLS handshake: "+err.Error())
			return true
		}
		pt = pt[used:]
		if fr.Offset != 0 || len(fr.Data) != fr.Length {
			c.anomaly(d, ts, AnomalyTruncated, len(fr.Data), "a fragment of an encrypted "+HandshakeType(fr.Type).String()+" message; not joined")
			continue
		}
		f.msg = append(f.msg[:0], byte(fr.Type), byte(fr.Length>>16), byte(fr.Length>>8), byte(fr.Length))
		f.msg = append(f.msg, fr.Data...)
		c.emitOpened(d, ts, ContentHandshake, f.msg, n)
	}
	return true
}

// Anomaly implements dtls.Sink.
func (f *dtlsFront) Anomaly(a dtls.Anomaly) {
	f.c.anomaly(&f.c.h[a.Dir&1], a.Timestamp, a.Kind, a.Bytes, a.Detail)
}
