package quic

import "golang.org/x/crypto/cryptobyte"

// cur is a cryptobyte cursor that knows its offset in the buffer it started
// from, so that a failed read becomes a ParseError naming the field.
type cur struct {
	s   cryptobyte.String
	end int    // offset of the end of s in the whole buffer
	msg string // structure name for errors
	// Inside a frame the name is "frame " + the type, built only when an
	// error is.
	inFrame bool
	frame   FrameType
}

func newCur(msg string, b []byte) cur {
	return cur{s: cryptobyte.String(b), end: len(b), msg: msg}
}

func (c *cur) off() int { return c.end - len(c.s) }

func (c *cur) fail(field string, err error) *ParseError {
	msg := c.msg
	if c.inFrame {
		msg = "frame " + c.frame.String()
	}
	return &ParseError{Msg: msg, Field: field, Offset: c.off(), Err: err}
}

func (c *cur) u8(field string, v *uint8) error {
	if !c.s.ReadUint8(v) {
		return c.fail(field, ErrTruncated)
	}
	return nil
}

func (c *cur) u32(field string, v *uint32) error {
	if !c.s.ReadUint32(v) {
		return c.fail(field, ErrTruncated)
	}
	return nil
}

func (c *cur) bytes(field string, n int, out *[]byte) error {
	if n < 0 || !c.s.ReadBytes(out, n) {
		return c.fail(field, ErrTruncated)
	}
	return nil
}

// varint reads a variable-length integer (RFC 9000 section 16): the two
// high bits of the first byte give the length, 1, 2, 4 or 8 bytes.
func (c *cur) varint(field string, v *uint64) error {
	n, ok := readVarint(&c.s)
	if !ok {
		return c.fail(field, ErrTruncated)
	}
	*v = n
	return nil
}

// vlen reads a varint that is a length of bytes to follow, and checks it
// against what is left, so that a huge value never becomes an int.
func (c *cur) vlen(field string, out *[]byte) error {
	save := c.s
	var n uint64
	if err := c.varint(field, &n); err != nil {
		return err
	}
	if n > uint64(len(c.s)) {
		c.s = save // point at the length
		return c.fail(field, ErrTruncated)
	}
	*out = c.s[:n]
	c.s = c.s[n:]
	return nil
}

func (c *cur) rest() []byte {
	out := []byte(c.s)
	c.s = c.s[len(c.s):]
	return out
}

// MaxVarint is the largest value a variable-length integer holds, 2^62-1.
const MaxVarint = 1<<62 - 1

func readVarint(s *cryptobyte.String) (uint64, bool) {
	if len(*s) == 0 {
		return 0, false
	}
	b := *s
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, false
	}
	v := uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	*s = b[n:]
	return v, true
}

// ReadVarint decodes the variable-length integer at the start of b and
// returns it with the number of bytes it took; n is 0 when b is too short.
func ReadVarint(b []byte) (v uint64, n int) {
	s := cryptobyte.String(b)
	v, ok := readVarint(&s)
	if !ok {
		return 0, 0
	}
	return v, len(b) - len(s)
}

// AppendVarint appends v in the shortest encoding; v must be at most
// MaxVarint (larger values are cut to 62 bits). The test builders use it.
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, 0xc0|byte(v>>56)&0x3f, byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
