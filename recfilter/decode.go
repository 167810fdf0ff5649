package recfilter

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// maxDepth bounds the nesting the decoder follows; a record nests three
// deep (session_ticket, certificates[i].san), so this is never reached
// on what output writes.
const maxDepth = 32

var errSyntax = errors.New("malformed JSON")

// jsonDecoder turns a record's JSON object into the values the filter
// sees, decoding only the top-level fields in want (all when want is
// nil) and skipping the others without allocating: a filter usually
// names two or three fields of some fifty. Objects become map[string]any,
// lists []any, whole numbers that fit int, others float64, as Fields.
// It reads what output.AppendRecordJSON writes, and checks every index
// it uses all the same.
type jsonDecoder struct {
	b []byte
	i int
}

// decodeObject decodes the top-level object of b.
func decodeObject(b []byte, want map[string]bool) (map[string]any, error) {
	d := &jsonDecoder{b: b}
	d.space()
	if d.peek() != '{' {
		return nil, d.fail("want an object")
	}
	return d.object(0, want)
}

// object decodes the object at d (its '{' next) at nesting depth, keeping
// the members in want (all when want is nil) and skipping the others.
func (d *jsonDecoder) object(depth int, want map[string]bool) (map[string]any, error) {
	d.i++ // '{'
	m := make(map[string]any, max(len(want), 8))
	d.space()
	if d.eat('}') {
		return m, nil
	}
	for {
		d.space()
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if !d.eat(':') {
			return nil, d.fail("want ':'")
		}
		d.space()
		if want == nil || want[key] {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[key] = v
		} else if err := d.skip(depth + 1); err != nil {
			return nil, err
		}
		d.space()
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return m, nil
		}
		return nil, d.fail("want ',' or '}'")
	}
}

func (d *jsonDecoder) fail(what string) error {
	return fmt.Errorf("%w at byte %d: %s", errSyntax, d.i, what)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// value decodes one value at nesting depth.
func (d *jsonDecoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.fail("nested too deep")
	}
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object(depth, nil)
	case c == '[':
		d.i++
		l := []any{}
		d.space()
		if d.eat(']') {
			return l, nil
		}
		for {
			d.space()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			d.space()
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				return l, nil
			}
			return nil, d.fail("want ',' or ']'")
		}
	case c == 't':
		return true, d.word("true")
	case c == 'f':
		return false, d.word("false")
	case c == 'n':
		return nil, d.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, d.fail("want a value")
}

func (d *jsonDecoder) word(w string) error {
	if len(d.b)-d.i >= len(w) && string(d.b[d.i:d.i+len(w)]) == w {
		d.i += len(w)
		return nil
	}
	return d.fail("want " + w)
}

// number: a whole number that fits is an int, anything else a float64.
func (d *jsonDecoder) number() (any, error) {
	start, whole := d.i, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' {
			d.i++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' {
			whole = false
			d.i++
			continue
		}
		break
	}
	s := string(d.b[start:d.i])
	if whole {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && int64(int(n)) == n {
			return int(n), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, d.fail("bad number " + strconv.Quote(s))
	}
	return f, nil
}

// str decodes a string; one with escapes goes through encoding/json,
// which knows JSON's escapes and surrogate pairs.
func (d *jsonDecoder) str() (string, error) {
	if !d.eat('"') {
		return "", d.fail("want a string")
	}
	start, escaped := d.i, false
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '\\':
			escaped = true
			d.i += 2
			continue
		case '"':
			raw := d.b[start:d.i]
			d.i++
			if !escaped {
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start-1:d.i], &s); err != nil {
				return "", d.fail("bad string")
			}
			return s, nil
		}
		d.i++
	}
	return "", d.fail("unterminated string")
}

// skip passes over one value without building it.
func (d *jsonDecoder) skip(depth int) error {
	if depth > maxDepth {
		return d.fail("nested too deep")
	}
	switch c := d.peek(); {
	case c == '"':
		d.i++
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '\\':
				d.i += 2
				continue
			case '"':
				d.i++
				return nil
			}
			d.i++
		}
		return d.fail("unterminated string")
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		d.i++
		d.space()
		if d.eat(closing) {
			return nil
		}
		for {
			d.space()
			if c == '{' {
				if err := d.skip(depth + 1); err != nil { // the key
					return err
				}
				d.space()
				if !d.eat(':') {
					return d.fail("want ':'")
				}
				d.space()
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.space()
			if d.eat(',') {
				continue
			}
			if d.eat(closing) {
				return nil
			}
			return d.fail("want ',' or a closing bracket")
		}
	case c == 't':
		return d.word("true")
	case c == 'f':
		return d.word("false")
	case c == 'n':
		return d.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.i
		for d.i < len(d.b) && isNumberByte(d.b[d.i]) {
			d.i++
		}
		if d.i == start+1 && c == '-' {
			return d.fail("bad number")
		}
		return nil
	}
	return d.fail("want a value")
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
