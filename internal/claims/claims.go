// Package claims reads the claims of a JSON Web Token without verifying
// its signature: the SDK holds no key, and needs the claims only to decide
// when to refresh a token, whose token it is, and which of two is newer.
package claims

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are the claims the SDK reads.
type Claims struct {
	// Expiry is the exp claim.
	Expiry time.Time
	// IssuedAt is the iat claim; zero if absent or unreadable.
	IssuedAt time.Time
	// UserID is SimpleJWT's user_id claim as text; "" if absent or
	// unreadable.
	UserID string
	// Type is SimpleJWT's token_type claim, such as "access" or "refresh";
	// "" if absent.
	Type string
}

// Parse reads the claims of token, which must have an exp claim. The error
// never contains the token.
func Parse(token string) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("token is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("JWT payload is not base64url")
	}
	var raw struct {
		Exp    *json.Number    `json:"exp"`
		Iat    *json.Number    `json:"iat"`
		UserID json.RawMessage `json:"user_id"`
		Type   json.RawMessage `json:"token_type"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, errors.New("JWT payload is not a JSON object")
	}
	if raw.Exp == nil {
		return Claims{}, errors.New("JWT has no exp claim")
	}
	exp, err := unixTime(*raw.Exp)
	if err != nil {
		return Claims{}, fmt.Errorf("JWT exp claim: %w", err)
	}
	c := Claims{Expiry: exp, UserID: text(raw.UserID), Type: text(raw.Type)}
	if raw.Iat != nil {
		c.IssuedAt, _ = unixTime(*raw.Iat) // zero when unreadable
	}
	return c, nil
}

// text returns a claim that is a number or a string as text; "" for
// anything else.
func text(raw json.RawMessage) string {
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func unixTime(n json.Number) (time.Time, error) {
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}
