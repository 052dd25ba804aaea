package wrapper

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseClaimsUserID(t *testing.T) {
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
			tok := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(tc.payload)) + ".sig"
			c, err := parseClaims(tok)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.UserID)
		})
	}
}
