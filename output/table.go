package output

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// tableLegend explains the table's notation; it is printed under the table.
const tableLegend = `Messages: → client to server, ← server to client (the arrow starts a flight);
  CH ClientHello  SH ServerHello  HRR HelloRetryRequest  EE EncryptedExtensions
  Crt Certificate  CCrt CompressedCertificate  CS CertificateStatus
  SKE ServerKeyExchange  CR CertificateRequest  SHD ServerHelloDone
  CKE ClientKeyExchange  CV CertificateVerify  F Finished  NST NewSessionTicket
  EOED EndOfEarlyData  KU KeyUpdate  HR HelloRequest  CCS ChangeCipherSpec
  A Alert  HB Heartbeat  AD ApplicationData  EH EncryptedHandshake
  CH2/SH2 SSLv2 hellos  HVR HelloVerifyRequest  CC ConnectionClose (QUIC)
  Retry, VN (QUIC)  {X} X seen only encrypted  ×N N alike in a row
Ticket: issued ticket D = the server sent a ticket with lifetime hint D;
  resumed #N = redeemed a ticket issued on row N, that long after.
Alerts: C: sent by the client, S: by the server. !x: anomaly x (+N others).
Failure reason: certain as written, reason? likely, reason?? uncertain.
Times: capture time of the first packet, UTC.`

// maxTokens is how many messages a table cell spells out.
const maxTokens = 48

// maxUIDRefs bounds the uid → row number map of the table.
const maxUIDRefs = 1 << 17

// wideWidth is the terminal width from which every field gets its own
// column; narrower tables stack related fields in one cell.
const wideWidth = 200

// tableRow holds the fields of one connection, sanitised, before layout.
type tableRow struct {
	num                 int
	start               string
	client, server, sni string
	version, kx, bulk   string
	messages            string
	ticket              []string
	alerts              []string
	statusLines         []string // status, failure reason
	anomaly             string   // "! first_kind +N"
}

type tableWriter struct {
	w      io.Writer
	opts   Options
	rows   []tableRow
	n      int
	uidNum map[string]int // uid → row number, for ticket lineage
	// streaming state
	stream       *tablewriter.Table
	streamLayout layout
}

func newTable(w io.Writer, opts Options) *tableWriter {
	return &tableWriter{w: w, opts: opts, uidNum: make(map[string]int)}
}

func (t *tableWriter) Write(r *flows.Record) error {
	t.n++
	if r.UID != "" {
		// A live table runs for ever: forget old row numbers past a
		// bound (lineage then names the uid instead of "#N").
		if len(t.uidNum) >= maxUIDRefs {
			clear(t.uidNum)
		}
		t.uidNum[r.UID] = t.n
	}
	row := t.row(r)
	if t.opts.Stream {
		return t.streamRow(row)
	}
	t.rows = append(t.rows, row)
	return nil
}

// tableVersion is the version column: the TLS version, and the transport
// when it is not TCP ("QUIC 1.3"; DTLS versions say it themselves).
func tableVersion(r *flows.Record) string {
	v := Sanitize(r.Version)
	switch r.Transport {
	case "quic":
		if v == "" {
			return "QUIC"
		}
		return "QUIC " + strings.TrimPrefix(v, "TLS ")
	case "dtls":
		if v == "" {
			return "DTLS"
		}
	}
	return v
}

