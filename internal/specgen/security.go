package main

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// auth is api.Auth: whether an operation takes the session's access token.
type auth int

const (
	authNone auth = iota
	authRequired
	authOptional
)

func (a auth) String() string {
	return [...]string{"AuthNone", "AuthRequired", "AuthOptional"}[a]
}

// operation is one row of api.Operations.
type operation struct {
	method, path string
	auth         auth
	view         view     // what the operation is to SimpleJWT, by its shape
	media        []string // the media types other than JSON of its 2xx answers
}

// scheme is a security scheme of the spec, and whether the session's token
// serves it.
type scheme struct {
	name string
	s    *openapi3.SecurityScheme // nil when the spec names it but does not define it
	jwt  bool
}

// security is how the spec declares authentication.
type security struct {
	// fallback is true when the spec has no securitySchemes at all: the
	// backend authenticates with a class drf-spectacular does not know (or
	// the spec is the seed's, which says nothing). Every operation but
	// SimpleJWT's views and those that allow only anonymous access then
	// takes the token.
	fallback bool
	schemes  map[string]*scheme
	// prefix is the word before the token in Authorization: "Bearer", or
	// the prefix an apiKey scheme on Authorization declares.
	prefix string
}

// declaredPrefix finds the prefix in drf-spectacular's description of an
// apiKey scheme on Authorization: 'Token-based authentication with required
// prefix "JWT"' (translated, the prefix keeps its quotes).
var declaredPrefix = regexp.MustCompile(`"([^"\s]+)"`)

// readSecurity reads the spec's security schemes. SimpleJWT's scheme is the
// one drf-spectacular names jwtAuth, as http bearer or as an apiKey on
// Authorization with a declared prefix; a spec without jwtAuth has its
// http bearer schemes served.
func readSecurity(spec string, doc *openapi3.T) (*security, error) {
	sec := &security{schemes: map[string]*scheme{}, prefix: "Bearer"}
	if doc.Components == nil || len(doc.Components.SecuritySchemes) == 0 {
		sec.fallback = true
		return sec, nil
	}
	for name, ref := range doc.Components.SecuritySchemes {
		if ref != nil && ref.Value != nil {
			sec.schemes[name] = &scheme{name: name, s: ref.Value}
		}
	}
	isBearer := func(s *openapi3.SecurityScheme) bool {
		return s.Type == "http" && strings.EqualFold(s.Scheme, "bearer")
	}
	onAuthorization := func(s *openapi3.SecurityScheme) bool {
		return s.Type == "apiKey" && s.In == "header" && strings.EqualFold(s.Name, "Authorization")
	}
	if jwt := sec.schemes["jwtAuth"]; jwt != nil && (isBearer(jwt.s) || onAuthorization(jwt.s)) {
		jwt.jwt = true
		if onAuthorization(jwt.s) {
			m := declaredPrefix.FindAllStringSubmatch(jwt.s.Description, -1)
			if m == nil {
				return nil, fmt.Errorf("specgen: %s: security scheme jwtAuth is an apiKey in the Authorization header, "+
					"but its description does not say the prefix before the token (drf-spectacular writes "+
					"'Token-based authentication with required prefix \"JWT\"', from SimpleJWT's AUTH_HEADER_TYPES). "+
					"Say it with this action in overlay.yaml, with the backend's prefix:\n%s",
					spec, indent("- target: $.components.securitySchemes.jwtAuth\n"+
						"  description: The prefix SimpleJWT's AUTH_HEADER_TYPES sets.\n"+
						"  update:\n    description: Token-based authentication with required prefix \"JWT\"", 2))
			}
			sec.prefix = m[len(m)-1][1]
		}
		return sec, nil
	}
	for _, s := range sec.schemes {
		s.jwt = isBearer(s.s)
	}
	return sec, nil
}

// describe says what a scheme is, for messages.
func (s *scheme) describe() string {
	switch {
	case s.s == nil:
		return "not defined in components.securitySchemes"
	case s.s.Type == "apiKey" && s.s.In == "header" && strings.EqualFold(s.s.Name, "Authorization"):
		if m := declaredPrefix.FindAllStringSubmatch(s.s.Description, -1); m != nil {
			return fmt.Sprintf("apiKey in header %q with prefix %q", s.s.Name, m[len(m)-1][1])
		}
		return fmt.Sprintf("apiKey in header %q", s.s.Name)
	case s.s.Type == "apiKey":
		return fmt.Sprintf("apiKey in %s %q", s.s.In, s.s.Name)
	case s.s.Type == "http":
		return "http " + strings.ToLower(s.s.Scheme)
	}
	return s.s.Type
}

