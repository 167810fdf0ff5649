//go:build !unix

package main

import "os"

// terminalSize: without the ioctl, a character device is taken for a
// terminal of unknown width.
func terminalSize(f *os.File) (tty bool, cols int) {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0, 0
}
