package conformance

import (
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// Zeek's x509.log baselines describe every certificate seen, without the
// connection: a row is matched with one of our certificates (server or
// client chain, any connection of the capture) by its SHA-256 fingerprint,
// then serial, subject, issuer, validity, DNS alt names and key are
// compared.

// zeekX509Files lists the x509.log baselines of a capture (#path x509).
func zeekX509Files(capturesDir, capPath string) []string {
	var out []string
	for _, f := range siblings(capturesDir, capPath, func(rest string) bool {
		return strings.HasPrefix(rest, "zeek.") && strings.HasSuffix(rest, ".log") && strings.Contains(rest, "x509")
	}) {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), "#path\tx509\n") {
			out = append(out, f)
		}
	}
	return out
}

// x509View is a certificate in canonical form.
type x509View struct {
	fields map[string]string
}

var x509Fields = []string{"serial", "subject", "issuer", "not_before", "not_after", "san.dns", "key"}

func zeekX509View(row map[string]string) x509View {
	v := x509View{fields: map[string]string{}}
	get := func(k string) string {
		s := row[k]
		if s == "-" || s == "(empty)" {
			return ""
		}
		return zeekUnescape(s)
	}
	v.fields["serial"] = normSerial(get("certificate.serial"))
	v.fields["subject"] = normDN(get("certificate.subject"))
	v.fields["issuer"] = normDN(get("certificate.issuer"))
	v.fields["not_before"] = zeekTime(get("certificate.not_valid_before"))
	v.fields["not_after"] = zeekTime(get("certificate.not_valid_after"))
	var dns []string
	if s := get("san.dns"); s != "" {
		dns = strings.Split(s, ",")
	}
	v.fields["san.dns"] = sortedLower(dns)
	if t := get("certificate.key_type"); t != "" {
		v.fields["key"] = strings.ToLower(t) + " " + get("certificate.key_length")
	}
	return v
}

func ourX509View(c flowsCertificateLike) x509View {
	v := x509View{fields: map[string]string{}}
	v.fields["serial"] = normSerial(c.Serial)
	v.fields["subject"] = normDN(c.Subject)
	v.fields["issuer"] = normDN(c.Issuer)
	v.fields["not_before"] = secondUTC(c.NotBefore)
	v.fields["not_after"] = secondUTC(c.NotAfter)
	var dns []string
	for _, s := range c.SAN {
		if _, err := netip.ParseAddr(s); err == nil || strings.Contains(s, "@") || strings.Contains(s, "://") {
			continue
		}
		dns = append(dns, s)
	}
	v.fields["san.dns"] = sortedLower(dns)
	v.fields["key"] = ourKey(c.Key)
	return v
}

// flowsCertificateLike is the part of flows.Certificate compared here.
type flowsCertificateLike struct {
	Serial, Subject, Issuer, Key string
	NotBefore, NotAfter          time.Time
	SAN                          []string
}

// ourKey renders "RSA 2048" / "ECDSA P-256" / "Ed25519" as Zeek's
// key_type and key_length ("rsa 2048", "ecdsa 256").
func ourKey(k string) string {
	f := strings.Fields(k)
	if len(f) == 0 {
		return ""
	}
	typ := strings.ToLower(f[0])
	if len(f) == 1 {
		return typ + " "
	}
	n := strings.TrimLeft(f[1], "PpBb-")
	if _, err := strconv.Atoi(n); err != nil {
		return typ + " " + f[1]
	}
	return typ + " " + n
}

func zeekTime(s string) string {
	if s == "" {
		return ""
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return secondUTC(time.Unix(int64(sec), 0))
}

func sortedLower(l []string) string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func (e *capEval) evalX509() {
	files := zeekX509Files(e.capturesDir, e.path)
	if len(files) == 0 {
		return
	}
	e.loadTshark()
	if e.tsharkTCP() == 0 && len(e.udpKeys) > 0 {
		e.outOfScope("zeek")
		return
	}
	// Our certificates by SHA-256.
	ours := map[string]x509View{}
	for _, o := range e.ours {
		for _, list := range [][]flows.Certificate{o.rec.Certificates, o.rec.ClientCertificates} {
			for _, c := range list {
				fp := normHexFP(c.SHA256)
				if fp == "" {
					continue
				}
				if _, ok := ours[fp]; !ok {
					ours[fp] = ourX509View(flowsCertificateLike{Serial: c.Serial, Subject: c.Subject, Issuer: c.Issuer,
						Key: c.Key, NotBefore: c.NotBefore.Time, NotAfter: c.NotAfter.Time, SAN: c.SAN})
				}
			}
		}
	}
	// Reference rows by fingerprint, merged over the baselines.
	type refCert struct {
		fp     string
		values map[string][]string
	}
	var refs []*refCert
	byFP := map[string]*refCert{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		blocks, perr := parseZeekTSVStrict(string(b))
		if perr != nil {
			e.unparsed = append(e.unparsed, rel(e.capturesDir, f)+": no field header")
			continue
		}
		for _, blk := range blocks {
			for _, row := range blk.rows {
				fp := normHexFP(row["fingerprint"])
				if len(fp) != 64 {
					continue // an old Zeek log with SHA-1 fingerprints, or none
				}
				rc := byFP[fp]
				if rc == nil {
					rc = &refCert{fp: fp, values: map[string][]string{}}
					byFP[fp] = rc
					refs = append(refs, rc)
				}
				v := zeekX509View(row)
				for _, k := range x509Fields {
					if _, present := row[zeekColumn(k)]; present {
						rc.values[k] = appendUnique(rc.values[k], v.fields[k])
					}
				}
			}
		}
	}
	for _, rc := range refs {
		name := "certificate " + rc.fp[:16] + "…"
		if s := rc.values["subject"]; len(s) == 1 {
			name += " " + s[0]
		}
		o, ok := ours[rc.fp]
		if !ok {
			e.count("zeek.x509", false, name, "certificate not reported", "in x509.log")
			continue
		}
		var diffOurs, diffRef []string
		conflict := false
		for _, k := range x509Fields {
			vals := rc.values[k]
			switch {
			case len(vals) == 0:
			case len(vals) > 1:
				conflict = true
			case vals[0] != o.fields[k]:
				diffOurs = append(diffOurs, k+"="+show(o.fields[k]))
				diffRef = append(diffRef, k+"="+show(vals[0]))
			}
		}
		if conflict && len(diffOurs) == 0 {
			t := e.tallies["zeek.x509"]
			t.Conflicts++
			e.tallies["zeek.x509"] = t
			continue
		}
		e.count("zeek.x509", len(diffOurs) == 0, name, strings.Join(diffOurs, "; "), strings.Join(diffRef, "; "))
	}
}

// zeekColumn names the x509.log column of a compared field.
func zeekColumn(k string) string {
	switch k {
	case "serial", "subject", "issuer":
		return "certificate." + k
	case "not_before":
		return "certificate.not_valid_before"
	case "not_after":
		return "certificate.not_valid_after"
	case "key":
		return "certificate.key_type"
	}
	return k
}

// zeekUnescape undoes Zeek's TSV escaping: a doubled backslash is one,
// and a backslash, x and two hex digits is that byte.
func zeekUnescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch {
			case s[i+1] == '\\':
				b.WriteByte('\\')
				i++
				continue
			case s[i+1] == 'x' && i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]):
				n, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
