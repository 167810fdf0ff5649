package dtls

import (
	"fmt"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// event is one Sink call, with its bytes copied.
type event struct {
	kind  string // "hs", "alert", "ccs", "app", "ack", "enc", "anomaly"
	dir   packet.Dir
	epoch uint16
	typ   HandshakeType
	ctype ContentType
	msg   []byte
	retx  bool
	level uint8
	desc  uint8
	enc   bool
	size  int
	acks  []RecordNumber
	an    Anomaly
}

// recorder is a Sink that keeps every call.
type recorder struct{ ev []event }

func (r *recorder) Handshake(dir packet.Dir, ts time.Time, epoch uint16, typ HandshakeType, msg []byte, retx bool) {
	r.ev = append(r.ev, event{kind: "hs", dir: dir, epoch: epoch, typ: typ, msg: append([]byte(nil), msg...), retx: retx})
}
func (r *recorder) Alert(dir packet.Dir, ts time.Time, epoch uint16, level, desc uint8, enc bool, size int) {
	r.ev = append(r.ev, event{kind: "alert", dir: dir, epoch: epoch, level: level, desc: desc, enc: enc, size: size})
}
func (r *recorder) ChangeCipherSpec(dir packet.Dir, ts time.Time) {
	r.ev = append(r.ev, event{kind: "ccs", dir: dir})
}
func (r *recorder) ApplicationData(dir packet.Dir, ts time.Time, epoch uint16, size int) {
	r.ev = append(r.ev, event{kind: "app", dir: dir, epoch: epoch, size: size})
}
func (r *recorder) ACK(dir packet.Dir, ts time.Time, epoch uint16, recs []RecordNumber, enc bool, size int) {
	r.ev = append(r.ev, event{kind: "ack", dir: dir, epoch: epoch, acks: append([]RecordNumber(nil), recs...), enc: enc, size: size})
}
func (r *recorder) Encrypted(dir packet.Dir, ts time.Time, epoch uint16, typ ContentType, size int) {
	r.ev = append(r.ev, event{kind: "enc", dir: dir, epoch: epoch, ctype: typ, size: size})
}
func (r *recorder) Anomaly(a Anomaly) {
	r.ev = append(r.ev, event{kind: "anomaly", dir: a.Dir, an: a})
}

// summary renders the events one per line, for comparing sequences.
func (r *recorder) summary() string {
	var b strings.Builder
	for _, e := range r.ev {
		fmt.Fprintf(&b, "%s ", e.dir)
		switch e.kind {
		case "hs":
			fmt.Fprintf(&b, "%s", e.typ)
			if e.retx {
				b.WriteString(" (retransmission)")
			}
		case "alert":
			if e.enc {
				fmt.Fprintf(&b, "alert encrypted epoch %d", e.epoch)
			} else {
				fmt.Fprintf(&b, "alert %d/%d", e.level, e.desc)
			}
		case "ccs":
			b.WriteString("change_cipher_spec")
		case "app":
			fmt.Fprintf(&b, "application_data epoch %d", e.epoch)
		case "ack":
			fmt.Fprintf(&b, "ack epoch %d %v", e.epoch, e.acks)
		case "enc":
			fmt.Fprintf(&b, "encrypted %s epoch %d", e.ctype, e.epoch)
		case "anomaly":
			fmt.Fprintf(&b, "anomaly %s", e.an.Kind)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (r *recorder) anomalies() []string {
	var out []string
	for _, e := range r.ev {
		if e.kind == "anomaly" {
			out = append(out, e.an.Kind)
		}
	}
	return out
}

func (r *recorder) messages(retx bool) []event {
	var out []event
	for _, e := range r.ev {
		if e.kind == "hs" && e.retx == retx {
			out = append(out, e)
		}
	}
	return out
}

// vec8 and vec16 prefix b with its length.
func vec8(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }
func vec16(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ext(typ uint16, data []byte) []byte {
	return cat([]byte{byte(typ >> 8), byte(typ)}, vec16(data))
}

func filled(n int, v byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v + byte(i)
	}
	return b
}

// clientHello builds a DTLS 1.2 ClientHello body with the cookie and
// extensions given.
func clientHello(cookie []byte, exts ...[]byte) []byte {
	b := cat([]byte{0xfe, 0xfd}, filled(32, 1), vec8(filled(0, 0)), vec8(cookie),
		vec16([]byte{0xc0, 0x2b, 0xc0, 0x2f}), vec8([]byte{0}))
	if len(exts) > 0 {
		b = append(b, vec16(cat(exts...))...)
	}
	return b
}

// serverHello builds a DTLS 1.2 ServerHello body.
func serverHello(exts ...[]byte) []byte {
	b := cat([]byte{0xfe, 0xfd}, filled(32, 7), vec8(filled(8, 3)), []byte{0xc0, 0x2b, 0})
	if len(exts) > 0 {
		b = append(b, vec16(cat(exts...))...)
	}
	return b
}

func helloVerify(cookie []byte) []byte { return cat([]byte{0xfe, 0xff}, vec8(cookie)) }

// hsRecord builds a plaintext handshake record holding one whole message.
func hsRecord(seq uint64, typ HandshakeType, mseq uint16, body []byte) []byte {
	frag := AppendFragment(nil, typ, len(body), mseq, 0, body)
	return record(ContentHandshake, 0, seq, frag)
}

func record(typ ContentType, epoch uint16, seq uint64, body []byte) []byte {
	return append(AppendPlainHeader(nil, typ, VersionDTLS12, epoch, seq, len(body)), body...)
}

// tlsMsg is what a Conn delivers for a message: the TLS layout.
func tlsMsg(typ HandshakeType, body []byte) []byte {
	return append(appendTLSHeader(nil, typ, len(body)), body...)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
