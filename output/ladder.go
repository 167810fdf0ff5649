package output

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

// ladderWriter draws each connection as it arrives.
type ladderWriter struct {
	w    io.Writer
	opts Options
	n    int
}

func newLadderWriter(w io.Writer, opts Options) *ladderWriter {
	return &ladderWriter{w: w, opts: opts}
}

func (l *ladderWriter) Write(r *flows.Record) error {
	if l.n > 0 {
		if _, err := io.WriteString(l.w, "\n"); err != nil {
			return err
		}
	}
	l.n++
	text := Ladder(r, l.opts.width())
	if l.opts.Color {
		text = colorLadder(text)
	}
	if _, err := io.WriteString(l.w, text); err != nil {
		return err
	}
	return flush(l.w)
}

func (l *ladderWriter) Close() error { return flush(l.w) }

// maxAnomalyLines is how many anomalies a ladder details.
const maxAnomalyLines = 5

const (
	arrowRight = "-------->"
	arrowLeft  = "<--------"
	timeCol    = 12 // "+9999.999 ms": since() switches to seconds above
)

// Ladder draws one connection like the message flow figures of RFC 5077
// and RFC 8446: client on the left, server on the right, one line per
// message with its direction and its time since the first packet. Braces
// mark messages seen only encrypted. Wire strings are sanitised. The text
// ends with a newline.
func Ladder(r *flows.Record, width int) string {
	if width <= 0 {
		width = 80
	}
	var b strings.Builder
	ladderHeader(&b, r, width)

	rows := ladderRows(r)
	// The client column is as wide as its longest label, but at most
	// half of what is left beside the time and the arrow; longer labels
	// wrap, with the arrow on their last line as in RFC 5077 figure 1.
	// Server labels wrap within what is left on the right.
	const gutter = timeCol + 2 + 2 + len(arrowRight) + 2
	clientW := len("Client")
	for _, row := range rows {
		if row.from != packet.FromServer {
			clientW = max(clientW, utf8.RuneCountInString(row.label))
		}
	}
	clientW = min(clientW, max(16, (width-gutter)/2))
	serverW := max(16, width-gutter-clientW)
	blank := strings.Repeat(" ", timeCol)
	fmt.Fprintf(&b, "%s  %s  %s  %s\n", blank, pad("Client", clientW), strings.Repeat(" ", len(arrowRight)), "Server")
	for _, row := range rows {
		ts := ""
		if !row.ts.IsZero() && !r.TS.IsZero() {
			ts = since(row.ts.Sub(r.TS.Time))
		}
		if row.from == packet.FromServer {
			lines := wrap(row.label, serverW)
			if len(lines) == 0 {
				lines = []string{""}
			}
			for k, l := range lines {
				if k == 0 {
					fmt.Fprintf(&b, "%*s  %s  %s  %s\n", timeCol, ts, strings.Repeat(" ", clientW), row.arrow(arrowLeft), l)
				} else {
					fmt.Fprintf(&b, "%s  %s  %s  %s\n", blank, strings.Repeat(" ", clientW), strings.Repeat(" ", len(arrowRight)), l)
				}
			}
			continue
		}
		arrow := row.arrow(arrowRight)
		if row.from != packet.FromClient {
			arrow = "    ?    "
		}
		lines := wrap(row.label, clientW)
		if len(lines) == 0 {
			lines = []string{""}
		}
		for k, l := range lines {
			t := blank
			if k == 0 {
				t = fmt.Sprintf("%*s", timeCol, ts)
			}
			if k == len(lines)-1 {
				fmt.Fprintf(&b, "%s  %s  %s\n", t, pad(l, clientW), arrow)
			} else {
				fmt.Fprintf(&b, "%s  %s\n", t, l)
			}
		}
	}
	if len(r.Messages) == 0 {
		fmt.Fprintf(&b, "%*s  (no TLS message seen)\n", timeCol, "")
	}
	ladderFooter(&b, r, width)
	return strings.ReplaceAll(b.String(), "\u00a0", " ")
}

// ladderRow is one line of the ladder: a TLS message, or a TCP packet
// that opened or closed the connection (drawn with a dotted arrow).
type ladderRow struct {
	ts    time.Time
	from  packet.Dir
	label string
	tcp   bool
}

func (r ladderRow) arrow(solid string) string {
	if !r.tcp {
		return solid
	}
	return strings.ReplaceAll(solid, "-", ".")
}