func (t *tableWriter) row(r *flows.Record) tableRow {
	row := tableRow{
		num:      t.n,
		start:    clock(r.TS),
		client:   endpoint(r.Client),
		server:   endpoint(r.Server),
		sni:      Sanitize(r.SNI),
		version:  tableVersion(r),
		messages: compactMessages(r.Messages),
	}
	if r.Cipher != "" {
		row.kx, row.bulk = shortCipher(Sanitize(r.Cipher))
	}
	row.ticket = ticketNotes(r, func(uid string) string {
		if n, ok := t.uidNum[uid]; ok {
			return "#" + strconv.Itoa(n)
		}
		return shortUID(uid)
	})
	for _, a := range r.Alerts {
		// An encrypted alert on a connection that completed its handshake
		// is, as a rule, the close_notify of an orderly end: it says
		// nothing a person scanning the table needs (the ladder and JSON
		// keep it).
		if a.Encrypted && (r.Status == flows.StatusEstablished || r.Status == flows.StatusResumed) {
			continue
		}
		row.alerts = append(row.alerts, sideLetter(a.From)+":"+alertText(a))
	}
	status := Sanitize(r.Status)
	if status == "" {
		status = "?"
	}
	if t.opts.Color {
		status = colorStatus(status)
	}
	row.statusLines = []string{status}
	if r.Failure != nil && r.Failure.Reason != "" {
		row.statusLines = append(row.statusLines, Sanitize(r.Failure.Reason)+confidenceMark(r.Failure.Confidence))
	}
	if n := len(r.Anomalies); n > 0 {
		s := "!" + Sanitize(r.Anomalies[0])
		if n > 1 {
			s += fmt.Sprintf(" +%d", n-1)
		}
		row.anomaly = s
	}
	return row
}

// shortUID abbreviates a uid for prose.
func shortUID(uid string) string { return truncate(Sanitize(uid), 10) }

// ticketNotes says what happened to session tickets, in short lines; ref
// names the connection a uid belongs to.
func ticketNotes(r *flows.Record, ref func(uid string) string) []string {
	st := &r.SessionTicket
	var out []string
	if r.Resumed {
		how := r.Resumption
		if how == "" {
			how = "session"
		}
		s := "resumed " + Sanitize(how)
		switch {
		case st.IssuedBy != "":
			s += " from " + ref(st.IssuedBy) + ", " + seconds(st.RedeemedAfter) + " later"
		case r.ResumedFrom != "":
			s += " from " + ref(r.ResumedFrom)
		}
		out = append(out, s)
	} else if st.Offered {
		s := "ticket offered"
		if st.IssuedBy != "" {
			s += " (from " + ref(st.IssuedBy) + ")"
		}
		out = append(out, s+", not resumed")
	}
	if st.LifetimeExpired {
		out = append(out, "past its lifetime")
	}
	if st.Reused {
		out = append(out, "ticket reused")
	}
	if st.Issued {
		s := "issued ticket"
		if st.Renewed {
			s = "renewed ticket"
		}
		if st.LifetimeHint > 0 {
			s += " " + seconds(float64(st.LifetimeHint))
		}
		out = append(out, s)
	}
	return out
}

// compactMessages writes the message sequence in the table notation
// (tableLegend): an arrow opens each flight, tokens are abbreviations,
// braces mark encrypted records, ×N a run of N alike (folded application
// data, or the same message repeated, as TLS 1.3's encrypted handshake
// records are). A long-lived connection can alternate data for a
// thousand entries: past maxTokens the rest is only counted; the ladder
// has them all.
func compactMessages(ms []flows.Message) string {
	var b strings.Builder
	var from packet.Dir
	tokens := 0
	for i := 0; i < len(ms); {
		m := ms[i]
		n := max(m.Count, 1)
		j := i + 1
		for j < len(ms) && ms[j].From == m.From && ms[j].Type == m.Type && ms[j].Encrypted == m.Encrypted {
			n += max(ms[j].Count, 1)
			j++
		}
		if tokens > 0 {
			b.WriteByte(' ')
		}
		if tokens == maxTokens {
			fmt.Fprintf(&b, "…+%d", len(ms)-i)
			break
		}
		if m.From != from || tokens == 0 {
			from = m.From
			if from == packet.FromClient {
				b.WriteString("→")
			} else {
				b.WriteString("←")
			}
		}
		tok := msgAbbrev(m.Type.String())
		if m.Encrypted && m.Type != dissect.MsgApplicationData {
			tok = "{" + tok + "}"
		}
		b.WriteString(tok)
		if n > 1 {
			b.WriteString("×")
			b.WriteString(strconv.Itoa(n))
		}
		tokens++
		i = j
	}
	return b.String()
}

// layout decides the columns for a terminal width: their headers, their
// widths (content only), and how a row fills them.
type layout struct {
	headers []string
	widths  []int
	cells   func(r *tableRow, widths []int) []string
}

