package quic

import (
	"errors"
	"strconv"
)

// FrameType is a QUIC frame type (RFC 9000 section 19, section 12.4).
type FrameType uint64

const (
	FramePadding            FrameType = 0x00
	FramePing               FrameType = 0x01
	FrameAck                FrameType = 0x02
	FrameAckECN             FrameType = 0x03
	FrameResetStream        FrameType = 0x04
	FrameStopSending        FrameType = 0x05
	FrameCrypto             FrameType = 0x06
	FrameNewToken           FrameType = 0x07
	FrameStream             FrameType = 0x08 // 0x08-0x0f: OFF 0x04, LEN 0x02, FIN 0x01
	FrameMaxData            FrameType = 0x10
	FrameMaxStreamData      FrameType = 0x11
	FrameMaxStreamsBidi     FrameType = 0x12
	FrameMaxStreamsUni      FrameType = 0x13
	FrameDataBlocked        FrameType = 0x14
	FrameStreamDataBlocked  FrameType = 0x15
	FrameStreamsBlockedBidi FrameType = 0x16
	FrameStreamsBlockedUni  FrameType = 0x17
	FrameNewConnectionID    FrameType = 0x18
	FrameRetireConnectionID FrameType = 0x19
	FramePathChallenge      FrameType = 0x1a
	FramePathResponse       FrameType = 0x1b
	FrameConnectionClose    FrameType = 0x1c // transport error, with the frame type
	FrameConnectionCloseApp FrameType = 0x1d // application error
	FrameHandshakeDone      FrameType = 0x1e
	FrameDatagram           FrameType = 0x30 // RFC 9221, no length
	FrameDatagramLen        FrameType = 0x31 // RFC 9221, with length
)

// IsStream reports the eight STREAM frame types, 0x08 to 0x0f.
func (t FrameType) IsStream() bool { return t >= 0x08 && t <= 0x0f }

// String returns the RFC name in snake_case: "padding", "ack",
// "connection_close", "stream"; unknown types by number.
func (t FrameType) String() string {
	if t.IsStream() {
		return "stream"
	}
	switch t {
	case FramePadding:
		return "padding"
	case FramePing:
		return "ping"
	case FrameAck, FrameAckECN:
		return "ack"
	case FrameResetStream:
		return "reset_stream"
	case FrameStopSending:
		return "stop_sending"
	case FrameCrypto:
		return "crypto"
	case FrameNewToken:
		return "new_token"
	case FrameMaxData:
		return "max_data"
	case FrameMaxStreamData:
		return "max_stream_data"
	case FrameMaxStreamsBidi, FrameMaxStreamsUni:
		return "max_streams"
	case FrameDataBlocked:
		return "data_blocked"
	case FrameStreamDataBlocked:
		return "stream_data_blocked"
	case FrameStreamsBlockedBidi, FrameStreamsBlockedUni:
		return "streams_blocked"
	case FrameNewConnectionID:
		return "new_connection_id"
	case FrameRetireConnectionID:
		return "retire_connection_id"
	case FramePathChallenge:
		return "path_challenge"
	case FramePathResponse:
		return "path_response"
	case FrameConnectionClose, FrameConnectionCloseApp:
		return "connection_close"
	case FrameHandshakeDone:
		return "handshake_done"
	case FrameDatagram, FrameDatagramLen:
		return "datagram"
	}
	return "frame(0x" + strconv.FormatUint(uint64(t), 16) + ")"
}

// allowedEarly reports frame types permitted in Initial and Handshake
// packets (RFC 9000 section 12.4, table 3): PADDING, PING, ACK, CRYPTO and
// the transport CONNECTION_CLOSE.
func (t FrameType) allowedEarly() bool {
	switch t {
	case FramePadding, FramePing, FrameAck, FrameAckECN, FrameCrypto, FrameConnectionClose:
		return true
	}
	return false
}

