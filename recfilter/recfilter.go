// Package recfilter is the -Y display filter: an expression over the fields
// of a record as the JSON contract (tlsdissect.flow/1) writes them, in the
// expr language (github.com/expr-lang/expr):
//
//	status == "failed" and version == "TLS 1.3"
//	sni endsWith ".example.com"
//	server.port in [443, 8443] and not resumed
//	any(alerts, .description == "bad_certificate")
//	failure.reason == "no_shared_cipher"
//
// The names are the JSON keys, nested with dots, so a field added to the
// contract is filterable the day it is written, with no change here. A
// field a record does not carry is nil, and so is any member of it
// (failure.reason on a record without a failure is nil, not an error).
// A result that is not a boolean is taken as "present": a non-empty
// string, list or object, a non-zero number (-Y sni keeps the records
// with an SNI).
package recfilter

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/tlsdissect/tlsdissect/flows"
	"github.com/tlsdissect/tlsdissect/output"
)

// MaxSource bounds the length of an expression: a filter is typed by a
// person, and expr's own node limit keeps the compiled program small.
const MaxSource = 64 << 10

// Filter is a compiled expression. It keeps a buffer and a VM between
// calls, so it is not safe for concurrent use.
type Filter struct {
	src  string
	prog *vm.Program
	vm   vm.VM
	buf  []byte // the record's JSON, reused; owned by the Filter
	// names are the record fields the expression names at the top level;
	// seen marks those some record had, so that a misspelt name (stauts)
	// can be reported instead of silently selecting nothing.
	names []string
	seen  []bool
	want  map[string]bool // the fields to decode; nil for all ($env)
}

// CompileError is a filter that does not compile: what is wrong and
// where, Line and Column counting from 1 (Column in characters).
type CompileError struct {
	Line, Column int
	Msg          string
}

// Error is one line: "column 12: unexpected token ...", with the line
// too when the expression has several.
func (e *CompileError) Error() string {
	if e.Line > 1 {
		return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
}

// Compile parses and checks src.
func Compile(src string) (*Filter, error) {
	if len(src) > MaxSource {
		return nil, &CompileError{Line: 1, Column: 1, Msg: fmt.Sprintf("expression of %d bytes, more than %d", len(src), MaxSource)}
	}
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{Line: 1, Column: 1, Msg: "empty expression"}
	}
	names := &nameCollector{}
	prog, err := expr.Compile(src, expr.Patch(names), expr.Patch(nilSafe{}))
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			// expr counts columns from 0; a person counts from 1.
			return nil, &CompileError{Line: max(fe.Line, 1), Column: fe.Column + 1, Msg: oneLine(fe.Message)}
		}
		return nil, &CompileError{Line: 1, Column: 1, Msg: oneLine(err.Error())}
	}
	f := &Filter{src: src, prog: prog}
	for _, n := range names.idents {
		if !names.declared[n] && !slices.Contains(f.names, n) {
			f.names = append(f.names, n)
		}
	}
	f.seen = make([]bool, len(f.names))
	if !slices.Contains(f.names, "$env") {
		f.want = map[string]bool{}
		for _, n := range f.names {
			f.want[n] = true
		}
	}
	return f, nil
}

// Unseen returns the field names the expression uses that no record
// matched so far carried: likely misspelt. Builtins and names declared
// with let are not fields.
func (f *Filter) Unseen() []string {
	var out []string
	for i, n := range f.names {
		if !f.seen[i] {
			out = append(out, n)
		}
	}
	return out
}

// String returns the expression as given.
func (f *Filter) String() string { return f.src }

// Match reports whether r passes. An error is an expression that could
// not be evaluated on this record (a type mismatch, an index out of
// range); the caller decides what it means, usually "does not pass".
func (f *Filter) Match(r *flows.Record) (bool, error) {
	f.buf = output.AppendRecordJSON(f.buf[:0], r)
	// Only the fields the expression names are decoded; a field it does
	// not name cannot change its result.
	m, err := decodeObject(f.buf, f.want)
	if err != nil {
		return false, fmt.Errorf("decoding record: %w", err)
	}
	return f.MatchFields(m)
}

// MatchFields evaluates the expression on fields, as Fields returns them.
func (f *Filter) MatchFields(fields map[string]any) (ok bool, err error) {
	for i, n := range f.names {
		if !f.seen[i] {
			_, f.seen[i] = fields[n]
		}
	}
	defer func() {
		// expr turns its own panics into errors; a panic that escapes is
		// still one record, not the whole run.
		if p := recover(); p != nil {
			ok, err = false, fmt.Errorf("evaluating filter: %v", p)
		}
	}()
	v, err := f.vm.Run(f.prog, fields)
	if err != nil {
		return false, fmt.Errorf("evaluating filter: %s", oneLine(err.Error()))
	}
	return truthy(v), nil
}

// Fields returns r as its JSON object decodes: objects as map[string]any,
// lists as []any, whole numbers as int, other numbers as float64. buf is
// scratch space, returned (grown) for reuse; the map does not refer to it.
// Whole numbers are ints so that server.port == 443 and len(alerts) > 0
// compare ints.
func Fields(r *flows.Record, buf []byte) (map[string]any, []byte, error) {
	buf = output.AppendRecordJSON(buf, r)
	m, err := decodeObject(buf, nil)
	if err != nil {
		return nil, buf, fmt.Errorf("decoding record: %w", err)
	}
	return m, buf, nil
}

// truthy is what a non-boolean result means for a filter: present.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int:
		return t != 0
	case float64:
		return t != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// oneLine keeps the first line of an expr message: the snippet and caret
// it draws under it do not belong in a one-line diagnostic.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// nameCollector notes the identifiers of an expression and the names
// let declares. It runs before nilSafe, on the tree as parsed.
type nameCollector struct {
	idents   []string
	declared map[string]bool
}

func (c *nameCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		c.idents = append(c.idents, n.Value)
	case *ast.VariableDeclaratorNode:
		if c.declared == nil {
			c.declared = map[string]bool{}
		}
		c.declared[n.Name] = true
	}
}

// nilSafe makes every member access and index nil-safe: a.b becomes
// get(a, "b") and a[i] get(a, i), expr's builtin that gives nil for a nil
// base, a missing key or an index out of range. So failure.reason is nil
// when failure is, and alerts[0].code is nil on a record without alerts,
// instead of an error. ast.Walk visits children first and does not walk
// a replaced node again.
type nilSafe struct{}

func (nilSafe) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Method {
		return
	}
	get := &ast.BuiltinNode{Name: "get", Arguments: []ast.Node{m.Node, m.Property}}
	get.SetLocation(m.Location())
	*node = get
}
