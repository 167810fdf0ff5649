package conformance

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Reason categories of a disagreement.
const (
	ReasonOurBug         = "our bug"
	ReasonReferenceWrong = "reference wrong (evidence)"
	ReasonOutOfScope     = "out of scope (DTLS/QUIC)"
	// ReasonByDesign: both are right; we differ on purpose (a setting).
	ReasonByDesign     = "by design"
	ReasonUnclassified = "unclassified"
)

// Tally counts agreements of one category.
type Tally struct {
	Agree int // our value equals the reference's
	Total int // comparisons made
	// Conflicts are comparisons not made because the references
	// disagree with each other (several JA4 tools, several Zeek logs).
	Conflicts int
}

func (t *Tally) add(o Tally) {
	t.Agree += o.Agree
	t.Total += o.Total
	t.Conflicts += o.Conflicts
}

// Ratio is Agree/Total, 1 when nothing was compared.
func (t Tally) Ratio() float64 {
	if t.Total == 0 {
		return 1
	}
	return float64(t.Agree) / float64(t.Total)
}

// Disagreement is one comparison where we differ from a reference.
type Disagreement struct {
	Capture   string // path below the captures directory
	Conn      string // "client -> server" (as the reference names it), "" for capture-level checks
	Category  string // e.g. "tshark.messages"
	Ours      string
	Reference string
	Reason    string // one of the Reason* constants
	Why       string // from knownDisagreements
}

// OutOfScope counts reference connections not compared because they are
// DTLS or QUIC.
type OutOfScope struct {
	Capture string
	Source  string
	Count   int
}

// CaptureScore is the result for one capture.
type CaptureScore struct {
	Path string
	// Status of the run: "ok", "exit N", "crash", "hang", and
	// "zeek: ..." when only the -F zeek run failed.
	Status         string
	Records        int // TLS connections we report
	TsharkTCP      int // TCP TLS connections tshark reports with at least one record
	TsharkTCPAll   int // TCP streams tshark marks TLS (the manifest's tcp_tls)
	ManifestTLS    int // tls_connections of the manifest (TCP+DTLS+QUIC)
	ManifestTCPTLS int // tcp_tls of the manifest
	Tallies        map[string]Tally
	Elapsed        time.Duration
}

// Scorecard is the whole comparison.
type Scorecard struct {
	Captures      []CaptureScore
	Totals        map[string]Tally
	Disagreements []Disagreement
	OutOfScope    []OutOfScope
	Unparsed      []string // reference files (or parts) not understood
	// Stale lists knownDisagreements entries that matched nothing (a fixed
	// bug, or a changed reference): remove them.
	Stale   []string
	Elapsed time.Duration
}

// Category describes one compared field.
type Category struct {
	Name string // "source.field"
	Doc  string
}

