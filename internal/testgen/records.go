package testgen

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// TLS record content types (RFC 8446 section 5.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

type record struct {
	typ     uint8
	version uint16
	body    []byte
}

// parseRecords splits b into whole TLS records; ok is false when b is not
// made of whole records.
func parseRecords(b []byte) (recs []record, ok bool) {
	s := cryptobyte.String(b)
	for !s.Empty() {
		var r record
		var body cryptobyte.String
		if !s.ReadUint8(&r.typ) || !s.ReadUint16(&r.version) || !s.ReadUint16LengthPrefixed(&body) {
			return nil, false
		}
		r.body = body
		recs = append(recs, r)
	}
	return recs, true
}

func appendRecord(dst []byte, typ uint8, version uint16, body []byte) []byte {
	dst = append(dst, typ, byte(version>>8), byte(version), byte(len(body)>>8), byte(len(body)))
	return append(dst, body...)
}

// FragmentHandshake returns a Conn.Rewrite that re-frames the plaintext
// handshake records of each direction into records carrying at most max
// bytes: handshake messages then straddle records, and record boundaries no
// longer line up with message boundaries — both legal (RFC 8446 section
// 5.1, RFC 5246 section 6.2.1). Each direction is re-framed until its first
// ChangeCipherSpec or encrypted record; what follows is left alone.
func FragmentHandshake(max int) func(Dir, []byte) []byte {
	var protected [2]bool
	return func(d Dir, b []byte) []byte {
		if protected[d] {
			return b
		}
		recs, ok := parseRecords(b)
		if !ok {
			return b
		}
		var out, pending []byte
		var version uint16
		flush := func() {
			for len(pending) > 0 {
				n := min(len(pending), max)
				out = appendRecord(out, recordHandshake, version, pending[:n])
				pending = pending[n:]
			}
		}
		for _, r := range recs {
			if !protected[d] && r.typ == recordHandshake {
				version = r.version
				pending = append(pending, r.body...)
				continue
			}
			flush()
			if r.typ == recordChangeCipherSpec || r.typ == recordApplicationData {
				protected[d] = true
			}
			out = appendRecord(out, r.typ, r.version, r.body)
		}
		flush()
		return out
	}
}

// SetServerSessionID returns a Conn.Rewrite that puts id in the session_id
// of the server's ServerHello (Go's server sends an empty one on a full
// handshake, as it keeps no session cache). The record stays well formed;
// the Finished messages no longer match the transcript, which no passive
// observer can check.
func SetServerSessionID(id []byte) func(Dir, []byte) []byte {
	done := false
	return func(d Dir, b []byte) []byte {
		if done || d != ServerToClient {
			return b
		}
		recs, ok := parseRecords(b)
		if !ok || len(recs) == 0 || recs[0].typ != recordHandshake {
			return b
		}
		body := recs[0].body
		// ServerHello: type(1) length(3) version(2) random(32) session_id<0..32>
		const sidAt = 4 + 2 + 32
		if len(body) <= sidAt || body[0] != 2 || body[sidAt] != 0 {
			return b
		}
		done = true
		nb := append([]byte(nil), body[:sidAt]...)
		nb = append(nb, byte(len(id)))
		nb = append(nb, id...)
		nb = append(nb, body[sidAt+1:]...)
		n := len(nb) - 4
		nb[1], nb[2], nb[3] = byte(n>>16), byte(n>>8), byte(n)
		out := appendRecord(nil, recs[0].typ, recs[0].version, nb)
		for _, r := range recs[1:] {
			out = appendRecord(out, r.typ, r.version, r.body)
		}
		return out
	}
}

// SessionIDResumption builds, from hand-made records, a TLS 1.2 abbreviated
// handshake resuming session id with cipher suite suite: ClientHello
// offering id (and sni), ServerHello echoing it, the server's
// ChangeCipherSpec and Finished, the client's ChangeCipherSpec and Finished,
// one request and one response, close_notify both ways and FINs. Encrypted
// records are random bytes of the size AES-GCM gives them. The framing is
// exact; the cryptography is not there to check.
func SessionIDResumption(seed uint64, sni string, id []byte, suite uint16) ([]Event, error) {
	rnd := NewRand(seed, "sessionid-script")
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = io.ReadFull(rnd, b)
		return b
	}
	// An AES-GCM record in TLS 1.2: 8-byte explicit nonce, ciphertext, 16-byte tag.
	gcm := func(typ uint8, plain int) []byte {
		return appendRecord(nil, typ, 0x0303, random(8+plain+16))
	}
	ccs := appendRecord(nil, recordChangeCipherSpec, 0x0303, []byte{1})

	var ch cryptobyte.Builder
	ch.AddUint8(1) // client_hello
	ch.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(random(32))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(id) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, cs := range []uint16{0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035} {
				b.AddUint16(cs)
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			ext := func(typ uint16, f func(*cryptobyte.Builder)) {
				b.AddUint16(typ)
				b.AddUint16LengthPrefixed(f)
			}
			ext(0, func(b *cryptobyte.Builder) { // server_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddUint8(0) // host_name
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(sni)) })
				})
			})
			ext(0xff01, func(b *cryptobyte.Builder) { b.AddUint8(0) }) // renegotiation_info
			ext(10, func(b *cryptobyte.Builder) {                      // supported_groups
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(29); b.AddUint16(23); b.AddUint16(24) })
			})
			ext(11, func(b *cryptobyte.Builder) { // ec_point_formats
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
			})
			ext(13, func(b *cryptobyte.Builder) { // signature_algorithms
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					for _, s := range []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601} {
						b.AddUint16(s)
					}
				})
			})
			ext(23, func(*cryptobyte.Builder) {}) // extended_master_secret
		})
	})
	chMsg, err := ch.Bytes()
	if err != nil {
		return nil, fmt.Errorf("testgen: client hello: %w", err)
	}
	var sh cryptobyte.Builder
	sh.AddUint8(2) // server_hello
	sh.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(random(32))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(id) })
		b.AddUint16(suite)
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(0xff01)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
			b.AddUint16(23)
			b.AddUint16(0)
			b.AddUint16(11)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
			})
		})
	})
	shMsg, err := sh.Bytes()
	if err != nil {
		return nil, fmt.Errorf("testgen: server hello: %w", err)
	}
	if len(id) > 32 {
		return nil, errors.New("testgen: session id longer than 32 bytes")
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	const finished = 4 + 12 // handshake header + verify_data
	c, s := ClientToServer, ServerToClient
	return []Event{
		{Kind: EventData, From: c, Data: appendRecord(nil, recordHandshake, 0x0301, chMsg)},
		{Kind: EventData, From: s, Data: cat(appendRecord(nil, recordHandshake, 0x0303, shMsg), ccs, gcm(recordHandshake, finished))},
		{Kind: EventData, From: c, Data: cat(ccs, gcm(recordHandshake, finished))},
		{Kind: EventData, From: c, Data: gcm(recordApplicationData, 96)},
		{Kind: EventData, From: s, Data: gcm(recordApplicationData, 512)},
		{Kind: EventData, From: c, Data: gcm(recordAlert, 2)},
		{Kind: EventFIN, From: c},
		{Kind: EventData, From: s, Data: gcm(recordAlert, 2)},
		{Kind: EventFIN, From: s},
	}, nil
}
