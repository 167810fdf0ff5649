package dtls

// Record limits.
const (
	// PlainHeaderLen is the DTLS 1.0/1.2 record header: type, version,
	// epoch, 48-bit sequence_number, length (RFC 6347 4.1).
	PlainHeaderLen = 13
	// MaxRecordLen caps a record's fragment: a DTLSCiphertext is at most
	// 2^14+2048 bytes (RFC 6347 4.1 by way of RFC 5246 6.2.3), DTLS 1.3's
	// less (RFC 9147 4); the larger bound covers both.
	MaxRecordLen = 1<<14 + 2048
	// MaxCIDLen is the longest connection ID: opaque cid<0..2^8-1>
	// (RFC 9146 3).
	MaxCIDLen = 255
	// CIDUnknown, as a CID length, says the caller does not know it.
	CIDUnknown = -1
)

// HeaderForm is which of the DTLS record headers a record has.
type HeaderForm uint8

const (
	// FormPlain is the 13-byte header of DTLS 1.0 and 1.2 records, and of
	// DTLS 1.3's DTLSPlaintext records (epoch 0).
	FormPlain HeaderForm = iota
	// FormCID is the tls12_cid header (RFC 9146 4): the plain header with
	// a connection ID before the length.
	FormCID
	// FormUnified is the DTLS 1.3 unified header (RFC 9147 4): first byte
	// 001CSLEE, then an optional CID, an 8- or 16-bit sequence number and
	// an optional length.
	FormUnified
)

func (f HeaderForm) String() string {
	switch f {
	case FormPlain:
		return "plain"
	case FormCID:
		return "tls12_cid"
	case FormUnified:
		return "unified"
	}
	return "form(?)"
}

// Unified header bits (RFC 9147 4, figure 3).
const (
	unifiedFixed   = 0x20 // 001 in the top bits
	unifiedFixMask = 0xe0
	unifiedCID     = 0x10 // C: a connection ID follows
	unifiedSeq16   = 0x08 // S: the sequence number is 16 bits (else 8)
	unifiedLength  = 0x04 // L: a 16-bit length is present (else the record fills the datagram)
	unifiedEpoch   = 0x03 // EE: the low two bits of the epoch
)

// Record is one record of a datagram. Its slices alias the datagram: they
// are valid as long as the caller's buffer is.
type Record struct {
	Form HeaderForm
	// Type is the header's content type; for FormUnified it is 0: the
	// real type is inside the encrypted DTLSInnerPlaintext.
	Type ContentType
	// Version is the record version; 0 for FormUnified, which has none.
	Version Version
	// Epoch is the whole epoch of a FormPlain or FormCID record; for
	// FormUnified only its low two bits are on the wire.
	Epoch uint16
	// Seq is the 48-bit sequence number of a FormPlain or FormCID record;
	// for FormUnified the 8 or 16 low bits as on the wire, which are
	// encrypted (RFC 9147 4.2.3) until an Opener says otherwise.
	Seq uint64
	// SeqLen is how many bytes the sequence number takes: 6, 2 or 1.
	SeqLen int
	// CID is the connection ID the record carries, if any: the one its
	// receiver asked for (RFC 9146 3).
	CID []byte
	// NoLength says a FormUnified record had no length field and took the
	// rest of the datagram.
	NoLength bool
	// Header is the record header as on the wire; Fragment its body.
	Header   []byte
	Fragment []byte
}

// Encrypted reports whether the record is ciphertext: every record of an
// epoch above 0, and every tls12_cid and unified-header record (those
// exist only under protection).
func (r *Record) Encrypted() bool {
	return r.Form != FormPlain || r.Epoch > 0
}

// Len is the record's size on the wire, header included.
func (r *Record) Len() int { return len(r.Header) + len(r.Fragment) }

