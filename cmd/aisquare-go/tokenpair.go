package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aisquare-studio/aisquare-go/internal/claims"
	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// maxTokenInput caps what a command reads as tokens, from standard input
// or a file.
const maxTokenInput = 64 << 10

// readTokenPair reads two lines (access, then refresh) or a JSON object
// {"access", "refresh"}, and refuses a pair that cannot be right: see
// [checkPair].
func readTokenPair(ctx context.Context, r io.Reader) (access, refresh string, err error) {
	data, err := readInput(ctx, r, maxTokenInput, false)
	if err != nil {
		return "", "", err
	}
	if len(data) > maxTokenInput {
		return "", "", fmt.Errorf("standard input holds more than %d KiB: not a token pair", maxTokenInput>>10)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "", "", &emptyTokenError{"nothing on standard input: pipe the access and refresh tokens in, two lines or " +
			`{"access": "...", "refresh": "..."} (Usage: aisquare-go session set [--store PATH] [--api-url URL] < tokens)`}
	}
	if bytes.HasPrefix(data, []byte("{")) {
		access, refresh, err = jsonPair(data)
		if err != nil {
			return "", "", err
		}
		return access, refresh, checkPair(access, refresh, `"access"`, `"refresh"`, "holds")
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) != 2 {
		return "", "", fmt.Errorf("standard input holds %d non-empty line(s); want two: the access token, then the refresh token", len(lines))
	}
	return lines[0], lines[1], checkPair(lines[0], lines[1], "the first line", "the second line", "is")
}

// jsonPair reads the object {"access": "...", "refresh": "..."}, such as
// the answer of SimpleJWT's login. The answer of a failed login is an
// error that says why it failed.
func jsonPair(data []byte) (access, refresh string, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", "", errors.New(`standard input is not a JSON object {"access": "...", "refresh": "..."}`)
	}
	_, hasAccess := obj["access"]
	_, hasRefresh := obj["refresh"]
	if !hasAccess && !hasRefresh {
		if why := loginError(obj); why != "" {
			return "", "", &emptyTokenError{"no tokens on standard input: it holds an error, such as a failed login's: " + why +
				"; log in again, then pipe the answer in"}
		}
		return "", "", &emptyTokenError{`no tokens on standard input: the JSON object has no "access" and "refresh"`}
	}
	var pair struct{ Access, Refresh string }
	if err := json.Unmarshal(data, &pair); err != nil {
		return "", "", errors.New(`standard input is not a JSON object {"access": "...", "refresh": "..."}: its tokens are not strings`)
	}
	access, refresh = strings.TrimSpace(pair.Access), strings.TrimSpace(pair.Refresh)
	if refresh == "" {
		return "", "", &emptyTokenError{`no refresh token on standard input: "refresh" is missing or empty`}
	}
	return access, refresh, nil
}

// loginError returns what a Django REST Framework error body says, such as
// SimpleJWT's {"detail": "No active account found with the given
// credentials"} or {"username": ["This field is required."]}: its detail
// and code, and its field errors (lists of messages), redacted and cut
// short; "" if obj holds none of them.
func loginError(obj map[string]json.RawMessage) string {
	var detail, code string
	_ = json.Unmarshal(obj["detail"], &detail)
	_ = json.Unmarshal(obj["code"], &code)
	var parts []string
	if detail != "" {
		if code != "" {
			detail += " (" + code + ")"
		}
		parts = append(parts, detail)
	}
	for _, field := range slices.Sorted(maps.Keys(obj)) {
		if field == "detail" || field == "code" {
			continue
		}
		var msgs []string
		if json.Unmarshal(obj[field], &msgs) == nil && len(msgs) > 0 {
			parts = append(parts, field+": "+strings.Join(msgs, " "))
		}
	}
	return redact.Text(strings.Join(parts, "; "), 300)
}

// checkPair refuses a pair that cannot be right: a token that is not one
// (see [checkToken]); by their JWT token_type claims, an access token
// given as the refresh token or the other way round; a refresh token past
// its exp. first and second name
// the access and the refresh token where they were read; verb joins a name
// to what it holds.
func checkPair(access, refresh, first, second, verb string) error {
	if access != "" {
		if err := checkToken(first, access); err != nil {
			return err
		}
	}
	if err := checkToken(second, refresh); err != nil {
		return err
	}
	at, rt := tokenType(access), tokenType(refresh)
	switch {
	case at == "refresh" && rt == "access":
		return fmt.Errorf("%s %s a refresh token and %s an access token: swap them", first, verb, strings.TrimSuffix(second, " line"))
	case at == "refresh":
		return fmt.Errorf("%s %s a refresh token, not an access token", first, verb)
	case rt == "access":
		return fmt.Errorf("%s %s an access token, not a refresh token", second, verb)
	}
	if c, err := claims.Parse(refresh); err == nil && !c.Expiry.After(time.Now()) {
		return &emptyTokenError{fmt.Sprintf("%s %s a refresh token that expired at %s: log in again, then pipe the new pair in",
			second, verb, c.Expiry.UTC().Format(time.RFC3339))}
	}
	return nil
}

// checkToken refuses a token that holds white space, control characters or
// anything else outside a token's alphabet: a JWT is base64url and dots, and
// an opaque token, such as AISquare's aisq_ tokens, URL-safe characters
// (RFC 3986's unreserved ones). what names where the token was read. The
// error never shows the token, nor the character: it may be part of a
// token, or of a password pasted by mistake.
func checkToken(what, token string) error {
	for i, r := range []rune(token) {
		var kind string
		switch {
		case tokenRune(r):
			continue
		case unicode.IsSpace(r):
			kind = "white space"
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			kind = "a control character"
		default:
			kind = "a character that no token has (a token is letters, digits and - . _ ~)"
		}
		return fmt.Errorf("%s holds %s, at character %d: not a token", what, kind, i+1)
	}
	return nil
}

// tokenRune reports whether r is in a token's alphabet.
func tokenRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)
}

// tokenType returns the token_type claim of a JWT, such as SimpleJWT's
// "access" or "refresh", read without verifying the signature; "" if
// token is no JWT or has no such claim.
func tokenType(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		TokenType string `json:"token_type"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.TokenType
}
