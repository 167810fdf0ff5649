package output

import (
	_ "embed"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

//go:embed report.html.tmpl
var reportTemplate string

// The template is parsed per report rather than kept in a package
// variable: no package-level mutable state, and a report is rendered once.
func parseReport() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"pct": pct,
	}).Parse(reportTemplate)
}

// htmlWriter collects the model, the connection list and the failed
// connections' ladders, and renders one self-contained page on Close.
type htmlWriter struct {
	w       io.Writer
	opts    Options
	agg     *Aggregate
	rows    []htmlRow
	details []htmlDetail
	n       int
	failed  int
}

type htmlRow struct {
	N                                   int
	Start                               string
	StartNS                             int64
	Client, Server, SNI, Version        string
	Cipher, ALPN, Status, Reason, Alert string
	Confidence                          string
	Messages                            string
	HandshakeMS                         string
	HandshakeNS                         int64
	Detail                              string // anchor of the detail, "" if none
}

type htmlDetail struct {
	Anchor      string
	N           int
	Title       string
	Reason      string
	Explanation string
	Confidence  string
	Evidence    []string
	Hint        string
	Ladder      string
}

const (
	defaultMaxDetails = 500
	defaultMaxRows    = 5000
)

func newHTML(w io.Writer, opts Options) *htmlWriter {
	if opts.MaxDetails <= 0 {
		opts.MaxDetails = defaultMaxDetails
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = defaultMaxRows
	}
	return &htmlWriter{w: w, opts: opts, agg: NewAggregate()}
}

// Wire strings are sanitised for display as on a terminal (a reader must
// not be fooled by a right-to-left override or invisible characters
// either), and html/template then escapes them for HTML when it writes
// the page.
func (h *htmlWriter) Write(r *flows.Record) error {
	h.agg.Add(r)
	h.n++
	detail := ""
	if r.Status == flows.StatusFailed {
		h.failed++
		if len(h.details) < h.opts.MaxDetails {
			detail = "d" + strconv.Itoa(h.n)
			d := htmlDetail{Anchor: detail, N: h.n, Ladder: Ladder(r, 100),
				Title: endpoint(r.Client) + " → " + endpoint(r.Server)}
			if r.SNI != "" {
				d.Title += " (" + Sanitize(r.SNI) + ")"
			}
			d.Reason = flows.ReasonOther // as the Aggregate counts it
			if f := r.Failure; f != nil {
				if f.Reason != "" {
					d.Reason = Sanitize(f.Reason)
				}
				d.Explanation = Sanitize(f.Explanation)
				d.Confidence = Sanitize(f.Confidence)
				d.Hint = Sanitize(f.Hint)
				for _, e := range f.Evidence {
					d.Evidence = append(d.Evidence, Sanitize(e))
				}
			}
			h.details = append(h.details, d)
		}
	}
	if len(h.rows) >= h.opts.MaxRows {
		return nil
	}
	row := htmlRow{
		N: h.n, Start: clock(r.TS), Client: endpoint(r.Client), Server: endpoint(r.Server),
		SNI: Sanitize(r.SNI), Version: tableVersion(r), Cipher: Sanitize(r.Cipher), ALPN: Sanitize(r.ALPN), Status: Sanitize(r.Status),
		Messages: compactMessages(r.Messages), Detail: detail, HandshakeNS: -1,
	}
	if !r.TS.IsZero() {
		row.Start = r.TS.UTC().Format("2006-01-02 15:04:05.000")
		row.StartNS = r.TS.UnixNano()
	}
	if r.Failure != nil {
		row.Reason = Sanitize(r.Failure.Reason)
		row.Confidence = Sanitize(r.Failure.Confidence)
	}
	if n := len(r.Alerts); n > 0 {
		row.Alert = sideLetter(r.Alerts[n-1].From) + ":" + alertText(r.Alerts[n-1])
	}
	if d, ok := handshakeDuration(r); ok {
		row.HandshakeNS = int64(d)
		row.HandshakeMS = strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64)
	}
	h.rows = append(h.rows, row)
	return nil
}