// Categories lists every category in report order.
var Categories = []Category{
	{"run.captures", "captures the binary processed with exit status 0 (no crash, no hang, no error)"},
	{"tshark.connections", "TCP TLS connections of tshark that we report (matched by 4-tuple, either orientation)"},
	{"tshark.messages", "message sequence equal after normalisation (see doc.go)"},
	{"tshark.version", "negotiated version"},
	{"tshark.cipher", "chosen cipher suite"},
	{"tshark.sni", "server name"},
	{"tshark.alpn", "ALPN protocol chosen"},
	{"tshark.resumed", "resumption (tshark infers it from the messages)"},
	{"tshark.alerts", "alerts in clear: direction, level, description, in order"},
	{"quic.connections", "QUIC connections of tshark that we report (matched by 4-tuple)"},
	{"quic.messages", "QUIC: the handshake messages in clear, in order (see datagram.go)"},
	{"quic.version", "QUIC: negotiated TLS version"},
	{"quic.cipher", "QUIC: chosen cipher suite"},
	{"quic.sni", "QUIC: server name"},
	{"quic.alpn_offered", "QUIC: ALPN protocols offered"},
	{"dtls.connections", "DTLS associations of tshark that we report (matched by 4-tuple)"},
	{"dtls.messages", "DTLS: message sequence, fragments and retransmissions folded (see datagram.go)"},
	{"dtls.version", "DTLS: negotiated version"},
	{"dtls.cipher", "DTLS: chosen cipher suite"},
	{"dtls.sni", "DTLS: server name"},
	{"dtls.alpn_offered", "DTLS: ALPN protocols offered"},
	{"zeek.connections", "ssl.log rows (TCP) that our -F zeek output has"},
	{"zeek.version", "ssl.log version"},
	{"zeek.cipher", "ssl.log cipher"},
	{"zeek.curve", "ssl.log curve"},
	{"zeek.server_name", "ssl.log server_name"},
	{"zeek.resumed", "ssl.log resumed"},
	{"zeek.established", "ssl.log established"},
	{"zeek.last_alert", "ssl.log last_alert"},
	{"zeek.next_protocol", "ssl.log next_protocol"},
	{"zeek.ssl_history", "ssl.log ssl_history"},
	{"zeek.cert_chain_fps", "ssl.log cert_chain_fps (SHA-256 of the server chain)"},
	{"zeek.x509", "x509.log certificates (matched by SHA-256): serial, subject, issuer, validity, DNS alt names, key type and size"},
	{"zeek.x509_log", "our x509.log (-zeek-dir) rows matched by fingerprint whose every compared column agrees with Zeek's x509.log"},
	{"zeek.x509_log.columns", "our x509.log columns equal to Zeek's: serial, subject, issuer, validity, key_alg, sig_alg, key_type, key_length, curve, SANs, host_cert, client_cert"},
	{"zeek.dtls.connections", "ssl.log rows of DTLS associations that our -F zeek output has"},
	{"zeek.dtls.version", "DTLS ssl.log version"},
	{"zeek.dtls.cipher", "DTLS ssl.log cipher"},
	{"zeek.dtls.curve", "DTLS ssl.log curve"},
	{"zeek.dtls.resumed", "DTLS ssl.log resumed"},
	{"zeek.dtls.established", "DTLS ssl.log established"},
	{"zeek.dtls.ssl_history", "DTLS ssl.log ssl_history"},
	{"zeek.dtls.cert_chain_fps", "DTLS ssl.log cert_chain_fps"},
	{"suricata.checks", "suricata-verify eve.json tls checks: the count of matching events is right"},
	{"ja4.ja4", "JA4 (client), where the JA4 tools agree"},
	{"ja4.ja4s", "JA4S, where the JA4 tools agree"},
	{"ja4.ja4x", "JA4X of the chain, where the JA4 tools agree"},
	{"ja4.quic.ja4", "JA4 of QUIC connections (q prefix), where the JA4 tools agree"},
	{"ja4.quic.ja4s", "JA4S of QUIC connections, where the JA4 tools agree"},
	{"arkime.connections", "Arkime TLS sessions (TCP) we report"},
	{"arkime.version", "tls.version"},
	{"arkime.cipher", "tls.cipher"},
	{"arkime.ja3", "tls.ja3"},
	{"arkime.ja3s", "tls.ja3s"},
	{"arkime.ja4", "tls.ja4"},
	{"arkime.cert", "certificates: serial, validity, subject and issuer CN, alt names (as a set: Arkime does not keep the chain order)"},
	{"ndpi.connections", "nDPI TLS flows (TCP) we report"},
	{"ndpi.sni", "Hostname/SNI"},
	{"ndpi.alpn", "(Negotiated) ALPN"},
	{"ndpi.alpn_offered", "(Advertised) ALPNs"},
	{"ndpi.version", "TLS version"},
	{"ndpi.ja3", "JA3C"},
	{"ndpi.ja3s", "JA3S"},
	{"ndpi.ja4", "JA4"},
	{"ndpi.cipher", "Cipher"},
	{"ndpi.issuer", "Issuer of the server certificate"},
	{"ndpi.subject", "Subject of the server certificate"},
	{"ndpi.validity", "Validity of the server certificate"},
	{"ndpi.cert_sha1", "Certificate SHA-1 (only when our record carries a sha1)"},
	{"keylog.run.captures", "captures with a key log the binary processed with -keylog, exit status 0"},
	{"keylog.tshark.connections", "with the key log: tshark's TCP TLS connections we report"},
	{"keylog.tshark.messages", "with the key log: message sequence equal to tshark's decrypted one"},
	{"keylog.tshark.version", "with the key log: negotiated version"},
	{"keylog.tshark.cipher", "with the key log: chosen cipher suite"},
	{"keylog.tshark.sni", "with the key log: server name"},
	{"keylog.tshark.alpn", "with the key log: ALPN protocol chosen (TLS 1.3: from EncryptedExtensions)"},
	{"keylog.tshark.resumed", "with the key log: resumption"},
	{"keylog.tshark.alerts", "with the key log: every alert decrypted: direction, level, description, in order"},
	{"keylog.quic.connections", "with the key log: QUIC connections of tshark that we report"},
	{"keylog.quic.messages", "with the key log: QUIC handshake messages, decrypted, in order"},
	{"keylog.dtls.connections", "with the key log: DTLS associations of tshark that we report"},
	{"keylog.dtls.messages", "with the key log: DTLS message sequence"},
	{"keylog.dtls.version", "with the key log: DTLS negotiated version"},
	{"keylog.dtls.cipher", "with the key log: DTLS chosen cipher suite"},
}

