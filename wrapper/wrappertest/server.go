package wrappertest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
)

// Routes of the server.
const (
	// RefreshRoute is the spec's token refresh endpoint, as generated:
	// [api.RefreshPath].
	RefreshRoute = api.RefreshPath
	// MeRoute is a protected route: GET with a valid access token answers
	// {"user_id": N}. The real backend has such routes; the spec does not
	// list them yet.
	MeRoute = "/api/v1/me/"
)

// allowed is the Allow header that Django REST Framework sends with every
// answer of a route.
var allowed = map[string]string{RefreshRoute: "POST, OPTIONS", MeRoute: "GET, HEAD, OPTIONS"}

// Options configure a [Server]. The zero value is SimpleJWT's defaults, with
// AISquare's lifetimes: no rotation, access tokens for 7 days, refresh
// tokens for 30.
type Options struct {
	// Rotate makes a refresh also return a new refresh token
	// (ROTATE_REFRESH_TOKENS).
	Rotate bool
	// Blacklist makes a rotated refresh token unusable
	// (BLACKLIST_AFTER_ROTATION). It has effect only with Rotate.
	Blacklist bool
	// AccessLifetime and RefreshLifetime are the tokens' lifetimes; zero
	// means 7 days and 30 days.
	AccessLifetime, RefreshLifetime time.Duration
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Server is an in-process AISquare Studio API on loopback that behaves like
// the real backend (Django REST Framework with SimpleJWT): the same statuses
// and JSON bodies, HS256 tokens with SimpleJWT's claims, rotation and a
// blacklist. It serves its own routes only, registered by hand, so a spec
// that gains operations changes nothing here; its bodies are the types
// generated from the same spec as the client. It is safe for concurrent use.
type Server struct {
	// URL is the base URL, such as "http://127.0.0.1:40123", to pass to
	// wrapper.WithBaseURL.
	URL string

	srv *httptest.Server
	key []byte

	mu          sync.Mutex
	opts        Options
	blacklisted map[string]bool // by jti
	faults      map[string][]Fault
	requests    map[string]int
	lastRefresh string
}

// NewServer starts a server; Close stops it.
func NewServer(opts Options) *Server {
	s := &Server{
		key:         make([]byte, 32),
		opts:        opts,
		blacklisted: make(map[string]bool),
		faults:      make(map[string][]Fault),
		requests:    make(map[string]int),
	}
	_, _ = rand.Read(s.key)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+RefreshRoute+"{$}", s.refresh)
	mux.HandleFunc("GET "+MeRoute+"{$}", s.me)
	mux.HandleFunc("/", s.fallback)
	s.srv = httptest.NewServer(s.count(s.inject(appendSlash(mux))))
	s.URL = s.srv.URL
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetRotation switches rotation and the blacklist.
func (s *Server) SetRotation(rotate, blacklist bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Rotate, s.opts.Blacklist = rotate, blacklist
}

// IssuePair returns a new access and refresh token for the user, as a login
// would.
//
// Tokens carry SimpleJWT's claims: token_type, exp, iat, jti and user_id. An
// access token from a refresh copies the refresh token's iat, so its
// exp - iat is not its lifetime; a rotated refresh token gets a new iat.
func (s *Server) IssuePair(userID int) (access, refresh string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue("access", userID, now, now), s.issue("refresh", userID, now, now)
}

// IssuePairAt returns a new pair for the user as a login at issuedAt would
// have, such as minutes ago: both tokens' iat is issuedAt, and their exp is
// issuedAt plus their lifetime.
func (s *Server) IssuePairAt(userID int, issuedAt time.Time) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issue("access", userID, issuedAt, issuedAt), s.issue("refresh", userID, issuedAt, issuedAt)
}

// LastRefreshToken returns the refresh token the server issued last, by
// IssuePair or by rotation.
func (s *Server) LastRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRefresh
}