// ladderRows merges the messages with the TCP handshake and ends, in
// capture order: a SYN comes before what shares its time, a FIN or RST
// after.
func ladderRows(r *flows.Record) []ladderRow {
	labels := ladderLabels(r)
	var before, after []ladderRow
	if e := r.TCP; e != nil {
		add := func(list *[]ladderRow, t flows.Time, from packet.Dir, label string) {
			if !t.IsZero() {
				*list = append(*list, ladderRow{ts: t.Time, from: from, label: label, tcp: true})
			}
		}
		add(&before, e.SYN, packet.FromClient, "SYN")
		add(&before, e.SYNACK, packet.FromServer, "SYN-ACK")
		add(&after, e.ClientFIN, packet.FromClient, "FIN")
		add(&after, e.ServerFIN, packet.FromServer, "FIN")
		if !e.RST.IsZero() {
			from := packet.FromClient
			if e.RSTFrom == "server" {
				from = packet.FromServer
			}
			add(&after, e.RST, from, "RST")
		}
		sort.SliceStable(after, func(i, j int) bool { return after[i].ts.Before(after[j].ts) })
	}
	rows := make([]ladderRow, 0, len(r.Messages)+len(before)+len(after))
	for i, m := range r.Messages {
		for len(before) > 0 && !before[0].ts.After(m.TS.Time) {
			rows, before = append(rows, before[0]), before[1:]
		}
		for len(after) > 0 && after[0].ts.Before(m.TS.Time) {
			rows, after = append(rows, after[0]), after[1:]
		}
		rows = append(rows, ladderRow{ts: m.TS.Time, from: m.From, label: labels[i]})
	}
	rows = append(rows, before...)
	return append(rows, after...)
}

// nbsp joins the words of s so that wrap keeps them on one line; Ladder
// turns the joins back into spaces when it is done.
func nbsp(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }

func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

func ladderHeader(b *strings.Builder, r *flows.Record, width int) {
	uid := Sanitize(r.UID)
	if uid == "" {
		uid = "-"
	}
	line := uid + "  " + endpoint(r.Client) + " → " + endpoint(r.Server)
	sni := ""
	if r.SNI != "" {
		sni = "SNI " + Sanitize(r.SNI)
	}
	if sni != "" && utf8.RuneCountInString(line)+2+utf8.RuneCountInString(sni) <= width {
		line += "  " + sni
		sni = ""
	}
	b.WriteString("== " + line + "\n")
	var parts []string
	if sni != "" {
		parts = append(parts, truncate(sni, width-3))
	}
	second := []string{}
	if t := transportLabel(r); t != "" {
		second = append(second, t)
	}
	if r.Version != "" {
		second = append(second, Sanitize(r.Version))
	}
	if r.Cipher != "" {
		second = append(second, Sanitize(r.Cipher))
	}
	if r.ALPN != "" {
		second = append(second, "ALPN "+Sanitize(r.ALPN))
	}
	status := Sanitize(r.Status)
	if status == "" {
		status = "status unknown"
	}
	second = append(second, status)
	parts = append(parts, strings.Join(second, ", "))
	if !r.TS.IsZero() {
		started := "started " + r.TS.UTC().Format("2006-01-02 15:04:05.000000 UTC")
		if r.StartTLS != "" {
			// TLS began after a plaintext prelude; times count from the
			// connection's first packet, not from the ClientHello.
			started += ", TLS after a " + Sanitize(r.StartTLS) + " STARTTLS prelude"
		}
		parts = append(parts, started)
	}
	for _, p := range parts {
		for _, l := range wrap(p, width-3) {
			b.WriteString("   " + l + "\n")
		}
	}
	b.WriteString("\n")
}

// transportLabel names a datagram transport for a connection's header:
// "QUIC v1"; "" over TCP, and for DTLS when the version says it.
func transportLabel(r *flows.Record) string {
	switch {
	case r.QUIC != nil:
		if r.QUIC.Version != "" {
			return "QUIC " + Sanitize(r.QUIC.Version)
		}
		return "QUIC"
	case r.Transport == "dtls" && !strings.HasPrefix(r.Version, "DTLS"):
		return "DTLS"
	}
	return ""
}

// datagramNotes are the ladder's notes on what QUIC or DTLS told.
func datagramNotes(r *flows.Record) []string {
	var notes []string
	if q := r.QUIC; q != nil {
		if q.Retry {
			notes = append(notes, "the server asked for address validation (Retry)")
		}
		if q.Paths > 1 {
			notes = append(notes, fmt.Sprintf("the connection moved: %d address pairs, followed by connection ID", q.Paths))
		}
		if len(q.VersionNegotiation) > 0 {
			vs := make([]string, len(q.VersionNegotiation))
			for i, v := range q.VersionNegotiation {
				vs[i] = Sanitize(v)
			}
			notes = append(notes, "version negotiation offered "+strings.Join(vs, ", "))
		}
		if cl := q.Close; cl != nil {
			what := cl.Error
			if cl.Application {
				what = fmt.Sprintf("application error 0x%x", cl.ErrorCode)
			}
			line := "CONNECTION_CLOSE from the " + cl.From.String() + ": " + Sanitize(what)
			if cl.Reason != "" {
				line += ` ("` + Sanitize(cl.Reason) + `")`
			}
			notes = append(notes, line)
		}
	}
	if d := r.DTLS; d != nil {
		if n := d.ClientRetransmissions + d.ServerRetransmissions; n > 0 {
			notes = append(notes, fmt.Sprintf("retransmitted handshake messages: %d from the client, %d from the server (folded)", d.ClientRetransmissions, d.ServerRetransmissions))
		}
		if d.SRTPProfile != "" {
			notes = append(notes, "DTLS-SRTP profile "+Sanitize(d.SRTPProfile))
		}
	}
	return notes
}

