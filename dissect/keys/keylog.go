package keys

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Label is the first field of a key log line: which secret the line gives
// (NSS key log format; draft-ietf-tls-keylogfile section 3).
type Label uint8

const (
	LabelClientRandom                 Label = iota + 1 // CLIENT_RANDOM: TLS 1.2 and earlier master secret
	LabelClientEarlyTrafficSecret                      // CLIENT_EARLY_TRAFFIC_SECRET
	LabelClientHandshakeTrafficSecret                  // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	LabelServerHandshakeTrafficSecret                  // SERVER_HANDSHAKE_TRAFFIC_SECRET
	LabelClientTrafficSecret0                          // CLIENT_TRAFFIC_SECRET_0
	LabelServerTrafficSecret0                          // SERVER_TRAFFIC_SECRET_0
	LabelExporterSecret                                // EXPORTER_SECRET
	numLabels                         = iota
)

var labelNames = [...]string{
	LabelClientRandom:                 "CLIENT_RANDOM",
	LabelClientEarlyTrafficSecret:     "CLIENT_EARLY_TRAFFIC_SECRET",
	LabelClientHandshakeTrafficSecret: "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	LabelServerHandshakeTrafficSecret: "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	LabelClientTrafficSecret0:         "CLIENT_TRAFFIC_SECRET_0",
	LabelServerTrafficSecret0:         "SERVER_TRAFFIC_SECRET_0",
	LabelExporterSecret:               "EXPORTER_SECRET",
}

func (l Label) String() string {
	if int(l) < len(labelNames) && labelNames[l] != "" {
		return labelNames[l]
	}
	return "Label(" + strconv.Itoa(int(l)) + ")"
}

// ignoredLabels are labels of the format that this package has no use for
// (the RSA pre-master secret forms, ECH); lines with them are counted in
// Stats.Ignored, not reported as errors.
var ignoredLabels = map[string]bool{
	"RSA":               true,
	"PMS_CLIENT_RANDOM": true,
	"ECH_SECRET":        true,
	"ECH_CONFIG":        true,
}

func parseLabel(b []byte) (Label, bool) {
	for l := LabelClientRandom; l <= LabelExporterSecret; l++ {
		if string(b) == labelNames[l] {
			return l, true
		}
	}
	return 0, false
}

// Secrets are the secrets logged for one client random. A field is nil
// when its line was not in the log. The slices are shared with the KeyLog:
// read them, never write them.
type Secrets struct {
	MasterSecret           []byte // CLIENT_RANDOM, 48 bytes
	ClientEarlyTraffic     []byte // CLIENT_EARLY_TRAFFIC_SECRET
	ClientHandshakeTraffic []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshakeTraffic []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic0         []byte // CLIENT_TRAFFIC_SECRET_0
	ServerTraffic0         []byte // SERVER_TRAFFIC_SECRET_0
	Exporter               []byte // EXPORTER_SECRET
}

// Get returns the secret for a label, nil when absent.
func (s *Secrets) Get(l Label) []byte {
	if p := s.field(l); p != nil {
		return *p
	}
	return nil
}

func (s *Secrets) field(l Label) *[]byte {
	switch l {
	case LabelClientRandom:
		return &s.MasterSecret
	case LabelClientEarlyTrafficSecret:
		return &s.ClientEarlyTraffic
	case LabelClientHandshakeTrafficSecret:
		return &s.ClientHandshakeTraffic
	case LabelServerHandshakeTrafficSecret:
		return &s.ServerHandshakeTraffic
	case LabelClientTrafficSecret0:
		return &s.ClientTraffic0
	case LabelServerTrafficSecret0:
		return &s.ServerTraffic0
	case LabelExporterSecret:
		return &s.Exporter
	}
	return nil
}