// reportData is what the template renders.
type reportData struct {
	Title         string
	Range         string
	Totals        [][2]string
	Failures      []htmlFailure
	Confidence    []htmlConfidence
	Timeline      *chart
	Versions      *chart
	Ciphers       *chart
	ALPN          *chart
	Curves        *chart
	Handshake     *chart
	Tickets       [][2]string
	Alerts        []Count
	Anomalies     []Count
	Rows          []htmlRow
	RowsCapped    bool
	Connections   int
	Details       []htmlDetail
	DetailsCapped bool
	Failed        int
	MaxDetails    int
	MaxRows       int
}

// htmlConfidence is one row of the failures by confidence.
type htmlConfidence struct {
	Confidence string
	Count      int
	Reasons    string // "unknown_ca 3, hostname_mismatch 1"
}

type htmlFailure struct {
	Reason, GaveUp, Servers, Clients string
	Confidence                       string // "certain 3, likely 1"
	Count                            int
	Example                          Example
	Color                            string
	Anchor                           string
}

// chart is a bar chart drawn as inline SVG by the template.
type chart struct {
	Title         string
	Width, Height int
	Bars          []bar
	Legend        []legendItem
	Note          string
	AxisY         int
	Ticks         []tick
	Vertical      bool // columns with labels under them, values on top
}

type tick struct {
	X, Y   float64
	Label  string
	Anchor string // SVG text-anchor
}

type bar struct {
	Label          string
	Value          string
	X, Y, W, H     float64
	LabelX, LabelY float64
	ValueX         float64
	Color          string
	Tip            string
}

type legendItem struct {
	Label string
	Color string
	X, Y  float64
}

var palette = [...]string{"#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#1f77b4", "#2ca02c", "#7f7f7f"}

// hbar draws counts as horizontal bars, one per key, largest first.
func hbar(title string, counts []Count, total int) *chart {
	const labelW, barW, rowH, valueW = 340.0, 300.0, 20.0, 90.0
	c := &chart{Title: title, Width: int(labelW + barW + valueW), Height: int(rowH*float64(len(counts)) + 6)}
	maxN := 1
	for _, k := range counts {
		maxN = max(maxN, k.N)
	}
	for i, k := range counts {
		y := float64(i)*rowH + 3
		w := math.Max(1, barW*float64(k.N)/float64(maxN))
		c.Bars = append(c.Bars, bar{
			Label: truncate(Sanitize(k.Key), 50), X: labelW, Y: y, W: w, H: rowH - 4,
			LabelX: labelW - 6, LabelY: y + rowH - 8, ValueX: labelW + w + 4,
			Value: strconv.Itoa(k.N) + " (" + pct(k.N, total) + ")", Color: palette[7], Tip: Sanitize(k.Key),
		})
	}
	return c
}

