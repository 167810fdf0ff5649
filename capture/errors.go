package capture

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Source returns for a damaged or unusable
// input wraps one of these (through *FileError), so that callers can pick an
// exit code or a message with errors.Is.
var (
	// ErrTruncated: the input ended in the middle of a header or a packet.
	// Next returns it only after every complete packet before the damage.
	ErrTruncated = errors.New("capture: truncated")
	// ErrNotCapture: the input is neither a pcap nor a pcapng file.
	ErrNotCapture = errors.New("capture: not a pcap or pcapng file")
	// ErrUnsupportedLinkType: a live interface's link layer is not one we
	// decode. A file of such a link type opens; its packets are skipped
	// and counted (Stats.Skipped[SkipLinkType]).
	ErrUnsupportedLinkType = errors.New("capture: unsupported link type")
	// ErrCorrupt: a file or block header is inconsistent, so the framing of
	// the rest of the file cannot be trusted.
	ErrCorrupt = errors.New("capture: corrupted header")
	// ErrFilter: the BPF filter expression did not compile.
	ErrFilter = errors.New("capture: invalid filter")
	// ErrLive: a live capture could not be started (no such device,
	// permission denied, interface down, ...).
	ErrLive = errors.New("capture: cannot capture")
	// ErrNoPacket: a live read timed out with nothing to hand out (only
	// with LiveOptions.WakeOnTimeout). Not a failure: call Next again.
	ErrNoPacket = errors.New("capture: no packet before the read timeout")
)

// FileError describes what is wrong with an input, in one line naming the
// input and the problem.
type FileError struct {
	Name   string // the file as given ("-" is shown as "stdin"), or the interface
	Offset int64  // byte offset in the (decompressed) input; -1 when not meaningful
	// Packets is how many packets were read whole before the problem.
	Packets uint64
	Field   string // the structure that failed, e.g. "pcap file header", "enhanced packet block"
	Msg     string // the problem, in words
	Err     error  // one of the sentinels above, or an underlying error
}

func (e *FileError) Error() string {
	name := e.Name
	if name == "-" {
		name = "stdin"
	}
	s := "capture: " + name + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Msg
	switch {
	case e.Offset >= 0 && e.Packets > 0:
		s += fmt.Sprintf(" (at byte %d, after packet %d)", e.Offset, e.Packets)
	case e.Offset >= 0:
		s += fmt.Sprintf(" (at byte %d)", e.Offset)
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }
