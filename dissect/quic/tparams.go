package quic

import "strconv"

// TLS extension codepoints that carry QUIC transport parameters.
const (
	ExtQUICTransportParameters      uint16 = 0x39   // RFC 9001 section 8.2
	ExtQUICTransportParametersDraft uint16 = 0xffa5 // drafts up to 33
)

// TransportParameterID is a QUIC transport parameter (RFC 9000 section
// 18.2 and the IANA registry).
type TransportParameterID uint64

const (
	TPOriginalDestinationConnectionID TransportParameterID = 0x00
	TPMaxIdleTimeout                  TransportParameterID = 0x01
	TPStatelessResetToken             TransportParameterID = 0x02
	TPMaxUDPPayloadSize               TransportParameterID = 0x03
	TPInitialMaxData                  TransportParameterID = 0x04
	TPInitialMaxStreamDataBidiLocal   TransportParameterID = 0x05
	TPInitialMaxStreamDataBidiRemote  TransportParameterID = 0x06
	TPInitialMaxStreamDataUni         TransportParameterID = 0x07
	TPInitialMaxStreamsBidi           TransportParameterID = 0x08
	TPInitialMaxStreamsUni            TransportParameterID = 0x09
	TPAckDelayExponent                TransportParameterID = 0x0a
	TPMaxAckDelay                     TransportParameterID = 0x0b
	TPDisableActiveMigration          TransportParameterID = 0x0c
	TPPreferredAddress                TransportParameterID = 0x0d
	TPActiveConnectionIDLimit         TransportParameterID = 0x0e
	TPInitialSourceConnectionID       TransportParameterID = 0x0f
	TPRetrySourceConnectionID         TransportParameterID = 0x10
	TPVersionInformation              TransportParameterID = 0x11   // RFC 9368
	TPMaxDatagramFrameSize            TransportParameterID = 0x20   // RFC 9221
	TPGreaseQUICBit                   TransportParameterID = 0x2ab2 // RFC 9287
)

// IsGrease reports an identifier reserved to exercise unknown parameters,
// 31 * N + 27 (RFC 9000 section 18.1).
func (id TransportParameterID) IsGrease() bool { return id%31 == 27 }

// String returns the registry name ("max_idle_timeout"), "grease(0x..)"
// for reserved ones, or the number in hex.
func (id TransportParameterID) String() string {
	switch id {
	case TPOriginalDestinationConnectionID:
		return "original_destination_connection_id"
	case TPMaxIdleTimeout:
		return "max_idle_timeout"
	case TPStatelessResetToken:
		return "stateless_reset_token"
	case TPMaxUDPPayloadSize:
		return "max_udp_payload_size"
	case TPInitialMaxData:
		return "initial_max_data"
	case TPInitialMaxStreamDataBidiLocal:
		return "initial_max_stream_data_bidi_local"
	case TPInitialMaxStreamDataBidiRemote:
		return "initial_max_stream_data_bidi_remote"
	case TPInitialMaxStreamDataUni:
		return "initial_max_stream_data_uni"
	case TPInitialMaxStreamsBidi:
		return "initial_max_streams_bidi"
	case TPInitialMaxStreamsUni:
		return "initial_max_streams_uni"
	case TPAckDelayExponent:
		return "ack_delay_exponent"
	case TPMaxAckDelay:
		return "max_ack_delay"
	case TPDisableActiveMigration:
		return "disable_active_migration"
	case TPPreferredAddress:
		return "preferred_address"
	case TPActiveConnectionIDLimit:
		return "active_connection_id_limit"
	case TPInitialSourceConnectionID:
		return "initial_source_connection_id"
	case TPRetrySourceConnectionID:
		return "retry_source_connection_id"
	case TPVersionInformation:
		return "version_information"
	case TPMaxDatagramFrameSize:
		return "max_datagram_frame_size"
	case TPGreaseQUICBit:
		return "grease_quic_bit"
	}
	if id.IsGrease() {
		return "grease(0x" + strconv.FormatUint(uint64(id), 16) + ")"
	}
	return "0x" + strconv.FormatUint(uint64(id), 16)
}