// authOf decides whether op, what v says it is to SimpleJWT, takes the
// session's token. Security decides, but for a refresh view, which never
// takes it, and, in a spec without securitySchemes, SimpleJWT's views.
func (sec *security) authOf(doc *openapi3.T, op *openapi3.Operation, v view) auth {
	reqs, declared := doc.Security, len(doc.Security) > 0
	if op.Security != nil {
		reqs, declared = *op.Security, true
	}
	// The session calls a refresh view when its access token is stale, and
	// a refresh of its own token must be its own: never with a token, even
	// where the spec offers the JWT scheme (a JWT-authenticated refresh
	// view would reject the stale token before it ran).
	if v == refreshView {
		return authNone
	}
	if sec.fallback {
		if v != notTokenView {
			return authNone
		}
		if !declared {
			return authRequired
		}
	}
	served, anonymous := false, false
	for _, alt := range reqs {
		if len(alt) == 0 {
			anonymous = true
			continue
		}
		all := true
		for name := range alt {
			s := sec.schemes[name]
			all = all && (sec.fallback || s != nil && s.jwt)
		}
		served = served || all
	}
	switch {
	case served && anonymous:
		return authOptional
	case served:
		return authRequired
	}
	return authNone
}

// operations lists the operations of doc, sorted by path then method, with
// what each takes, and the messages that name the schemes the SDK cannot
// send.
func operations(spec string, doc *openapi3.T, sec *security) (ops []operation, notes []string) {
	type offers struct{ beside, only []string }
	unserved := map[string]*offers{}
	var jwtNames []string
	for name, s := range sec.schemes {
		if s.jwt {
			jwtNames = append(jwtNames, name)
		}
	}
	slices.Sort(jwtNames)
	if doc.Paths != nil {
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				method = strings.ToUpper(method)
				v := notTokenView
				if method == "POST" {
					v = classify(op)
				}
				a := sec.authOf(doc, op, v)
				ops = append(ops, operation{method: method, path: path, auth: a, view: v, media: otherMedia(op)})
				if sec.fallback {
					continue
				}
				reqs := doc.Security
				if op.Security != nil {
					reqs = *op.Security
				}
				for _, alt := range reqs {
					for name := range alt {
						if s := sec.schemes[name]; s != nil && s.jwt {
							continue
						}
						o := unserved[name]
						if o == nil {
							o = &offers{}
							unserved[name] = o
						}
						if a == authNone {
							o.only = append(o.only, method+" "+path)
						} else {
							o.beside = append(o.beside, method+" "+path)
						}
					}
				}
			}
		}
	}
	slices.SortFunc(ops, func(a, b operation) int {
		return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.method, b.method))
	})
	if !sec.fallback && len(jwtNames) == 0 {
		notes = append(notes, fmt.Sprintf("specgen: %s declares no security scheme the SDK can send (SimpleJWT's, which "+
			"drf-spectacular names jwtAuth: http bearer, or an apiKey in the Authorization header with a declared prefix): "+
			"no operation takes the access token", spec))
	}
	for _, name := range slices.Sorted(maps.Keys(unserved)) {
		o := unserved[name]
		s := sec.schemes[name]
		if s == nil {
			s = &scheme{name: name}
		}
		var parts []string
		if n := len(uniq(o.beside)); n > 0 {
			parts = append(parts, fmt.Sprintf("%s it beside %s and %s the access token",
				count(n, "operation offers", "operations offer"), strings.Join(jwtNames, ", "), verb(n, "takes", "take")))
		}
		if only := uniq(o.only); len(only) > 0 {
			parts = append(parts, fmt.Sprintf("%s no scheme the SDK can send and %s no token: %s",
				count(len(only), "operation offers", "operations offer"), verb(len(only), "takes", "take"), shortList(only)))
		}
		notes = append(notes, fmt.Sprintf("specgen: %s: the SDK cannot send security scheme %s (%s): %s",
			spec, name, s.describe(), strings.Join(parts, "; ")))
	}
	return ops, notes
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// count says n things, in the singular or the plural.
func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, verb(n, one, many))
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shortList lists up to five items, and how many more there are.
func shortList(items []string) string {
	if len(items) <= 5 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:5], ", "), len(items)-5)
}

// otherMedia returns the media types other than JSON that op documents for
// its 2xx answers, sorted; nil if none.
func otherMedia(op *openapi3.Operation) []string {
	var media []string
	if op.Responses == nil {
		return nil
	}
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") || r.Value == nil {
			continue
		}
		for mt := range r.Value.Content {
			mt = strings.ToLower(mt)
			if mt != "application/json" && !strings.HasSuffix(mt, "+json") && !slices.Contains(media, mt) {
				media = append(media, mt)
			}
		}
	}
	slices.Sort(media)
	return media
}
