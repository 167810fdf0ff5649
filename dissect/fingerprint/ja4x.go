package fingerprint

import (
	"encoding/hex"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// JA4X returns the JA4X fingerprint of one DER certificate ("" when it does
// not parse far enough).
//
// JA4X (JA4X.md) describes how a certificate was made, not its values:
// the first 12 hex digits of the SHA-256 of the issuer's attribute type OIDs,
// of the subject's, and of the extension OIDs, '_'-joined. Each list is the
// OIDs in certificate order, each as the lower-case hex of its DER content
// octets (2.5.4.3, commonName, is "550403"), comma-joined; an empty list
// gives "000000000000".
func JA4X(der []byte) string {
	fp, _ := JA4XRaw(der)
	return fp
}

// JA4XRaw returns JA4X and its raw form (ja4x_r: the three OID lists).
func JA4XRaw(der []byte) (fp, raw string) {
	issuer, subject, exts, ok := ja4xLists(der)
	if !ok {
		return "", ""
	}
	out := make([]byte, 0, 38)
	out = (*Memo)(nil).appendHash12(out, issuer, len(issuer) == 0)
	out = append(out, '_')
	out = (*Memo)(nil).appendHash12(out, subject, len(subject) == 0)
	out = append(out, '_')
	out = (*Memo)(nil).appendHash12(out, exts, len(exts) == 0)
	r := make([]byte, 0, len(issuer)+len(subject)+len(exts)+2)
	r = append(r, issuer...)
	r = append(r, '_')
	r = append(r, subject...)
	r = append(r, '_')
	r = append(r, exts...)
	return string(out), string(r)
}

// Context-specific tags of TBSCertificate (RFC 5280 4.1).
var (
	tagVersion         = asn1.Tag(0).Constructed().ContextSpecific()
	tagIssuerUniqueID  = asn1.Tag(1).ContextSpecific()
	tagSubjectUniqueID = asn1.Tag(2).ContextSpecific()
	tagExtensions      = asn1.Tag(3).Constructed().ContextSpecific()
)

// ja4xLists walks Certificate → TBSCertificate (RFC 5280 4.1) and returns
// the three comma-joined OID lists. It reads only structure and OIDs, so it
// accepts certificates crypto/x509 rejects for their values (a negative
// serial, say); it fails only where the structure itself is broken.
func ja4xLists(der []byte) (issuer, subject, exts []byte, ok bool) {
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, asn1.SEQUENCE) || !cert.ReadASN1(&tbs, asn1.SEQUENCE) {
		return nil, nil, nil, false
	}
	var issuerName, subjectName cryptobyte.String
	if !tbs.SkipOptionalASN1(tagVersion) ||
		!tbs.SkipASN1(asn1.INTEGER) || // serialNumber
		!tbs.SkipASN1(asn1.SEQUENCE) || // signature AlgorithmIdentifier
		!tbs.ReadASN1(&issuerName, asn1.SEQUENCE) ||
		!tbs.SkipASN1(asn1.SEQUENCE) || // validity
		!tbs.ReadASN1(&subjectName, asn1.SEQUENCE) ||
		!tbs.SkipASN1(asn1.SEQUENCE) || // subjectPublicKeyInfo
		!tbs.SkipOptionalASN1(tagIssuerUniqueID) ||
		!tbs.SkipOptionalASN1(tagSubjectUniqueID) {
		return nil, nil, nil, false
	}
	if issuer, ok = nameOIDs(issuerName); !ok {
		return nil, nil, nil, false
	}
	if subject, ok = nameOIDs(subjectName); !ok {
		return nil, nil, nil, false
	}
	var extsWrap cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&extsWrap, &present, tagExtensions) {
		return nil, nil, nil, false
	}
	if present {
		var list cryptobyte.String
		if !extsWrap.ReadASN1(&list, asn1.SEQUENCE) {
			return nil, nil, nil, false
		}
		for !list.Empty() {
			var ext cryptobyte.String
			var oid []byte
			if !list.ReadASN1(&ext, asn1.SEQUENCE) || !ext.ReadASN1((*cryptobyte.String)(&oid), asn1.OBJECT_IDENTIFIER) {
				return nil, nil, nil, false
			}
			exts = appendOID(exts, oid)
		}
	}
	return issuer, subject, exts, true
}

// nameOIDs lists the attribute types of a Name (RDNSequence) in order; the
// attributes of a multi-valued RDN in the order they are encoded.
func nameOIDs(name cryptobyte.String) ([]byte, bool) {
	var out []byte
	for !name.Empty() {
		var rdn cryptobyte.String
		if !name.ReadASN1(&rdn, asn1.SET) {
			return nil, false
		}
		for !rdn.Empty() {
			var atv cryptobyte.String
			var oid []byte
			if !rdn.ReadASN1(&atv, asn1.SEQUENCE) || !atv.ReadASN1((*cryptobyte.String)(&oid), asn1.OBJECT_IDENTIFIER) {
				return nil, false
			}
			out = appendOID(out, oid)
		}
	}
	return out, true
}

func appendOID(b, oid []byte) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	return hex.AppendEncode(b, oid)
}
