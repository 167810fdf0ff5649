package output

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain ascii", "www.example.com", "www.example.com"},
		{"unicode letters kept", "bücher.例え.jp", "bücher.例え.jp"},
		{"emoji kept", "☃.example", "☃.example"},
		{"clear screen", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"osc title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"bell", "\a", `\x07`},
		{"nul", "a\x00b", `a\x00b`},
		{"newline and cr", "a\nb\rc", `a\x0ab\x0dc`},
		{"tab", "a\tb", `a\x09b`},
		{"del", "a\x7fb", `a\x7fb`},
		{"c1 csi", "a\u009b31mb", `a\u{9b}31mb`},
		{"c1 nel", "\u0085", `\u{85}`},
		{"invalid utf8 byte", "a\xffb", `a\xffb`},
		{"truncated utf8", "a\xe2\x82", `a\xe2\x82`},
		{"overlong", "\xc0\xaf", `\xc0\xaf`},
		{"surrogate half", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"rlo", "gnp\u202eexe", `gnp\u{202e}exe`},
		{"lre pdf", "\u202ax\u202c", `\u{202a}x\u{202c}`},
		{"isolates", "\u2066x\u2067y\u2068z\u2069", `\u{2066}x\u{2067}y\u{2068}z\u{2069}`},
		{"marks", "\u200e\u200f\u061c", `\u{200e}\u{200f}\u{61c}`},
		{"line separator", "a\u2028b\u2029", `a\u{2028}b\u{2029}`},
		{"bom and zero width space", "\ufeff\u200b", `\u{feff}\u{200b}`},
		{"private use", "\ue000", `\u{e000}`},
		{"backslash", `a\x1b`, `a\\x1b`},
		{"html is not a terminal hazard", "<script>", "<script>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Sanitize(c.in)
			if got != c.want {
				t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
			}
			checkSafe(t, got)
			if Sanitize(c.in) != got {
				t.Error("not deterministic")
			}
		})
	}
}

// checkSafe fails if s holds anything a terminal would act on.
func checkSafe(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%q is not valid UTF-8", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Errorf("%q still holds %U", s, r)
		}
	}
}

func TestSanitizeNoAllocForPlainASCII(t *testing.T) {
	s := strings.Repeat("www.example.com", 4)
	if n := testing.AllocsPerRun(100, func() { _ = Sanitize(s) }); n != 0 {
		t.Errorf("Sanitize of plain ASCII allocates %.0f times", n)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "example.com", hostileSNI, "\x1b[2J", "\xff\xfe", "\u202e\u2066", `\\`, "\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		checkSafe(t, got)
		// Printable ASCII without backslashes is returned unchanged.
		plain := true
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f || s[i] == '\\' {
				plain = false
			}
		}
		if plain && got != s {
			t.Errorf("Sanitize(%q) = %q, want it unchanged", s, got)
		}
		if len(got) < len(s) {
			t.Errorf("Sanitize dropped bytes: %q → %q", s, got)
		}
	})
}

var ourSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTerminalFormatsEscapeWire renders the fixtures (hostile strings
// included) in every terminal format: without colour the output holds no
// ESC and no other control byte but newlines; with colour, the only
// escape sequences are our SGR ones.
func TestTerminalFormatsEscapeWire(t *testing.T) {
	for _, f := range []string{"table", "ladder", "summary"} {
		for _, color := range []bool{false, true} {
			for _, width := range []int{80, 200} {
				out := string(render(t, f, Options{Color: color, Width: width, Title: "\x1b[2Jt"}, fixtures()))
				if color {
					out = ourSGR.ReplaceAllString(out, "")
				}
				checkSafe(t, strings.ReplaceAll(out, "\n", " "))
			}
		}
	}
	colored := string(render(t, "table", Options{Color: true}, fixtures()))
	if !strings.Contains(colored, sgrRed+"failed"+sgrReset) {
		t.Error("Color does not colour failures in the table")
	}
	if strings.Contains(string(render(t, "table", Options{}, fixtures())), "\x1b") {
		t.Error("colour without being asked")
	}
}