// ParseRecord parses the record at the start of b, a datagram's bytes from
// a record boundary, and returns it and the bytes it takes. cidLen is the
// length of the connection IDs on records in this direction, as the hellos
// negotiated it, or CIDUnknown; it is used only for tls12_cid records and
// unified headers with the C bit, which fail with ErrCIDLength without it.
//
// A record announcing more bytes than b holds fails with ErrTruncated; one
// announcing more than MaxRecordLen, with an unknown version, or with a
// first byte that is no DTLS content type, with ErrMalformed.
func ParseRecord(b []byte, cidLen int) (Record, int, error) {
	if len(b) == 0 {
		return Record{}, 0, &ParseError{Msg: "record", Field: "type", Err: ErrTruncated}
	}
	if b[0]&unifiedFixMask == unifiedFixed {
		return parseUnified(b, cidLen)
	}
	c := newCur("record", b)
	var r Record
	var typ uint8
	_ = c.u8("type", &typ)
	r.Type = ContentType(typ)
	// 20-31 are DTLS content types (RFC 7983 gives DTLS 20-63, the unified
	// header takes 32-63); 27-31 are unassigned but framed alike.
	if typ < 20 || typ > 31 {
		return Record{}, 0, &ParseError{Msg: "record", Field: "type", Err: ErrMalformed}
	}
	var v uint16
	if err := c.u16("version", &v); err != nil {
		return Record{}, 0, err
	}
	r.Version = Version(v)
	if !validRecordVersion(r.Version) {
		return Record{}, 0, &ParseError{Msg: "record", Field: "version", Offset: 1, Err: ErrMalformed}
	}
	if err := c.u16("epoch", &r.Epoch); err != nil {
		return Record{}, 0, err
	}
	if err := c.u48("sequence_number", &r.Seq); err != nil {
		return Record{}, 0, err
	}
	r.SeqLen = 6
	if r.Type == ContentTLS12CID {
		r.Form = FormCID
		if cidLen < 0 || cidLen > MaxCIDLen {
			return Record{}, 0, c.fail("cid", ErrCIDLength)
		}
		if err := c.bytes("cid", cidLen, &r.CID); err != nil {
			return Record{}, 0, err
		}
	}
	var n uint16
	if err := c.u16("length", &n); err != nil {
		return Record{}, 0, err
	}
	if int(n) > MaxRecordLen {
		return Record{}, 0, &ParseError{Msg: "record", Field: "length", Offset: c.off() - 2, Err: ErrMalformed}
	}
	hl := c.off()
	if err := c.bytes("fragment", int(n), &r.Fragment); err != nil {
		return Record{}, 0, err
	}
	r.Header = b[:hl:hl]
	return r, hl + int(n), nil
}

func parseUnified(b []byte, cidLen int) (Record, int, error) {
	c := newCur("record", b)
	var first uint8
	_ = c.u8("type", &first)
	r := Record{Form: FormUnified, Epoch: uint16(first & unifiedEpoch)}
	if first&unifiedCID != 0 {
		if cidLen < 0 || cidLen > MaxCIDLen {
			return Record{}, 0, c.fail("cid", ErrCIDLength)
		}
		if err := c.bytes("cid", cidLen, &r.CID); err != nil {
			return Record{}, 0, err
		}
	}
	if first&unifiedSeq16 != 0 {
		var s uint16
		if err := c.u16("sequence_number", &s); err != nil {
			return Record{}, 0, err
		}
		r.Seq, r.SeqLen = uint64(s), 2
	} else {
		var s uint8
		if err := c.u8("sequence_number", &s); err != nil {
			return Record{}, 0, err
		}
		r.Seq, r.SeqLen = uint64(s), 1
	}
	n := len(c.s) // no length: the record takes the rest of the datagram
	r.NoLength = true
	if first&unifiedLength != 0 {
		var l uint16
		if err := c.u16("length", &l); err != nil {
			return Record{}, 0, err
		}
		n, r.NoLength = int(l), false
	}
	if n > MaxRecordLen {
		return Record{}, 0, &ParseError{Msg: "record", Field: "length", Offset: c.off(), Err: ErrMalformed}
	}
	hl := c.off()
	if err := c.bytes("encrypted_record", n, &r.Fragment); err != nil {
		return Record{}, 0, err
	}
	r.Header = b[:hl:hl]
	return r, hl + n, nil
}

// AppendPlainHeader appends a FormPlain record header (for builders and
// tests: the generator side of ParseRecord).
func AppendPlainHeader(dst []byte, typ ContentType, v Version, epoch uint16, seq uint64, length int) []byte {
	return append(dst, byte(typ), byte(v>>8), byte(v), byte(epoch>>8), byte(epoch),
		byte(seq>>40), byte(seq>>32), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq),
		byte(length>>8), byte(length))
}

// RecordNumber is one entry of a DTLS 1.3 ACK (RFC 9147 7).
type RecordNumber struct {
	Epoch uint64
	Seq   uint64
}

// ParseACK parses the body of an ACK record (RFC 9147 7: RecordNumber
// record_numbers<0..2^16-1>) and appends its entries to dst. The list
// is bounded by the bytes present (16 per entry), never by a count.
func ParseACK(dst []RecordNumber, b []byte) ([]RecordNumber, error) {
	c := newCur("ack", b)
	list, err := c.vec16("record_numbers")
	if err != nil {
		return dst, err
	}
	if err := c.done("record_numbers"); err != nil {
		return dst, err
	}
	if len(list.s)%16 != 0 {
		return dst, list.fail("record_numbers", ErrMalformed)
	}
	for !list.empty() {
		var rn RecordNumber
		_ = list.u64("epoch", &rn.Epoch)
		_ = list.u64("sequence_number", &rn.Seq)
		dst = append(dst, rn)
	}
	return dst, nil
}