// integer reports the parameters whose value is a single varint.
func (id TransportParameterID) integer() bool {
	switch id {
	case TPMaxIdleTimeout, TPMaxUDPPayloadSize, TPInitialMaxData,
		TPInitialMaxStreamDataBidiLocal, TPInitialMaxStreamDataBidiRemote,
		TPInitialMaxStreamDataUni, TPInitialMaxStreamsBidi, TPInitialMaxStreamsUni,
		TPAckDelayExponent, TPMaxAckDelay, TPActiveConnectionIDLimit, TPMaxDatagramFrameSize:
		return true
	}
	return false
}

// TransportParameter is one parameter in wire order. Value aliases the
// buffer handed to ParseTransportParameters.
type TransportParameter struct {
	ID    TransportParameterID
	Value []byte
	// Int is the decoded value when IsInt: the parameter is defined as an
	// integer and its value is exactly one varint.
	Int   uint64
	IsInt bool
}

// ParseTransportParameters reads the body of a quic_transport_parameters
// extension (RFC 9000 section 18): a sequence of (id, length, value).
// Parameters defined as integers are decoded; connection IDs longer than
// 20 bytes, a stateless_reset_token not of 16 bytes, a flag with a value,
// an integer that is not one varint, a version_information not a list of
// 4-byte versions and a repeated parameter are malformed. On a malformed
// value the list so far is returned with the error; the slice is sized
// from the bytes present.
func ParseTransportParameters(b []byte) ([]TransportParameter, error) {
	c := newCur("transport_parameters", b)
	var out []TransportParameter
	var seen map[TransportParameterID]bool
	for len(c.s) > 0 {
		var p TransportParameter
		var id uint64
		start := c.off()
		if err := c.varint("id", &id); err != nil {
			return out, err
		}
		p.ID = TransportParameterID(id)
		if err := c.vlen("length", &p.Value); err != nil {
			return out, err
		}
		bad := func() error {
			return &ParseError{Msg: "transport_parameters", Field: p.ID.String(), Offset: start, Err: ErrMalformed}
		}
		switch {
		case p.ID.integer():
			v, n := ReadVarint(p.Value)
			if n == 0 || n != len(p.Value) {
				return out, bad()
			}
			p.Int, p.IsInt = v, true
		case p.ID == TPOriginalDestinationConnectionID, p.ID == TPInitialSourceConnectionID, p.ID == TPRetrySourceConnectionID:
			if len(p.Value) > MaxConnIDLen {
				return out, bad()
			}
		case p.ID == TPStatelessResetToken:
			if len(p.Value) != 16 {
				return out, bad()
			}
		case p.ID == TPDisableActiveMigration, p.ID == TPGreaseQUICBit:
			if len(p.Value) != 0 {
				return out, bad()
			}
		case p.ID == TPVersionInformation:
			if len(p.Value) < 4 || len(p.Value)%4 != 0 {
				return out, bad()
			}
		case p.ID == TPPreferredAddress:
			// IPv4 4+2, IPv6 16+2, a connection ID of 1 to 20 bytes with
			// its length, the 16-byte reset token.
			if len(p.Value) < 41 {
				return out, bad()
			}
			if n := int(p.Value[24]); n > MaxConnIDLen || len(p.Value) != 25+n+16 {
				return out, bad()
			}
		}
		// RFC 9000 18.2: an endpoint must not send a parameter twice.
		// A map only once the list is long enough for a scan to cost.
		if len(out) >= 16 && seen == nil {
			seen = make(map[TransportParameterID]bool, 32)
			for _, q := range out {
				seen[q.ID] = true
			}
		}
		dup := false
		if seen != nil {
			dup = seen[p.ID]
			seen[p.ID] = true
		} else {
			for _, q := range out {
				dup = dup || q.ID == p.ID
			}
		}
		if dup {
			return out, &ParseError{Msg: "transport_parameters", Field: p.ID.String() + " (duplicate)", Offset: start, Err: ErrMalformed}
		}
		out = append(out, p)
	}
	return out, nil
}

// VersionInformation decodes a version_information value (RFC 9368
// section 3): the chosen version, then the available versions.
func VersionInformation(v []byte) (chosen Version, available []Version, ok bool) {
	if len(v) < 4 || len(v)%4 != 0 {
		return 0, nil, false
	}
	h := Header{Versions: v}
	all := h.SupportedVersions()
	return all[0], all[1:], true
}
