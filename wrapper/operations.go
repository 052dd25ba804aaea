package wrapper

import (
	"net/http"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// tokenPathPrefix is where SimpleJWT's views live: obtain, refresh, verify
// and blacklist take tokens, or a password, in the body.
const tokenPathPrefix = "/api/v1/token/"

// operationTakesToken reports whether a request for method and path, a path
// relative to the base URL, carries the bearer token. The spec decides, as
// generated in [api.OperationAuths]: an operation whose security names the
// bearer scheme takes it; one with no security, or an empty one, does not. A
// path the spec does not list, or a spec that declares no security at all,
// takes it unless it is under /api/v1/token/.
func operationTakesToken(method, path string) bool {
	if bearer, known := lookupOperation(method, path); known {
		return bearer
	}
	return !strings.HasPrefix(path, tokenPathPrefix)
}

// tookToken is [operationTakesToken] for the path of a request whose base
// URL is unknown, such as [APIError.Path]: the longest suffix of path that
// is an operation of the spec decides.
func tookToken(method, path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		if bearer, known := lookupOperation(method, path[i:]); known {
			return bearer
		}
	}
	return !strings.Contains(path, tokenPathPrefix)
}

// route is an operation of [api.OperationAuths], split into segments.
type route struct {
	method   string
	segs     []segment
	literals int // segments that are not parameters: more is more specific
	bearer   bool
}

type segment struct {
	lit   string
	param bool
}

// routes is empty when the spec declares no security: its operations then
// say nothing about tokens.
var routes = compileRoutes(api.SecurityDeclared, api.OperationAuths)

func compileRoutes(declared bool, ops []api.OperationAuth) []route {
	if !declared {
		return nil
	}
	rs := make([]route, 0, len(ops))
	for _, op := range ops {
		r := route{method: op.Method, bearer: op.Bearer}
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
// one (HEAD is GET's). known is false when no template matches. It does not
// allocate.
func lookupOperation(method, path string) (bearer, known bool) {
	if len(routes) == 0 || !strings.HasPrefix(path, "/") {
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
	return routes[best].bearer, true
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
