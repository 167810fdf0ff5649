package main

import (
	"io"
	"os"
	"strconv"
)

// detectTerminal settles the width and colour: -width and -color always
// win; otherwise, when the records go to a terminal, its width (COLUMNS
// first, then the terminal's own) and colour unless NO_COLOR is set or
// TERM is dumb. A pipe or a file gets 80 columns and no colour, so that
// what is written does not depend on where it was run.
func (o *options) detectTerminal(stdout io.Writer, getenv func(string) string) {
	tty, cols := false, 0
	if f, ok := stdout.(*os.File); ok && o.outFile == "" {
		tty, cols = terminalSize(f)
	}
	o.width, o.colorOn = terminalSettings(o, tty, cols, getenv)
}

// terminalSettings is detectTerminal's decision, apart from the terminal:
// tty says whether the records go to one, cols is its width (0 unknown).
func terminalSettings(o *options, tty bool, cols int, getenv func(string) string) (width int, color bool) {
	width = o.width
	if !o.widthSet && tty {
		if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
			cols = n
		}
		if cols > 0 {
			width = max(cols, 40)
		}
	}
	switch o.color {
	case "always":
		color = true
	case "never":
		color = false
	default:
		color = tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	}
	return width, color
}
