package conformance

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// RunTimePrefix starts the one line of the report that changes from run
// to run; comparisons of reports ignore it.
const RunTimePrefix = "Run time:"

// Markdown renders the scorecard: totals first, then one table per
// source, then every disagreement with its reason.
func (sc *Scorecard) Markdown(thresholds map[string]int) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	w("# tlsdissect conformance scorecard\n\n")
	w("Computed from the peer captures (Zeek, Suricata, FoxIO JA4, Arkime, nDPI test suites, each with a\n")
	w("tshark 4.0 reference) by `go test ./internal/conformance -update` or\n")
	w("`go run ./cmd/tlsconformance -captures DIR -write testdata/conformance.md`. Do not edit by hand: the\n")
	w("conformance test fails when this file differs from what it computes. How each reference is read and\n")
	w("compared is documented in `internal/conformance/doc.go`.\n\n")
	w("%s %.1f s for %d captures.\n\n", RunTimePrefix, sc.Elapsed.Seconds(), len(sc.Captures))

	// Connection counts.
	var ours, tsTCP, tsAll, manTLS, manTCP int
	for _, c := range sc.Captures {
		ours += c.Records
		tsTCP += c.TsharkTCP
		tsAll += c.TsharkTCPAll
		manTLS += c.ManifestTLS
		manTCP += c.ManifestTCPTLS
	}
	w("## Totals\n\n")
	w("We report **%d** TLS connections over TCP, QUIC and DTLS; tshark sees **%d** TLS connections over TCP with at least one record\n", ours, tsTCP)
	w("(%d TCP streams with a frame it marks TLS; manifest: `tcp_tls` %d, `tls_connections` %d including DTLS and\n", tsAll, manTCP, manTLS)
	w("QUIC, which the quic.* and dtls.* rows compare).\n\n")
	w("| category | agree | total | %% | ref. conflicts | threshold | compares |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, c := range Categories {
		t := sc.Totals[c.Name]
		th := "—"
		if v, ok := thresholds[c.Name]; ok {
			th = fmt.Sprint(v)
		}
		w("| %s | %d | %d | %s | %d | %s | %s |\n", c.Name, t.Agree, t.Total, pct(t), t.Conflicts, th, cell(c.Doc))
	}
	w("\n")

	// The honest second reading: where a disagreement is shown to be the
	// reference's error, or a setting of ours, the reference is no yardstick.
	discount := map[string]int{}
	for _, d := range sc.Disagreements {
		if d.Reason == ReasonReferenceWrong || d.Reason == ReasonByDesign {
			discount[d.Category]++
		}
	}
	w("Leaving out the disagreements where the reference is shown wrong or we differ by design (listed below):\n\n")
	w("| category | agree | total | %% |\n|---|---:|---:|---:|\n")
	for _, name := range []string{"tshark.messages", "tshark.version", "tshark.cipher", "zeek.ssl_history", "suricata.checks"} {
		t := sc.Totals[name]
		n := t.Total - discount[name]
		p := "—"
		if n > 0 {
			p = fmt.Sprintf("%.1f", 100*float64(t.Agree)/float64(n))
		}
		w("| %s | %d | %d | %s |\n", name, t.Agree, n, p)
	}
	w("\n")

	// Reasons and patterns.
	reasons := map[string]int{}
	for _, d := range sc.Disagreements {
		reasons[d.Reason]++
	}
	w("## Disagreements by reason\n\n| reason | count |\n|---|---:|\n")
	for _, r := range []string{ReasonOurBug, ReasonReferenceWrong, ReasonByDesign, ReasonOutOfScope, ReasonUnclassified} {
		w("| %s | %d |\n", r, reasons[r])
	}
	oos := 0
	for _, o := range sc.OutOfScope {
		oos += o.Count
	}
	w("\nNot compared: %d reference connections over DTLS or QUIC by the sources that read only TCP (listed below; tshark's are in the quic.* and dtls.* rows).\n\n", oos)

	w("## Disagreement patterns\n\nThe to-do list: classified disagreements grouped by diagnosis, the others by the shape of\nthe difference.\n\n")
	w("| # | reason | pattern | count | categories | example capture |\n|---:|---|---|---:|---|---|\n")
	for i, p := range sc.Patterns() {
		w("| %d | %s | %s | %d | %s | %s |\n", i+1, p.Reason, cell(p.Pattern), p.Count, strings.Join(p.Categories, ", "), cell(p.Example))
	}
	w("\n")

	// Per source.
	for _, src := range Sources[1:] {
		var cats []string
		for _, c := range Categories {
			if strings.HasPrefix(c.Name, src+".") {
				cats = append(cats, c.Name)
			}
		}
		var rows []string
		for _, c := range sc.Captures {
			any := false
			for _, k := range cats {
				t := c.Tallies[k]
				any = any || t.Total > 0 || t.Conflicts > 0
			}
			if !any {
				continue
			}
			var cells []string
			for _, k := range cats {
				t := c.Tallies[k]
				switch {
				case t.Total == 0 && t.Conflicts == 0:
					cells = append(cells, "")
				case t.Conflicts > 0:
					cells = append(cells, fmt.Sprintf("%d/%d (+%d conflicting)", t.Agree, t.Total, t.Conflicts))
				case t.Agree == t.Total:
					cells = append(cells, fmt.Sprintf("%d/%d", t.Agree, t.Total))
				default:
					cells = append(cells, fmt.Sprintf("**%d/%d**", t.Agree, t.Total))
				}
			}
			rows = append(rows, fmt.Sprintf("| %s | %d | %s |", cell(c.Path), c.Records, strings.Join(cells, " | ")))
		}
		if len(rows) == 0 {
			continue
		}
		w("## %s\n\n| capture | ours | %s |\n|---|---:|%s\n", src, strings.Join(trimPrefixAll(cats, src+"."), " | "),
			strings.Repeat("---:|", len(cats)))
		for _, r := range rows {
			w("%s\n", r)
		}
		w("\n")
	}

	w("## Captures the binary did not process cleanly\n\n")
	bad := 0
	for _, c := range sc.Captures {
		if c.Status != "ok" {
			if bad == 0 {
				w("| capture | status |\n|---|---|\n")
			}
			bad++
			w("| %s | %s |\n", cell(c.Path), cell(c.Status))
		}
	}
	if bad == 0 {
		w("None.\n")
	}
	w("\n## Out of scope (DTLS/QUIC)\n\n")
	if len(sc.OutOfScope) == 0 {
		w("None.\n")
	} else {
		w("| capture | source | connections not compared |\n|---|---|---:|\n")
		for _, o := range sc.OutOfScope {
			w("| %s | %s | %d |\n", cell(o.Capture), o.Source, o.Count)
		}
	}
	w("\n## Unparsed reference files\n\n")
	if len(sc.Unparsed) == 0 {
		w("None.\n")
	}
	for _, u := range sc.Unparsed {
		w("- %s\n", cell(u))
	}
	if len(sc.Stale) > 0 {
		w("\n## Stale classifications\n\nThese entries of `knownDisagreements` matched no disagreement: remove them.\n\n")
		for _, st := range sc.Stale {
			w("- %s\n", cell(st))
		}
	}
	w("\n## Known disagreements\n\n")
	w("Every comparison where we differ, with its reason from `knownDisagreements` (internal/conformance/known.go);\n")
	w("\"unclassified\" ones await a diagnosis. The first difference of a message sequence is in bold.\n\n")
	if len(sc.Disagreements) == 0 {
		w("None.\n")
		return b.String()
	}
	w("| capture | connection | field | ours | reference | reason |\n|---|---|---|---|---|---|\n")
	for _, d := range sc.Disagreements {
		reason := d.Reason
		if d.Why != "" {
			reason += ": " + d.Why
		}
		w("| %s | %s | %s | %s | %s | %s |\n", cell(d.Capture), cell(d.Conn), d.Category, cell(d.Ours), cell(d.Reference), cell(reason))
	}
	return b.String()
}

