package wrapper

import (
	"net/http"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// operationTakesToken reports whether a request for method and path, a path
// relative to the base URL, carries the access token. The spec decides, as
// generated in [api.Operations]: an operation marked [api.AuthRequired] or
// [api.AuthOptional] takes it, one marked [api.AuthNone] (SimpleJWT's
// views, anonymous-only operations) does not. A path the spec does not list
// takes it unless it is under [api.TokenPrefix], where SimpleJWT's views
// live.
func operationTakesToken(method, path string) bool {
	if takes, known := lookupOperation(method, path); known {
		return takes
	}
	return !strings.HasPrefix(path, api.TokenPrefix)
}

// tookToken is [operationTakesToken] for the path of a request whose base
// URL is unknown, such as [APIError.Path]: the longest suffix of path that
// is an operation of the spec decides.
func tookToken(method, path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		if takes, known := lookupOperation(method, path[i:]); known {
			return takes
		}
	}
	return !strings.Contains(path, api.TokenPrefix)
}

// route is an operation of [api.Operations], split into segments.
type route struct {
	method     string
	segs       []segment
	literals   int // segments that are not parameters: more is more specific
	takesToken bool
}

type segment struct {
	lit   string
	param bool
}

var routes = compileRoutes(api.Operations)

// routesPrefix is the text every template of routes starts with, such as
// "/api/v1/": a path without it matches none, and needs no more look.
var routesPrefix = commonPrefix(api.Operations)

func commonPrefix(ops []api.Operation) string {
	if len(ops) == 0 {
		return ""
	}
	p, _, _ := strings.Cut(ops[0].Path, "{")
	for _, op := range ops[1:] {
		for !strings.HasPrefix(op.Path, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

func compileRoutes(ops []api.Operation) []route {
	rs := make([]route, 0, len(ops))
	for _, op := range ops {
		r := route{method: op.Method, takesToken: op.Auth != api.AuthNone}
		for _, s := range strings.Split(strings.TrimPrefix(op.Path, "/"), "/") {
			param := strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
			if !param {
				r.literals++
			}
			r.segs = append(r.segs, segment{lit: s, param: param})
		}
		rs = append(rs, r)
	}
	return rs
}

// lookupOperation finds the operation for method and path: the most
// specific path template that matches, with the same method if there is
// one (HEAD is GET's), and whether it takes the token. known is false when
// no template matches. It does not allocate.
func lookupOperation(method, path string) (takesToken, known bool) {
	if len(routes) == 0 || !strings.HasPrefix(path, "/") || !strings.HasPrefix(path, routesPrefix) {
		return false, false
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	n := strings.Count(path, "/") // a template matches only paths of as many segments
	best, bestExact := -1, false
	for i := range routes {
		r := &routes[i]
		if len(r.segs) != n || !r.match(path[1:]) {
			continue
		}
		exact := r.method == method
		if best < 0 || exact && !bestExact || exact == bestExact && r.literals > routes[best].literals {
			best, bestExact = i, exact
		}
	}
	if best < 0 {
		return false, false
	}
	return routes[best].takesToken, true
}

// match reports whether rest, a path without its leading slash such as
// "api/v1/runs/0b5e.../", fits r's template, such as "/api/v1/runs/{id}/".
// A parameter matches one non-empty segment.
func (r *route) match(rest string) bool {
	last := len(r.segs) - 1
	for i := range r.segs {
		s := &r.segs[i]
		if i == last {
			if s.param {
				return rest != "" && strings.IndexByte(rest, '/') < 0
			}
			return rest == s.lit
		}
		if s.param {
			j := strings.IndexByte(rest, '/')
			if j <= 0 {
				return false
			}
			rest = rest[j+1:]
			continue
		}
		if len(rest) <= len(s.lit) || rest[len(s.lit)] != '/' || rest[:len(s.lit)] != s.lit {
			return false
		}
		rest = rest[len(s.lit)+1:]
	}
	return false // no template has no segment
}