// timelineChart stacks failures by reason per time bucket, over the grey
// bar of all connections in the bucket.
func timelineChart(a *Aggregate, reasons []string, colors map[string]string) *chart {
	buckets := a.Timeline.Buckets()
	if len(buckets) == 0 {
		return nil
	}
	const plotH, plotW, left, top = 160.0, 640.0, 40.0, 10.0
	c := &chart{Title: "Failures over capture time", Width: int(left + plotW + 10), Height: int(top + plotH + 40 + 18*float64((len(reasons)+2)/3))}
	c.AxisY = int(top + plotH)
	maxN := 1
	for _, b := range buckets {
		maxN = max(maxN, b.Connections)
	}
	bw := plotW / float64(len(buckets))
	for i, b := range buckets {
		x := left + float64(i)*bw
		h := plotH * float64(b.Connections) / float64(maxN)
		tip := b.Start.Format("15:04:05.000") + ": " + strconv.Itoa(b.Connections) + " connections"
		c.Bars = append(c.Bars, bar{X: x, Y: top + plotH - h, W: math.Max(1, bw-1), H: h, Color: "#dddddd", Tip: tip})
		y := top + plotH
		for _, r := range reasons {
			n := b.Failures[r]
			if n == 0 {
				continue
			}
			fh := plotH * float64(n) / float64(maxN)
			y -= fh
			c.Bars = append(c.Bars, bar{X: x, Y: y, W: math.Max(1, bw-1), H: fh, Color: colors[r],
				Tip: b.Start.Format("15:04:05.000") + ": " + strconv.Itoa(n) + " " + Sanitize(r)})
		}
	}
	layout := "15:04:05"
	if a.Timeline.Width() < time.Second {
		layout = "15:04:05.000"
	}
	c.Ticks = append(c.Ticks, tick{X: left, Y: top + plotH + 14, Label: buckets[0].Start.Format(layout), Anchor: "start"})
	if n := len(buckets); n > 2 {
		c.Ticks = append(c.Ticks,
			tick{X: left + float64(n/2)*bw, Y: top + plotH + 14, Label: buckets[n/2].Start.Format(layout), Anchor: "middle"},
			tick{X: left + plotW, Y: top + plotH + 14, Label: buckets[n-1].Start.Add(a.Timeline.Width()).Format(layout), Anchor: "end"})
	}
	for i, r := range reasons {
		c.Legend = append(c.Legend, legendItem{Label: Sanitize(r), Color: colors[r],
			X: left + float64(i%3)*220, Y: top + plotH + 34 + float64(i/3)*18})
	}
	first, last := buckets[0].Start, buckets[len(buckets)-1].Start.Add(a.Timeline.Width())
	c.Note = first.Format("15:04:05.000") + " → " + last.Format("15:04:05.000") + " UTC, buckets of " + a.Timeline.Width().String() + "; grey: all connections, max " + strconv.Itoa(maxN) + " per bucket"
	return c
}

func histogramChart(h *Histogram) *chart {
	total := 0
	for _, n := range h.Counts {
		total += n
	}
	if total == 0 {
		return nil
	}
	const plotH, colW, left, top = 150.0, 78.0, 10.0, 20.0
	c := &chart{Title: "Handshake duration (ClientHello to the end of the handshake)", Width: int(left + colW*float64(len(h.Counts)) + 10), Height: int(top + plotH + 30), Vertical: true}
	c.AxisY = int(top + plotH)
	maxN := 1
	for _, n := range h.Counts {
		maxN = max(maxN, n)
	}
	for i, n := range h.Counts {
		x := left + float64(i)*colW
		bh := plotH * float64(n) / float64(maxN)
		c.Bars = append(c.Bars, bar{X: x + 4, Y: top + plotH - bh, W: colW - 8, H: bh, Color: palette[7],
			Label: h.Label(i), LabelX: x + colW/2, LabelY: top + plotH + 16,
			Value: strconv.Itoa(n), ValueX: x + colW/2, Tip: h.Label(i) + ": " + strconv.Itoa(n)})
	}
	return c
}