func trimPrefixAll(l []string, p string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.TrimPrefix(s, p)
	}
	return out
}

func pct(t Tally) string {
	if t.Total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", 100*float64(t.Agree)/float64(t.Total))
}

// cell makes a value safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// Pattern is a group of similar disagreements: the classified ones by
// their diagnosis, the others by category and the shape of the
// difference.
type Pattern struct {
	Reason     string
	Pattern    string
	Categories []string
	Count      int
	Example    string // a capture
}

var (
	reBold   = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	reNoHash = regexp.MustCompile(`(?i)[0-9a-f]{12,}`)
)

// Patterns groups the disagreements, most frequent first: the to-do list.
func (sc *Scorecard) Patterns() []Pattern {
	idx := map[string]*Pattern{}
	var order []string
	for _, d := range sc.Disagreements {
		pat := d.Why
		if pat == "" {
			pat = d.Category + ": " + patternOf(d)
		}
		key := d.Reason + "\x00" + pat
		p := idx[key]
		if p == nil {
			p = &Pattern{Reason: d.Reason, Pattern: pat, Example: d.Capture}
			idx[key] = p
			order = append(order, key)
		}
		p.Count++
		p.Categories = appendUnique(p.Categories, d.Category)
	}
	out := make([]Pattern, 0, len(order))
	for _, k := range order {
		out = append(out, *idx[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Reason != out[j].Reason {
			return out[i].Reason < out[j].Reason
		}
		return out[i].Pattern < out[j].Pattern
	})
	return out
}

func patternOf(d Disagreement) string {
	switch {
	case d.Category == "tshark.messages":
		o, r := "(end)", "(end)"
		if m := reBold.FindStringSubmatch(d.Ours); m != nil {
			o = m[1]
		}
		if m := reBold.FindStringSubmatch(d.Reference); m != nil {
			r = m[1]
		}
		return "ours " + o + " where tshark has " + r
	case d.Category == "run.captures":
		s, _, _ := strings.Cut(d.Ours, ":")
		return s
	case strings.HasSuffix(d.Category, ".connections"):
		return "ours: " + d.Ours + " / ref: " + reNoHash.ReplaceAllString(d.Reference, "…")
	case d.Category == "suricata.checks":
		return "count differs"
	}
	field := d.Category[strings.IndexByte(d.Category, '.')+1:]
	switch field {
	case "version", "cipher", "alpn", "resumed", "established", "curve", "last_alert", "next_protocol", "alerts":
		return "ours " + d.Ours + ", ref " + d.Reference
	}
	switch {
	case d.Ours == "—":
		return "ours empty"
	case d.Reference == "—":
		return "ref empty"
	}
	return "both set, differ"
}