// ladderLabels names every message of r, with what the record knows
// about it: tickets, certificates, alerts, folded data.
func ladderLabels(r *flows.Record) []string {
	labels := make([]string, len(r.Messages))
	// Alerts are matched to alert messages in order, per direction.
	alertsBy := map[packet.Dir][]flows.Alert{}
	for _, a := range r.Alerts {
		alertsBy[a.From] = append(alertsBy[a.From], a)
	}
	nst := 0
	for _, m := range r.Messages {
		if m.Type == dissect.HandshakeMsg(dissect.TypeNewSessionTicket) && m.From == packet.FromServer {
			nst++
		}
	}
	seenNST := 0
	for i, m := range r.Messages {
		name := msgName(m.Type.String())
		var note string
		switch m.Type {
		case dissect.HandshakeMsg(dissect.TypeClientHello):
			var notes []string
			if st := r.SessionTicket; st.Offered {
				kind := "ticket"
				if r.Resumption == "psk" || r.Version == "TLS 1.3" {
					kind = "PSK"
				}
				if st.OfferedSHA256 != "" {
					notes = append(notes, nbsp(kind+" "+shortHash(st.OfferedSHA256)))
				} else {
					notes = append(notes, kind)
				}
			}
			if r.EarlyData != "" {
				notes = append(notes, nbsp("early data "+Sanitize(r.EarlyData)))
			}
			if len(notes) > 0 {
				note = " [" + strings.Join(notes, ", ") + "]"
			}
		case dissect.HandshakeMsg(dissect.TypeNewSessionTicket):
			seenNST++
			st := r.SessionTicket
			// The record keeps the last ticket issued.
			if m.From == packet.FromServer && st.Issued && seenNST == nst {
				parts := []string{}
				if st.SHA256 != "" {
					parts = append(parts, nbsp("ticket "+shortHash(st.SHA256)))
				}
				if st.LifetimeHint == 0 {
					// RFC 5077 3.3: zero means the lifetime is unspecified.
					parts = append(parts, nbsp("lifetime unspecified"))
				} else {
					parts = append(parts, nbsp("lifetime "+strconv.FormatUint(uint64(st.LifetimeHint), 10)+" s"))
				}
				note = " [" + strings.Join(parts, ", ") + "]"
			}
		case dissect.HandshakeMsg(dissect.TypeCertificate):
			certs := r.Certificates
			if m.From == packet.FromClient {
				certs = r.ClientCertificates
			}
			if len(certs) == 0 && !m.Encrypted && m.From == packet.FromClient {
				// RFC 5246 7.4.6: a client without a suitable certificate
				// answers a CertificateRequest with an empty list.
				note = " [empty]"
			}
			if len(certs) > 0 && !m.Encrypted {
				s := fmt.Sprintf("%d\u00a0cert", len(certs))
				if len(certs) > 1 {
					s += "s"
				}
				if cn := commonNames(certs[0].Subject); len(cn) > 0 {
					s += ", " + truncate(Sanitize(cn[0]), 32)
				}
				note = " [" + s + "]"
			}
		case dissect.MsgAlert:
			as := alertsBy[m.From]
			if len(as) > 0 {
				a := as[0]
				alertsBy[m.From] = as[1:]
				if !a.Encrypted {
					note = " " + alertText(a)
				}
			}
		case dissect.MsgApplicationData:
			n := max(m.Count, 1)
			bytes := m.Bytes
			if bytes == 0 {
				bytes = m.Length
			}
			if n > 1 {
				note = " ×" + strconv.Itoa(n)
				note += ", " + nbsp(byteSize(int64(bytes)))
			} else {
				note = ", " + nbsp(byteSize(int64(bytes)))
			}
			labels[i] = name + note
			continue
		}
		if m.Count > 1 {
			note += " ×" + strconv.Itoa(m.Count)
		}
		if m.Encrypted {
			labels[i] = "{" + name + "}" + note
		} else {
			labels[i] = name + note
		}
	}
	return labels
}

