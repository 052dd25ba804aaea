package wrapper

import (
	"net/http"
	"net/url"
	"strings"
)

// authScope decides which requests get the session's token.
type authScope struct {
	// prefix is the base URL's path without its trailing slash, such as ""
	// or "/prefix".
	prefix string
}

func newAuthScope(baseURL string) *authScope {
	u, _ := url.Parse(baseURL) // parsed by parseBaseURL already
	return &authScope{prefix: strings.TrimSuffix(u.Path, "/")}
}

// covers reports whether req gets the session's token: it goes under the
// base URL's path, to an operation that takes the token.
func (a *authScope) covers(req *http.Request) bool {
	rel, ok := strings.CutPrefix(req.URL.Path, a.prefix)
	if !ok || !strings.HasPrefix(rel, "/") {
		return false
	}
	return operationTakesToken(req.Method, rel)
}
