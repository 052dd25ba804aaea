package wrapper

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// authScope is the part of the web that a session's token belongs to: the
// client's base URL, and there the operations that take the token. A
// request gets the token, and a refresh and replay after a 401, only when
// [authScope.covers] says so.
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

// covers reports whether req gets the session's token: it goes to the same
// scheme, host and port as the base URL, to a path under the base URL's
// path, and to an operation that takes the token (see
// [operationTakesToken]). It allocates nothing.
func (a *authScope) covers(req *http.Request) bool {
	u := req.URL
	if a.scheme == "" {
		return false
	}
	// A URL made from the base URL spells its origin the same way: compare
	// the strings first, and normalize only when they differ.
	if u.Scheme != a.scheme || u.Host != a.rawHost {
		if !strings.EqualFold(u.Scheme, a.scheme) || !strings.EqualFold(u.Hostname(), a.host) ||
			portOf(a.scheme, u.Port()) != a.port {
			return false
		}
	}
	rel, ok := strings.CutPrefix(u.Path, a.prefix)
	if !ok || !strings.HasPrefix(rel, "/") {
		return false // "/prefixed" is not under "/prefix"
	}
	if a.prefix != "" && hasDotSegment(rel) {
		return false // the server may resolve "/prefix/../x" outside the prefix
	}
	return operationTakesToken(req.Method, rel)
}

// sameAPI reports whether two base URLs name the same API.
func (a *authScope) sameAPI(b *authScope) bool {
	return a.scheme != "" && a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.prefix == b.prefix
}

// portOf returns port, or the default port of scheme if port is empty.
func portOf(scheme, port string) string {
	if port != "" {
		return port
	}
	if strings.EqualFold(scheme, "http") {
		return "80"
	}
	return "443"
}

// hasDotSegment reports whether path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	if !strings.Contains(path, ".") {
		return false
	}
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, "/")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// What a request gets from the session.
type authKind int

const (
	authNone     authKind = iota // no token
	authRequired                 // the token, refreshed when due, and a replay after a 401
	authRefresh                  // a refresh endpoint: the session serves a refresh of its own token
)

// auth says what req gets from the session (see [authScope.covers]).
func (a *authScope) auth(req *http.Request) authKind {
	switch {
	case a.covers(req):
		return authRequired
	case a.refreshes(req):
		return authRefresh
	}
	return authNone
}

// refreshes reports whether req goes to the refresh endpoint of the base
// URL: same scheme, host and port, and the path under the base URL's path.
func (a *authScope) refreshes(req *http.Request) bool {
	u := req.URL
	return a.scheme != "" && u.Path == a.prefix+api.RefreshPath && strings.EqualFold(u.Scheme, a.scheme) &&
		strings.EqualFold(u.Hostname(), a.host) && portOf(a.scheme, u.Port()) == a.port
}
