package claims_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/claims"
)

func jwt(payload string) string {
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
}

func TestParseUserID(t *testing.T) {
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"number", `{"exp":2000000000,"user_id":42}`, "42"},
		{"string", `{"exp":2000000000,"user_id":"3f2c-uuid"}`, "3f2c-uuid"},
		{"absent", `{"exp":2000000000}`, ""},
		{"null", `{"exp":2000000000,"user_id":null}`, ""},
		{"object", `{"exp":2000000000,"user_id":{"id":1}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := claims.Parse(jwt(tc.payload))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.UserID)
		})
	}
}

func TestParse(t *testing.T) {
	c, err := claims.Parse(jwt(`{"token_type":"refresh","exp":2000000000.5,"iat":1999990000,"jti":"j","user_id":1}`))
	require.NoError(t, err)
	assert.Equal(t, time.Unix(2000000000, 5e8), c.Expiry)
	assert.Equal(t, time.Unix(1999990000, 0), c.IssuedAt)
	assert.Equal(t, "refresh", c.Type)

	for _, bad := range []string{"", "opaque", "a.b", "a.!!.c", jwt(`[]`), jwt(`{"iat":1}`), jwt(`{"exp":-1}`), jwt(`{"exp":"soon"}`)} {
		_, err := claims.Parse(bad)
		assert.Error(t, err, "%q", bad)
	}
	secret := jwt(`{"exp":"not a date","secret":"s3cr3t-value"}`)
	_, err = claims.Parse(secret)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
}
