package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Extensions that oapi-codegen reads on a property.
const (
	extSkipPointer = "x-go-type-skip-optional-pointer"
	extOmitEmpty   = "x-omitempty"
)

// plainWriteOnly makes every required, write-only property of the spec's
// schemas a plain value, such as the password of a login request: oapi-
// codegen makes a writeOnly property a pointer even when it is required,
// and has no option against it. It is sent even when empty, so that the
// server says "may not be blank" rather than "is required". A property that
// is a $ref, or nullable, keeps its type: the first is shared, the second
// needs its null.
func plainWriteOnly(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(s *openapi3.Schema)
	visit = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		for _, name := range s.Required {
			p := s.Properties[name]
			if p == nil || p.Ref != "" || p.Value == nil || !p.Value.WriteOnly || p.Value.Nullable || p.Value.Type.IncludesNull() {
				continue
			}
			if p.Value.Extensions == nil {
				p.Value.Extensions = map[string]any{}
			}
			if _, set := p.Value.Extensions[extSkipPointer]; !set {
				p.Value.Extensions[extSkipPointer] = true
				p.Value.Extensions[extOmitEmpty] = false
			}
		}
		for _, p := range s.Properties {
			visitRef(p, visit)
		}
		visitRef(s.Items, visit)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, r := range group {
				visitRef(r, visit)
			}
		}
	}
	if doc.Components != nil {
		for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
			visitRef(doc.Components.Schemas[name], visit)
		}
	}
	forEachBody(doc, func(_, _ string, _ string, mt *openapi3.MediaType) {
		visitRef(mt.Schema, visit)
	})
}

func visitRef(r *openapi3.SchemaRef, visit func(*openapi3.Schema)) {
	if r != nil {
		visit(r.Value)
	}
}

// forEachBody calls fn for each media type of each request body of doc,
// in a stable order.
func forEachBody(doc *openapi3.T, fn func(method, path, mediaType string, mt *openapi3.MediaType)) {
	if doc.Paths == nil {
		return
	}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		ops := doc.Paths.Value(path).Operations()
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			rb := ops[method].RequestBody
			if rb == nil || rb.Value == nil {
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(rb.Value.Content)) {
				if mt := rb.Value.Content[name]; mt != nil {
					fn(method, path, name, mt)
				}
			}
		}
	}
}

// splitRequests gives a request body its own schema where the spec reuses
// one schema for request and response, as drf-spectacular does unless
// COMPONENT_SPLIT_REQUEST is on: a body that refers to components.schemas
// S, an object with read-only properties, refers to SRequest instead: S
// without them, as drf-spectacular would have split it. It returns a
// message for each schema it could not split: one composed with allOf,
// oneOf or anyOf, or whose SRequest name the spec already uses for
// something else. Schemas nested inside a body keep their read-only
// properties.
func splitRequests(spec string, doc *openapi3.T) (notes []string) {
	if doc.Components == nil {
		return nil
	}
	const prefix = "#/components/schemas/"
	made := map[string]*openapi3.Schema{}
	refused := map[string]bool{}
	forEachBody(doc, func(method, path, _ string, mt *openapi3.MediaType) {
		if mt.Schema == nil || !strings.HasPrefix(mt.Schema.Ref, prefix) || mt.Schema.Value == nil {
			return
		}
		name := strings.TrimPrefix(mt.Schema.Ref, prefix)
		s := mt.Schema.Value
		readOnly := false
		for _, p := range s.Properties {
			readOnly = readOnly || p != nil && p.Value != nil && p.Value.ReadOnly
		}
		if !readOnly || refused[name] {
			return
		}
		reqName := name + "Request"
		req := made[name]
		if req == nil {
			_, taken := doc.Components.Schemas[reqName]
			if taken || len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0 {
				refused[name] = true
				why := "it is composed with allOf, oneOf or anyOf"
				if taken {
					why = "the spec has a schema " + reqName + " already"
				}
				notes = append(notes, fmt.Sprintf("specgen: %s: %s %s sends schema %s, read-only properties included: %s",
					spec, strings.ToUpper(method), path, name, why))
				return
			}
			req = withoutReadOnly(s)
			made[name] = req
			doc.Components.Schemas[reqName] = &openapi3.SchemaRef{Value: req}
		}
		mt.Schema = &openapi3.SchemaRef{Ref: prefix + reqName, Value: req}
	})
	return notes
}

// withoutReadOnly returns a copy of s without its read-only properties.
func withoutReadOnly(s *openapi3.Schema) *openapi3.Schema {
	c := *s
	c.Properties = openapi3.Schemas{}
	for name, p := range s.Properties {
		if p == nil || p.Value == nil || !p.Value.ReadOnly {
			c.Properties[name] = p
		}
	}
	c.Required = nil
	for _, name := range s.Required {
		if _, kept := c.Properties[name]; kept {
			c.Required = append(c.Required, name)
		}
	}
	c.Extensions = maps.Clone(s.Extensions)
	return &c
}
