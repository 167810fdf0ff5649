package flows

import (
	"encoding/hex"
	"strconv"

	"github.com/tlsdissect/tlsdissect/dissect"
	"github.com/tlsdissect/tlsdissect/dissect/dtls"
	"github.com/tlsdissect/tlsdissect/dissect/quic"
	"github.com/tlsdissect/tlsdissect/packet"
)

// datagramFacts writes what QUIC or DTLS told beyond the TLS story.
func (c *conn) datagramFacts(r *Record, st *dissect.State) {
	if q := st.QUIC; q != nil {
		out := &QUIC{
			Version:                   q.Version.String(),
			ClientCID:                 hex.EncodeToString(q.ClientCID),
			ServerCID:                 hex.EncodeToString(q.ServerCID),
			OriginalDCID:              hex.EncodeToString(q.OriginalDCID),
			Retry:                     q.Retry,
			VersionNegotiation:        []string{},
			ClientPackets:             q.Packets[packet.FromClient],
			ServerPackets:             q.Packets[packet.FromServer],
			Paths:                     c.pathsSeen,
			ClientTransportParameters: transportParams(q.ClientTransportParameters),
			ServerTransportParameters: transportParams(q.ServerTransportParameters),
		}
		if q.Version == 0 {
			out.Version = ""
		}
		for _, v := range q.VersionNegotiation {
			out.VersionNegotiation = append(out.VersionNegotiation, v.String())
		}
		if cl := q.Close; cl != nil {
			qc := &QUICClose{TS: Time{cl.Timestamp}, From: cl.From, Application: cl.Application,
				ErrorCode: cl.ErrorCode, FrameType: cl.FrameType, Reason: cl.Reason}
			if !cl.Application {
				qc.Error = quic.TransportErrorName(cl.ErrorCode)
				if cl.TLSAlert {
					qc.Error = "CRYPTO_ERROR(" + cl.Alert.String() + ")"
				}
			}
			out.Close = qc
		}
		r.QUIC = out
	}
	if d := st.DTLS; d != nil {
		out := &DTLS{
			ClientRetransmissions: d.Retransmissions[packet.FromClient],
			ServerRetransmissions: d.Retransmissions[packet.FromServer],
			Cookie:                d.Cookie,
			SRTPProfiles:          []string{},
		}
		for _, p := range d.SRTPProfiles {
			out.SRTPProfiles = append(out.SRTPProfiles, dtls.SRTPProtectionProfile(p).String())
		}
		if d.SRTPProfile != 0 {
			out.SRTPProfile = dtls.SRTPProtectionProfile(d.SRTPProfile).String()
		}
		r.DTLS = out
	}
}

// transportParams writes transport parameters by name, GREASE left out.
func transportParams(tps []quic.TransportParameter) []TransportParameter {
	out := []TransportParameter{}
	for _, tp := range tps {
		if tp.ID.IsGrease() {
			continue
		}
		v := hex.EncodeToString(tp.Value)
		if tp.IsInt {
			v = strconv.FormatUint(tp.Int, 10)
		}
		out = append(out, TransportParameter{Name: tp.ID.String(), Value: v})
	}
	return out
}
