package output

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/packet"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t testing.TB, format string, opts Options, recs []*flows.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("%s: Write: %v", format, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("%s: Close: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name, format string
		opts         Options
	}{
		{"table", "table", Options{}},
		{"table_wide", "table", Options{Width: 200}},
		{"table_stream", "table", Options{Stream: true}},
		{"ladder", "ladder", Options{}},
		{"json", "json", Options{}},
		{"ecs", "ecs", Options{}},
		{"zeek", "zeek", Options{}},
		{"zeek_json", "zeek-json", Options{}},
		{"summary", "summary", Options{Title: "fixtures"}},
		{"table_nolegend", "table", Options{NoLegend: true}},
		{"table_stream_nolegend", "table", Options{Stream: true, NoLegend: true}},
		{"summary_nolegend", "summary", Options{Title: "fixtures", NoLegend: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, c.format, c.opts, append(fixtures(), datagramFixtures()...))
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", c.name, path, diff(string(want), string(got)))
			}
		})
	}
}

// diff is a line diff of want and got (longest common subsequence),
// printing changed lines with two lines of context.
func diff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, line{' ', a[i]})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, line{'+', b[j]})
			j++
		default:
			ops = append(ops, line{'-', a[i]})
			i++
		}
	}
	var out strings.Builder
	last := -100
	for k, o := range ops {
		near := false
		for d := -2; d <= 2; d++ {
			if k+d >= 0 && k+d < len(ops) && ops[k+d].op != ' ' {
				near = true
			}
		}
		if !near {
			continue
		}
		if k > last+1 {
			fmt.Fprintf(&out, "@@ line %d\n", k+1)
		}
		fmt.Fprintf(&out, "%c %q\n", o.op, o.text)
		last = k
	}
	return out.String()
}

func TestNewUnknownFormat(t *testing.T) {
	_, err := New("xml", &bytes.Buffer{}, Options{})
	if err == nil {
		t.Fatal("New accepted an unknown format")
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %q", err, f)
		}
		if _, err := New(f, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
}

// countingFlusher counts flushes, to check JSON lines are pushed per record.
type countingFlusher struct {
	bytes.Buffer
	flushes int
}

func (c *countingFlusher) Flush() error { c.flushes++; return nil }

func TestLineFormatsFlushPerRecord(t *testing.T) {
	for _, f := range []string{"json", "ecs", "zeek", "zeek-json", "ladder"} {
		var c countingFlusher
		w, _ := New(f, &c, Options{})
		for i, r := range fixtures()[:3] {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
			if c.flushes != i+1 {
				t.Errorf("%s: %d flushes after %d records", f, c.flushes, i+1)
			}
		}
		// A bufio.Writer must have handed the line on too.
		var sink bytes.Buffer
		bw := bufio.NewWriterSize(&sink, 1<<16)
		w, _ = New(f, bw, Options{})
		if err := w.Write(fixtures()[0]); err != nil {
			t.Fatal(err)
		}
		if sink.Len() == 0 {
			t.Errorf("%s: a record written to a bufio.Writer was not flushed", f)
		}
	}
}

func TestTableStreamFlushesPerRow(t *testing.T) {
	var c countingFlusher
	w, _ := New("table", &c, Options{Stream: true})
	for i, r := range fixtures()[:3] {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if c.flushes != i+1 || !strings.Contains(c.String(), r.Client.IP) {
			t.Errorf("row %d not flushed (%d flushes)", i+1, c.flushes)
		}
	}
	// Buffered mode prints nothing before Close.
	var b bytes.Buffer
	w, _ = New("table", &b, Options{})
	_ = w.Write(fixtures()[0])
	if b.Len() != 0 {
		t.Error("the buffered table printed before Close")
	}
}

func TestCompactMessagesCapped(t *testing.T) {
	var ms []flows.Message
	for i := range 1024 {
		from := "client"
		if i%2 == 1 {
			from = "server"
		}
		ms = append(ms, flows.Message{From: dirOf(from), Type: typeOf("application_data"), Count: 1})
	}
	got := compactMessages(ms)
	if !strings.HasSuffix(got, " …+976") || strings.Count(got, "AD") != maxTokens {
		t.Errorf("capped notation: %q", got)
	}
	if got := compactMessages(ms[:3]); got != "→AD ←AD →AD" {
		t.Errorf("short notation %q", got)
	}
	// Alike messages in a row fold, counts add up; a change of type,
	// direction or encryption ends the run.
	run := []flows.Message{
		{From: packet.FromClient, Type: typeOf("client_hello")},
		{From: packet.FromServer, Type: typeOf("encrypted_handshake"), Encrypted: true, Count: 1},
		{From: packet.FromServer, Type: typeOf("encrypted_handshake"), Encrypted: true, Count: 1},
		{From: packet.FromServer, Type: typeOf("encrypted_handshake"), Encrypted: true, Count: 2},
		{From: packet.FromServer, Type: typeOf("application_data"), Encrypted: true, Count: 3},
		{From: packet.FromServer, Type: typeOf("application_data"), Encrypted: true, Count: 2},
		{From: packet.FromClient, Type: typeOf("application_data"), Encrypted: true, Count: 1},
		{From: packet.FromClient, Type: typeOf("alert"), Encrypted: false},
		{From: packet.FromClient, Type: typeOf("alert"), Encrypted: true},
	}
	if got, want := compactMessages(run), "→CH ←{EH}×4 AD×5 →AD A {A}"; got != want {
		t.Errorf("folded notation %q, want %q", got, want)
	}
}

// TestTextFitsWidth checks the terminal formats keep to the width they
// are given, hostile fixtures included.
func TestTextFitsWidth(t *testing.T) {
	for _, c := range []struct {
		format string
		width  int
	}{{"table", 80}, {"table", 200}, {"table", 120}, {"ladder", 80}, {"ladder", 100}, {"summary", 80}, {"summary", 100}} {
		out := string(render(t, c.format, Options{Width: c.width}, fixtures()))
		for i, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > c.width {
				t.Errorf("%s at %d: line %d has %d cells: %q", c.format, c.width, i+1, n, l)
			}
		}
	}
}