// Errors of the key log parser; a *LineError wraps one of them.
var (
	ErrMalformedLine  = errors.New("keys: malformed key log line")
	ErrUnknownLabel   = errors.New("keys: unknown key log label")
	ErrLineTooLong    = errors.New("keys: key log line too long")
	ErrConflict       = errors.New("keys: conflicting secret for the same client random")
	ErrTooManyEntries = errors.New("keys: key log entry limit reached")
	ErrTooManyErrors  = errors.New("keys: too many malformed key log lines")
)

// LineError says which line of which key log failed, and in which field.
type LineError struct {
	Name  string // the file, or "" when unnamed
	Line  int    // 1-based
	Field string // "label", "client_random", "secret", "line"
	Err   error
}

func (e *LineError) Error() string {
	s := "keys: "
	if e.Name != "" {
		s += e.Name + ":"
	}
	return s + strconv.Itoa(e.Line) + ": " + e.Field + ": " + e.Err.Error()
}

func (e *LineError) Unwrap() error { return e.Err }

// Limits bound what a key log may cost. A zero field takes its default.
type Limits struct {
	// MaxSecrets caps the secrets kept, over all files merged; lines past
	// it are counted in Stats.Dropped. Each costs about 150 bytes.
	MaxSecrets int
	// MaxLineLength caps one line; longer lines are skipped whole and
	// reported. A valid line is under 250 bytes.
	MaxLineLength int
	// MaxErrors caps the errors returned by one Parse; past it one
	// ErrTooManyErrors closes the list and the rest are only counted.
	MaxErrors int
	// MaxSessions caps the TLS 1.2 sessions remembered for resumption
	// (RememberSession); the oldest is forgotten first. Each costs about
	// 200 bytes.
	MaxSessions int
}

// Default limits.
const (
	DefaultMaxSecrets    = 1 << 19
	DefaultMaxLineLength = 1024
	DefaultMaxErrors     = 100
	DefaultMaxSessions   = 1 << 16
)

func (l Limits) withDefaults() Limits {
	if l.MaxSecrets <= 0 {
		l.MaxSecrets = DefaultMaxSecrets
	}
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultMaxLineLength
	}
	if l.MaxErrors <= 0 {
		l.MaxErrors = DefaultMaxErrors
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	return l
}

// Stats counts what the parsers saw, over all files.
type Stats struct {
	Lines     int // lines read, comments and blank lines included
	Secrets   int // secrets kept
	Duplicate int // lines repeating a secret already kept, with the same value
	Ignored   int // lines with a known label this package does not use
	Malformed int // lines reported as errors
	Dropped   int // valid lines past Limits.MaxSecrets
}

// KeyLog holds the secrets of one or more key log files, by client random,
// and the master secrets of the TLS 1.2 sessions seen (RememberSession).
// It is safe for concurrent use: secrets may be added (Parse, AddDSB) while
// other goroutines Lookup, as when a capture carries Decryption Secrets
// Blocks between its packets. A secret is never changed once added, so a
// Secrets value returned by Lookup stays valid.
type KeyLog struct {
	lim Limits
	mu  sync.RWMutex
	m   map[[32]byte]*Secrets
	// loaded: a key log was given (Parse or Merge ran), even an empty one.
	loaded   bool
	stats    Stats
	sessions sessionCache
}

// NewKeyLog returns an empty key log with the given limits.
func NewKeyLog(lim Limits) *KeyLog {
	k := &KeyLog{lim: lim.withDefaults(), m: make(map[[32]byte]*Secrets)}
	k.sessions.max = k.lim.MaxSessions
	return k
}

// Parse reads one key log with default limits. See KeyLog.Parse.
func Parse(r io.Reader, name string) (*KeyLog, []error) {
	k := NewKeyLog(Limits{})
	return k, k.Parse(r, name)
}

// Lookup returns the secrets logged for a client random.
func (k *KeyLog) Lookup(clientRandom [32]byte) (Secrets, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s, ok := k.m[clientRandom]
	if !ok {
		return Secrets{}, false
	}
	return *s, true
}

// Loaded reports whether a key log was given: Parse, ParseKeyLogText,
// AddDSB or Merge ran, even on a log without secrets. Before that, a
// connection that finds no secrets was not meant to have any.
func (k *KeyLog) Loaded() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.loaded
}

