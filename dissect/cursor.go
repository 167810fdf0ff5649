package dissect

import "golang.org/x/crypto/cryptobyte"

// cur is a cryptobyte cursor that knows where it is in the message, so that
// a failed read becomes a ParseError naming the field and its offset.
type cur struct {
	s     cryptobyte.String
	end   int    // offset, in the whole message, of the end of s
	msg   string // message name for errors
	inner bool   // inside a length-prefixed field: running short is malformed, not truncated
	// Inside an extension's body, errors name it ("extension key_share
	// group"); the name is built only when an error is.
	inExt bool
	ext   uint16
}

func newCur(msg string, b []byte) cur {
	return cur{s: cryptobyte.String(b), end: len(b), msg: msg}
}

func (c *cur) off() int { return c.end - len(c.s) }

func (c *cur) fail(field string, err error) *ParseError {
	if c.inExt {
		if field == "" {
			field = "extension " + ExtensionName(c.ext)
		} else {
			field = "extension " + ExtensionName(c.ext) + " " + field
		}
	}
	return &ParseError{Msg: c.msg, Field: field, Offset: c.off(), Err: err}
}

// short is the error for a read past the end: the message was cut short at
// top level, but a length-prefixed field that does not hold what it announces
// is malformed.
func (c *cur) short(field string) *ParseError {
	if c.inner {
		return c.fail(field, ErrMalformed)
	}
	return c.fail(field, ErrTruncated)
}

func (c *cur) empty() bool { return c.s.Empty() }

// done fails when bytes are left over in a field that should be consumed.
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

func (c *cur) u32(field string, v *uint32) error {
	if !c.s.ReadUint32(v) {
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

// sub is a cursor over a field of c; a value, so that parsing allocates
// nothing for its cursors.
func (c *cur) sub(s cryptobyte.String) cur {
	return cur{s: s, end: c.off(), msg: c.msg, inner: true, inExt: c.inExt, ext: c.ext}
}

// vec8, vec16 and vec24 read a length-prefixed field into a sub-cursor.
func (c *cur) vec8(field string) (cur, error) {
	var s cryptobyte.String
	save := c.s
	if !c.s.ReadUint8LengthPrefixed(&s) {
		c.s = save // a failed read may have taken the length: point at it
		return cur{}, c.short(field)
	}
	return c.sub(s), nil
}

func (c *cur) vec16(field string) (cur, error) {
	var s cryptobyte.String
	save := c.s
	if !c.s.ReadUint16LengthPrefixed(&s) {
		c.s = save // a failed read may have taken the length: point at it
		return cur{}, c.short(field)
	}
	return c.sub(s), nil
}

func (c *cur) vec24(field string) (cur, error) {
	var s cryptobyte.String
	save := c.s
	if !c.s.ReadUint24LengthPrefixed(&s) {
		c.s = save // a failed read may have taken the length: point at it
		return cur{}, c.short(field)
	}
	return c.sub(s), nil
}

// u16list reads a whole cursor as a list of uint16 (cipher suites, groups,
// signature schemes). The slice is sized from the bytes present, never from
// a count on the wire.
func (c *cur) u16list(field string, nonEmpty bool) ([]uint16, error) {
	if len(c.s)%2 != 0 || (nonEmpty && len(c.s) == 0) {
		return nil, c.fail(field, ErrMalformed)
	}
	out := make([]uint16, 0, len(c.s)/2)
	var v uint16
	for c.s.ReadUint16(&v) {
		out = append(out, v)
	}
	return out, nil
}

// u8list reads a whole cursor as a list of uint8; the result aliases the
// input, which the parsers own (they copy the message first).
func (c *cur) u8list(field string, nonEmpty bool) ([]uint8, error) {
	if nonEmpty && len(c.s) == 0 {
		return nil, c.fail(field, ErrMalformed)
	}
	out := []uint8(c.s)
	c.s = c.s[len(c.s):]
	return out, nil
}

// rest returns what is left of the cursor.
func (c *cur) rest() []byte {
	out := []byte(c.s)
	c.s = c.s[len(c.s):]
	return out
}
