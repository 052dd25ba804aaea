package wrappertest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// claims are SimpleJWT's default claims.
type claims struct {
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
	Iat       int64  `json:"iat"`
	Jti       string `json:"jti"`
	UserID    int    `json:"user_id"`
}

const jwtHeader = `{"alg":"HS256","typ":"JWT"}`

var b64 = base64.RawURLEncoding

// sign returns an HS256 JWT of c.
func sign(key []byte, c claims) string {
	payload, _ := json.Marshal(c) // claims always marshal
	unsigned := b64.EncodeToString([]byte(jwtHeader)) + "." + b64.EncodeToString(payload)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(unsigned))
	return unsigned + "." + b64.EncodeToString(mac.Sum(nil))
}

var errInvalid = errors.New("Token is invalid or expired")

// verify checks token's signature and expiry at now, as SimpleJWT does, and
// returns its claims.
func verify(key []byte, token string, now time.Time) (claims, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 || strings.Count(token, ".") != 2 {
		return claims{}, errInvalid
	}
	sig, err := b64.DecodeString(token[i+1:])
	if err != nil {
		return claims{}, errInvalid
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(token[:i]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return claims{}, errInvalid
	}
	payload, err := b64.DecodeString(token[strings.IndexByte(token, '.')+1 : i])
	if err != nil {
		return claims{}, errInvalid
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil || c.Jti == "" {
		return claims{}, errInvalid
	}
	if now.Unix() >= c.Exp {
		return claims{}, errInvalid
	}
	return c, nil
}

// newJTI returns a hex UUID4, as SimpleJWT's jti.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}