// Len is the number of client randoms with at least one secret.
func (k *KeyLog) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.m)
}

// Stats returns the counts so far.
func (k *KeyLog) Stats() Stats {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.stats
}

// Merge adds the secrets of o to k, under k's limits. A secret that o has
// for a label k already holds with another value is a conflict: k keeps its
// own, and Merge returns one error per conflict (at most k's MaxErrors).
// o must not be in use by other goroutines.
func (k *KeyLog) Merge(o *KeyLog) []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.loaded = true
	var errs []error
	for cr, s := range o.m {
		for l := LabelClientRandom; l <= LabelExporterSecret; l++ {
			v := s.Get(l)
			if v == nil {
				continue
			}
			if err := k.add(cr, l, v); err != nil && len(errs) < k.lim.MaxErrors {
				errs = append(errs, fmt.Errorf("keys: merge %s %x: %w", l, cr[:], err))
			}
		}
	}
	k.stats.Lines += o.stats.Lines
	k.stats.Ignored += o.stats.Ignored
	k.stats.Malformed += o.stats.Malformed
	return errs
}

// add keeps one secret; it owns v. k.mu is held.
func (k *KeyLog) add(cr [32]byte, l Label, v []byte) error {
	s := k.m[cr]
	if s != nil {
		if old := s.field(l); *old != nil {
			if bytes.Equal(*old, v) {
				k.stats.Duplicate++
				return nil
			}
			return ErrConflict
		}
	}
	if k.stats.Secrets >= k.lim.MaxSecrets {
		k.stats.Dropped++
		return ErrTooManyEntries
	}
	if s == nil {
		s = new(Secrets)
		k.m[cr] = s
	}
	*s.field(l) = v
	k.stats.Secrets++
	return nil
}

// Parse adds the lines of one key log to k. name labels the errors (a
// file name). Comments (#) and blank lines are skipped; each malformed line
// yields a *LineError and is skipped, so one bad line never loses the rest.
// Past MaxSecrets one ErrTooManyEntries is reported and the rest of the
// file is read and counted but not kept. A read error ends the file and is
// the last error. Memory is bounded by the limits, whatever the input.
// Lookups wait while a Parse runs: r should be a file or memory, not a
// slow stream.
func (k *KeyLog) Parse(r io.Reader, name string) []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.loaded = true
	p := parser{k: k, name: name}
	br := bufio.NewReaderSize(r, 4096)
	long := false // inside a line already reported too long
	lineStart := 0
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 && !long {
			if len(line)+len(chunk) > k.lim.MaxLineLength+2 { // +2: CR LF
				long = true
				lineStart = p.line + 1
				line = line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if len(chunk) > 0 || len(line) > 0 || long {
			p.line++
			if long {
				p.fail(lineStart, "line", ErrLineTooLong)
				long = false
			} else {
				p.parseLine(line)
			}
			line = line[:0]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			p.errs = append(p.errs, fmt.Errorf("keys: reading %s: %w", name, err))
			break
		}
	}
	return p.errs
}

// ParseKeyLogText adds key log text already in memory (a pcapng Decryption
// Secrets Block payload, say) to k. It is Parse over a bytes.Reader.
func (k *KeyLog) ParseKeyLogText(b []byte, name string) []error {
	return k.Parse(bytes.NewReader(b), name)
}

// SecretsTypeTLSKeyLog is the secrets type of a pcapng Decryption Secrets
// Block holding NSS key log text ("TLSK"; pcapng draft, section 4.7).
const SecretsTypeTLSKeyLog uint32 = 0x544c534b

// ErrUnsupportedSecretsType says a Decryption Secrets Block holds secrets of
// another kind (WireGuard, ZigBee, SSH...).
var ErrUnsupportedSecretsType = errors.New("keys: unsupported pcapng secrets type")

