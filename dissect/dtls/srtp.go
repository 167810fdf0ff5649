package dtls

// SRTPProtectionProfile is a DTLS-SRTP protection profile (IANA
// "DTLS-SRTP Protection Profiles", RFC 5764 4.1.2).
type SRTPProtectionProfile uint16

var srtpNames = [...]string{
	0x0001: "SRTP_AES128_CM_HMAC_SHA1_80",
	0x0002: "SRTP_AES128_CM_HMAC_SHA1_32",
	0x0005: "SRTP_NULL_HMAC_SHA1_80",
	0x0006: "SRTP_NULL_HMAC_SHA1_32",
	0x0007: "SRTP_AEAD_AES_128_GCM",                    // RFC 7714
	0x0008: "SRTP_AEAD_AES_256_GCM",                    // RFC 7714
	0x0009: "DOUBLE_AEAD_AES_128_GCM_AEAD_AES_128_GCM", // RFC 8723
	0x000a: "DOUBLE_AEAD_AES_256_GCM_AEAD_AES_256_GCM", // RFC 8723
	0x000b: "SRTP_ARIA_128_CTR_HMAC_SHA1_80",           // RFC 8269
	0x000c: "SRTP_ARIA_128_CTR_HMAC_SHA1_32",
	0x000d: "SRTP_ARIA_256_CTR_HMAC_SHA1_80",
	0x000e: "SRTP_ARIA_256_CTR_HMAC_SHA1_32",
	0x000f: "SRTP_AEAD_ARIA_128_GCM",
	0x0010: "SRTP_AEAD_ARIA_256_GCM",
}

// String returns the IANA name, or the value in hex for an unassigned one.
func (p SRTPProtectionProfile) String() string {
	if int(p) < len(srtpNames) && srtpNames[p] != "" {
		return srtpNames[p]
	}
	return "0x" + hex16(uint16(p))
}

// UseSRTP is the use_srtp extension's data (RFC 5764 4.1.1): the client
// offers profiles, the server answers with the one it chose.
type UseSRTP struct {
	Profiles []SRTPProtectionProfile // wire order
	MKI      []byte                  // srtp_mki; aliases the parsed data
}

// ParseUseSRTP parses use_srtp extension data: SRTPProtectionProfile
// SRTPProtectionProfiles<2..2^16-1>, opaque srtp_mki<0..255>. The profile
// list is sized from the bytes present.
func ParseUseSRTP(data []byte) (UseSRTP, error) {
	c := newCur("use_srtp", data)
	var u UseSRTP
	list, err := c.vec16("SRTPProtectionProfiles")
	if err != nil {
		return u, err
	}
	if list.empty() || len(list.s)%2 != 0 {
		return u, list.fail("SRTPProtectionProfiles", ErrMalformed)
	}
	u.Profiles = make([]SRTPProtectionProfile, 0, len(list.s)/2)
	for !list.empty() {
		var p uint16
		_ = list.u16("SRTPProtectionProfile", &p)
		u.Profiles = append(u.Profiles, SRTPProtectionProfile(p))
	}
	mki, err := c.vec8("srtp_mki")
	if err != nil {
		return u, err
	}
	u.MKI = mki.rest()
	return u, c.done("srtp_mki")
}

// AppendUseSRTP appends use_srtp extension data to dst (the builder side
// of ParseUseSRTP).
func AppendUseSRTP(dst []byte, u UseSRTP) []byte {
	n := 2 * len(u.Profiles)
	dst = append(dst, byte(n>>8), byte(n))
	for _, p := range u.Profiles {
		dst = append(dst, byte(p>>8), byte(p))
	}
	dst = append(dst, byte(len(u.MKI)))
	return append(dst, u.MKI...)
}