// Requests returns how many requests reached route, such as [RefreshRoute],
// faults included.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// issue signs a token of typ, issued at iat and living from now; s.mu is
// held.
func (s *Server) issue(typ string, userID int, now, iat time.Time) string {
	lifetime := cmpOr(s.opts.AccessLifetime, 7*24*time.Hour)
	if typ == "refresh" {
		lifetime = cmpOr(s.opts.RefreshLifetime, 30*24*time.Hour)
	}
	tok := sign(s.key, claims{TokenType: typ, Exp: now.Add(lifetime).Unix(), Iat: iat.Unix(), Jti: newJTI(), UserID: userID})
	if typ == "refresh" {
		s.lastRefresh = tok
	}
	return tok
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// refresh is SimpleJWT's TokenRefreshView.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", allowed[RefreshRoute])
	if !parseJSON(w, r) {
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var parsed any = map[string]any{} // Django reads an empty body as no data
	if len(data) > 0 {
		if err := json.Unmarshal(data, &parsed); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "JSON parse error - " + err.Error()})
			return
		}
	}
	body, isObject := parsed.(map[string]any)
	if !isObject {
		writeJSON(w, http.StatusBadRequest, api.ValidationError{AdditionalProperties: map[string][]string{
			"non_field_errors": {"Invalid data. Expected a dictionary, but got " + pythonType(parsed) + "."},
		}})
		return
	}
	raw, ok := body["refresh"]
	if !ok || raw == nil {
		msg := "This field is required."
		if ok {
			msg = "This field may not be null."
		}
		writeJSON(w, http.StatusBadRequest, api.ValidationError{AdditionalProperties: map[string][]string{"refresh": {msg}}})
		return
	}
	token, isString := raw.(string)
	if !isString {
		// DRF's CharField takes numbers as strings; nothing else.
		if n, isNumber := raw.(float64); isNumber {
			token = strconv.FormatFloat(n, 'f', -1, 64)
		} else {
			writeJSON(w, http.StatusBadRequest, api.ValidationError{AdditionalProperties: map[string][]string{"refresh": {"Not a valid string."}}})
			return
		}
	}
	if strings.TrimSpace(token) == "" {
		writeJSON(w, http.StatusBadRequest, api.ValidationError{AdditionalProperties: map[string][]string{"refresh": {"This field may not be blank."}}})
		return
	}

	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := verify(s.key, strings.TrimSpace(token), now)
	switch {
	case err != nil:
		unauthorized(w, api.ErrorDetail{Detail: err.Error(), Code: "token_not_valid"})
		return
	case s.blacklisted[c.Jti]:
		unauthorized(w, api.ErrorDetail{Detail: "Token is blacklisted", Code: "token_not_valid"})
		return
	case c.TokenType != "refresh":
		unauthorized(w, api.ErrorDetail{Detail: "Token has wrong type", Code: "token_not_valid"})
		return
	}
	// As SimpleJWT does, the access token copies the refresh token's iat
	// (the time of the login or of the last rotation); a rotated refresh
	// token is issued now.
	resp := api.TokenRefresh{Access: s.issue("access", c.UserID, now, time.Unix(c.Iat, 0))}
	if s.opts.Rotate {
		if s.opts.Blacklist {
			s.blacklisted[c.Jti] = true
		}
		resp.Refresh = s.issue("refresh", c.UserID, now, now)
	}
	writeJSON(w, http.StatusOK, resp)
}

// pythonType names a JSON value's type as Python does.
func pythonType(v any) string {
	switch v := v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case float64:
		if v == float64(int64(v)) {
			return "int"
		}
		return "float"
	}
	return "NoneType"
}

// me is a protected route, as SimpleJWT's JWTAuthentication guards one.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", allowed[MeRoute])
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != api.AuthScheme || token == "" {
		unauthorized(w, api.ErrorDetail{Detail: "Authentication credentials were not provided."})
		return
	}
	c, err := verify(s.key, token, s.now())
	message := "Token is invalid or expired"
	if err == nil && c.TokenType != "access" {
		err, message = errInvalid, "Token has wrong type"
	}
	if err != nil {
		unauthorized(w, map[string]any{
			"detail": "Given token not valid for any token type",
			"code":   "token_not_valid",
			"messages": []map[string]string{{
				"token_class": "AccessToken", "token_type": "access", "message": message,
			}},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"user_id": c.UserID})
}

// appendSlash answers a route's path without its trailing slash with a 301
// to the path with it, as Django's CommonMiddleware does (APPEND_SLASH), for
// every method: the ServeMux would answer 307.
func appendSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := allowed[r.URL.Path+"/"]; ok {
			w.Header().Set("Location", r.URL.Path+"/")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fallback answers what no route takes, as Django does: a 405 for a known
// path, and Django's HTML 404.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == RefreshRoute || path == MeRoute:
		w.Header().Set("Allow", allowed[path])
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": fmt.Sprintf("Method %q not allowed.", r.Method)})
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<!doctype html>
<html lang="en">
<head>
  <title>Not Found</title>
</head>
<body>
  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>
</body>
</html>
`)
	}
}

// parseJSON rejects a body that is not JSON as DRF's JSONParser does.
func parseJSON(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" || strings.HasPrefix(ct, "application/json") {
		return true
	}
	writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"detail": fmt.Sprintf("Unsupported media type %q in request.", ct)})
	return false
}

func unauthorized(w http.ResponseWriter, body any) {
	w.Header().Set("WWW-Authenticate", api.AuthScheme+` realm="api"`)
	writeJSON(w, http.StatusUnauthorized, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, _ := json.Marshal(body) // bodies here always marshal
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
