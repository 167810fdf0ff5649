// Package output renders flows.Record values: a terminal table, RFC-style
// ladder diagrams, JSON lines (our own schema, Elastic Common Schema and a
// Zeek ssl.log shape), a failure summary and a self-contained HTML report.
//
// Every string that came off the wire goes through Sanitize before it
// reaches a terminal, and through html/template or encoding/json escaping
// before it reaches a browser or a SIEM.
package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Options configure a Writer.
type Options struct {
	// Width is the terminal width the text formats fit; 0 means 80.
	Width int
	// Color allows ANSI colours in terminal formats. It is never on unless
	// asked for; the formats here currently draw without colour either way.
	Color bool
	// Title is added to report headings (summary, html).
	Title string
	// Stream makes the table print each row as it arrives, with fixed
	// column widths, instead of waiting for Close (for live capture).
	Stream bool
	// MaxDetails caps the failed connections drawn in full in the HTML
	// report; 0 means 500.
	MaxDetails int
	// MaxRows caps the rows of the HTML connection list; 0 means 5000.
	MaxRows int
	// NoLegend leaves out the key printed under the table and summary
	// formats (for a reader who knows it, or a script).
	NoLegend bool
}

func (o Options) width() int {
	if o.Width <= 0 {
		return 80
	}
	return o.Width
}

// Writer renders records one at a time. Close renders what needs the whole
// set (table widths, summaries) and flushes; it does not close the
// underlying io.Writer. A Writer is not safe for concurrent use, and it
// does not keep r after Write returns (formats that need the whole set
// keep what they print, not the record).
type Writer interface {
	Write(r *flows.Record) error
	Close() error
}

// formats in the order Formats reports them; the first is the default.
var formats = [...]string{"table", "ladder", "json", "ecs", "zeek", "zeek-json", "summary", "html"}

// Formats lists the format names New accepts.
func Formats() []string { return append([]string(nil), formats[:]...) }

// New returns a Writer of the named format writing to w. An empty format
// means "table".
func New(format string, w io.Writer, opts Options) (Writer, error) {
	switch format {
	case "", "table":
		return newTable(w, opts), nil
	case "ladder":
		return newLadderWriter(w, opts), nil
	case "json":
		return newJSON(w), nil
	case "ecs":
		return newECS(w), nil
	case "zeek":
		return newZeekTSV(w), nil
	case "zeek-json":
		return newZeekJSON(w), nil
	case "summary":
		return newSummary(w, opts), nil
	case "html":
		return newHTML(w, opts), nil
	}
	return nil, fmt.Errorf("output: unknown format %q (valid: %s)", format, strings.Join(formats[:], ", "))
}

// flush pushes buffered output through so that `tail -f` and pipes see
// each record as soon as it is written.
func flush(w io.Writer) error {
	switch f := w.(type) {
	case *bufio.Writer:
		return f.Flush()
	case interface{ Flush() error }:
		return f.Flush()
	case interface{ Flush() }:
		f.Flush()
	}
	return nil
}
