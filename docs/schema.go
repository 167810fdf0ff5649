// Package docs holds the published schemas of tlsdissect's output, so that
// tests (and programs that want to check a log) use the very files the
// documentation points to.
package docs

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FlowSchemaJSON is docs/schema/tlsdissect.flow-1.schema.json: the JSON
// Schema (draft 2020-12) of one -F json record, schema tlsdissect.flow/1.
//
//go:embed schema/tlsdissect.flow-1.schema.json
var FlowSchemaJSON []byte

// FlowSchemaURL is the $id of FlowSchemaJSON.
const FlowSchemaURL = "https://github.com/tlsdissect/tlsdissect/docs/schema/tlsdissect.flow-1.schema.json"

// FlowValidator checks records against the tlsdissect.flow/1 schema. It is
// safe for concurrent use once made.
type FlowValidator struct{ s *jsonschema.Schema }

// NewFlowValidator compiles FlowSchemaJSON.
func NewFlowValidator() (*FlowValidator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(FlowSchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("docs: flow schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(FlowSchemaURL, doc); err != nil {
		return nil, fmt.Errorf("docs: flow schema: %w", err)
	}
	s, err := c.Compile(FlowSchemaURL)
	if err != nil {
		return nil, fmt.Errorf("docs: flow schema: %w", err)
	}
	return &FlowValidator{s: s}, nil
}

// Validate checks one JSON record (one line of -F json output).
func (v *FlowValidator) Validate(line []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("docs: record: %w", err)
	}
	return v.s.Validate(doc)
}

// ValidateValue checks a record already decoded by encoding/json (maps,
// slices, float64 or json.Number, strings, booleans and nil).
func (v *FlowValidator) ValidateValue(doc any) error { return v.s.Validate(doc) }
