package wrapper

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// claims are the JWT claims the client reads. It reads them without
// verifying the signature: it has no key, and it needs the times only to
// decide when to refresh.
type claims struct {
	Expiry   time.Time
	IssuedAt time.Time
	// UserID is SimpleJWT's user_id claim as text; "" if absent or
	// unreadable.
	UserID string
}

// parseClaims reads exp, iat and user_id from a JWT's payload. The error
// never contains the token.
func parseClaims(token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("wrapper: token is not a JWT (want three dot-separated parts)")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, errors.New("wrapper: JWT payload is not base64url")
	}
	var raw struct {
		Exp    *json.Number    `json:"exp"`
		Iat    *json.Number    `json:"iat"`
		UserID json.RawMessage `json:"user_id"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return claims{}, errors.New("wrapper: JWT payload is not a JSON object")
	}
	if raw.Exp == nil {
		return claims{}, errors.New("wrapper: JWT has no exp claim")
	}
	exp, err := unixTime(*raw.Exp)
	if err != nil {
		return claims{}, fmt.Errorf("wrapper: JWT exp claim: %w", err)
	}
	c := claims{Expiry: exp, UserID: userID(raw.UserID)}
	if raw.Iat != nil {
		c.IssuedAt, _ = unixTime(*raw.Iat) // only narrows the refresh margin
	}
	return c, nil
}

// userID returns a user_id claim, a number or a string, as text; "" for
// anything else.
func userID(raw json.RawMessage) string {
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

// TokenExpiry returns the expiry (the exp claim) of a JWT such as an access
// token, read without verifying the signature. The error never contains the
// token.
func TokenExpiry(token string) (time.Time, error) {
	c, err := parseClaims(strings.TrimSpace(token))
	return c.Expiry, err
}
