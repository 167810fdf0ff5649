package output

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes a string that came from the wire safe to print on a
// terminal. It escapes, in forms that cannot be mistaken for the byte they
// stand for:
//   - C0 controls, DEL and bytes that are not valid UTF-8 as \xHH
//     (this defuses ANSI escape sequences: ESC becomes \x1b);
//   - C1 controls, bidirectional overrides and isolates (U+202A–U+202E,
//     U+2066–U+2069), other invisible direction marks (U+200E, U+200F,
//     U+061C), line and paragraph separators and every other rune that is
//     not graphic as \u{hex};
//   - the backslash itself as \\, so that an escape in the output always
//     means an escape was made.
//
// Printable text, including non-ASCII letters, is returned unchanged.
func Sanitize(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' {
		i++
	}
	if i == len(s) {
		return s // the common case: printable ASCII, no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	const hex = "0123456789abcdef"
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\x`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			i++
			continue
		}
		if unsafeRune(r) {
			b.WriteString(`\u{`)
			b.WriteString(strings.ToLower(strconvHex(uint32(r))))
			b.WriteByte('}')
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether a non-ASCII rune must be escaped.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls, CSI among them
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c: // direction marks
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff: // line breaks a terminal does not expect, BOM
		return true
	}
	return !unicode.IsGraphic(r)
}

func strconvHex(v uint32) string {
	const hex = "0123456789abcdef"
	var buf [8]byte
	i := len(buf)
	for {
		i--
		buf[i] = hex[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}
