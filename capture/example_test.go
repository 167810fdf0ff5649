package capture_test

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tlsdissect/tlsdissect/capture"
	"github.com/tlsdissect/tlsdissect/packet"
)

// The loop every user of a Source writes. Errors from Next other than
// io.EOF come after every packet that could be read: a truncated file
// still yields all its complete packets.
func ExampleOpenFile() {
	src, err := capture.OpenFile("trace.pcapng", capture.Options{Filter: "tcp port 443"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // e.g. capture: trace.pcapng: no such file
		return
	}
	defer src.Close()
	var seg packet.Segment
	for {
		err := src.Next(&seg)
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, capture.ErrTruncated) {
				fmt.Fprintln(os.Stderr, "warning:", err)
			} else {
				fmt.Fprintln(os.Stderr, err)
			}
			break
		}
		// seg.Payload is valid until the next call to Next.
		fmt.Println(seg.Timestamp, seg.Src, "->", seg.Dst, len(seg.Payload))
	}
	st := src.Stats()
	fmt.Fprintf(os.Stderr, "%d packets, %d TCP segments, %d filtered, %d undecodable\n",
		st.Packets, st.TCPSegments, st.Filtered, st.DecodeErrors)
}
