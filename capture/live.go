package capture

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// LiveOptions configure a live capture.
type LiveOptions struct {
	Options
	Promisc bool
	// BufferSize is the kernel buffer size in bytes; 0 keeps libpcap's default.
	BufferSize int
	// Timeout is the libpcap read timeout; 0 means DefaultLiveTimeout.
	// Packets are delivered in batches at most this old (unless
	// Immediate), and Close takes at most this long to stop a read.
	Timeout time.Duration
	// Immediate delivers each packet as soon as it arrives.
	Immediate bool
	// WakeOnTimeout makes Next return ErrNoPacket when a read timeout
	// passes without a packet, so that the caller can expire idle
	// connections and print statistics on a quiet link.
	WakeOnTimeout bool
}

// Device is a capture interface, for -D.
type Device struct {
	Name, Description string
	Addresses         []string
	Up, Loopback      bool
}

// pcap_if_t flags (pcap/pcap.h).
const (
	pcapIfLoopback = 0x1
	pcapIfUp       = 0x2
)

// ListDevices lists the interfaces libpcap can capture on.
func ListDevices() ([]Device, error) {
	ifs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, fmt.Errorf("capture: listing devices: %w", err)
	}
	devs := make([]Device, 0, len(ifs))
	for _, ifc := range ifs {
		d := Device{
			Name:        ifc.Name,
			Description: ifc.Description,
			Up:          ifc.Flags&pcapIfUp != 0,
			Loopback:    ifc.Flags&pcapIfLoopback != 0,
		}
		for _, a := range ifc.Addresses {
			if a.IP != nil {
				d.Addresses = append(d.Addresses, a.IP.String())
			}
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// OpenLive starts a capture on an interface ("any" on Linux captures on
// all of them, as Linux cooked frames).
func OpenLive(iface string, opts LiveOptions) (*Source, error) {
	opts.Options = opts.Options.withDefaults()
	if opts.Timeout <= 0 {
		// A positive timeout also puts the handle in non-blocking
		// mode with poll(), which is what lets Close stop a read.
		opts.Timeout = DefaultLiveTimeout
	}
	inactive, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, liveError(iface, err)
	}
	defer inactive.CleanUp()
	for _, set := range []func() error{
		func() error { return inactive.SetSnapLen(opts.Snaplen) },
		func() error { return inactive.SetPromisc(opts.Promisc) },
		func() error { return inactive.SetTimeout(opts.Timeout) },
		func() error {
			if opts.BufferSize > 0 {
				return inactive.SetBufferSize(opts.BufferSize)
			}
			return nil
		},
		func() error {
			if opts.Immediate {
				return inactive.SetImmediateMode(true)
			}
			return nil
		},
	} {
		if err := set(); err != nil {
			return nil, liveError(iface, err)
		}
	}
	handle, err := inactive.Activate()
	if err != nil {
		return nil, liveError(iface, err)
	}
	lt := LinkType(handle.LinkType())
	if lt == LinkTypeLinuxSLL2&0xff {
		// gopacket truncates DLT values to 8 bits; 20 is what is
		// left of LINUX_SLL2 (276). Ask for v1 cooked frames, which
		// gopacket can name, else take it as SLL2.
		if handle.SetLinkType(layers.LinkType(LinkTypeLinuxSLL)) == nil {
			lt = LinkTypeLinuxSLL
		} else {
			lt = LinkTypeLinuxSLL2
		}
	}
	if !lt.Supported() {
		handle.Close()
		return nil, &FileError{Name: iface, Offset: -1, Err: ErrUnsupportedLinkType,
			Msg: fmt.Sprintf("unsupported link type %d (%s)", uint32(lt), lt)}
	}
	if opts.Filter != "" {
		if err := handle.SetBPFFilter(opts.Filter); err != nil {
			handle.Close()
			return nil, &FileError{Name: iface, Offset: -1, Err: errors.Join(ErrFilter, err),
				Msg: fmt.Sprintf("invalid filter %q: %v", opts.Filter, err)}
		}
	}
	s := newSource(iface, opts.Options)
	s.wakeOnTimeout = opts.WakeOnTimeout
	s.handle = handle
	s.linkType = lt
	return s, nil
}

// liveError turns libpcap's activation errors into messages that say what
// to do. gopacket reports pcap_activate's status codes as fixed strings
// ("No Such Device", "Permission Denied", "Interface Not Up") and other
// failures with libpcap's message.
func liveError(iface string, err error) error {
	msg := err.Error()
	lower := strings.ToLower(msg)
	fe := &FileError{Name: iface, Offset: -1, Err: errors.Join(ErrLive, err)}
	switch {
	case strings.Contains(lower, "no such device"):
		fe.Msg = "no such device"
		if devs, derr := ListDevices(); derr == nil && len(devs) > 0 {
			names := make([]string, len(devs))
			for i, d := range devs {
				names[i] = d.Name
			}
			sort.Strings(names)
			fe.Msg += " (available: " + strings.Join(names, ", ") + ")"
		}
	case strings.Contains(lower, "permission denied"), strings.Contains(lower, "operation not permitted"):
		fe.Msg = "permission denied: capturing needs root or the CAP_NET_RAW and CAP_NET_ADMIN capabilities; " +
			"grant them with: setcap cap_net_raw,cap_net_admin=eip $(command -v tlsdissect)"
	case strings.Contains(lower, "not up"):
		fe.Msg = "interface is down; bring it up with: ip link set " + iface + " up"
	default:
		fe.Msg = msg
	}
	return fe
}

// pcapStats refreshes libpcap's counters. Callers hold liveMu and have
// checked that the handle is open.
func (s *Source) pcapStats() {
	st, err := s.handle.Stats()
	if err != nil {
		return
	}
	s.pcap = [3]uint64{uint64(st.PacketsReceived), uint64(st.PacketsDropped), uint64(st.PacketsIfDropped)}
}
