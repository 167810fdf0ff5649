package output

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsdissect/tlsdissect/flows"
)

// topN is how many entries a report lists per table.
const topN = 10

type summaryWriter struct {
	w    io.Writer
	opts Options
	agg  *Aggregate
}

func newSummary(w io.Writer, opts Options) *summaryWriter {
	return &summaryWriter{w: w, opts: opts, agg: NewAggregate()}
}

func (s *summaryWriter) Write(r *flows.Record) error { s.agg.Add(r); return nil }

func (s *summaryWriter) Close() error {
	if err := WriteSummary(s.w, s.agg, s.opts); err != nil {
		return err
	}
	return flush(s.w)
}

// textReport accumulates the first error of a sequence of writes.
type textReport struct {
	w     io.Writer
	width int
	err   error
}

func (t *textReport) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textReport) section(title string) {
	t.printf("\n%s\n%s\n", title, strings.Repeat("─", utf8.RuneCountInString(title)))
}

// table renders rows under headers with tablewriter, fitting the width:
// columns keep their natural width while the table fits, otherwise the
// widest shrink and wrap.
func (t *textReport) table(headers []string, rows [][]string) {
	if t.err != nil {
		return
	}
	if len(rows) == 0 {
		t.printf("  (none)\n")
		return
	}
	widths := fitWidths(headers, rows, t.width)
	m := tw.NewMapper[int, int]()
	for i, w := range widths {
		m.Set(i, w+2) // tablewriter counts the padding
	}
	tb := tablewriter.NewTable(t.w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoWrap(tw.WrapTruncate),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowConfig(tw.CellConfig{
			Formatting:   tw.CellFormatting{AutoWrap: tw.WrapNone}, // cells come wrapped
			Padding:      tw.CellPadding{Global: tw.Padding{Left: " ", Right: " "}},
			Alignment:    tw.CellAlignment{Global: tw.AlignLeft},
			ColMaxWidths: tw.CellWidth{PerColumn: m},
		}),
	)
	tb.Header(anySlice(headers)...)
	for _, r := range rows {
		// Wrap here: tablewriter does not break a word longer than
		// its column, and wire strings often are one long word.
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = fitLines(c, widths[i])
		}
		if t.err = tb.Append(cells); t.err != nil {
			return
		}
	}
	t.err = tb.Render()
}

// fitWidths gives each column its natural width (longest line), then
// takes cells from the widest until the table fits width. A column is
// first only shrunk down to its longest word (so names do not break),
// and only then further, down to 8.
func fitWidths(headers []string, rows [][]string, width int) []int {
	w := make([]int, len(headers))
	word := make([]int, len(headers))
	for i, h := range headers {
		w[i] = utf8.RuneCountInString(h)
		word[i] = w[i]
	}
	for _, r := range rows {
		for i, c := range r {
			for l := range strings.SplitSeq(c, "\n") {
				w[i] = max(w[i], utf8.RuneCountInString(l))
			}
			for f := range strings.FieldsSeq(c) {
				word[i] = max(word[i], min(24, utf8.RuneCountInString(f)))
			}
		}
	}
	avail := width - (3*len(w) + 1)
	for _, floor := range [][]int{word, nil} {
		for {
			sum := 0
			for _, v := range w {
				sum += v
			}
			if sum <= avail {
				return w
			}
			wi := -1
			for i, v := range w {
				lo := 8
				if floor != nil {
					lo = max(lo, floor[i])
				}
				if v > lo && (wi < 0 || v > w[wi]) {
					wi = i
				}
			}
			if wi < 0 {
				break
			}
			w[wi]--
		}
	}
	return w
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(of), 'f', 1, 64) + "%"
}

// countRows renders TopK entries as (value, count, share) rows.
func countRows(t *TopK, of int) [][]string {
	var rows [][]string
	for _, c := range t.Top(topN) {
		rows = append(rows, []string{Sanitize(c.Key), strconv.Itoa(c.N), pct(c.N, of)})
	}
	if rest := t.Len() - topN; rest > 0 {
		rows = append(rows, []string{fmt.Sprintf("(%d more)", rest), "", ""})
	}
	return rows
}

// topList is "a (3), b (2), +4 more" of the first n keys.
func topList(t *TopK, n int) string { return topListSep(t, n, ", ") }

