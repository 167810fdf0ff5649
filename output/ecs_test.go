package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tlsdissect/tlsdissect/flows"
)

// ecsFields reads testdata/ecs-8.11-fields.txt: ECS field name to type,
// the x509 fields under both of TLS's nestings.
func ecsFields(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ecs-8.11-fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, typ, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		if rest, ok := strings.CutPrefix(name, "x509."); ok {
			out["tls.client.x509."+rest] = typ
			out["tls.server.x509."+rest] = typ
			continue
		}
		out[name] = typ
	}
	return out
}

// ecsDocs are the ECS documents to check: the golden of the fixtures, a
// record with every field set, and the ECS form of every record of the
// command's goldens (real captures).
func ecsDocs(t *testing.T) map[string]map[string]any {
	t.Helper()
	docs := map[string]map[string]any{}
	add := func(name string, line []byte) {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name] = m
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "ecs.golden"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range bytes.Lines(golden) {
		n++
		add("ecs.golden:"+itoa(n), line)
	}
	add("fullRecord", render(t, "ecs", Options{}, []*flows.Record{fullRecord()}))
	files, err := filepath.Glob(filepath.Join("..", "cmd", "tlsdissect", "testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no command goldens: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for i := 1; sc.Scan(); i++ {
			var r flows.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s:%d: %v", f, i, err)
			}
			add(filepath.Base(f)+":"+itoa(i), render(t, "ecs", Options{}, []*flows.Record{&r}))
		}
	}
	return docs
}

// leaves lists a document's leaf values by dotted path; arrays of
// scalars are one leaf holding the array.
func leaves(prefix string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, sub := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		leaves(name, sub, out)
	}
}

// ecsTypeOK checks a JSON value against an ECS type (an array of values
// of the type is allowed for every field, as Elasticsearch allows).
func ecsTypeOK(typ string, v any) bool {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if !ecsTypeOK(typ, e) {
				return false
			}
		}
		return len(a) > 0
	}
	switch typ {
	case "keyword", "match_only_text":
		s, ok := v.(string)
		return ok && s != ""
	case "long":
		n, ok := v.(json.Number)
		_, err := n.Int64()
		return ok && err == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "ip":
		s, _ := v.(string)
		_, err := netip.ParseAddr(s)
		return err == nil
	case "date":
		s, _ := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	return false
}

// TestECSFieldsExist: every field of every ECS document outside our
// tlsdissect.* namespace is an ECS 8.11 field, and its value is of the
// field's type.
func TestECSFieldsExist(t *testing.T) {
	fields := ecsFields(t)
	used := map[string]bool{}
	for name, doc := range ecsDocs(t) {
		l := map[string]any{}
		leaves("", doc, l)
		for path, v := range l {
			if strings.HasPrefix(path, "tlsdissect.") {
				continue
			}
			typ, ok := fields[path]
			if !ok {
				t.Errorf("%s: %s is not an ECS 8.11 field", name, path)
				continue
			}
			used[path] = true
			if !ecsTypeOK(typ, v) {
				t.Errorf("%s: %s = %v is not a %s", name, path, v, typ)
			}
		}
	}
	// The fields we have data for must appear somewhere.
	for _, want := range []string{"message", "event.reason", "event.outcome", "network.iana_number",
		"tls.server.x509.public_key_curve", "tls.server.x509.subject.organizational_unit",
		"tls.server.x509.subject.locality", "tls.server.x509.subject.state_or_province",
		"tls.client.x509.issuer.organizational_unit", "tls.client.supported_ciphers", "related.hash"} {
		if !used[want] {
			t.Errorf("%s is in no document", want)
		}
	}
}

// TestECSIndexTemplate: docs/elasticsearch/tlsdissect-index-template.json
// maps every field of every document, ECS fields with their ECS type.
func TestECSIndexTemplate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "elasticsearch", "tlsdissect-index-template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Mappings struct {
				Dynamic    string                     `json:"dynamic"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	if len(tpl.IndexPatterns) == 0 || tpl.Template.Mappings.Dynamic != "false" {
		t.Fatalf("template without index patterns or with dynamic mapping: %+v", tpl)
	}
	mapped := map[string]string{}
	var walk func(prefix string, props map[string]json.RawMessage)
	walk = func(prefix string, props map[string]json.RawMessage) {
		for k, raw := range props {
			var f struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			if f.Properties != nil {
				walk(prefix+k+".", f.Properties)
				continue
			}
			mapped[prefix+k] = f.Type
		}
	}
	walk("", tpl.Template.Mappings.Properties)
	fields := ecsFields(t)
	for name, typ := range fields {
		if mapped[name] != typ {
			t.Errorf("template maps %s as %q, ECS says %s", name, mapped[name], typ)
		}
	}
	var missing []string
	for _, doc := range ecsDocs(t) {
		l := map[string]any{}
		leaves("", doc, l)
		for path, v := range l {
			// Arrays of objects: their fields are mapped under the path.
			if a, ok := v.([]any); ok && len(a) > 0 {
				if _, isObj := a[0].(map[string]any); isObj {
					for _, e := range a {
						sub := map[string]any{}
						leaves(path, e, sub)
						for p := range sub {
							if mapped[p] == "" {
								missing = append(missing, p)
							}
						}
					}
					continue
				}
			}
			if mapped[path] == "" && !mappedObject(mapped, path) {
				missing = append(missing, path)
			}
		}
	}
	sort.Strings(missing)
	for i, m := range missing {
		if i == 0 || missing[i-1] != m {
			t.Errorf("the index template does not map %s", m)
		}
	}
}

// mappedObject reports whether path is mapped as an object (an empty
// array of objects is a leaf of the document, but an object of the
// mapping).
func mappedObject(mapped map[string]string, path string) bool {
	for k := range mapped {
		if strings.HasPrefix(k, path+".") {
			return true
		}
	}
	return false
}