// Frame is one parsed frame. Only the fields of its Type are set; byte
// slices alias the payload handed to ParseFrames.
type Frame struct {
	Type FrameType
	// PADDING: how many padding bytes this run held (consecutive 0x00
	// bytes are reported as one frame).
	Padding int
	// CRYPTO, STREAM: the offset; CRYPTO, STREAM, NEW_TOKEN, DATAGRAM,
	// PATH_CHALLENGE/RESPONSE, NEW_CONNECTION_ID (the connection ID): the
	// bytes.
	Offset uint64
	Data   []byte
	// STREAM, RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA,
	// STREAM_DATA_BLOCKED.
	StreamID uint64
	Fin      bool
	// ACK (RFC 9000 section 19.3).
	LargestAcked, AckDelay, AckRanges, FirstAckRange uint64
	ECN                                              bool
	ECT0, ECT1, ECNCE                                uint64
	// CONNECTION_CLOSE, RESET_STREAM, STOP_SENDING: the error code.
	ErrorCode uint64
	// CONNECTION_CLOSE 0x1c: the frame type that triggered the error.
	FrameType uint64
	Reason    []byte
	// MAX_*, *_BLOCKED, RETIRE_CONNECTION_ID, NEW_CONNECTION_ID: the
	// single integer (maximum, limit, sequence number); RESET_STREAM: the
	// final size. NEW_CONNECTION_ID: Retire Prior To in Value2.
	Value, Value2 uint64
}

// TLSAlert returns the TLS alert a transport CONNECTION_CLOSE carries:
// error codes 0x0100-0x01ff are CRYPTO_ERROR, the alert is the low byte
// (RFC 9001 section 4.8).
func (f *Frame) TLSAlert() (alert uint8, ok bool) {
	if f.Type != FrameConnectionClose || f.ErrorCode < 0x100 || f.ErrorCode > 0x1ff {
		return 0, false
	}
	return uint8(f.ErrorCode - 0x100), true
}

// ParseFrames calls fn for each frame of a decrypted packet payload, in
// order, reusing one Frame (copy what outlives the call). It stops at the
// first error, from the payload (a ParseError) or from fn. A frame type
// it does not know cannot be skipped (frames carry no length): it returns
// a ParseError wrapping ErrUnsupportedFrame after the frames before it.
func ParseFrames(payload []byte, fn func(*Frame) error) error {
	return parseFrames(payload, new(Frame), fn)
}

