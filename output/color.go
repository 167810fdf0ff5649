package output

import (
	"strings"

	"github.com/tlsdissect/tlsdissect/flows"
)

// SGR sequences, used only when Options.Color asks for them. They are
// added after Sanitize, so the only escape sequences in the output are
// these.
const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "\x1b[1m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
)

// colorStatus colours a (sanitised) status word by outcome.
func colorStatus(s string) string {
	switch s {
	case flows.StatusEstablished, flows.StatusResumed:
		return sgrGreen + s + sgrReset
	case flows.StatusFailed:
		return sgrRed + s + sgrReset
	case flows.StatusIncomplete:
		return sgrYellow + s + sgrReset
	}
	return s
}

// colorLadder makes the header lines of a (sanitised) ladder bold and its
// failure line red.
func colorLadder(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		body := strings.TrimRight(l, "\n")
		switch {
		case strings.HasPrefix(body, "== "):
			lines[i] = sgrBold + body + sgrReset + l[len(body):]
		case strings.HasPrefix(strings.TrimLeft(body, " "), "FAILED: "):
			lines[i] = sgrRed + body + sgrReset + l[len(body):]
		}
	}
	return strings.Join(lines, "")
}
