package redisstore

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// claims reads the exp and iat claims of a JWT without verifying it: the
// store has no key, and needs the times only to expire the key with the
// refresh token and to tell which of two refresh tokens is newer. A time it
// cannot read is zero.
func claims(token string) (exp, iat time.Time) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, time.Time{}
	}
	var c struct {
		Exp, Iat json.Number
	}
	if json.Unmarshal(payload, &c) != nil {
		return time.Time{}, time.Time{}
	}
	return unix(c.Exp), unix(c.Iat)
}

func unix(n json.Number) time.Time {
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}