// topListSep is topList with another separator ("\n" in terminal tables:
// one name a line reads better than names wrapped across lines).
func topListSep(t *TopK, n int, sep string) string {
	var parts []string
	for _, c := range t.Top(n) {
		parts = append(parts, fmt.Sprintf("%s (%d)", Sanitize(c.Key), c.N))
	}
	if t.Len() > n {
		parts = append(parts, fmt.Sprintf("+%d more", t.Len()-n))
	}
	return strings.Join(parts, sep)
}

// WriteSummary renders the model as a terminal report.
func WriteSummary(w io.Writer, a *Aggregate, opts Options) error {
	t := &textReport{w: w, width: opts.width()}
	title := "tlsdissect summary"
	if opts.Title != "" {
		title += " — " + Sanitize(opts.Title)
	}
	t.printf("%s\n", title)
	if !a.First.IsZero() {
		t.printf("capture %s → %s (%s)\n", a.First.UTC().Format("2006-01-02 15:04:05.000"),
			a.Last.UTC().Format("2006-01-02 15:04:05.000 UTC"), seconds(a.Last.Sub(a.First).Seconds()))
	}

	t.section("Connections")
	totals := [][]string{
		{"connections", strconv.Itoa(a.Connections), ""},
		{"TLS", strconv.Itoa(a.TLS), pct(a.TLS, a.Connections)},
		{"established", strconv.Itoa(a.Established), pct(a.Established, a.TLS)},
		{"resumed", strconv.Itoa(a.Resumed), pct(a.Resumed, a.TLS)},
		{"failed", strconv.Itoa(a.Failed), pct(a.Failed, a.TLS)},
		{"incomplete", strconv.Itoa(a.Incomplete), pct(a.Incomplete, a.TLS)},
	}
	if a.NotTLS > 0 {
		totals = append(totals, []string{"not TLS", strconv.Itoa(a.NotTLS), pct(a.NotTLS, a.Connections)})
	}
	t.table([]string{"WHAT", "COUNT", "SHARE"}, totals)

	t.section("Failures by reason")
	groups := a.FailureGroups()
	var rows [][]string
	for _, g := range groups {
		// Reason, count and who gave up share a cell so that the lists
		// of servers and clients keep room at 80 columns.
		cell := Sanitize(g.Reason) + "\n" + strconv.Itoa(g.Count) + " connection"
		if g.Count != 1 {
			cell += "s"
		}
		if by := g.By.Top(0); len(by) == 1 {
			cell += "\ngiven up by " + Sanitize(by[0].Key)
		} else {
			cell += "\ngiven up by " + topList(g.By, 3)
		}
		cell += "\n" + confidenceList(g.Confidence)
		rows = append(rows, []string{cell, topListSep(g.Servers, 3, "\n"), topListSep(g.Clients, 3, "\n")})
	}
	t.table([]string{"REASON", "SERVERS", "CLIENTS"}, rows)
	if len(groups) > 0 {
		t.section("Failures by confidence")
		var crows [][]string
		for _, c := range ConfidenceCounts(a.Confidence) {
			var reasons []string
			for _, g := range groups {
				for _, n := range g.Confidence.Top(0) {
					if n.Key == c.Key {
						reasons = append(reasons, Sanitize(g.Reason)+" "+strconv.Itoa(n.N))
					}
				}
			}
			crows = append(crows, []string{Sanitize(c.Key), strconv.Itoa(c.N), strings.Join(reasons, "\n")})
		}
		t.table([]string{"CONFIDENCE", "CONNECTIONS", "REASONS"}, crows)
	}
	for _, g := range groups {
		e := g.Example
		// The uid whole: it is what one searches the JSON output for.
		head := fmt.Sprintf("%s, e.g. %s %s → %s", Sanitize(g.Reason), Sanitize(e.UID), e.Client, e.Server)
		if e.SNI != "" {
			head += " (" + Sanitize(e.SNI) + ")"
		}
		t.printf("\n")
		for _, l := range wrap(head, t.width) {
			t.printf("%s\n", l)
		}
		if e.Explanation != "" {
			for _, l := range wrap(Sanitize(e.Explanation), t.width-2) {
				t.printf("  %s\n", l)
			}
		}
		if e.Hint != "" {
			for _, l := range wrap("to settle it: "+Sanitize(e.Hint), t.width-2) {
				t.printf("  %s\n", l)
			}
		}
	}

	if a.Transports.Len() > 1 || (a.Transports.Len() == 1 && a.Transports.Top(1)[0].Key != "tcp") {
		// Only when something else than TCP carried TLS.
		t.section("Transports")
		t.table([]string{"TRANSPORT", "CONNECTIONS", "SHARE"}, countRows(a.Transports, a.TLS))
	}
	t.section("Versions")
	t.table([]string{"VERSION", "CONNECTIONS", "SHARE"}, countRows(a.Versions, a.TLS))
	if a.VersionsOffered.Len() > 0 {
		t.printf("offered by clients:\n")
		t.table([]string{"VERSION", "CONNECTIONS", "SHARE"}, countRows(a.VersionsOffered, a.TLS))
	}
	t.section("Cipher suites")
	t.table([]string{"CIPHER SUITE", "CONNECTIONS", "SHARE"}, countRows(a.Ciphers, a.TLS))
	t.section("Application protocols (ALPN)")
	t.table([]string{"ALPN", "CONNECTIONS", "SHARE"}, countRows(a.ALPN, a.TLS))
	if a.ALPNOffered.Len() > 0 {
		t.printf("offered by clients:\n")
		t.table([]string{"ALPN", "CONNECTIONS", "SHARE"}, countRows(a.ALPNOffered, a.TLS))
	}
	t.section("Key exchange groups")
	t.table([]string{"GROUP", "CONNECTIONS", "SHARE"}, countRows(a.Curves, a.TLS))

	t.section("Handshake durations (established connections)")
	rows = nil
	for i, n := range a.Handshake.Counts {
		if n > 0 {
			rows = append(rows, []string{a.Handshake.Label(i), strconv.Itoa(n), pct(n, a.Established)})
		}
	}
	t.table([]string{"CLIENTHELLO TO END", "CONNECTIONS", "SHARE"}, rows)

	t.section("Session tickets")
	tk := &a.Tickets
	trows := [][]string{
		{"tickets issued", strconv.Itoa(tk.Issued)},
		{"  of which renewals", strconv.Itoa(tk.Renewed)},
		{"tickets or PSKs offered", strconv.Itoa(tk.Offered)},
		{"redeemed (resumed with ticket/PSK)", strconv.Itoa(tk.Redeemed)},
		{"resumed by session id", strconv.Itoa(tk.SessionIDResumed)},
		{"linked to their issue in this capture", strconv.Itoa(tk.Linked)},
		{"presented more than once (reused)", strconv.Itoa(tk.Reused)},
		{"redeemed after their lifetime hint", strconv.Itoa(tk.Expired)},
	}
	if lo, med, hi, n := tk.Delays(); n > 0 {
		trows = append(trows,
			[]string{"issue → redemption, min", seconds(lo)},
			[]string{"issue → redemption, median", seconds(med)},
			[]string{"issue → redemption, max", seconds(hi)})
	}
	t.table([]string{"TICKETS", "COUNT"}, trows)

	t.section("Alerts")
	rows = nil
	for _, c := range a.Alerts.Top(topN) {
		from, rest, _ := strings.Cut(c.Key, " ")
		level, desc, _ := strings.Cut(rest, " ")
		rows = append(rows, []string{Sanitize(from), Sanitize(level), Sanitize(desc), strconv.Itoa(c.N)})
	}
	if rest := a.Alerts.Len() - topN; rest > 0 {
		rows = append(rows, []string{fmt.Sprintf("(%d more)", rest), "", "", ""})
	}
	t.table([]string{"SENDER", "LEVEL", "ALERT", "COUNT"}, rows)

	t.section("Anomalies")
	t.table([]string{"ANOMALY", "CONNECTIONS", "SHARE"}, countRows(a.Anomalies, a.Connections))
	if a.Versions.Approximate() || a.Ciphers.Approximate() || a.ALPN.Approximate() || a.Anomalies.Approximate() {
		t.printf("\nsome counts are upper bounds: more than %d distinct values were seen\n", TopKCapacity)
	}
	if !opts.NoLegend {
		t.printf("\n%s\n", summaryLegend)
	}
	return t.err
}

// summaryLegend explains the summary's notation; it is printed under it.
const summaryLegend = `Shares: of TLS connections; of all connections for TLS, not TLS and
  anomalies; of established ones for handshake durations.
Lists: most frequent first; "(N more)" and "+N more" count the values not
  shown. Uids are whole, as in -F json.
Confidence of a failure: certain (the packets say it), likely (inferred),
  uncertain (a guess).`
