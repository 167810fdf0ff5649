package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// zeekBlock is one log of a TSV file (Zeek's #fields form or zeek-cut
// output with a header line).
type zeekBlock struct {
	fields []string
	rows   []map[string]string
}

var errZeekHeader = errors.New("conformance: zeek log without a field header")

// parseZeekTSV reads Zeek TSV logs. A file may hold several logs (btest
// baselines concatenated per run), each starting with its own #fields.
func parseZeekTSV(src string) []zeekBlock {
	blocks, _ := parseZeekTSVStrict(src)
	return blocks
}

// parseZeekTSVStrict also reports data lines it could not attribute to a
// header (zeek-cut output without -c/-m headers).
func parseZeekTSVStrict(src string) ([]zeekBlock, error) {
	var blocks []zeekBlock
	var cur *zeekBlock
	var err error
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "#fields\t") {
				blocks = append(blocks, zeekBlock{fields: strings.Split(line[len("#fields\t"):], "\t")})
				cur = &blocks[len(blocks)-1]
			}
			continue
		}
		cols := strings.Split(line, "\t")
		if cur == nil {
			// zeek-cut output: a header line naming the columns.
			if isZeekHeader(cols) {
				blocks = append(blocks, zeekBlock{fields: cols})
				cur = &blocks[len(blocks)-1]
				continue
			}
			err = errZeekHeader
			continue
		}
		row := make(map[string]string, len(cur.fields))
		for i, f := range cur.fields {
			if i < len(cols) {
				row[f] = cols[i]
			} else {
				row[f] = "-"
			}
		}
		cur.rows = append(cur.rows, row)
	}
	return blocks, err
}

func isZeekHeader(cols []string) bool {
	for _, c := range cols {
		switch c {
		case "ts", "uid", "id.orig_h", "version", "ssl_history", "server_name":
			return true
		}
	}
	return false
}

// zeekRef is one connection of the Zeek baselines of a capture: the
// values every baseline gives for each field (several baselines of one
// trace normally agree; where they do not, the field is a reference
// conflict).
type zeekRef struct {
	orig, resp string // canonical endpoints, "" when the log has no id columns
	values     map[string][]string
	logs       []string
}

// zeekFields are the ssl.log columns compared, in report order.
var zeekFields = []string{"version", "cipher", "curve", "server_name", "resumed", "established",
	"last_alert", "next_protocol", "ssl_history", "cert_chain_fps"}

// loadZeekRefs merges the rows of every ssl.log baseline of a capture by
// connection (4-tuple and occurrence). unparsed lists files not understood.
func loadZeekRefs(files []string, capturesDir string) (refs []*zeekRef, unparsed []string) {
	index := map[string]*zeekRef{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			unparsed = append(unparsed, rel(capturesDir, f)+": "+err.Error())
			continue
		}
		blocks, perr := parseZeekTSVStrict(string(b))
		if perr != nil || len(blocks) == 0 {
			unparsed = append(unparsed, rel(capturesDir, f)+": no field header")
			continue
		}
		seen := map[string]int{}
		for _, blk := range blocks {
			for _, row := range blk.rows {
				var orig, resp string
				if row["id.orig_h"] != "" && row["id.resp_h"] != "" {
					op, _ := strconv.Atoi(row["id.orig_p"])
					rp, _ := strconv.Atoi(row["id.resp_p"])
					orig, resp = endpoint(row["id.orig_h"], op), endpoint(row["id.resp_h"], rp)
				}
				k := pairKey(orig, resp)
				n := seen[k]
				seen[k]++
				key := k + "#" + strconv.Itoa(n)
				z := index[key]
				if z == nil {
					z = &zeekRef{orig: orig, resp: resp, values: map[string][]string{}}
					index[key] = z
					refs = append(refs, z)
				}
				z.logs = append(z.logs, rel(capturesDir, f))
				for _, fld := range zeekFields {
					v, ok := row[fld]
					if !ok {
						continue
					}
					z.values[fld] = appendUnique(z.values[fld], normZeek(fld, v))
				}
			}
		}
	}
	return refs, unparsed
}

// normZeek canonicalises a Zeek field value; "" is unset.
func normZeek(field, v string) string {
	v = strings.TrimSpace(v)
	if v == "-" || v == "(empty)" {
		v = ""
	}
	switch field {
	case "version":
		return normVersion(v)
	case "cipher":
		return normCipher(v)
	case "curve", "last_alert":
		return strings.ToLower(v)
	case "resumed", "established":
		switch strings.ToLower(v) {
		case "t", "true":
			return "T"
		case "f", "false", "":
			return "F"
		}
	case "cert_chain_fps":
		return strings.ToLower(v)
	}
	return v
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}
