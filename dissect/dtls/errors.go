package dtls

import (
	"errors"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// ErrTruncated says a record or message ended before a field it announces:
// a datagram cut by the snap length, or a prefix of something valid.
var ErrTruncated = errors.New("dtls: truncated")

// ErrMalformed says a field is present but cannot be right: a length that
// does not fill its container, a fragment past its message's end, an
// unknown content type or version.
var ErrMalformed = errors.New("dtls: malformed")

// ErrCIDLength says a record carries a connection ID (RFC 9146, RFC 9147
// 4) whose length the caller does not know: it is negotiated in the
// hellos and not on the record.
var ErrCIDLength = errors.New("dtls: connection id length unknown")

// ParseError says which structure and which field failed, and where.
// Offset counts bytes from the start of the input handed to the parser.
type ParseError struct {
	Msg    string // "record", "handshake", "client_hello", "use_srtp", ...
	Field  string // the field that failed ("length", "cookie")
	Offset int
	Err    error // ErrTruncated, ErrMalformed or ErrCIDLength
}

func (e *ParseError) Error() string {
	return "dtls: " + e.Msg + ": " + e.Field + " at offset " + strconv.Itoa(e.Offset) + ": " + errText(e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

func errText(err error) string {
	switch err {
	case ErrTruncated:
		return "truncated"
	case ErrMalformed:
		return "malformed"
	case ErrCIDLength:
		return "connection id length unknown"
	case nil:
		return "error"
	}
	return err.Error()
}

// cur is a cryptobyte cursor that knows its offset, so that a failed read
// becomes a ParseError naming the field. It is a value: parsing allocates
// nothing for its cursors.
type cur struct {
	s     cryptobyte.String
	end   int    // offset, in the whole input, of the end of s
	msg   string // structure name for errors
	inner bool   // inside a length-prefixed field: running short is malformed, not truncated
}

func newCur(msg string, b []byte) cur { return cur{s: b, end: len(b), msg: msg} }

func (c *cur) off() int { return c.end - len(c.s) }

func (c *cur) fail(field string, err error) *ParseError {
	return &ParseError{Msg: c.msg, Field: field, Offset: c.off(), Err: err}
}

func (c *cur) short(field string) *ParseError {
	if c.inner {
		return c.fail(field, ErrMalformed)
	}
	return c.fail(field, ErrTruncated)
}

func (c *cur) empty() bool { return c.s.Empty() }

func (c *cur) done(field string) error {
	if !c.s.Empty() {
		return c.fail(field, ErrMalformed)
	}
	return nil
}

func (c *cur) u8(field string, v *uint8) error {
	if !c.s.ReadUint8(v) {
		return c.short(field)
	}
	return nil
}

func (c *cur) u16(field string, v *uint16) error {
	if !c.s.ReadUint16(v) {
		return c.short(field)
	}
	return nil
}

func (c *cur) u24(field string, v *uint32) error {
	if !c.s.ReadUint24(v) {
		return c.short(field)
	}
	return nil
}

func (c *cur) u48(field string, v *uint64) error {
	var hi uint16
	var lo uint32
	save := c.s
	if !c.s.ReadUint16(&hi) || !c.s.ReadUint32(&lo) {
		c.s = save
		return c.short(field)
	}
	*v = uint64(hi)<<32 | uint64(lo)
	return nil
}

func (c *cur) u64(field string, v *uint64) error {
	if !c.s.ReadUint64(v) {
		return c.short(field)
	}
	return nil
}

func (c *cur) bytes(field string, n int, out *[]byte) error {
	if !c.s.ReadBytes(out, n) {
		return c.short(field)
	}
	return nil
}

func (c *cur) sub(s cryptobyte.String) cur {
	return cur{s: s, end: c.off(), msg: c.msg, inner: true}
}

func (c *cur) vec8(field string) (cur, error) {
	var s cryptobyte.String
	save := c.s
	if !c.s.ReadUint8LengthPrefixed(&s) {
		c.s = save
		return cur{}, c.short(field)
	}
	return c.sub(s), nil
}

func (c *cur) vec16(field string) (cur, error) {
	var s cryptobyte.String
	save := c.s
	if !c.s.ReadUint16LengthPrefixed(&s) {
		c.s = save
		return cur{}, c.short(field)
	}
	return c.sub(s), nil
}

func (c *cur) rest() []byte {
	out := []byte(c.s)
	c.s = c.s[len(c.s):]
	return out
}
