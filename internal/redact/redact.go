// Package redact makes text that came from a server, or from anywhere a
// token may hide, safe to show in an error or on a terminal.
package redact

import (
	"bytes"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholder replaces a token.
const Placeholder = "[REDACTED]"

// minSecret is the shortest secret that is replaced wherever it occurs: a
// shorter one would mangle ordinary words, and no real token is that short.
const minSecret = 8

var (
	// jwtShape matches a JWT, or the start of one cut short: a base64url
	// header, which for the JSON object every JWT header is begins with "ey"
	// or "ew", a dot, and a payload.
	jwtShape = regexp.MustCompile(`e[wy][A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?`)
	// bearer matches the credential of an Authorization header echoed back.
	bearer = regexp.MustCompile(`(?i)\b(bearer)(\s+)[A-Za-z0-9_\-.~+/]{16,}=*`)
	// aisquare matches an access token of AISquare's own OAuth sign-in:
	// "aisq_" and 43 URL-safe characters (a few less when cut short).
	aisquare = regexp.MustCompile(`aisq_[A-Za-z0-9_-]{16,}`)
)

// Text returns s fit to show: invalid UTF-8 mended, line breaks and tabs
// turned into spaces, other control and bidirectional formatting
// characters removed, every secret (of at least 8 bytes) and anything
// shaped like a JWT, an AISquare "aisq_" token or a bearer credential (of
// 16 characters or more) replaced with [Placeholder], and
// the result cut to at most limit bytes (ending in "…" when cut). limit
// <= 0 means no limit.
func Text(s string, limit int, secrets ...string) string {
	s = strings.Map(printable, strings.ToValidUTF8(s, "\uFFFD"))
	s = Secrets(s, secrets...)
	return Cut(s, limit)
}

// Secrets replaces each secret (of at least 8 bytes) and anything shaped
// like a JWT, an AISquare "aisq_" token or a bearer credential in s with
// [Placeholder], and leaves the rest of s as it is.
func Secrets(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecret {
			s = strings.ReplaceAll(s, secret, Placeholder)
		}
	}
	// A replacement copies s even when nothing matches: a path in every log
	// record would cost allocations for nothing.
	if jwtShape.MatchString(s) {
		s = jwtShape.ReplaceAllString(s, Placeholder)
	}
	if aisquare.MatchString(s) {
		s = aisquare.ReplaceAllString(s, Placeholder)
	}
	if bearer.MatchString(s) {
		s = bearer.ReplaceAllString(s, "${1}${2}"+Placeholder)
	}
	return s
}

// Bytes is [Secrets] for a byte slice, such as a raw response body. It
// returns b itself when there is nothing to replace.
func Bytes(b []byte, secrets ...string) []byte {
	found := jwtShape.Match(b) || bearer.Match(b) || aisquare.Match(b)
	for _, secret := range secrets {
		found = found || len(secret) >= minSecret && bytes.Contains(b, []byte(secret))
	}
	if !found {
		return b
	}
	return []byte(Secrets(string(b), secrets...))
}

// Cut cuts s to at most limit bytes, on a rune boundary, ending in "…" when
// it was cut. limit <= 0 means no limit.
func Cut(s string, limit int) string {
	const ellipsis = "…"
	if limit <= 0 || len(s) <= limit {
		return s
	}
	n := max(0, limit-len(ellipsis))
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// printable maps a rune for [Text]: white space controls become a space,
// and other controls and bidirectional formatting characters, which can
// rewrite what a terminal shows, are dropped.
func printable(r rune) rune {
	switch {
	case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
		return ' '
	case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
		return -1
	}
	return r
}