// layout fits the columns to the width, with numW digits for row numbers.
func (t *tableWriter) layout(numW int) layout {
	width := t.opts.width()
	if width >= wideWidth {
		// #, START, CLIENT → SERVER, SNI, VERSION, CIPHER, MESSAGES, TICKET, ALERTS, STATUS
		w := []int{numW, 12, 23, 22, 7, 17, 0, 20, 20, 23}
		fixed := 0
		for _, v := range w {
			fixed += v
		}
		overhead := 3*len(w) + 1
		w[6] = max(24, width-overhead-fixed)
		return layout{
			headers: []string{"#", "START", "CLIENT → SERVER", "SNI", "VERSION", "CIPHER", "MESSAGES", "TICKET", "ALERTS", "STATUS"},
			widths:  w,
			cells: func(r *tableRow, w []int) []string {
				cipher := r.bulk
				if r.kx != "" {
					cipher = r.kx + "\n" + r.bulk
				}
				return []string{
					strconv.Itoa(r.num), r.start,
					fitLines(r.client, w[2]) + "\n" + fitLines("→ "+r.server, w[2]),
					fit(r.sni, w[3]), fit(r.version, w[4]), fitLines(cipher, w[5]),
					fitLines(r.messages, w[6]),
					fitLines(strings.Join(r.ticket, "\n"), w[7]),
					fitLines(strings.Join(r.alerts, "\n"), w[8]),
					fitLines(strings.Join(append(slices.Clip(r.statusLines), r.anomaly), "\n"), w[9]),
				}
			},
		}
	}
	// Stacked: #, CONNECTION (start, client, server, SNI, version, cipher),
	// MESSAGES, STATUS (status, reason, ticket, alerts).
	connW, statusW := 21, 20
	for i := range t.rows {
		// Room for the longest address line, within reason; longer
		// ones wrap.
		connW = max(connW, min(27, max(2+utf8.RuneCountInString(t.rows[i].server), utf8.RuneCountInString(t.rows[i].client))))
	}
	overhead := 3*4 + 1
	msgW := width - overhead - numW - connW - statusW
	if msgW < 14 {
		msgW = 14
	}
	return layout{
		headers: []string{"#", "CONNECTION", "MESSAGES", "STATUS"},
		widths:  []int{numW, connW, msgW, statusW},
		cells: func(r *tableRow, w []int) []string {
			conn := []string{r.start, fitLines(r.client, w[1]), fitLines("→ "+r.server, w[1])}
			if r.sni != "" {
				conn = append(conn, fit(r.sni, w[1]))
			}
			if r.version != "" {
				v := r.version
				if r.kx != "" && utf8.RuneCountInString(v)+1+utf8.RuneCountInString(r.kx) <= w[1] {
					v += " " + r.kx
				} else if r.kx != "" {
					conn = append(conn, fit(v, w[1]))
					v = fit(r.kx, w[1])
				}
				conn = append(conn, fit(v, w[1]))
			}
			if r.bulk != "" {
				conn = append(conn, fit(r.bulk, w[1]))
			}
			var st []string
			st = append(st, r.statusLines...)
			st = append(st, r.ticket...)
			st = append(st, r.alerts...)
			if r.anomaly != "" {
				st = append(st, r.anomaly)
			}
			return []string{strconv.Itoa(r.num), strings.Join(conn, "\n"), fitLines(r.messages, w[2]), fitLines(strings.Join(st, "\n"), w[3])}
		},
	}
}

// fit truncates one line to n cells.
func fit(s string, n int) string { return truncate(s, n) }

// fitLines wraps each line of s at spaces to n cells, breaking words
// that are longer than a line (see breakWord).
func fitLines(s string, n int) string {
	if s == "" {
		return ""
	}
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		cur := ""
		for word := range strings.FieldsSeq(line) {
			for utf8.RuneCountInString(word) > n {
				head, rest := breakWord(word, n)
				if rest == "" {
					break
				}
				if cur != "" {
					out = append(out, cur)
					cur = ""
				}
				out = append(out, head)
				word = rest
			}
			switch {
			case cur == "":
				cur = word
			case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) <= n:
				cur += " " + word
			default:
				out = append(out, fit(cur, n))
				cur = word
			}
		}
		out = append(out, fit(cur, n))
	}
	return strings.Join(out, "\n")
}