// parseFrames is ParseFrames with the Frame supplied, so that a Conn
// parses without allocating.
func parseFrames(payload []byte, f *Frame, fn func(*Frame) error) error {
	c := newCur("frame", payload)
	for len(c.s) > 0 {
		*f = Frame{}
		var t uint64
		if err := c.varint("frame_type", &t); err != nil {
			return err
		}
		f.Type = FrameType(t)
		c.inFrame, c.frame = true, f.Type
		if err := parseFrame(&c, f); err != nil {
			return err
		}
		if f.Type == FramePadding {
			f.Padding = 1
			for len(c.s) > 0 && c.s[0] == 0 {
				c.s = c.s[1:]
				f.Padding++
			}
		}
		c.inFrame = false
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// ErrUnsupportedFrame says a frame type is unknown, so the rest of the
// packet cannot be parsed.
var ErrUnsupportedFrame = errors.New("quic: unsupported frame type")

func parseFrame(c *cur, f *Frame) error {
	var err error
	v := func(field string, p *uint64) {
		if err == nil {
			err = c.varint(field, p)
		}
	}
	t := f.Type
	switch {
	case t == FramePadding, t == FramePing, t == FrameHandshakeDone:
	case t == FrameAck || t == FrameAckECN:
		v("largest_acknowledged", &f.LargestAcked)
		v("ack_delay", &f.AckDelay)
		v("ack_range_count", &f.AckRanges)
		v("first_ack_range", &f.FirstAckRange)
		if err != nil {
			return err
		}
		if f.FirstAckRange > f.LargestAcked {
			return c.fail("first_ack_range", ErrMalformed)
		}
		// Each range is two varints of at least a byte: a count larger
		// than what is left cannot be right, and nothing is allocated.
		if f.AckRanges > uint64(len(c.s))/2 {
			return c.fail("ack_range_count", ErrTruncated)
		}
		smallest := f.LargestAcked - f.FirstAckRange
		for i := uint64(0); i < f.AckRanges && err == nil; i++ {
			var gap, n uint64
			v("gap", &gap)
			v("ack_range_length", &n)
			// RFC 9000 19.3.1: the next largest is smallest - gap - 2.
			if err == nil && (gap+2 > smallest || n > smallest-gap-2) {
				return c.fail("gap", ErrMalformed)
			}
			smallest -= gap + 2 + n
		}
		if t == FrameAckECN {
			f.ECN = true
			v("ect0_count", &f.ECT0)
			v("ect1_count", &f.ECT1)
			v("ecn_ce_count", &f.ECNCE)
		}
	case t == FrameResetStream:
		v("stream_id", &f.StreamID)
		v("application_protocol_error_code", &f.ErrorCode)
		v("final_size", &f.Value)
	case t == FrameStopSending:
		v("stream_id", &f.StreamID)
		v("application_protocol_error_code", &f.ErrorCode)
	case t == FrameCrypto:
		v("offset", &f.Offset)
		if err == nil {
			err = c.vlen("length", &f.Data)
		}
		if err == nil && f.Offset+uint64(len(f.Data)) > MaxVarint {
			return c.fail("offset", ErrMalformed)
		}
	case t == FrameNewToken:
		err = c.vlen("token_length", &f.Data)
		if err == nil && len(f.Data) == 0 {
			return c.fail("token_length", ErrMalformed)
		}
	case t.IsStream():
		v("stream_id", &f.StreamID)
		if t&0x04 != 0 {
			v("offset", &f.Offset)
		}
		if err != nil {
			return err
		}
		if t&0x02 != 0 {
			err = c.vlen("length", &f.Data)
		} else {
			f.Data = c.rest()
		}
		f.Fin = t&0x01 != 0
		if err == nil && f.Offset+uint64(len(f.Data)) > MaxVarint {
			return c.fail("offset", ErrMalformed)
		}
	case t == FrameMaxData, t == FrameMaxStreamsBidi, t == FrameMaxStreamsUni,
		t == FrameDataBlocked, t == FrameStreamsBlockedBidi, t == FrameStreamsBlockedUni,
		t == FrameRetireConnectionID:
		v("value", &f.Value)
	case t == FrameMaxStreamData, t == FrameStreamDataBlocked:
		v("stream_id", &f.StreamID)
		v("value", &f.Value)
	case t == FrameNewConnectionID:
		v("sequence_number", &f.Value)
		v("retire_prior_to", &f.Value2)
		if err != nil {
			return err
		}
		var n uint8
		if err := c.u8("length", &n); err != nil {
			return err
		}
		if n < 1 || n > MaxConnIDLen {
			return c.fail("length", ErrMalformed)
		}
		if f.Value2 > f.Value {
			return c.fail("retire_prior_to", ErrMalformed)
		}
		var token []byte
		if err := c.bytes("connection_id", int(n), &f.Data); err != nil {
			return err
		}
		err = c.bytes("stateless_reset_token", 16, &token)
	case t == FramePathChallenge, t == FramePathResponse:
		err = c.bytes("data", 8, &f.Data)
	case t == FrameConnectionClose || t == FrameConnectionCloseApp:
		v("error_code", &f.ErrorCode)
		if t == FrameConnectionClose {
			v("frame_type", &f.FrameType)
		}
		if err == nil {
			err = c.vlen("reason_phrase_length", &f.Reason)
		}
	case t == FrameDatagram:
		f.Data = c.rest()
	case t == FrameDatagramLen:
		err = c.vlen("length", &f.Data)
	default:
		return c.fail("frame_type", ErrUnsupportedFrame)
	}
	return err
}
