package output

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tlsdissect/tlsdissect/flows"
)

func renderHTML(t *testing.T, opts Options) (string, *html.Node) {
	t.Helper()
	out := render(t, "html", opts, fixtures())
	if *update && opts.Title == "fixtures" {
		// Not a byte golden (compared by structure), but handy to look at.
		_ = os.WriteFile(filepath.Join("testdata", "report.html"), out, 0o644)
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return string(out), doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func TestHTMLStructure(t *testing.T) {
	page, doc := renderHTML(t, Options{Title: "fixtures"})
	ids := map[string]*html.Node{}
	var hrefs []string
	var title string
	var scripts int
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if id, ok := attr(n, "id"); ok {
			if ids[id] != nil {
				t.Errorf("duplicate id %q", id)
			}
			ids[id] = n
		}
		if h, ok := attr(n, "href"); ok {
			hrefs = append(hrefs, h)
		}
		switch n.Data {
		case "title":
			if n.Parent != nil && n.Parent.Data == "head" {
				title = text(n)
			}
		case "script":
			scripts++
			if _, ok := attr(n, "src"); ok {
				t.Error("a script is loaded from elsewhere")
			}
		case "link", "img", "iframe", "object", "embed":
			t.Errorf("<%s> element in a self-contained page", n.Data)
		}
	})
	if title != "tlsdissect report — fixtures" {
		t.Errorf("title = %q", title)
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want the one inline", scripts)
	}
	for _, s := range []string{"connections", "failures", "negotiated", "handshake", "tickets", "alerts", "anomalies", "list", "details"} {
		if ids[s] == nil {
			t.Errorf("section %q missing", s)
		}
	}
	// Every in-page link lands somewhere; no link leaves the page.
	for _, h := range hrefs {
		if !strings.HasPrefix(h, "#") {
			t.Errorf("link %q leaves the page", h)
		} else if ids[h[1:]] == nil {
			t.Errorf("link %q has no target", h)
		}
	}
	// Every failed connection has its ladder and explanation, linked
	// from its row of the connection list.
	for i, r := range fixtures() {
		n := i + 1
		row := ids["c"+itoa(n)]
		if row == nil {
			t.Errorf("connection %d not listed", n)
			continue
		}
		if r.Status != flows.StatusFailed {
			continue
		}
		d := ids["d"+itoa(n)]
		if d == nil {
			t.Errorf("failed connection %d has no detail", n)
			continue
		}
		dt := text(d)
		if !strings.Contains(dt, "-------->") || !strings.Contains(dt, "ClientHello") {
			t.Errorf("detail of %d has no ladder:\n%s", n, dt)
		}
		if !strings.Contains(dt, Sanitize(r.Failure.Explanation)[:20]) {
			t.Errorf("detail of %d lacks the explanation", n)
		}
		if !strings.Contains(dt, r.Failure.Reason) {
			t.Errorf("detail of %d lacks the reason", n)
		}
		linked := false
		walk(row, func(c *html.Node) {
			if h, _ := attr(c, "href"); h == "#d"+itoa(n) {
				linked = true
			}
		})
		if !linked {
			t.Errorf("row of failed connection %d does not link to its detail", n)
		}
	}
	// Charts are inline SVG.
	if strings.Count(page, "<svg") < 4 {
		t.Errorf("%d charts, want at least 4", strings.Count(page, "<svg"))
	}
	for _, want := range []string{"Failures over capture time", "Handshake duration", "Cipher suites", "Versions"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

var externalRef = regexp.MustCompile(`(?i)(https?:|//[a-z0-9]|@import|url\(|src=|<link|xmlns)`)

func TestHTMLSelfContained(t *testing.T) {
	page, _ := renderHTML(t, Options{})
	if m := externalRef.FindAllString(page, -1); m != nil {
		t.Errorf("external references in the page: %q", m)
	}
}

func TestHTMLEscapesHostileStrings(t *testing.T) {
	page, doc := renderHTML(t, Options{})
	for _, bad := range []string{"<script>alert", "<b>bold", "\x1b", "\x07", "\xff"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile SNI is not shown escaped")
	}
	// The DOM must hold the string as text, never as an element.
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "b" {
			t.Error("a <b> element came from the wire")
		}
	})
	// Terminal escapes are neutralised in the ladders too.
	if !strings.Contains(page, `\x1b[2J`) {
		t.Error("ladder text does not show ESC escaped")
	}
}

func TestHTMLCapsDetails(t *testing.T) {
	page, doc := renderHTML(t, Options{MaxDetails: 2, MaxRows: 3})
	details := 0
	rows := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if c, _ := attr(n, "class"); c == "detail" {
			details++
		}
		if id, _ := attr(n, "id"); n.Data == "tr" && strings.HasPrefix(id, "c") {
			rows++
		}
	})
	if details != 2 || rows != 3 {
		t.Errorf("%d details and %d rows, want 2 and 3", details, rows)
	}
	if !strings.Contains(page, "Only the first 2 of 5 failed connections are drawn.") {
		t.Error("the cap on details is not stated")
	}
	if !strings.Contains(page, "Only the first 3 of 9 connections are listed.") {
		t.Error("the cap on rows is not stated")
	}
}

func TestHTMLWithoutRecords(t *testing.T) {
	out := render(t, "html", Options{}, nil)
	if !bytes.Contains(out, []byte("No failed connection.")) {
		t.Error("empty report does not say there is nothing")
	}
}
