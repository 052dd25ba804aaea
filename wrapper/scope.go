package wrapper

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// authScope is the part of the web that a session's token belongs to: the
// client's base URL, and there the operations that take the token, as the
// spec says in [api.Operations]. A request gets the token, and a refresh
// and a replay after a 401, only as [authScope.auth] says.
type authScope struct {
	scheme, host, port string // host in lower case; port never empty
	rawHost            string // the host and port as the base URL spells them
	// prefix is the base URL's path without its trailing slash, such as ""
	// or "/prefix".
	prefix string
}

// newAuthScope returns the scope of baseURL, which [parseBaseURL] accepted.
func newAuthScope(baseURL string) *authScope {
	u, err := url.Parse(baseURL)
	if err != nil {
		return &authScope{} // covers nothing
	}
	return &authScope{
		scheme:  strings.ToLower(u.Scheme),
		host:    strings.ToLower(u.Hostname()),
		port:    portOf(u.Scheme, u.Port()),
		rawHost: u.Host,
		prefix:  strings.TrimRight(u.Path, "/"),
	}
}

// authKind is what a request gets from the session.
type authKind uint8

const (
	authNone     authKind = iota // no token: elsewhere, and SimpleJWT's other views
	authRequired                 // the token, refreshed when due, and a replay after a 401
	authOptional                 // the token while valid; after its 401, a replay without it
	authRefresh                  // a refresh view: the session serves a refresh of its own token
)

// auth says what req gets from the session: authNone unless it goes to the
// same scheme, host and port as the base URL, and to a path under the base
// URL's path that does not escape it; there, what the operation takes
// (see [kindOf]). It allocates nothing.
func (a *authScope) auth(req *http.Request) authKind {
	rel, ok := a.under(req.URL)
	if !ok {
		return authNone
	}
	return kindOf(method(req), rel)
}

// refreshElsewhere reports whether req posts to a refresh view of the spec
// (by the longest suffix of its path) away from the base URL, such as the
// same server under another name: no token goes there, and neither may the
// session's refresh token.
func (a *authScope) refreshElsewhere(req *http.Request) bool {
	if req.URL == nil || method(req) != http.MethodPost {
		return false
	}
	_, under := a.under(req.URL)
	return !under && kindOfSuffix(http.MethodPost, sentPath(req.URL)) == authRefresh
}

// method is req's method as a server reads it, in upper case.
func method(req *http.Request) string {
	if m := req.Method; m == http.MethodGet || m == http.MethodPost || m == "" {
		return m
	}
	return strings.ToUpper(req.Method)
}

// sentPath is the path that net/http sends for u: u.Path, or that of
// u.Opaque, which it sends instead when set.
func sentPath(u *url.URL) string {
	if u.Opaque == "" {
		return u.Path
	}
	r, err := url.ParseRequestURI(u.RequestURI())
	if err != nil {
		return u.Opaque
	}
	return r.Path
}

// covers reports whether req gets the session's token.
func (a *authScope) covers(req *http.Request) bool {
	k := a.auth(req)
	return k == authRequired || k == authOptional
}

// under returns the path of u under the base URL, such as "/api/v1/me/";
// ok is false unless u is there.
func (a *authScope) under(u *url.URL) (rel string, ok bool) {
	if a.scheme == "" || u == nil {
		return "", false
	}
	// A URL made from the base URL spells its origin the same way: compare
	// the strings first, and normalize only when they differ.
	if u.Scheme != a.scheme || u.Host != a.rawHost {
		if !strings.EqualFold(u.Scheme, a.scheme) || !strings.EqualFold(u.Hostname(), a.host) ||
			portOf(a.scheme, u.Port()) != a.port {
			return "", false
		}
	}
	rel, ok = strings.CutPrefix(sentPath(u), a.prefix)
	switch {
	case !ok || !strings.HasPrefix(rel, "/"):
		return "", false // "/prefixed" is not under "/prefix"
	case a.prefix != "" && escapes(rel):
		return "", false // the server may resolve "/prefix/../x" outside the prefix
	}
	return rel, true
}

// sameAPI reports whether two base URLs name the same API.
func (a *authScope) sameAPI(b *authScope) bool {
	return a.scheme != "" && a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.prefix == b.prefix
}

// portOf returns port without leading zeros, as it is dialed, or the
// default port of scheme if port is empty.
func portOf(scheme, port string) string {
	if port != "" {
		if p := strings.TrimLeft(port, "0"); p != "" {
			return p
		}
		return "0"
	}
	if strings.EqualFold(scheme, "http") {
		return "80"
	}
	return "443"
}