func ladderFooter(b *strings.Builder, r *flows.Record, width int) {
	var notes []string
	st := r.SessionTicket
	if st.IssuedBy != "" {
		s := "resumed ticket issued by " + Sanitize(st.IssuedBy) + ", " + seconds(st.RedeemedAfter) + " earlier"
		if !r.Resumed {
			s = "offered a ticket issued by " + Sanitize(st.IssuedBy) + ", " + seconds(st.RedeemedAfter) + " earlier; the server did not resume it"
		}
		notes = append(notes, s)
	} else if r.Resumed && r.ResumedFrom != "" {
		notes = append(notes, "resumed the "+Sanitize(r.Resumption)+" session of "+Sanitize(r.ResumedFrom))
	} else if r.Resumed {
		how := Sanitize(r.Resumption)
		if how == "" {
			how = "session"
		}
		notes = append(notes, "resumed ("+how+") a session not seen in this capture")
	}
	if st.LifetimeExpired {
		notes = append(notes, "the ticket was redeemed after its lifetime hint")
	}
	if st.Reused {
		notes = append(notes, "this ticket was already presented by an earlier connection (replay?)")
	}
	if r.Renegotiations > 0 {
		notes = append(notes, fmt.Sprintf("renegotiated %d time(s)", r.Renegotiations))
	}
	notes = append(notes, datagramNotes(r)...)
	if len(r.Anomalies) > 0 {
		as := make([]string, len(r.Anomalies))
		for i, a := range r.Anomalies {
			as[i] = Sanitize(a)
		}
		notes = append(notes, "anomalies: "+strings.Join(as, ", "))
		// The first few in detail: where and when, for the forensic
		// reader; the JSON record has them all.
		for i, a := range r.AnomalyDetails {
			if i == maxAnomalyLines {
				notes = append(notes, fmt.Sprintf("  … %d more", len(r.AnomalyDetails)-i))
				break
			}
			var at []string
			if a.From != "" {
				at = append(at, "from the "+Sanitize(a.From))
			}
			if !a.TS.IsZero() && !r.TS.IsZero() {
				at = append(at, "at "+since(a.TS.Sub(r.TS.Time)))
			}
			if a.Bytes > 0 {
				at = append(at, byteSize(int64(a.Bytes)))
			}
			line := "  " + Sanitize(a.Kind)
			if len(at) > 0 {
				line += " (" + strings.Join(at, ", ") + ")"
			}
			if a.Detail != "" {
				line += ": " + Sanitize(a.Detail)
			}
			notes = append(notes, line)
		}
	}
	if r.Validation != "" && r.Validation != "ok" {
		notes = append(notes, "certificate validation: "+Sanitize(r.Validation))
	}
	switch {
	case r.Failure != nil:
		f := r.Failure
		head := "FAILED: " + Sanitize(f.Reason)
		var by []string
		if f.By != "" {
			by = append(by, "by the "+Sanitize(f.By))
		}
		if f.Alert != "" {
			by = append(by, "alert "+Sanitize(f.Alert))
		}
		if f.Confidence != "" {
			by = append(by, Sanitize(f.Confidence))
		}
		if len(by) > 0 {
			head += " (" + strings.Join(by, ", ") + ")"
		}
		notes = append(notes, head)
		if f.Explanation != "" {
			notes = append(notes, "  "+Sanitize(f.Explanation))
		}
		for _, e := range f.Evidence {
			notes = append(notes, "  - "+Sanitize(e))
		}
		if f.Hint != "" {
			notes = append(notes, "  to settle it: "+Sanitize(f.Hint))
		}
	case r.Status == flows.StatusIncomplete:
		s := "incomplete: the handshake did not finish"
		if r.Close != "" {
			s += " before the connection ended (" + Sanitize(r.Close) + ")"
		}
		notes = append(notes, s)
	}
	if len(notes) == 0 {
		return
	}
	b.WriteString("\n")
	for _, n := range notes {
		indent, more := "   ", "   "
		if strings.HasPrefix(n, "  ") {
			indent, more = "     ", "     "
			n = n[2:]
		}
		if strings.HasPrefix(n, "- ") {
			more += "  " // an evidence line's continuation under its text
		}
		for i, l := range wrap(n, width-len(more)) {
			if i > 0 {
				indent = more
			}
			b.WriteString(indent + l + "\n")
		}
	}
}

// wrap breaks s at ASCII spaces (not at the no-break spaces nbsp puts in)
// into lines of at most n runes; a word longer than a line is split.
func wrap(s string, n int) []string {
	n = max(n, 10)
	var out []string
	cur := ""
	for word := range strings.SplitSeq(s, " ") {
		if word == "" {
			continue
		}
		for utf8.RuneCountInString(word) > n {
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
			i, k := 0, 0
			for k < n {
				_, sz := utf8.DecodeRuneInString(word[i:])
				i += sz
				k++
			}
			out = append(out, word[:i])
			word = word[i:]
		}
		switch {
		case cur == "":
			cur = word
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(word) <= n:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
