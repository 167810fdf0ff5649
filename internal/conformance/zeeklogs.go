package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// Our x509.log (-zeek-dir) against Zeek's x509.log baselines: each
// baseline row is matched with one of our rows by fingerprint (SHA-256),
// then the columns we write are compared as Zeek writes them, after the
// canonical forms of x509.go (DNs, serials, times to the second, sorted
// alt names). certificate.version, certificate.exponent and the basic
// constraints are not compared: the record does not keep them yet, and
// our log leaves them unset.

// x509LogColumns are the x509.log columns compared, in report order.
var x509LogColumns = []string{
	"certificate.serial", "certificate.subject", "certificate.issuer",
	"certificate.not_valid_before", "certificate.not_valid_after",
	"certificate.key_alg", "certificate.sig_alg", "certificate.key_type", "certificate.key_length", "certificate.curve",
	"san.dns", "san.uri", "san.email", "san.ip", "host_cert", "client_cert",
}

// runZeekLogs runs BIN -F zeek -zeek-dir over file and returns the rows
// of the x509.log written, with the run's status.
func (rn Runner) runZeekLogs(ctx context.Context, file string) ([]map[string]string, string) {
	dir, err := os.MkdirTemp("", "tlsdissect-zeekdir-")
	if err != nil {
		return nil, "error"
	}
	defer os.RemoveAll(dir)
	_, status, _ := rn.execOne(ctx, file, "zeek", "-zeek-dir", dir)
	b, err := os.ReadFile(filepath.Join(dir, "x509.log"))
	if err != nil {
		if status == "ok" {
			status = "no x509.log"
		}
		return nil, status
	}
	var rows []map[string]string
	for _, blk := range parseZeekTSV(string(b)) {
		rows = append(rows, blk.rows...)
	}
	return rows, status
}

// x509LogValue is a column's value in canonical form ("" unset).
func x509LogValue(col, v string) string {
	if v == "-" || v == "(empty)" {
		return ""
	}
	v = zeekUnescape(v)
	switch col {
	case "certificate.serial":
		return normSerial(v)
	case "certificate.subject", "certificate.issuer":
		return normDN(v)
	case "certificate.not_valid_before", "certificate.not_valid_after":
		return zeekTime(v)
	case "san.dns", "san.uri", "san.email", "san.ip":
		return sortedLower(strings.Split(v, ","))
	case "certificate.key_alg", "certificate.sig_alg", "certificate.key_type", "certificate.curve":
		return strings.ToLower(v)
	}
	return v
}

// evalX509Log compares our x509.log rows with the baselines'.
func (e *capEval) evalX509Log() {
	files := zeekX509Files(e.capturesDir, e.path)
	if len(files) == 0 || e.run.ZeekX509Status == "" {
		return // no baseline, or -zeek-dir not run (a Run made by hand)
	}
	e.loadTshark()
	if e.tsharkTCP() == 0 && len(e.udpKeys) > 0 {
		e.outOfScope("zeek")
		return
	}
	ours := map[string]map[string]string{}
	for _, row := range e.run.ZeekX509 {
		fp := normHexFP(row["fingerprint"])
		if _, ok := ours[fp]; !ok && fp != "" {
			ours[fp] = row
		}
	}
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
			continue // reported by evalX509
		}
		for _, blk := range blocks {
			for _, row := range blk.rows {
				fp := normHexFP(row["fingerprint"])
				if len(fp) != 64 {
					continue
				}
				rc := byFP[fp]
				if rc == nil {
					rc = &refCert{fp: fp, values: map[string][]string{}}
					byFP[fp] = rc
					refs = append(refs, rc)
				}
				for _, col := range x509LogColumns {
					if v, ok := row[col]; ok {
						rc.values[col] = appendUnique(rc.values[col], x509LogValue(col, v))
					}
				}
			}
		}
	}
	for _, rc := range refs {
		name := "certificate " + rc.fp[:16] + "…"
		row, ok := ours[rc.fp]
		if !ok {
			what := "no x509.log row"
			if e.run.ZeekX509Status != "ok" {
				what = "-zeek-dir: " + e.run.ZeekX509Status
			}
			e.count("zeek.x509_log", false, name, what, "in x509.log")
			continue
		}
		var diffOurs, diffRef []string
		for _, col := range x509LogColumns {
			vals := rc.values[col]
			if len(vals) != 1 {
				continue // absent from the baseline, or a conflict among baselines
			}
			mine := x509LogValue(col, row[col])
			e.count("zeek.x509_log.columns", mine == vals[0], name+" "+col, show(mine), show(vals[0]))
			if mine != vals[0] {
				diffOurs = append(diffOurs, col+"="+show(mine))
				diffRef = append(diffRef, col+"="+show(vals[0]))
			}
		}
		e.count("zeek.x509_log", len(diffOurs) == 0, name, strings.Join(diffOurs, "; "), strings.Join(diffRef, "; "))
	}
}
