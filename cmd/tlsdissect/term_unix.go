//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalSize reports whether f is a terminal and, if it says, its width.
func terminalSize(f *os.File) (tty bool, cols int) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return false, 0
	}
	return true, int(ws.Col)
}