// escapes reports whether path, decoded, has a segment that a server may
// resolve upwards: "." or "..", with a parameter after a semicolon as some
// servers read one ("..;"), or a backslash, which some servers take for a
// slash.
func escapes(path string) bool {
	if !strings.Contains(path, ".") && !strings.Contains(path, `\`) {
		return false
	}
	if strings.Contains(path, `\`) {
		return true
	}
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, "/")
		if seg, _, _ = strings.Cut(seg, ";"); seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// kindOf says what a request for method and path, a path relative to the
// base URL, gets from the session, as [api.Operations] says of its
// operation: a refresh view is authRefresh, and otherwise the operation's
// Auth decides. A path that the spec lists only by another spelling
// (another case, or doubled slashes, as a server may read them alike) is
// still a SimpleJWT view that takes no token, if the spelling the spec
// lists is one. A path the spec does not list takes the token, unless it
// is under [api.TokenPrefix], where SimpleJWT's views live.
func kindOf(method, path string) authKind {
	if r := lookup(method, path, false); r != nil {
		return r.kind
	}
	if r := lookup(method, path, true); r != nil && (r.kind == authNone || r.kind == authRefresh) {
		return r.kind
	}
	if hasLoosePrefix(path, api.TokenPrefix) {
		return authNone
	}
	return authRequired
}

// kindOfSuffix is [kindOf] for the path of a request whose base URL is
// unknown, such as [APIError.Path]: the longest suffix of path that is an
// operation of the spec decides.
func kindOfSuffix(method, path string) authKind {
	if r := lookupSuffix(method, path); r != nil {
		return r.kind
	}
	switch {
	case strings.HasSuffix(path, api.RefreshPath):
		return authRefresh
	case strings.Contains(path, api.TokenPrefix):
		return authNone
	}
	return authRequired
}

// lookupSuffix is [lookup] for the path of a request whose base URL is
// unknown: the longest suffix of path that is an operation of the spec.
func lookupSuffix(method, path string) *route {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			if r := lookup(method, path[i:], false); r != nil {
				return r
			}
		}
	}
	return nil
}

// route is an operation of [api.Operations], split into segments.
type route struct {
	method   string
	segs     []segment
	literals int // segments that are not parameters: more is more specific
	kind     authKind
	media    []string // the media types other than JSON of its 2xx answers
}

type segment struct {
	lit   string
	param bool
}

var routes = compileRoutes(api.Operations)

// routesPrefix is the text every template of routes starts with, such as
// "/api/v1/": a path without it matches none exactly.
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
		r := route{method: op.Method, kind: authNone, media: op.Media}
		switch {
		case op.Refresh:
			r.kind = authRefresh
		case op.Auth == api.AuthRequired:
			r.kind = authRequired
		case op.Auth == api.AuthOptional:
			r.kind = authOptional
		}
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

// lookup finds the route for method and path: the most specific path
// template that matches, with the same method if there is one (HEAD is
// GET's); nil if none does. loose matches as a lenient server may: letters
// in any case, and empty segments skipped. It allocates nothing.
func lookup(method, path string, loose bool) *route {
	if len(routes) == 0 || !strings.HasPrefix(path, "/") || !loose && !strings.HasPrefix(path, routesPrefix) {
		return nil
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	n := strings.Count(path, "/") // a template matches only paths of as many segments
	var best *route
	bestExact := false
	for i := range routes {
		r := &routes[i]
		if !loose && len(r.segs) != n || !r.match(path[1:], loose) {
			continue
		}
		exact := r.method == method
		if best == nil || exact && !bestExact || exact == bestExact && r.literals > best.literals {
			best, bestExact = r, exact
		}
	}
	return best
}

// match reports whether rest, a path without its leading slash such as
// "api/v1/runs/0b5e.../", fits r's template, such as "/api/v1/runs/{id}/".
// A parameter matches one non-empty segment. loose is as in [lookup].
func (r *route) match(rest string, loose bool) bool {
	for i := range r.segs {
		s := &r.segs[i]
		if loose && s.lit != "" {
			for strings.HasPrefix(rest, "/") {
				rest = rest[1:]
			}
		}
		seg, after, more := strings.Cut(rest, "/")
		last := i == len(r.segs)-1
		switch {
		case s.param:
			if seg == "" {
				return false
			}
		case loose && !strings.EqualFold(seg, s.lit), !loose && seg != s.lit:
			return false
		}
		if last {
			return !more || loose && strings.Trim(after, "/") == ""
		}
		if !more {
			return false
		}
		rest = after
	}
	return false // no template has no segment
}

// hasLoosePrefix reports whether path starts with prefix, letters in any
// case and empty segments skipped, as [lookup]'s loose match reads them.
func hasLoosePrefix(path, prefix string) bool {
	for prefix != "" {
		if path == "" {
			return false
		}
		if path[0] == '/' && prefix[0] == '/' {
			for strings.HasPrefix(path, "/") {
				path = path[1:]
			}
			prefix = prefix[1:]
			continue
		}
		if path[0] != prefix[0] && lower(path[0]) != lower(prefix[0]) {
			return false
		}
		path, prefix = path[1:], prefix[1:]
	}
	return true
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
