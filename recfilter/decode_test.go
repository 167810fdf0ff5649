package recfilter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/tlsdissect/tlsdissect/flows"
)

// reference decodes as encoding/json does, whole numbers as int: the
// second way of computing what decodeObject computes.
func reference(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return numbers(m).(map[string]any), nil
}

func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil && int64(int(i)) == i {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = numbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = numbers(e)
		}
	}
	return v
}

// goldenRecords are the JSON lines of the command's golden files: every
// kind of record the committed captures give.
func goldenRecords(t testing.TB) [][]byte {
	files, _ := filepath.Glob("../cmd/tlsdissect/testdata/golden/*.json")
	var lines [][]byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		f.Close()
	}
	if len(lines) == 0 {
		t.Fatal("no golden JSON records")
	}
	return lines
}

// TestDecodeAgrees: decodeObject gives what encoding/json gives, on every
// golden record and on the test records, in whole and field by field.
func TestDecodeAgrees(t *testing.T) {
	lines := goldenRecords(t)
	for _, r := range []func() *flows.Record{failedRecord, okRecord} {
		_, buf, err := Fields(r(), nil)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, buf)
	}
	lines = append(lines, []byte(`{"a":"\u00e9\n\ud83d\ude00","b":[1,-2,3.5,1e3,-0,true,false,null,{}],"c":{"d":[]},"e":18446744073709551615}`))
	for i, line := range lines {
		want, err := reference(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		got, err := decodeObject(line, nil)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %d:\n got %#v\nwant %#v", i, got, want)
		}
		for k, v := range want {
			part, err := decodeObject(line, map[string]bool{k: true})
			if err != nil || len(part) != 1 || !reflect.DeepEqual(part[k], v) {
				t.Fatalf("line %d field %s: %#v %v, want %#v", i, k, part, err, v)
			}
		}
	}
}

// TestDecodeErrors: malformed input is an error, never a panic.
func TestDecodeErrors(t *testing.T) {
	for _, s := range []string{``, `[]`, `{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a":tru}`, `{"a":"x}`, `{"a":"\`,
		`{"a":[1,2}`, `{"a":-}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":` + string(bytes.Repeat([]byte("["), 100)) + `}`} {
		if _, err := decodeObject([]byte(s), nil); err == nil {
			t.Errorf("%q: no error", s)
		}
		if _, err := decodeObject([]byte(s), map[string]bool{}); err == nil && s != `{"a":1,}` {
			t.Errorf("%q skipping: no error", s)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, l := range goldenRecords(f)[:8] {
		f.Add(l, "status")
	}
	f.Add([]byte(`{"a":{"b":[1,2.5,"\u0041"]}}`), "a")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		got, err := decodeObject(b, nil)
		part, errPart := decodeObject(b, map[string]bool{key: true})
		want, errRef := reference(b)
		if errRef != nil || !utf8.Valid(b) || !json.Valid(b) {
			return // what encoding/json refuses, we need not agree on
		}
		if err != nil {
			t.Fatalf("%q: %v; encoding/json reads it", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", b, got, want)
		}
		if v, ok := want[key]; ok && (errPart != nil || !reflect.DeepEqual(part[key], v)) {
			t.Fatalf("%q field %q: %#v %v, want %#v", b, key, part, errPart, v)
		}
	})
}
