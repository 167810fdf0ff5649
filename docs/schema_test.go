package docs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// goldenRecords are every committed -F json record: the output package's
// golden and the command's goldens of the test captures, named FILE:LINE.
func goldenRecords(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "cmd", "tlsdissect", "testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "output", "testdata", "json.golden"))
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for n := 1; sc.Scan(); n++ {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				out[fmt.Sprintf("%s:%d", filepath.Base(f), n)] = append([]byte(nil), line...)
			}
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d golden records found", len(out))
	}
	return out
}

// fixtureViolations are the hand-made records of output/fixtures_test.go
// that no Tracker can produce, with the places the schema must reject:
// the hostile record (escape sequences in our own enums, to test the
// writers' escaping), two validation values in OpenSSL's words where the
// record carries Go's, and a failure written before confidence existed.
var fixtureViolations = map[string][]string{
	"json.golden:4":  {"/validation"},
	"json.golden:7":  {"/validation"},
	"json.golden:9":  {"/anomalies/0", "/failure/confidence", "/history"},
	"json.golden:10": {"/failure/confidence"},
}

func TestGoldenRecordsMatchSchema(t *testing.T) {
	v, err := NewFlowValidator()
	if err != nil {
		t.Fatal(err)
	}
	for name, line := range goldenRecords(t) {
		err := v.Validate(line)
		want := fixtureViolations[name]
		if want == nil {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if got := violations(err); !slices.Equal(got, want) {
			t.Errorf("%s: schema rejects %q, want exactly %q (%v)", name, got, want, err)
		}
	}
}

// violations lists the instance locations of the leaf errors, sorted and
// without duplicates.
func violations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/"))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// A failure that does not match its definition also fails the
	// "null" branch of oneOf at /failure: not a separate violation.
	out = slices.DeleteFunc(out, func(s string) bool { return s == "/failure" })
	slices.Sort(out)
	return slices.Compact(out)
}

// TestSchemaBites mutates a valid record in the ways the schema exists to
// catch: an unknown field, a missing one, values outside the enums.
func TestSchemaBites(t *testing.T) {
	v, err := NewFlowValidator()
	if err != nil {
		t.Fatal(err)
	}
	recs := goldenRecords(t)
	base := recs["fail-expired.pcap.json:1"]
	if base == nil {
		t.Fatal("fail-expired.pcap.json has no record")
	}
	if err := v.Validate(base); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to string }{
		{"unknown field", `{"schema":`, `{"extra":1,"schema":`},
		{"missing field", `"sni":`, `"sni_":`},
		{"schema version", `"tlsdissect.flow/1"`, `"tlsdissect.flow/2"`},
		{"status", `"status":"failed"`, `"status":"broken"`},
		{"transport", `"transport":"tcp"`, `"transport":"sctp"`},
		{"reason", `"reason":"`, `"reason":"x`},
		{"confidence", `"confidence":"`, `"confidence":"x`},
		{"failure missing", `"failure":{`, `"failure":null,"x":{`},
		{"time layout", `"ts":"20`, `"ts":"1`},
		{"port", `"port":443`, `"port":70000`},
		{"from", `"from":"server"`, `"from":"both"`},
		{"certificate field", `"self_signed":`, `"self_signed_":`},
	}
	for _, c := range cases {
		mut := bytes.Replace(base, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(mut, base) {
			t.Errorf("%s: %q not in the record", c.name, c.from)
			continue
		}
		if v.Validate(mut) == nil {
			t.Errorf("%s: the schema accepts %s", c.name, mut)
		}
	}
}