// breakWord splits a word longer than n cells after its last '_' or '.'
// that keeps the head within n (identifiers like protocol_version_mismatch
// and host names stay readable), else hard at n.
func breakWord(word string, n int) (head, rest string) {
	if n < 2 {
		return word, ""
	}
	cut := 0
	k := 0
	for i, r := range word {
		if k >= n {
			break
		}
		k++
		if r == '_' || r == '.' || r == ':' {
			cut = i + 1
		}
	}
	if cut == 0 || cut < n/2 {
		i, k := 0, 0
		for i < len(word) && k < n {
			_, sz := utf8.DecodeRuneInString(word[i:])
			i += sz
			k++
		}
		cut = i
	}
	return word[:cut], word[cut:]
}

func (t *tableWriter) newTable(l layout, streaming bool) *tablewriter.Table {
	// tablewriter's widths count the cell padding too.
	widths := tw.NewMapper[int, int]()
	for i, w := range l.widths {
		widths.Set(i, w+2)
	}
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoWrap(tw.WrapTruncate),
		tablewriter.WithTrimSpace(tw.Off),
	}
	if streaming {
		opts = append(opts, tablewriter.WithStreaming(tw.StreamConfig{Enable: true}), tablewriter.WithColumnWidths(widths))
	} else {
		opts = append(opts, tablewriter.WithRowConfig(tw.CellConfig{
			// Cells come wrapped to their widths (fitLines): tablewriter
			// need not measure and wrap them again.
			Formatting:   tw.CellFormatting{AutoWrap: tw.WrapNone},
			Padding:      tw.CellPadding{Global: tw.Padding{Left: " ", Right: " "}},
			Alignment:    tw.CellAlignment{Global: tw.AlignLeft},
			ColMaxWidths: tw.CellWidth{PerColumn: widths},
		}))
	}
	return tablewriter.NewTable(t.w, opts...)
}

func (t *tableWriter) streamRow(row tableRow) error {
	if t.stream == nil {
		// Widths are fixed from the first row on: leave room for
		// 99999 rows in the number column.
		t.streamLayout = t.layout(5)
		t.stream = t.newTable(t.streamLayout, true)
		if err := t.stream.Start(); err != nil {
			return err
		}
		t.stream.Header(anySlice(t.streamLayout.headers)...)
	}
	l := &t.streamLayout
	if err := t.stream.Append(l.cells(&row, l.widths)); err != nil {
		return err
	}
	return flush(t.w)
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (t *tableWriter) Close() error {
	if t.opts.Stream {
		if t.stream != nil {
			if err := t.stream.Close(); err != nil {
				return err
			}
			if err := t.legend(); err != nil {
				return err
			}
		}
		return flush(t.w)
	}
	if len(t.rows) == 0 {
		_, err := fmt.Fprintln(t.w, "no TLS connections")
		if err != nil {
			return err
		}
		return flush(t.w)
	}
	l := t.layout(len(strconv.Itoa(t.n)))
	tb := t.newTable(l, false)
	tb.Header(anySlice(l.headers)...)
	for i := range t.rows {
		if err := tb.Append(l.cells(&t.rows[i], l.widths)); err != nil {
			return err
		}
	}
	if err := tb.Render(); err != nil {
		return err
	}
	if err := t.legend(); err != nil {
		return err
	}
	return flush(t.w)
}

// legend prints tableLegend, unless Options.NoLegend.
func (t *tableWriter) legend() error {
	if t.opts.NoLegend {
		return nil
	}
	_, err := fmt.Fprintln(t.w, tableLegend)
	return err
}

// confidenceMark follows a failure reason in the table: nothing when
// certain, "?" when likely, "??" when uncertain (the legend under the
// table says so).
func confidenceMark(c string) string {
	switch c {
	case flows.ConfidenceLikely:
		return "?"
	case flows.ConfidenceUncertain:
		return "??"
	}
	return ""
}
