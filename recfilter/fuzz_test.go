package recfilter

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/flows"
)

// FuzzCompileEval: any expression either compiles or gives a one-line
// CompileError with a column inside the text (or just past it); one that
// compiles evaluates on records without a panic, the same twice in a row
// (the VM and buffer are reused), and as (E) == true when E is boolean.
func FuzzCompileEval(f *testing.F) {
	for _, s := range []string{
		`status == "failed" and version == "TLS 1.3"`,
		`sni endsWith ".example.com"`,
		`server.port in [443, 8443] and not resumed`,
		`any(alerts, .description == "bad_certificate")`,
		`failure?.reason ?? "none"`,
		`alerts[-1].code`,
		`len(messages) > 3 || session_ticket.issued`,
		`let x = sni; x startsWith "a"`,
		`map(certificates, .subject)[0] matches "CN="`,
		`status ==`, `((`, `"\xff"`,
	} {
		f.Add(s, "api.example.com")
	}
	f.Fuzz(func(t *testing.T, src, sni string) {
		flt, err := Compile(src)
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error %T %v, want *CompileError", src, err, err)
			}
			lines := strings.Split(src, "\n")
			if ce.Line < 1 || ce.Column < 1 || (ce.Line <= len(lines) && ce.Column > utf8.RuneCountInString(lines[ce.Line-1])+1) {
				t.Fatalf("%q: position %d:%d outside the text", src, ce.Line, ce.Column)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: error of several lines %q", src, err)
			}
			return
		}
		for _, r := range [...]func() *flows.Record{failedRecord, okRecord} {
			rec := r()
			rec.SNI = sni
			a, errA := flt.Match(rec)
			b, errB := flt.Match(rec)
			if a != b || (errA == nil) != (errB == nil) {
				t.Fatalf("%q: %v/%v then %v/%v", src, a, errA, b, errB)
			}
			if errA != nil && strings.Contains(errA.Error(), "\n") {
				t.Fatalf("%q: error of several lines %q", src, errA)
			}
			if errA == nil && !strings.Contains(src, "\n") && !strings.Contains(src, "//") && !strings.Contains(src, "/*") {
				wrapped, err := Compile("(" + src + ") ?? false")
				if err == nil {
					c, errC := wrapped.Match(rec)
					if errC == nil && c && !a {
						t.Fatalf("%q: %v alone, %v wrapped", src, a, c)
					}
				}
			}
		}
	})
}
