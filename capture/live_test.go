package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/packet"
)

// canCaptureOnLo reports whether a live capture on the loopback interface
// can be attempted: root (we do not test capabilities) and an "lo".
func canCaptureOnLo(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip("no lo interface")
	}
}

func TestLiveLoopback(t *testing.T) {
	canCaptureOnLo(t)
	// "any" captures Linux cooked frames (SLL, or SLL2 where libpcap
	// insists on it).
	for _, tc := range []struct{ iface, linkType string }{{"lo", "EN10MB"}, {"any", "LINUX_SLL"}} {
		t.Run(tc.iface, func(t *testing.T) { testLive(t, tc.iface, tc.linkType) })
	}
}

func testLive(t *testing.T, iface, linkType string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := OpenLive(iface, LiveOptions{Options: Options{Filter: fmt.Sprintf("tcp port %d", port)}, Immediate: true})
	if err != nil {
		if errors.Is(err, ErrLive) && strings.Contains(err.Error(), "permission denied") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if s.LinkType() != linkType {
		t.Errorf("LinkType %q on %s, want %s", s.LinkType(), iface, linkType)
	}
	// A safety net, not a timed assertion: if the traffic never shows up,
	// stop the capture so that the test fails instead of hanging.
	stop := time.AfterFunc(30*time.Second, func() { s.Close() })
	defer stop.Stop()

	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
		c.Close()
	}()
	msg := []byte("hello over the loopback")
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// A status printer reads Stats while Next runs (go test -race checks it).
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		for range 50 {
			_ = s.Stats()
		}
	}()
	defer func() { <-statsDone }()

	var sawSYN, sawData bool
	for !sawData {
		var seg packet.Segment
		if err := s.Next(&seg); err != nil {
			t.Fatalf("Next: %v (saw SYN: %v)", err, sawSYN)
		}
		if seg.Dst.Port() != uint16(port) && seg.Src.Port() != uint16(port) {
			t.Fatalf("segment %v -> %v passed the filter for port %d", seg.Src, seg.Dst, port)
		}
		sawSYN = sawSYN || seg.Flags&packet.FlagSYN != 0
		sawData = bytes.Equal(seg.Payload, msg)
	}
	if !sawSYN {
		t.Error("data without a SYN before it")
	}
	if st := s.Stats(); st.PcapReceived == 0 || st.TCPSegments < 2 {
		t.Errorf("stats %+v", st)
	}
	// Close from another goroutine ends Next with io.EOF.
	done := make(chan error)
	go func() {
		var seg packet.Segment
		for {
			if err := s.Next(&seg); err != nil {
				done <- err
				return
			}
		}
	}()
	s.Close()
	if err := <-done; err != io.EOF {
		t.Errorf("Next after Close: %v, want io.EOF", err)
	}
	if st := s.Stats(); st.PcapReceived == 0 {
		t.Errorf("Stats after Close lost libpcap's counts: %+v", st)
	}
}

func TestLiveInvalidFilter(t *testing.T) {
	canCaptureOnLo(t)
	_, err := OpenLive("lo", LiveOptions{Options: Options{Filter: "tcp prt 443"}})
	if !errors.Is(err, ErrFilter) || !strings.Contains(err.Error(), `invalid filter "tcp prt 443"`) {
		t.Errorf("%v, want an invalid filter error", err)
	}
}

func TestLiveNoSuchDevice(t *testing.T) {
	_, err := OpenLive("nosuchdev0", LiveOptions{})
	if !errors.Is(err, ErrLive) {
		t.Fatalf("%v, want ErrLive", err)
	}
	if os.Geteuid() != 0 {
		return // libpcap may refuse the socket before it looks for the device
	}
	msg := err.Error()
	if !strings.Contains(msg, "capture: nosuchdev0: no such device (available: ") ||
		!strings.Contains(msg, "lo") || strings.Contains(msg, "\n") {
		t.Errorf("message %q", msg)
	}
}

func TestLiveErrorMessages(t *testing.T) {
	tests := []struct{ pcapErr, want string }{
		{"Permission Denied", "setcap cap_net_raw,cap_net_admin=eip $(command -v tlsdissect)"},
		{"socket: Operation not permitted", "needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities"},
		{"Interface Not Up", "interface is down; bring it up with: ip link set eth7 up"},
		{"something else entirely", "capture: eth7: something else entirely"},
	}
	for _, tc := range tests {
		err := liveError("eth7", errors.New(tc.pcapErr))
		if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrLive) {
			t.Errorf("liveError(%q) = %q, want it to contain %q", tc.pcapErr, err, tc.want)
		}
	}
}

func TestListDevices(t *testing.T) {
	canCaptureOnLo(t)
	devs, err := ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Name == "lo" {
			if !d.Loopback {
				t.Errorf("lo is not marked loopback: %+v", d)
			}
			return
		}
	}
	t.Errorf("lo not in %+v", devs)
}

// TestLiveWakeOnTimeout: on a quiet interface, Next returns ErrNoPacket
// after the read timeout instead of blocking, when asked to.
func TestLiveWakeOnTimeout(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
	// A filter nothing matches keeps the interface quiet.
	s, err := OpenLive("lo", LiveOptions{Options: Options{Filter: "tcp port 9 and tcp port 7"}, Timeout: 50 * time.Millisecond, WakeOnTimeout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seg packet.Segment
	if err := s.Next(&seg); !errors.Is(err, ErrNoPacket) {
		t.Fatalf("Next = %v, want ErrNoPacket", err)
	}
}