func (h *htmlWriter) Close() error {
	t, err := parseReport()
	if err != nil {
		return err
	}
	a := h.agg
	d := reportData{
		Title: "tlsdissect report", Rows: h.rows, RowsCapped: h.n > len(h.rows),
		Connections: h.n, Details: h.details, DetailsCapped: h.failed > len(h.details),
		Failed: h.failed, MaxDetails: h.opts.MaxDetails, MaxRows: h.opts.MaxRows,
	}
	if h.opts.Title != "" {
		d.Title += " — " + Sanitize(h.opts.Title)
	}
	if !a.First.IsZero() {
		d.Range = a.First.UTC().Format("2006-01-02 15:04:05.000") + " → " +
			a.Last.UTC().Format("2006-01-02 15:04:05.000 UTC") + " (" + seconds(a.Last.Sub(a.First).Seconds()) + ")"
	}
	d.Totals = [][2]string{
		{"connections", strconv.Itoa(a.Connections)}, {"TLS", strconv.Itoa(a.TLS)},
		{"established", strconv.Itoa(a.Established)}, {"resumed", strconv.Itoa(a.Resumed)},
		{"failed", strconv.Itoa(a.Failed)}, {"incomplete", strconv.Itoa(a.Incomplete)},
	}
	if a.NotTLS > 0 {
		d.Totals = append(d.Totals, [2]string{"not TLS", strconv.Itoa(a.NotTLS)})
	}
	colors := map[string]string{}
	var reasons []string
	firstDetail := map[string]string{}
	for _, det := range h.details {
		if _, ok := firstDetail[det.Reason]; !ok {
			firstDetail[det.Reason] = det.Anchor
		}
	}
	groups := a.FailureGroups()
	for _, c := range ConfidenceCounts(a.Confidence) {
		var rs []string
		for _, g := range groups {
			for _, n := range g.Confidence.Top(0) {
				if n.Key == c.Key {
					rs = append(rs, Sanitize(g.Reason)+" "+strconv.Itoa(n.N))
				}
			}
		}
		d.Confidence = append(d.Confidence, htmlConfidence{Confidence: Sanitize(c.Key), Count: c.N, Reasons: strings.Join(rs, ", ")})
	}
	for i, g := range groups {
		colors[g.Reason] = palette[i%len(palette)]
		reasons = append(reasons, g.Reason)
		ex := g.Example
		ex.UID, ex.SNI, ex.Alert, ex.By, ex.Explanation = Sanitize(ex.UID), Sanitize(ex.SNI), Sanitize(ex.Alert), Sanitize(ex.By), Sanitize(ex.Explanation)
		ex.Confidence, ex.Hint = Sanitize(ex.Confidence), Sanitize(ex.Hint)
		d.Failures = append(d.Failures, htmlFailure{
			Reason: Sanitize(g.Reason), Count: g.Count, GaveUp: topList(g.By, 3), Confidence: confidenceList(g.Confidence),
			Servers: topList(g.Servers, 5), Clients: topList(g.Clients, 5),
			Example: ex, Color: colors[g.Reason], Anchor: firstDetail[Sanitize(g.Reason)],
		})
	}
	d.Timeline = timelineChart(a, reasons, colors)
	d.Versions = hbar("Versions", a.Versions.Top(topN), a.TLS)
	d.Ciphers = hbar("Cipher suites", a.Ciphers.Top(topN), a.TLS)
	d.ALPN = hbar("ALPN", a.ALPN.Top(topN), a.TLS)
	d.Curves = hbar("Key exchange groups", a.Curves.Top(topN), a.TLS)
	d.Handshake = histogramChart(&a.Handshake)
	tk := &a.Tickets
	d.Tickets = [][2]string{
		{"tickets issued", strconv.Itoa(tk.Issued)}, {"of which renewals", strconv.Itoa(tk.Renewed)},
		{"tickets or PSKs offered", strconv.Itoa(tk.Offered)}, {"redeemed (resumed with ticket/PSK)", strconv.Itoa(tk.Redeemed)},
		{"resumed by session id", strconv.Itoa(tk.SessionIDResumed)}, {"linked to their issue in this capture", strconv.Itoa(tk.Linked)},
		{"presented more than once (reused)", strconv.Itoa(tk.Reused)}, {"redeemed after their lifetime hint", strconv.Itoa(tk.Expired)},
	}
	if lo, med, hi, n := tk.Delays(); n > 0 {
		d.Tickets = append(d.Tickets, [2]string{"issue → redemption delay", "min " + seconds(lo) + ", median " + seconds(med) + ", max " + seconds(hi)})
	}
	d.Alerts = sanitizeCounts(a.Alerts.Top(topN))
	d.Anomalies = sanitizeCounts(a.Anomalies.Top(topN))
	if err := t.Execute(h.w, d); err != nil {
		return err
	}
	return flush(h.w)
}

func sanitizeCounts(cs []Count) []Count {
	for i := range cs {
		cs[i].Key = Sanitize(cs[i].Key)
	}
	return cs
}
