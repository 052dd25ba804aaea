package main

import (
	"maps"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// view is what a POST operation is to SimpleJWT, told by the shape of its
// bodies, never by the names of its path, operation or schemas.
type view int

const (
	notTokenView view = iota
	// refreshView takes {refresh} and answers {access[, refresh]}:
	// TokenRefreshView. An unsplit schema lists the read-only access in the
	// request too, marked or not; a rendering may leave the answer untyped.
	refreshView
	// obtainView takes a password and answers {access, refresh} or
	// {token}: TokenObtainPairView, TokenObtainSlidingView.
	obtainView
	// verifyView takes {token}: TokenVerifyView, TokenRefreshSlidingView.
	verifyView
	// blacklistView takes {refresh} and answers no access token:
	// TokenBlacklistView.
	blacklistView
)

func (v view) String() string {
	switch v {
	case refreshView:
		return "refresh"
	case obtainView:
		return "obtain"
	case verifyView:
		return "verify"
	case blacklistView:
		return "blacklist"
	}
	return "none"
}

// classify tells what op, a POST, is to SimpleJWT.
func classify(op *openapi3.Operation) view {
	in, ok := requestFields(op)
	if !ok {
		return notTokenView
	}
	out, answered := answerFields(op)
	switch {
	case in.only("refresh") || in.only("refresh", "access") && in.has("refresh"):
		// An untyped answer says nothing against a refresh view: the seed's
		// rendering is one.
		if answered && (out == nil || out.has("access") && out.only("access", "refresh")) {
			return refreshView
		}
		if in.only("refresh") && (!answered || !out.has("access")) {
			return blacklistView
		}
	case in.only("token"):
		return verifyView
	case in.has("password") && answered && out != nil && (out.has("access") && out.has("refresh") || out.only("token")):
		return obtainView
	}
	return notTokenView
}

// fields is the set of property names of an object schema.
type fields map[string]bool

func (f fields) has(name string) bool { return f[name] }

// only reports whether f is not empty and every name of f is one of names.
func (f fields) only(names ...string) bool {
	if len(f) == 0 {
		return false
	}
	for name := range f {
		if !slices.Contains(names, name) {
			return false
		}
	}
	return true
}

func (f fields) String() string {
	return "{" + strings.Join(slices.Sorted(maps.Keys(f)), ", ") + "}"
}

// requestFields returns the writable properties of op's request body: its
// JSON body's, or else those of the first media type it documents.
func requestFields(op *openapi3.Operation) (fields, bool) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil, false
	}
	s := bodySchema(op.RequestBody.Value.Content)
	if s == nil {
		return nil, false
	}
	f := properties(s, func(p *openapi3.Schema) bool { return !p.ReadOnly })
	return f, len(f) > 0
}

// answerFields returns the readable properties of op's first 2xx answer.
// answered is false when no 2xx has a body; f is nil for a body whose
// schema names no properties ("any type").
func answerFields(op *openapi3.Operation) (f fields, answered bool) {
	if op.Responses == nil {
		return nil, false
	}
	for _, code := range []string{"200", "201", "2XX"} {
		r := op.Responses.Value(code)
		if r == nil || r.Value == nil || len(r.Value.Content) == 0 {
			continue
		}
		s := bodySchema(r.Value.Content)
		if s == nil {
			return nil, true
		}
		f := properties(s, func(p *openapi3.Schema) bool { return !p.WriteOnly })
		if len(f) == 0 && !s.Type.Is("object") {
			return nil, true
		}
		return f, true
	}
	return nil, false
}

// bodySchema returns the JSON schema of content, or else that of its first
// media type, by name.
func bodySchema(content openapi3.Content) *openapi3.Schema {
	mt := content.Get("application/json")
	if mt == nil {
		for _, name := range slices.Sorted(maps.Keys(content)) {
			if mt = content[name]; mt != nil {
				break
			}
		}
	}
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// properties returns the names of s's properties, those of its allOf
// included, that keep says to keep.
func properties(s *openapi3.Schema, keep func(*openapi3.Schema) bool) fields {
	f := fields{}
	var add func(s *openapi3.Schema, depth int)
	add = func(s *openapi3.Schema, depth int) {
		if s == nil || depth > 8 {
			return
		}
		for name, p := range s.Properties {
			if p != nil && p.Value != nil && keep(p.Value) {
				f[name] = true
			}
		}
		for _, a := range s.AllOf {
			if a != nil {
				add(a.Value, depth+1)
			}
		}
	}
	add(s, 0)
	return f
}