// Sources in report order.
var Sources = []string{"run", "tshark", "quic", "dtls", "zeek", "suricata", "ja4", "arkime", "ndpi", "keylog"}

// ourConn is one of our records with its canonical endpoints.
type ourConn struct {
	rec            flows.Record
	raw            map[string]any
	client, server string
	idx            int
}

func (o *ourConn) name() string { return o.client + " -> " + o.server }

// matcher hands out our connections by 4-tuple, either orientation, in
// capture order; each reference source uses its own.
type matcher struct {
	byKey map[string][]*ourConn
	used  map[*ourConn]bool
	all   []*ourConn
}

func newMatcher(ours []*ourConn) *matcher {
	m := &matcher{byKey: map[string][]*ourConn{}, used: map[*ourConn]bool{}, all: ours}
	for _, o := range ours {
		k := pairKey(o.client, o.server)
		m.byKey[k] = append(m.byKey[k], o)
	}
	return m
}

// take returns the next unused connection between a and b, or nil.
func (m *matcher) take(a, b string) *ourConn {
	for _, o := range m.byKey[pairKey(a, b)] {
		if !m.used[o] {
			m.used[o] = true
			return o
		}
	}
	return nil
}

// unused lists connections no reference connection claimed.
func (m *matcher) unused() []*ourConn {
	var out []*ourConn
	for _, o := range m.all {
		if !m.used[o] {
			out = append(out, o)
		}
	}
	return out
}

// capEval collects the comparisons of one capture.
type capEval struct {
	capturesDir string
	path        string
	ours        []*ourConn
	run         *Run
	tallies     map[string]Tally
	dis         []Disagreement
	oos         map[string]int
	unparsed    []string
	// udpKeys are the pairKeys of tshark's DTLS/QUIC connections: what a
	// reference reports on them is out of scope.
	udpKeys map[string]bool
	// tshark's connections, for sources that need roles or frames.
	tshark *tsharkFile
	// prefix names the categories of a second evaluation ("keylog.": our
	// run with the key log against tshark's decrypted reference), and
	// tsharkRef the reference file's suffix (".tshark-conn.json").
	prefix    string
	tsharkRef string
}

// count records one comparison.
func (e *capEval) count(cat string, agree bool, conn, ours, ref string) {
	cat = e.prefix + cat
	t := e.tallies[cat]
	t.Total++
	if agree {
		t.Agree++
	} else {
		e.dis = append(e.dis, Disagreement{Capture: e.path, Conn: conn, Category: cat, Ours: ours, Reference: ref})
	}
	e.tallies[cat] = t
}

// compare counts one field comparison of canonical values when the
// reference gives a value (or, with either, when either side does).
func (e *capEval) compare(cat, conn, ours, ref string, either bool) {
	if ref == "" && (!either || ours == "") {
		return
	}
	e.count(cat, ours == ref, conn, show(ours), show(ref))
}

// consensus compares ours with a set of reference values: agreement is
// counted only when the references agree with each other.
func (e *capEval) consensus(cat, conn, ours string, refs []string) {
	var vals []string
	for _, r := range refs {
		if r != "" {
			vals = appendUnique(vals, r)
		}
	}
	switch len(vals) {
	case 0:
		return
	case 1:
		e.compare(cat, conn, ours, vals[0], false)
	default:
		t := e.tallies[cat]
		t.Conflicts++
		e.tallies[cat] = t
	}
}

func (e *capEval) outOfScope(source string) { e.oos[source]++ }