// AddDSB adds the payload of a pcapng Decryption Secrets Block to k. The
// capture package hands the secrets type and data fields as they are in the
// block (padding removed); data is not kept.
func (k *KeyLog) AddDSB(secretsType uint32, data []byte, name string) []error {
	if secretsType != SecretsTypeTLSKeyLog {
		return []error{fmt.Errorf("keys: %s: secrets type %#08x: %w", name, secretsType, ErrUnsupportedSecretsType)}
	}
	// The key log text in a DSB may carry NUL padding of its own.
	data = bytes.TrimRight(data, "\x00")
	return k.ParseKeyLogText(data, name)
}

type parser struct {
	k        *KeyLog
	name     string
	line     int
	errs     []error
	full     bool // ErrTooManyEntries already reported
	overflow bool // ErrTooManyErrors already reported
}

func (p *parser) fail(line int, field string, err error) {
	p.k.stats.Malformed++
	p.report(&LineError{Name: p.name, Line: line, Field: field, Err: err})
}

func (p *parser) report(err error) {
	switch {
	case len(p.errs) < p.k.lim.MaxErrors:
		p.errs = append(p.errs, err)
	case !p.overflow:
		p.overflow = true
		p.errs = append(p.errs, fmt.Errorf("keys: %s: %w", p.name, ErrTooManyErrors))
	}
}

// parseLine reads "<label> <client_random hex> <secret hex>"; fields are
// separated by runs of spaces or tabs, a trailing CR is dropped.
func (p *parser) parseLine(b []byte) {
	p.k.stats.Lines++
	b = bytes.TrimRight(b, "\r\n")
	b = bytes.Trim(b, " \t")
	if len(b) == 0 || b[0] == '#' {
		return
	}
	var f [3][]byte
	n := 0
	for len(b) > 0 {
		i := bytes.IndexAny(b, " \t")
		if i < 0 {
			i = len(b)
		}
		if n == len(f) {
			p.fail(p.line, "line", fmt.Errorf("more than 3 fields: %w", ErrMalformedLine))
			return
		}
		f[n] = b[:i]
		n++
		b = bytes.TrimLeft(b[i:], " \t")
	}
	label, ok := parseLabel(f[0])
	if !ok {
		if ignoredLabels[string(f[0])] {
			p.k.stats.Ignored++
			return
		}
		p.fail(p.line, "label", fmt.Errorf("%q: %w", truncate(f[0]), ErrUnknownLabel))
		return
	}
	if n != 3 {
		p.fail(p.line, "line", fmt.Errorf("%d fields, want 3: %w", n, ErrMalformedLine))
		return
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		p.fail(p.line, "client_random", fmt.Errorf("%d hex digits, want 64: %w", len(f[1]), ErrMalformedLine))
		return
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		p.fail(p.line, "client_random", fmt.Errorf("%v: %w", err, ErrMalformedLine))
		return
	}
	// CLIENT_RANDOM carries a 48-byte master secret (RFC 5246 8.1); the
	// TLS 1.3 secrets are a hash long: 32 (SHA-256) or 48 (SHA-384).
	sl := len(f[2]) / 2
	if len(f[2])%2 != 0 || (label == LabelClientRandom && sl != 48) || (label != LabelClientRandom && sl != 32 && sl != 48) {
		p.fail(p.line, "secret", fmt.Errorf("%d hex digits for %s: %w", len(f[2]), label, ErrMalformedLine))
		return
	}
	secret := make([]byte, sl)
	if _, err := hex.Decode(secret, f[2]); err != nil {
		p.fail(p.line, "secret", fmt.Errorf("%v: %w", err, ErrMalformedLine))
		return
	}
	switch err := p.k.add(cr, label, secret); {
	case err == nil:
	case errors.Is(err, ErrTooManyEntries):
		if !p.full {
			p.full = true
			p.report(&LineError{Name: p.name, Line: p.line, Field: "line", Err: err})
		}
	default:
		p.fail(p.line, "secret", fmt.Errorf("%s: %w", label, err))
	}
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
