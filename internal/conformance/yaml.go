package conformance

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The references are written in a small subset of YAML (suricata-verify's
// test.yaml, the insta snapshots of the Rust ja4 tool). No YAML module is
// available, so this reader handles exactly that subset and reports
// anything else as an error, which the caller counts as "unparsed":
//
//   - block mappings ("key: value", "key:" followed by a deeper block or by
//     a sequence at the same indentation);
//   - block sequences ("- value", "- key: value" compact mappings, "-"
//     followed by a deeper block);
//   - plain, 'single' and "double" quoted scalars, flow sequences of scalars
//     ("[1, 2, 3]");
//   - comments (whole-line, and " #" after a plain scalar) and "---"
//     document separators.
//
// Values come back as map[string]any, []any and string.

// errYAML marks input outside the subset.
var errYAML = errors.New("conformance: unsupported yaml")

type yline struct {
	indent int
	text   string
	num    int
}

// parseYAMLDocs parses every document of src.
func parseYAMLDocs(src string) ([]any, error) {
	var docs []any
	var cur []yline
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		p := &yparser{lines: cur}
		v, err := p.node(0)
		if err != nil {
			return err
		}
		if p.i != len(p.lines) {
			return fmt.Errorf("%w: line %d: unexpected indentation", errYAML, p.lines[p.i].num)
		}
		docs = append(docs, v)
		cur = nil
		return nil
	}
	for n, raw := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		if strings.ContainsRune(raw, '\t') && strings.TrimLeft(raw, " ") != strings.TrimLeft(raw, " \t") {
			return nil, fmt.Errorf("%w: line %d: tab indentation", errYAML, n+1)
		}
		t := strings.TrimRight(raw, " \t")
		trim := strings.TrimLeft(t, " ")
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		if trim == "---" || trim == "..." {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		cur = append(cur, yline{indent: len(t) - len(trim), text: trim, num: n + 1})
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return docs, nil
}

// parseYAML parses a single-document source (the last document when there
// are several: insta snapshots put a metadata document first).
func parseYAML(src string) (any, error) {
	docs, err := parseYAMLDocs(src)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, nil
	}
	return docs[len(docs)-1], nil
}

type yparser struct {
	lines []yline
	i     int
}