func show(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Evaluate compares the runs with every reference of every capture.
func Evaluate(capturesDir string, entries []ManifestEntry, runs map[string]*Run) *Scorecard {
	sc := &Scorecard{Totals: map[string]Tally{}}
	for _, ent := range entries {
		r := runs[ent.Path]
		if r == nil {
			r = &Run{Status: "not run"}
		}
		e := &capEval{capturesDir: capturesDir, path: ent.Path, run: r, tallies: map[string]Tally{},
			oos: map[string]int{}, udpKeys: map[string]bool{}}
		for i, rec := range r.Records {
			o := &ourConn{rec: rec, idx: i,
				client: endpoint(rec.Client.IP, int(rec.Client.Port)),
				server: endpoint(rec.Server.IP, int(rec.Server.Port))}
			if i < len(r.Raw) {
				o.raw = r.Raw[i]
			}
			e.ours = append(e.ours, o)
		}
		sortOurs(e.ours)
		status := r.Status
		if r.ZeekStatus != "" && r.ZeekStatus != "ok" && status == "ok" {
			status = "zeek: " + r.ZeekStatus
		}
		e.count("run.captures", status == "ok", "", status+stderrNote(r), "ok")

		e.evalTshark()
		e.evalZeek()
		e.evalX509()
		e.evalSuricata()
		e.evalJA4()
		e.evalArkime()
		e.evalNDPI()

		if r.KeyedStatus != "" {
			// The same capture dissected with its key log, against what
			// tshark shows decrypted with it.
			ke := &capEval{capturesDir: capturesDir, path: ent.Path, run: r, tallies: e.tallies,
				oos: map[string]int{}, udpKeys: map[string]bool{}, prefix: "keylog.", tsharkRef: ".tshark-decrypted-conn.json"}
			for i, rec := range r.Keyed {
				ke.ours = append(ke.ours, &ourConn{rec: rec, idx: i,
					client: endpoint(rec.Client.IP, int(rec.Client.Port)),
					server: endpoint(rec.Server.IP, int(rec.Server.Port))})
			}
			sortOurs(ke.ours)
			ke.count("run.captures", r.KeyedStatus == "ok", "", r.KeyedStatus, "ok")
			ke.evalTshark()
			e.dis = append(e.dis, ke.dis...)
			e.unparsed = append(e.unparsed, ke.unparsed...)
		}

		cs := CaptureScore{Path: ent.Path, Status: status, Records: len(e.ours),
			TsharkTCP: e.tsharkTCP(), TsharkTCPAll: e.tsharkTCPAll(), ManifestTLS: ent.TLSConnections, ManifestTCPTLS: ent.TCPTLS,
			Tallies: e.tallies, Elapsed: r.Elapsed}
		sc.Captures = append(sc.Captures, cs)
		for k, t := range e.tallies {
			tt := sc.Totals[k]
			tt.add(t)
			sc.Totals[k] = tt
		}
		sc.Disagreements = append(sc.Disagreements, e.dis...)
		for _, src := range Sources {
			if n := e.oos[src]; n > 0 {
				sc.OutOfScope = append(sc.OutOfScope, OutOfScope{Capture: ent.Path, Source: src, Count: n})
			}
		}
		for _, u := range e.unparsed {
			sc.Unparsed = append(sc.Unparsed, u)
		}
	}
	used := map[int]bool{}
	for i := range sc.Disagreements {
		if k := classify(&sc.Disagreements[i]); k >= 0 {
			used[k] = true
		}
	}
	for i, k := range knownDisagreements {
		if !used[i] {
			sc.Stale = append(sc.Stale, fmt.Sprintf("%s %s %s: %s", k.Capture, k.Conn, k.Category, k.Why))
		}
	}
	sort.SliceStable(sc.Disagreements, func(i, j int) bool {
		a, b := sc.Disagreements[i], sc.Disagreements[j]
		if a.Capture != b.Capture {
			return a.Capture < b.Capture
		}
		if ca, cb := catIndex(a.Category), catIndex(b.Category); ca != cb {
			return ca < cb
		}
		return a.Conn < b.Conn
	})
	sort.Strings(sc.Unparsed)
	return sc
}

func stderrNote(r *Run) string {
	if r.Status == "ok" && (r.ZeekStatus == "" || r.ZeekStatus == "ok") {
		return ""
	}
	s := strings.ReplaceAll(r.Stderr, "\n", " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

func catIndex(name string) int {
	for i, c := range Categories {
		if c.Name == name {
			return i
		}
	}
	return len(Categories)
}

// sortOurs orders our records by first packet, then by uid, so that
// connections reusing a 4-tuple pair up with the references in order.
func sortOurs(o []*ourConn) {
	sort.SliceStable(o, func(i, j int) bool {
		ti, tj := o[i].rec.TS.Time, o[j].rec.TS.Time
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return o[i].idx < o[j].idx
	})
}

// classify fills Reason and Why from knownDisagreements and returns the
// index of the entry used, -1 for none.
func classify(d *Disagreement) int {
	for i, k := range knownDisagreements {
		if ok, _ := path.Match(k.Capture, d.Capture); !ok {
			continue
		}
		if k.Category != "" {
			if ok, _ := path.Match(k.Category, d.Category); !ok {
				continue
			}
		}
		if k.Conn != "" && !strings.Contains(d.Conn, k.Conn) {
			continue
		}
		d.Reason, d.Why = k.Reason, k.Why
		return i
	}
	d.Reason = ReasonUnclassified
	return -1
}

// Failures lists captures on which the binary crashed or hung.
func (sc *Scorecard) Failures(runs map[string]*Run) []string {
	var out []string
	for _, c := range sc.Captures {
		if r := runs[c.Path]; r != nil && r.Failed() {
			out = append(out, fmt.Sprintf("%s: %s%s", c.Path, c.Status, stderrNote(r)))
		}
	}
	return out
}
