package dissect

import (
	"fmt"
	"strconv"
	"strings"
)

// The enums are written in records (flows.Record, JSON schema
// tlsdissect.flow/1) by their names. MarshalText writes the record
// contract's spelling, in which the zero value of a field the wire never
// leaves at zero there (a negotiated version, a chosen suite or group, an
// alert level) is "", unknown; UnmarshalText reads back what MarshalText
// wrote, and the "0xHHHH" form of unnamed codepoints. Reading names back
// walks the tables: it is for tests and the conformance tool, not for the
// hot path.

// MarshalText implements encoding.TextMarshaler ("" for 0).
func (v Version) MarshalText() ([]byte, error) {
	if v == 0 {
		return nil, nil
	}
	return []byte(v.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	s := string(b)
	switch s {
	case "":
		*v = 0
		return nil
	case "GREASE":
		*v = 0x0a0a
		return nil
	}
	if n, ok := strings.CutPrefix(s, "TLS 1.3 draft "); ok {
		d, err := strconv.ParseUint(n, 10, 8)
		if err != nil {
			return fmt.Errorf("dissect: version %q: %w", s, err)
		}
		*v = Version(0x7f00 | d)
		return nil
	}
	for _, c := range [...]Version{VersionSSL2, VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13,
		VersionDTLS10OpenSSL, VersionDTLS10, VersionDTLS12, VersionDTLS13} {
		if c.String() == s {
			*v = c
			return nil
		}
	}
	x, err := parseHex4(s)
	*v = Version(x)
	return err
}

// MarshalText implements encoding.TextMarshaler ("" for 0: no server may
// choose TLS_NULL_WITH_NULL_NULL, RFC 5246 A.5).
func (s CipherSuite) MarshalText() ([]byte, error) {
	if s == 0 {
		return nil, nil
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *CipherSuite) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = 0
		return nil
	}
	for k, n := range cipherSuiteNames {
		if n == string(b) {
			*s = CipherSuite(k)
			return nil
		}
	}
	x, err := parseHex4(string(b))
	*s = CipherSuite(x)
	return err
}

// MarshalText implements encoding.TextMarshaler ("" for 0).
func (g NamedGroup) MarshalText() ([]byte, error) {
	if g == 0 {
		return nil, nil
	}
	return []byte(g.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *NamedGroup) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*g = 0
		return nil
	}
	for k, n := range groupNames {
		if n == string(b) {
			*g = NamedGroup(k)
			return nil
		}
	}
	x, err := parseHex4(string(b))
	*g = NamedGroup(x)
	return err
}

// MarshalText implements encoding.TextMarshaler ("" for 0: unknown, as
// for an encrypted alert).
func (l AlertLevel) MarshalText() ([]byte, error) {
	if l == 0 {
		return nil, nil
	}
	return []byte(l.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *AlertLevel) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*l = 0
	case "warning":
		*l = AlertWarning
	case "fatal":
		*l = AlertFatal
	default:
		n, err := strconv.ParseUint(string(b), 10, 8)
		if err != nil {
			return fmt.Errorf("dissect: alert level %q: %w", b, err)
		}
		*l = AlertLevel(n)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler. Every value has a name:
// a record that does not know an alert's description (it was encrypted)
// says so in its own field.
func (d AlertDescription) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *AlertDescription) UnmarshalText(b []byte) error {
	for i := range 256 {
		if AlertDescription(i).String() == string(b) {
			*d = AlertDescription(i)
			return nil
		}
	}
	return fmt.Errorf("dissect: unknown alert description %q", b)
}

// MarshalText implements encoding.TextMarshaler.
func (m MsgType) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MsgType) UnmarshalText(b []byte) error {
	for i := range int(msgTypeEnd) {
		if MsgType(i).String() == string(b) {
			*m = MsgType(i)
			return nil
		}
	}
	if n, ok := strings.CutPrefix(string(b), "msg_"); ok {
		if x, err := strconv.ParseUint(n, 10, 16); err == nil {
			*m = MsgType(x)
			return nil
		}
	}
	return fmt.Errorf("dissect: unknown message type %q", b)
}

func parseHex4(s string) (uint16, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok || len(h) != 4 {
		return 0, fmt.Errorf("dissect: unknown name %q", s)
	}
	x, err := strconv.ParseUint(h, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("dissect: unknown name %q: %w", s, err)
	}
	return uint16(x), nil
}