func isDash(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

// node parses the block starting at the current line, whose indentation
// must be at least min.
func (p *yparser) node(min int) (any, error) {
	if p.i >= len(p.lines) {
		return nil, nil
	}
	l := p.lines[p.i]
	if l.indent < min {
		return nil, nil
	}
	if isDash(l.text) {
		return p.seq(l.indent)
	}
	if _, _, ok := splitKey(l.text); ok {
		return p.mapping(l.indent)
	}
	// A lone scalar document or block.
	p.i++
	return scalar(l.text, l.num)
}

func (p *yparser) seq(ind int) (any, error) {
	var out []any
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent != ind || !isDash(l.text) {
			if l.indent > ind {
				return nil, fmt.Errorf("%w: line %d: unexpected indentation", errYAML, l.num)
			}
			break
		}
		rest := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
		if rest == "" {
			p.i++
			if p.i < len(p.lines) && p.lines[p.i].indent > ind {
				v, err := p.node(ind + 1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			} else {
				out = append(out, nil)
			}
			continue
		}
		// "- key: value" or "- - x": the rest is a block of its own whose
		// indentation is where the rest starts.
		off := len(l.text) - len(rest)
		if _, _, ok := splitKey(rest); ok || isDash(rest) {
			p.lines[p.i] = yline{indent: ind + off, text: rest, num: l.num}
			v, err := p.node(ind + off)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		p.i++
		v, err := scalar(rest, l.num)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (p *yparser) mapping(ind int) (any, error) {
	out := map[string]any{}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent != ind || isDash(l.text) {
			if l.indent > ind {
				return nil, fmt.Errorf("%w: line %d: unexpected indentation", errYAML, l.num)
			}
			break
		}
		k, v, ok := splitKey(l.text)
		if !ok {
			return nil, fmt.Errorf("%w: line %d: expected key: value", errYAML, l.num)
		}
		p.i++
		if v != "" {
			// A plain scalar may continue on deeper lines (folded with a
			// space).
			if v[0] != '"' && v[0] != '\'' && v[0] != '[' {
				for p.i < len(p.lines) && p.lines[p.i].indent > ind {
					if _, _, isKey := splitKey(p.lines[p.i].text); isKey {
						return nil, fmt.Errorf("%w: line %d: mapping inside a plain scalar", errYAML, p.lines[p.i].num)
					}
					v += " " + p.lines[p.i].text
					p.i++
				}
			}
			sv, err := scalar(v, l.num)
			if err != nil {
				return nil, err
			}
			out[k] = sv
			continue
		}
		if p.i < len(p.lines) {
			next := p.lines[p.i]
			switch {
			case next.indent > ind:
				nv, err := p.node(ind + 1)
				if err != nil {
					return nil, err
				}
				out[k] = nv
				continue
			case next.indent == ind && isDash(next.text):
				nv, err := p.seq(ind)
				if err != nil {
					return nil, err
				}
				out[k] = nv
				continue
			}
		}
		out[k] = nil
	}
	return out, nil
}

// splitKey splits "key: value" (or "key:") outside quotes.
func splitKey(s string) (key, val string, ok bool) {
	if s == "" {
		return "", "", false
	}
	if s[0] == '"' || s[0] == '\'' {
		end := closingQuote(s)
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return "", "", false
		}
		k, err := scalar(s[:end+1], 0)
		if err != nil {
			return "", "", false
		}
		rest := s[end+2:]
		if rest != "" && rest[0] != ' ' {
			return "", "", false
		}
		return k.(string), strings.TrimSpace(rest), true
	}
	if s[0] == '[' || s[0] == '{' {
		return "", "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
		}
		if s[i] == ' ' && i+1 < len(s) && s[i+1] == '#' {
			return "", "", false
		}
	}
	return "", "", false
}

// closingQuote returns the index of the quote closing s[0], or -1.
func closingQuote(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			if q == '\'' && i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return -1
}

// scalar decodes one scalar or flow sequence.
func scalar(s string, num int) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	switch s[0] {
	case '"':
		end := closingQuote(s)
		if end < 0 || strings.TrimSpace(stripComment(s[end+1:])) != "" {
			return nil, fmt.Errorf("%w: line %d: bad double-quoted scalar", errYAML, num)
		}
		v, err := strconv.Unquote(s[:end+1])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", errYAML, num, err)
		}
		return v, nil
	case '\'':
		end := closingQuote(s)
		if end < 0 || strings.TrimSpace(stripComment(s[end+1:])) != "" {
			return nil, fmt.Errorf("%w: line %d: bad single-quoted scalar", errYAML, num)
		}
		return strings.ReplaceAll(s[1:end], "''", "'"), nil
	case '[':
		s = stripComment(s)
		if !strings.HasSuffix(s, "]") {
			return nil, fmt.Errorf("%w: line %d: multi-line flow sequence", errYAML, num)
		}
		inner := strings.TrimSpace(s[1 : len(s)-1])
		out := []any{}
		if inner == "" {
			return out, nil
		}
		for _, part := range strings.Split(inner, ",") {
			part = strings.TrimSpace(part)
			if part == "" || strings.ContainsAny(part[:1], "[{") {
				return nil, fmt.Errorf("%w: line %d: nested flow collection", errYAML, num)
			}
			v, err := scalar(part, num)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case '{', '|', '>', '&', '*', '!':
		return nil, fmt.Errorf("%w: line %d: %q", errYAML, num, s[:1])
	}
	return stripComment(s), nil
}

// stripComment removes a " #..." comment after a plain scalar.
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// ypath walks maps by keys; nil when absent.
func ypath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// ystr renders a scalar as a string ("" for nil or collections).
func ystr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
